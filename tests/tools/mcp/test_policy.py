"""What the approval policy says of MCP tools: never "no side effects" (a server's tools cannot be
known to be harmless), and a server's `readOnlyHint` only as words in the dialog, never a reason to
run without asking."""

from __future__ import annotations

from pathlib import Path
from typing import AsyncIterator

import pytest

from tests.fakes.scripted import ScriptedProvider
from tests.tools.helpers import ScriptedApprover, answer, calls
from tui_chat.conversation import Conversation
from tui_chat.tools import build_tool_loop
from tui_chat.tools.mcp.manager import McpManager
from tui_chat.tools.policy import ApprovalPolicy
from tui_chat.tools.registry import Approval, ToolRegistry

from .servers import stdio_config


@pytest.fixture
async def manager(tmp_path: Path) -> AsyncIterator[McpManager]:
    async with McpManager({"fake": stdio_config(timeout=10, tools={"echo": Approval.AUTO})}, log_dir=tmp_path) as started:
        await started.started()
        yield started


def test_an_mcp_tool_set_to_auto_is_not_said_to_have_no_side_effects(manager: McpManager) -> None:
    registry = ToolRegistry()
    manager.attach(registry)
    rule = ApprovalPolicy().rule(registry.get("mcp__fake__echo"))
    assert rule.mode is Approval.AUTO
    assert "side effects" not in rule.reason
    assert rule.reason == 'mcp__fake__echo is set to "auto" for MCP server fake in the config'


async def test_a_read_only_hint_is_told_but_the_call_still_asks(manager: McpManager) -> None:
    approver = ScriptedApprover()
    loop, _ = build_tool_loop(
        Conversation(ScriptedProvider(calls(("mcp__fake__pid", "{}")), answer())), tools=(), approver=approver, mcp=manager
    )
    async for _ in loop.send("go"):
        pass
    [request] = approver.requests  # asked, hint or not
    assert request.reason == (
        "mcp__fake__pid of MCP server fake says it only reads (readOnlyHint), which cannot be checked, so it asks by default"
    )


def test_a_tool_without_the_hint_asks_saying_it_may_have_side_effects(manager: McpManager) -> None:
    registry = ToolRegistry()
    manager.attach(registry)
    rule = ApprovalPolicy().rule(registry.get("mcp__fake__hang"))
    assert rule.mode is Approval.ASK
    assert rule.reason == "mcp__fake__hang of MCP server fake may have side effects, so it asks by default"
