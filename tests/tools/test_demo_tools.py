"""End to end on the offline demo: it calls tools when offered, and answers from their results."""

from __future__ import annotations

from pathlib import Path

from tui_chat.chunks import Done, FinishReason, Message, Role, TextDelta, ToolCallChunk, ToolSpec
from tui_chat.conversation import Conversation, PromptSettings
from tui_chat.packs import find_pack, load_pack
from tui_chat.providers.base import ChatRequest
from tui_chat.providers.demo import DemoProvider, compose_reply, tool_call_for
from tui_chat.providers.registry import ProviderSettings
from tui_chat.tools import Decision, ToolEvent, ToolStatus, build_tool_loop

from .helpers import ScriptedApprover, tool_messages

TOOLS = (ToolSpec("calculator"), ToolSpec("current_time"), ToolSpec("list_directory"))


def demo_loop(tmp_path: Path, approver: ScriptedApprover):
    rendered = load_pack(find_pack("tools-demo")).render()
    provider = DemoProvider(ProviderSettings(options={"speed": 0}))
    conversation = Conversation(provider, rendered.settings())
    loop, _ = build_tool_loop(conversation, tool_policy=rendered.tool_policy, workspace=tmp_path, approver=approver)
    return loop


def test_the_demo_calls_a_tool_only_when_it_is_offered() -> None:
    def request(text: str, tools: tuple = TOOLS) -> ChatRequest:
        return ChatRequest("demo-1", (Message(Role.USER, text),), tools=tools)

    assert tool_call_for(request("please calculate 17*23?")).arguments == '{"expression": "17*23"}'
    assert tool_call_for(request("What time is it?")).name == "current_time"
    assert tool_call_for(request("list the files here")).arguments == '{"path": "."}'
    assert tool_call_for(request("what time is it", tools=())) is None
    assert tool_call_for(request("tell me a story")) is None


async def test_the_demo_streams_a_tool_call_then_done_tool_calls() -> None:
    provider = DemoProvider(ProviderSettings(options={"speed": 0}))
    request = ChatRequest("demo-1", (Message(Role.USER, "calculate 2+2"),), tools=TOOLS)
    chunks = [chunk async for chunk in provider.stream(request)]
    assert any(isinstance(c, ToolCallChunk) for c in chunks)
    assert chunks[-1] == Done(FinishReason.TOOL_CALLS)
    plain = [c async for c in provider.stream(ChatRequest("demo-1", (Message(Role.USER, "calculate 2+2"),)))]
    assert "".join(c.text for c in plain if isinstance(c, TextDelta)) == compose_reply("calculate 2+2", 1)


async def test_calculate(tmp_path: Path) -> None:
    approver = ScriptedApprover()
    loop = demo_loop(tmp_path, approver)
    turn = loop.send("calculate 17*23")
    items = [item async for item in turn]
    assert approver.requests == []  # the calculator runs without asking
    assert [e.status for e in items if isinstance(e, ToolEvent)] == [ToolStatus.RUNNING, ToolStatus.DONE]
    assert tool_messages(loop.conversation)[0].content == "391"
    assert "17*23 = 391" in turn.text and "**391**" in turn.text
    assert [m.role for m in loop.conversation.history] == [Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT]


async def test_what_time_is_it(tmp_path: Path) -> None:
    loop = demo_loop(tmp_path, ScriptedApprover())
    turn = loop.send("what time is it?")
    [_ async for _ in turn]
    result = tool_messages(loop.conversation)[0]
    assert not result.is_error and f"it is **{result.content}**" in turn.text


async def test_list_the_files_asks_first(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hi")
    approver = ScriptedApprover()
    loop = demo_loop(tmp_path, approver)
    turn = loop.send("list the files here")
    [_ async for _ in turn]
    [request] = approver.requests
    assert request.tool == "list_directory" and request.workspace == tmp_path.resolve()
    assert "hello.txt (2 bytes)" in turn.text


async def test_a_denied_call_reaches_the_model_as_denied(tmp_path: Path) -> None:
    approver = ScriptedApprover(lambda request: Decision.deny(request, "private"))
    loop = demo_loop(tmp_path, approver)
    turn = loop.send("list the files here")
    [_ async for _ in turn]
    result = tool_messages(loop.conversation)[0]
    assert result.is_error and result.content == "denied by user: private"
    assert "denied by user: private" in turn.text


async def test_without_tools_the_demo_is_unchanged() -> None:
    provider = DemoProvider(ProviderSettings(options={"speed": 0}))
    conversation = Conversation(provider, PromptSettings())
    reply = conversation.send("what time is it?")
    text = "".join([c.text async for c in reply if isinstance(c, TextDelta)])
    assert text == compose_reply("what time is it?", 1)
