"""Commands run with a time limit, bounded output, and leave nothing running."""

from __future__ import annotations

import asyncio
import json
import os
import select
import sys
from pathlib import Path

import pytest

from tui_chat.chunks import ToolCall, ToolSpec
from tui_chat.tools import ToolRegistry, Workspace, builtin_tools
from tui_chat.tools.result import MODEL_OUTPUT_LIMIT
from tui_chat.tools.shell import command_tool

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell and process groups")


def dead(pid: int, timeout: float = 5.0) -> bool:
    """Whether process `pid` has ended (waits for it on a pidfd, an event, up to `timeout`)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)


@pytest.fixture
def registry(tmp_path: Path) -> ToolRegistry:
    return ToolRegistry(builtin_tools().values(), workspace=Workspace(tmp_path))


async def shell(registry: ToolRegistry, command: str, **extra: object):
    text = json.dumps({"command": command, **extra})
    return await registry.run(registry.check(ToolCall("c1", "run_shell", text)))


async def test_output_and_exit_status(registry: ToolRegistry, tmp_path: Path) -> None:
    result = await shell(registry, "pwd; echo oops >&2; exit 3")
    assert result.is_error
    assert result.content == f"{os.path.realpath(tmp_path)}\noops\n[exit status 3]"
    ok = await shell(registry, "printf 'a\\033[31mred\\033]0;title\\007'")
    assert not ok.is_error and ok.content == "a[31mred]0;title\n[exit status 0]"


async def test_huge_output_is_capped_but_kept_for_the_ui(registry: ToolRegistry) -> None:
    result = await shell(registry, "head -c 10000000 /dev/zero | tr '\\0' a; echo; echo END")
    assert len(result.content) <= MODEL_OUTPUT_LIMIT and result.truncated
    assert result.content.startswith("aaaa") and result.content.endswith("END\n[exit status 0]")
    assert "characters cut" in result.content
    assert len(result.full_output) > 10_000_000


async def test_binary_output_is_noted_not_shown(registry: ToolRegistry) -> None:
    result = await shell(registry, "head -c 5000 /dev/zero")
    assert result.binary and result.content.startswith("[binary output: 5,000 bytes, not shown]")


async def test_timeout_kills_the_whole_process_group(registry: ToolRegistry, tmp_path: Path) -> None:
    result = await shell(registry, "sleep 30 & echo $! > child.pid; wait", timeout=0.3)
    assert result.is_error and "timed out after 0.3 s" in result.content
    assert dead(int((tmp_path / "child.pid").read_text()))


async def test_cancelling_kills_the_process_group(registry: ToolRegistry, tmp_path: Path) -> None:
    fifo = tmp_path / "ready"
    os.mkfifo(fifo)
    task = asyncio.create_task(shell(registry, "sleep 30 & echo $! > ready; wait"))
    pid = int(await asyncio.to_thread(fifo.read_text))  # the shell has started its child
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert dead(pid)


async def test_a_bound_command_gets_the_arguments_as_json_on_stdin(tmp_path: Path) -> None:
    spec = ToolSpec("lookup", "Look up an order", {"type": "object", "properties": {"id": {"type": "integer"}}})
    tool = command_tool(spec, [sys.executable, "-c", "import sys, json; print(json.load(sys.stdin)['id'] * 2)"])
    registry = ToolRegistry([tool], workspace=Workspace(tmp_path))
    result = await registry.run(registry.check(ToolCall("c1", "lookup", '{"id": 21}')))
    assert not result.is_error and result.content == "42\n"
    failing = command_tool(spec, [sys.executable, "-c", "import sys; sys.exit('no such order')"])
    registry.add(failing)
    failed = await registry.run(registry.check(ToolCall("c2", "lookup", '{"id": 1}')))
    assert failed.is_error and "no such order" in failed.content and "[exit status 1]" in failed.content
    missing = command_tool(spec, [str(tmp_path / "no-such-program")])
    registry.add(missing)
    broken = await registry.run(registry.check(ToolCall("c3", "lookup", '{"id": 1}')))
    assert broken.is_error and "could not be started" in broken.content
