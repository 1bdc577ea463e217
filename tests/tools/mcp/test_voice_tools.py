"""Voice sessions use MCP tools through the same round: `SessionTools` built from the chat's tool
loop offers the servers' tools once they run, asks the same approver (naming the server), runs the
call on the real server, and follows a server turned off for this chat. End to end, a realtime
model (the OpenAI Realtime loopback fake) calls an MCP tool and hears its result over the protocol."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes.realtime_openai import FakeOpenAIRealtime, Reply
from tests.fakes.scripted import ScriptedProvider
from tests.realtime.conftest import settings_for, until
from tests.tools.helpers import ScriptedApprover
from tui_chat.chunks import Done, ToolCall
from tui_chat.conversation import Conversation
from tui_chat.realtime import open_bidi
from tui_chat.realtime.base import BidiConfig
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


async def test_a_realtime_model_calls_an_mcp_tool_and_hears_its_result(tmp_path: Path) -> None:
    async with McpManager({"fake": stdio_config(timeout=10)}, log_dir=tmp_path) as manager, FakeOpenAIRealtime() as realtime:
        approver = ScriptedApprover()
        loop, _ = build_tool_loop(Conversation(ScriptedProvider()), tools=(), approver=approver, mcp=manager)
        await manager.started()
        realtime.replies.extend([Reply(calls=[("v1", "mcp__fake__echo", '{"text": "spoken"}')]), Reply(text="It said spoken.")])
        session = await open_bidi("openai-realtime", settings_for(realtime), config=BidiConfig(tools=SessionTools.from_loop(loop)))
        try:
            await session.send_text("echo spoken")
            chunks = await until(session, timeout=30)
        finally:
            await session.close()
        assert chunks[-1] == Done()
        received = realtime.last.received
        [offered] = [m["session"]["tools"] for m in received if m["type"] == "session.update"]
        assert "mcp__fake__echo" in {tool["name"] for tool in offered}
        [request] = approver.requests
        assert request.server == "fake" and request.tool == "mcp__fake__echo" and request.arguments == '{"text": "spoken"}'
        [output] = [m["item"] for m in received if m["type"] == "conversation.item.create" and m["item"]["type"] == "function_call_output"]
        assert output["call_id"] == "v1" and json.loads(output["output"]) == {"echoed": "spoken"}
