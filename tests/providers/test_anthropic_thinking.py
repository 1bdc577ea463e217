"""Anthropic extended thinking over the fake Messages API: thinking is kept, never shown, and sent back signed.

The fake speaks the streaming shapes of Anthropic's extended-thinking reference (see
tests/fakes/anthropic_wire.py); the requests are read back from the fake as the service would get them.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes.anthropic_wire import AnthropicWire
from tests.fakes.clock import Sleeps
from tests.fakes.server import FakeServer, Send, Status, stream
from tests.tools.helpers import ScriptedApprover
from tui_chat.chunks import (
    Done,
    FinishReason,
    Message,
    OpaqueChunk,
    ReplyStatus,
    Role,
    TextDelta,
    ToolCall,
    ToolCallChunk,
    ToolSpec,
    chunk_to_dict,
)
from tui_chat.conversation import Conversation, PromptSettings
from tui_chat.providers.base import ChatRequest
from tui_chat.providers.registry import create_provider
from tui_chat.tools import Decision
from tui_chat.tools.setup import build_tool_loop

from .conftest import KEY, collect

THOUGHT = "The user wants the files. I should list the folder — carefully ✓."
SIGNATURE = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
REDACTED = "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj"
THINKING = {"type": "enabled", "budget_tokens": 2048}
LIST_DIRECTORY = ToolSpec(
    "list_directory",
    "List the files in a folder of the workspace.",
    {"type": "object", "properties": {"path": {"type": "string"}}, "additionalProperties": False},
)


async def test_text_after_thinking_is_the_only_text() -> None:
    wire = AnthropicWire()
    events = wire.start() + wire.thinking(THOUGHT, SIGNATURE, split=5) + wire.text("Hello") + wire.text(", there") + wire.finish()
    body = b"".join(events)
    async with FakeServer() as server:
        # One byte per read: the thinking block's deltas and the text are cut at every place.
        server.enqueue([Status()] + [Send(body[i : i + 1]) for i in range(len(body))])
        provider = create_provider("anthropic", wire.settings(server, KEY))
        try:
            chunks = await collect(provider, ChatRequest(wire.model, (Message(Role.USER, "Hi"),), parameters={"thinking": THINKING}))
        finally:
            await provider.aclose()
    assert "".join(chunk.text for chunk in chunks if isinstance(chunk, TextDelta)) == "Hello, there"
    [opaque] = [chunk for chunk in chunks if isinstance(chunk, OpaqueChunk)]
    assert chunks.index(opaque) < next(i for i, chunk in enumerate(chunks) if isinstance(chunk, TextDelta))
    assert opaque.block.provider == "anthropic" and opaque.block.kind == "thinking"
    assert json.loads(opaque.block.data) == {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE}
    assert chunks[-1] == Done(FinishReason.STOP)
    assert chunk_to_dict(opaque) == {"type": "opaque", "provider": "anthropic", "kind": "thinking", "bytes": len(opaque.block.data.encode())}
    sent = server.requests[0].json()
    assert sent["thinking"] == THINKING
    assert sent["max_tokens"] == 4096 + 2048  # without max_tokens, room for the answer beside the thinking budget


async def test_the_thinking_budget_option_turns_thinking_on_unless_the_request_sets_it() -> None:
    wire = AnthropicWire()
    async with FakeServer() as server:
        for _ in range(2):
            server.enqueue(stream(wire.start() + wire.text("ok") + wire.finish()))
        provider = create_provider("anthropic", wire.settings(server, KEY, thinking_budget=3000))
        try:
            await collect(provider, ChatRequest(wire.model, (Message(Role.USER, "Hi"),)))
            await collect(provider, ChatRequest(wire.model, (Message(Role.USER, "Hi"),), parameters={"thinking": THINKING}))
        finally:
            await provider.aclose()
    first, second = (request.json() for request in server.requests)
    assert first["thinking"] == {"type": "enabled", "budget_tokens": 3000}
    assert first["max_tokens"] == 4096 + 3000
    assert second["thinking"] == THINKING


async def test_tool_use_after_thinking_sends_the_signed_blocks_back_first(tmp_path: Path) -> None:
    (tmp_path / "report.txt").write_text("x")
    wire = AnthropicWire()
    first = (
        wire.start()
        + wire.thinking(THOUGHT, SIGNATURE, split=3)
        + wire.redacted_thinking(REDACTED)
        + wire.text("Let me look.")
        + wire.tool_calls([("toolu_1", "list_directory", '{"path": "."}')], split=2)
        + wire.finish(tool_calls=True)
    )
    async with FakeServer() as server:
        server.enqueue(stream(first), stream(wire.reply(["Here ", "they are."])))
        provider = create_provider("anthropic", wire.settings(server, KEY, sleep=Sleeps()))
        try:
            prompt = PromptSettings(parameters={"thinking": THINKING, "max_tokens": 8000}, tools=(LIST_DIRECTORY,))
            conversation = Conversation(provider, prompt)
            loop, _ = build_tool_loop(conversation, workspace=tmp_path, approver=ScriptedApprover(Decision.approve))
            turn = loop.send("What files are here?")
            items = [item async for item in turn]
        finally:
            await provider.aclose()
    assert turn.status is ReplyStatus.COMPLETE
    assert turn.text == "Let me look.Here they are."
    assert THOUGHT not in "".join(item.text for item in items if isinstance(item, TextDelta))
    [call] = [item.call for item in items if isinstance(item, ToolCallChunk)]
    assert call == ToolCall("toolu_1", "list_directory", '{"path": "."}')
    assistant = conversation.history[1]
    assert [block.kind for block in assistant.opaque] == ["thinking", "redacted_thinking"]

    _, second = wire.stream_requests(server)
    body = second.json()
    assert body["thinking"] == THINKING and body["max_tokens"] == 8000
    assert body["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE},
            {"type": "redacted_thinking", "data": REDACTED},
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "toolu_1", "name": "list_directory", "input": {"path": "."}},
        ],
    }
    assert body["messages"][2]["content"][0]["tool_use_id"] == "toolu_1"

