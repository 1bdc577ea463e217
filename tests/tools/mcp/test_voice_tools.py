"""Voice sessions use MCP tools through the same round: `SessionTools` built from the chat's tool
loop offers the servers' tools once they run, asks the same approver (naming the server), runs the
call on the real server, and follows a server turned off for this chat."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.scripted import ScriptedProvider
from tests.tools.helpers import ScriptedApprover
from tui_chat.chunks import ToolCall
from tui_chat.conversation import Conversation
from tui_chat.realtime.tools import SessionTools
from tui_chat.tools import Decision, build_tool_loop
from tui_chat.tools.mcp.manager import McpManager

from .servers import stdio_config


async def test_a_voice_session_offers_asks_and_runs_an_mcp_tool(tmp_path: Path) -> None:
    async with McpManager({"fake": stdio_config(timeout=10)}, log_dir=tmp_path) as manager:
        approver = ScriptedApprover()
        loop, _ = build_tool_loop(Conversation(ScriptedProvider()), tools=(), approver=approver, mcp=manager)
        tools = SessionTools.from_loop(loop)  # built before the servers run, as the voice UI may be
        assert not any(spec.name.startswith("mcp__") for spec in tools.offered())
        await manager.started()
        assert "mcp__fake__echo" in {spec.name for spec in tools.offered()}
        [result] = await tools.run([ToolCall("v1", "mcp__fake__echo", '{"text": "spoken"}')])
        [request] = approver.requests
        assert request.server == "fake" and request.arguments == '{"text": "spoken"}'
        assert not result.is_error and '"echoed": "spoken"' in result.content
        await manager.set_enabled("fake", False)
        assert not any(spec.name.startswith("mcp__") for spec in tools.offered())


async def test_a_denied_mcp_call_in_a_voice_session_sends_the_reason(tmp_path: Path) -> None:
    async with McpManager({"fake": stdio_config(timeout=10)}, log_dir=tmp_path) as manager:
        approver = ScriptedApprover(lambda request: Decision.deny(request, "not by voice"))
        loop, _ = build_tool_loop(Conversation(ScriptedProvider()), tools=(), approver=approver, mcp=manager)
        await manager.started()
        [result] = await SessionTools.from_loop(loop).run([ToolCall("v1", "mcp__fake__pid", "{}")])
        assert result.is_error and "not by voice" in result.content
