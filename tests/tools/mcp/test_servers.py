"""MCP tools end to end against the fake server (tests/fakes/mcp_servers.py) over stdio: a real
subprocess speaking the protocol through the SDK's own server, through the tool loop and the registry."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import AsyncIterator

import pytest

from tests.fakes.mcp_servers import BIG_CHARS, STDERR_LINE
from tests.fakes.scripted import ScriptedProvider
from tests.tools.helpers import ScriptedApprover, answer, calls, tool_messages
from tui_chat.chunks import ToolCall
from tui_chat.conversation import Conversation
from tui_chat.tools import Decision, build_tool_loop
from tui_chat.tools.mcp.manager import McpManager
from tui_chat.tools.mcp.server import ServerState
from tui_chat.tools.registry import ToolRegistry
from tui_chat.tools.result import MODEL_OUTPUT_LIMIT

from .servers import stdio_config

PROVIDER_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@pytest.fixture
async def manager(tmp_path: Path) -> AsyncIterator[McpManager]:
    async with McpManager({"fake": stdio_config(timeout=2)}, log_dir=tmp_path) as started:
        await started.started()
        yield started


async def run(registry: ToolRegistry, name: str, arguments: dict | None = None):
    return await registry.run(registry.check(ToolCall("c1", name, json.dumps(arguments or {}))))


def test_every_registry_name_is_accepted_by_every_provider(manager: McpManager) -> None:
    registry = ToolRegistry()
    manager.attach(registry)
    assert "mcp__fake__echo" in registry
    assert all(PROVIDER_NAME.match(name) for name in registry.names())
    assert not any("odd_schema" in name for name in registry.names()), "a schema we cannot check is not offered"
    assert any("odd_schema" in notice and "$ref" in notice for notice in manager.notices)


async def test_a_call_is_approved_and_its_structured_result_reaches_the_model(manager: McpManager) -> None:
    approver = ScriptedApprover()
    provider = ScriptedProvider(calls(("mcp__fake__echo", '{"text": "hi \\u202e there"}')), answer())
    loop, _ = build_tool_loop(Conversation(provider), tools=(), approver=approver, mcp=manager)
    turn = loop.send("go")
    async for _ in turn:
        pass
    [request] = approver.requests
    assert request.server == "fake"
    assert request.tool == "mcp__fake__echo"
    assert request.arguments == '{"text": "hi \\u202e there"}'  # exactly as sent
    assert "asks by default" in request.reason
    [result] = tool_messages(loop.conversation)
    assert json.loads(result.content) == {"echoed": "hi  there"}  # the bidi override cleaned from the output
    assert "mcp__fake__echo" in {spec.name for spec in provider.requests[0].tools}


async def test_a_denial_with_a_reason_goes_to_the_model_and_nothing_runs(manager: McpManager) -> None:
    approver = ScriptedApprover(lambda request: Decision.deny(request, "not today"))
    provider = ScriptedProvider(calls(("mcp__fake__grow", "{}")), answer())
    loop, _ = build_tool_loop(Conversation(provider), tools=(), approver=approver, mcp=manager)
    async for _ in loop.send("go"):
        pass
    [result] = tool_messages(loop.conversation)
    assert result.content == "denied by user: not today"
    assert "mcp__fake__added" not in loop.registry  # grow never ran


async def test_edited_arguments_are_what_the_server_receives(manager: McpManager) -> None:
    approver = ScriptedApprover(lambda request: Decision.edit(request, '{"text": "edited"}'))
    provider = ScriptedProvider(calls(("mcp__fake__echo", '{"text": "original"}')), answer())
    loop, _ = build_tool_loop(Conversation(provider), tools=(), approver=approver, mcp=manager)
    async for _ in loop.send("go"):
        pass
    [result] = tool_messages(loop.conversation)
    assert '{"echoed": "edited"}' in result.content and "original" not in result.content


async def test_a_server_that_exits_during_a_call_is_an_error_and_restarts_on_next_use(manager: McpManager) -> None:
    registry = ToolRegistry()
    manager.attach(registry)
    first_pid = int((await run(registry, "mcp__fake__pid")).content)
    result = await run(registry, "mcp__fake__exit")
    assert result.is_error and "MCP server fake" in result.content and "closed" in result.content
    assert manager.servers["fake"].state is ServerState.FAILED
    assert len([n for n in manager.notices if "fake failed" in n]) == 1
    second = await run(registry, "mcp__fake__pid")
    assert not second.is_error and int(second.content) != first_pid
    assert manager.servers["fake"].state is ServerState.RUNNING


async def test_a_call_that_never_answers_times_out_and_the_server_sees_the_cancellation(manager: McpManager) -> None:
    registry = ToolRegistry()
    manager.attach(registry)
    result = await run(registry, "mcp__fake__hang")
    assert result.is_error and "no answer within 2 s" in result.content and "cancelled" in result.content
    # The server answers this only once its `hang` handler was cancelled by notifications/cancelled.
    assert (await run(registry, "mcp__fake__was_cancelled")).content == "hang was cancelled"


async def test_a_5_mb_result_is_capped_for_the_model(manager: McpManager) -> None:
    registry = ToolRegistry()
    manager.attach(registry)
    result = await run(registry, "mcp__fake__big")
    assert result.truncated and result.total_chars == BIG_CHARS
    assert len(result.content) <= MODEL_OUTPUT_LIMIT


async def test_hostile_tool_names_and_output_are_made_safe(manager: McpManager) -> None:
    registry = ToolRegistry()
    manager.attach(registry)
    [evil] = [tool for tool in registry if "evil" in tool.name]
    assert PROVIDER_NAME.match(evil.name)
    assert "\x1b" not in evil.spec.description
    result = await run(registry, evil.name)
    for control in ("\x1b", "\x07", "\u202e", "\r", "\x9b"):
        assert control not in result.content and control not in result.full_output
    assert "[bold red]markup[/bold red]" in result.content  # markup stays literal text: the UI shows it as data


async def test_a_changed_tool_list_reaches_the_registry(manager: McpManager) -> None:
    registry = ToolRegistry()
    manager.attach(registry)
    assert "mcp__fake__added" not in registry
    assert (await run(registry, "mcp__fake__grow")).content == "grown"
    await manager.wait_until(lambda: "mcp__fake__added" in registry)


async def test_is_error_results_and_images_come_back_as_text(manager: McpManager) -> None:
    registry = ToolRegistry()
    manager.attach(registry)
    failed = await run(registry, "mcp__fake__fails")
    assert failed.is_error and failed.content == "it went wrong"
    picture = await run(registry, "mcp__fake__picture")
    assert not picture.is_error and picture.content.startswith("[image from the tool: image/png")


async def test_a_server_that_fails_to_start_gives_one_notice_and_the_chat_goes_on(tmp_path: Path) -> None:
    configs = {"broken": stdio_config("broken").__class__(name="broken", command=str(tmp_path / "no-such-server"))}
    async with McpManager(configs, log_dir=tmp_path) as manager:
        await manager.started()
        provider = ScriptedProvider(answer("still here"))
        loop, _ = build_tool_loop(Conversation(provider), tools=(), mcp=manager)
        turn = loop.send("hello")
        async for _ in turn:
            pass
        assert turn.text == "still here"
        assert provider.requests[0].tools == ()
        [notice] = manager.notices
        assert notice.startswith("MCP server broken failed: cannot start") and "no-such-server" in notice
        registry = ToolRegistry()
        manager.attach(registry)
        assert len(registry) == 0


async def test_stderr_goes_to_the_log_and_every_process_ends_on_close(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    async with McpManager({"fake": stdio_config()}, log_dir=tmp_path) as manager:
        await manager.started()
        registry = ToolRegistry()
        manager.attach(registry)
        pid = int((await run(registry, "mcp__fake__pid")).content)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert STDERR_LINE in (tmp_path / "mcp-fake.log").read_text()
    assert STDERR_LINE not in capfd.readouterr().err
