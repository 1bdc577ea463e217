"""The tool loop end to end over real HTTP: the fake OpenAI and Anthropic services ask for a tool,
the approver decides, the tool runs, and its result goes back in each service's own wire form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.anthropic_wire import AnthropicWire
from tests.fakes.clock import Sleeps
from tests.fakes.openai_wire import OpenAIWire
from tests.fakes.server import FakeServer, stream
from tests.fakes.wire import Wire
from tests.tools.helpers import ScriptedApprover
from tui_chat.chunks import ReplyStatus, Role, ToolSpec
from tui_chat.conversation import Conversation, PromptSettings
from tui_chat.providers.registry import create_provider
from tui_chat.tools import Decision
from tui_chat.tools.setup import build_tool_loop

from .conftest import KEY

LIST_DIRECTORY = ToolSpec(
    "list_directory",
    "List the files in a folder of the workspace.",
    {"type": "object", "properties": {"path": {"type": "string"}}, "additionalProperties": False},
)


def tool_results_sent(wire: Wire, body: dict) -> list[tuple[str, str, bool]]:
    """(call id, content, is error) of each tool result in a request body, in the service's own form."""
    found = []
    for message in body["messages"]:
        if isinstance(wire, OpenAIWire) and message.get("role") == "tool":
            found.append((message["tool_call_id"], message["content"], False))
        elif isinstance(wire, AnthropicWire) and isinstance(message.get("content"), list):
            for block in message["content"]:
                if block.get("type") == "tool_result":
                    content = block["content"] if isinstance(block["content"], str) else json.dumps(block["content"])
                    found.append((block["tool_use_id"], content, bool(block.get("is_error"))))
    return found


@pytest.mark.parametrize("wire", [OpenAIWire(), AnthropicWire()], ids=["openai", "anthropic"])
@pytest.mark.parametrize("approve", [True, False], ids=["approved", "denied"])
async def test_tool_call_round_trip(wire: Wire, approve: bool, tmp_path: Path) -> None:
    (tmp_path / "report.txt").write_text("x")
    async with FakeServer() as server:
        wire.install(server)
        server.enqueue(stream(wire.start() + wire.tool_calls([("call_1", "list_directory", '{"path": "."}')], split=4) + wire.finish(tool_calls=True)))
        server.enqueue(stream(wire.reply(["Here ", "they are."])))
        provider = create_provider(wire.provider, wire.settings(server, KEY, sleep=Sleeps()))
        try:
            conversation = Conversation(provider, PromptSettings(tools=(LIST_DIRECTORY,)))
            answer = Decision.approve if approve else (lambda request: Decision.deny(request, "not now"))
            approver = ScriptedApprover(answer)
            loop, warnings = build_tool_loop(conversation, workspace=tmp_path, approver=approver)
            assert warnings == []
            turn = loop.send("What files are here?")
            items = [item async for item in turn]
        finally:
            await provider.aclose()
    assert turn.status is ReplyStatus.COMPLETE and turn.text.endswith("Here they are.")
    assert [request.tool for request in approver.requests] == ["list_directory"]
    first, second = wire.stream_requests(server)
    assert "list_directory" in json.dumps(first.json()["tools"])
    [(call_id, content, is_error)] = tool_results_sent(wire, second.json())
    assert call_id == "call_1"
    if approve:
        assert "report.txt" in content and not is_error
    else:
        assert content == "denied by user: not now"
        assert is_error or isinstance(wire, OpenAIWire)  # OpenAI's tool message has no error flag
    assert [m.role for m in conversation.history] == [Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT]
    assert any(getattr(item, "final", False) for item in items)
