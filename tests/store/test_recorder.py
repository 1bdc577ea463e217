"""The recorder on the tool loop: every event of a turn reaches a real SQLite file, as it happened.

Turns that are a chat a model had are played back from tests/fixtures/chats (the replay provider);
the scripted provider stays where a test needs replies no single recorded chat holds in order (a
retried reply's old version, replies spread over several chats).
"""

from __future__ import annotations

import random
from pathlib import Path

from tests.fakes.scripted import ScriptedProvider
from tests.fixtures import replayed
from tests.tools.helpers import ScriptedApprover, answer, args
from tui_chat.chunks import Done, FinishReason, Message, ReplyStatus, Role, TextDelta, Usage
from tui_chat.conversation import Conversation
from tui_chat.providers.base import Provider
from tui_chat.store.history import Store
from tui_chat.store.reads import load_chat
from tui_chat.store.recorder import ChatSettings, Recorder
from tui_chat.store.records import ToolDecision
from tui_chat.store.resume import history_messages, history_position
from tui_chat.tools import Decision
from tui_chat.tools.builtin import builtin_tools
from tui_chat.tools.loop import ToolLoop
from tui_chat.tools.policy import ApprovalPolicy
from tui_chat.tools.registry import Approval, ToolRegistry
from tui_chat.tools.workspace import Workspace

SETTINGS = ChatSettings("scripted", "script-1", pack="tools-demo", prompt="main", variables={"name": "Ada"})


def recorded_loop(store: Store, provider: Provider, tmp_path: Path, approver: ScriptedApprover) -> ToolLoop:
    registry = ToolRegistry(builtin_tools().values(), workspace=Workspace(tmp_path))
    policy = ApprovalPolicy(config={"calculator": Approval.ASK, "list_directory": Approval.ASK})
    recorder = Recorder(store, lambda: SETTINGS, cost=lambda usage: usage.output_tokens / 1000)
    return ToolLoop(Conversation(provider), registry, policy, approver, recorder=recorder)


async def play(loop: ToolLoop, text: str) -> None:
    async for _ in loop.send(text):
        pass


async def test_a_turn_with_tools_is_saved_with_settings_chunks_decisions_and_results(store: Store, tmp_path: Path) -> None:
    # "Let me check. " in two chunks, calculator 2+2 and 3*3 and list_directory ".", then "All done."
    provider = replayed("three_tool_calls")
    approver = ScriptedApprover(
        Decision.approve,
        lambda request: Decision.edit(request, args(expression="5*5")),
        lambda request: Decision.deny(request, "private"),
    )
    loop = recorded_loop(store, provider, tmp_path, approver)

    await play(loop, "Work it out")
    await store.flush()

    chat_id = loop.recorder.chat_id
    record = await store.load_chat(chat_id)
    assert (record.info.provider, record.info.model, record.info.pack, record.info.prompt) == (
        "scripted", "script-1", "tools-demo", "main"
    )  # fmt: skip
    assert dict(record.info.variables) == {"name": "Ada"}
    user, asked, done = record.messages
    assert (user.role, user.text, user.provider, user.pack) == (Role.USER, "Work it out", "scripted", "tools-demo")
    assert (user.prompt, user.variables) == ("main", {"name": "Ada"})
    assert (asked.prompt, asked.variables) == (None, None), "a reply is not sent with a prompt of its own"
    assert (asked.text, asked.status, asked.usage, asked.cost_usd) == ("Let me check. ", ReplyStatus.COMPLETE, Usage(10, 4), 0.004)
    assert [size for _, size in asked.chunks] == [7, 7]
    c1, c2, c3 = asked.tool_calls
    assert (c1.decision, c1.result, c1.result_is_error) == (ToolDecision.APPROVED, "4", False)
    assert (c2.decision, c2.edited_arguments) == (ToolDecision.EDITED, args(expression="5*5"))
    assert c2.result is not None and c2.result.endswith("25")
    assert (c3.decision, c3.reason, c3.result_is_error) == (ToolDecision.DENIED, c3.result, True)
    assert "private" in (c3.reason or "")
    assert (done.text, done.status, done.parent_id) == ("All done.", ReplyStatus.COMPLETE, asked.id)
    # Loaded back, the chat is the history the model had: tool results after their calls.
    assert history_messages(record) == loop.conversation.history


class SteppedClock:
    """A clock that reads `now` until the test moves it on."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


async def test_each_chunk_is_saved_with_the_millisecond_it_came_in_and_its_size(store: Store, tmp_path: Path) -> None:
    """The timings a replay plays back: each chunk's milliseconds since the reply started, truncated
    from its own clock reading, however many chunks share a millisecond, at and around the edges of
    milliseconds, on a clock that has run for a year (as a long-running machine's has)."""
    rng = random.Random(14)
    start = 86_400 * 365 + 0.123456789
    readings, ms = [start, start, start], 0
    for _ in range(3000):
        ms += rng.choice((0, 0, 0, 1, 1, 2, 999))
        readings.append(start + (ms + rng.choice((0.0, 1e-9, 0.5, 1 - 1e-6, 1 - 1e-9, 1 - 1e-12))) / 1000)
    readings.sort()  # (a monotonic clock)
    texts = [f"w{n} " * rng.randint(1, 3) for n in range(len(readings))]
    clock = SteppedClock(start)
    provider = ScriptedProvider([*map(TextDelta, texts), Done(FinishReason.STOP)])
    recorder = Recorder(store, lambda: SETTINGS, clock=clock)
    loop = ToolLoop(Conversation(provider), ToolRegistry([], workspace=Workspace(tmp_path)), recorder=recorder)
    later = iter(readings[1:])
    async for item in loop.send("time me"):
        if isinstance(item, TextDelta):  # recorded as it was handed on: the next chunk comes at the next reading
            clock.now = next(later, clock.now)
    await store.flush()

    [_, reply] = (await store.load_chat(recorder.chat_id)).messages
    assert reply.text == "".join(texts)
    assert reply.chunks == tuple((int((at - start) * 1000), len(text)) for at, text in zip(readings, texts, strict=True))
    assert len({at for at, _ in reply.chunks}) > 1000, "the readings span many milliseconds"


async def test_a_failed_reply_keeps_its_text_status_and_error(store: Store, tmp_path: Path) -> None:
    provider = replayed("failed_reply")  # "Half", then the error "the server fell over"
    loop = recorded_loop(store, provider, tmp_path, ScriptedApprover())

    await play(loop, "go")
    await store.flush()

    [_, reply] = (await store.load_chat(loop.recorder.chat_id)).messages
    assert (reply.text, reply.status, reply.error) == ("Half", ReplyStatus.ERROR, "the server fell over")


async def test_a_retried_reply_is_a_new_version_and_the_history_follows_it(store: Store, tmp_path: Path) -> None:
    provider = ScriptedProvider(answer("first try"), answer("second try"))
    loop = recorded_loop(store, provider, tmp_path, ScriptedApprover())

    await play(loop, "hello")
    async for _ in loop.retry():
        pass
    await store.flush()

    record = await store.load_chat(loop.recorder.chat_id)
    user, old, new = record.messages
    assert old.parent_id == new.parent_id == user.id  # both versions answer the same message
    assert [m.content for m in history_messages(record)] == ["hello", "second try"]
    assert store.run(load_chat, record.info.id).result() == record


async def test_switching_chats_sends_what_follows_to_the_chosen_chat_or_a_new_one(store: Store, tmp_path: Path) -> None:
    provider = ScriptedProvider(answer("one"), answer("two"), answer("three"))
    loop = recorded_loop(store, provider, tmp_path, ScriptedApprover())
    recorder = loop.recorder
    assert await recorder.opened() is store

    await play(loop, "first")
    first = recorder.chat_id
    recorder.switch_to(None)  # Ctrl+L
    await play(loop, "second")
    second = recorder.chat_id
    recorder.switch_to(first)  # reopened from the chat list
    await play(loop, "first again")
    await store.flush()

    assert second not in (None, first)
    assert [m.text for m in (await store.load_chat(first)).messages] == ["first", "one", "first again", "three"]
    assert [m.text for m in (await store.load_chat(second)).messages] == ["second", "two"]


async def test_each_user_message_keeps_the_prompt_and_variables_in_force_when_it_was_sent(
    store: Store, tmp_path: Path
) -> None:
    settings = SETTINGS
    provider = ScriptedProvider(answer("one"), answer("two"))
    loop = ToolLoop(
        Conversation(provider), ToolRegistry([], workspace=Workspace(tmp_path)), ApprovalPolicy(config={}),
        ScriptedApprover(), recorder=Recorder(store, lambda: settings),
    )  # fmt: skip
    await play(loop, "first")
    settings = ChatSettings("scripted", "script-1", pack="tools-demo", prompt="terse", variables={"name": "Grace"})
    await play(loop, "second")
    await store.flush()

    record = await store.load_chat(loop.recorder.chat_id)
    first, _, second, _ = record.messages
    assert (first.prompt, first.variables) == ("main", {"name": "Ada"})
    assert (second.prompt, second.variables) == ("terse", {"name": "Grace"})
    assert (record.info.prompt, record.info.variables) == ("terse", {"name": "Grace"}), "the chat: what it uses now"


async def test_a_saved_message_is_found_at_its_place_in_the_history(store: Store, tmp_path: Path) -> None:
    provider = replayed("calculator")  # calculator 2+2, then "It is 4"
    loop = recorded_loop(store, provider, tmp_path, ScriptedApprover(Decision.approve))
    await play(loop, "what is 2+2")
    await store.flush()

    record = await store.load_chat(loop.recorder.chat_id)
    history = history_messages(record)
    for saved in record.messages:
        position = history_position(record, saved.id)
        assert position is not None and history[position].role is saved.role
    assert [history_position(record, m.id) for m in record.messages] == [0, 1, 3]  # the tool result is at 2
    assert history_position(record, "no such id") is None
    assert history_position(record, None) is None


def test_a_reopened_chat_costs_what_its_replies_cost_and_unknown_if_one_price_is() -> None:
    from decimal import Decimal

    from tui_chat.store.records import ChatInfo, ChatRecord, MessageRecord
    from tui_chat.store.resume import chat_cost

    def message(n: int, usage: Usage | None, cost: float | None) -> MessageRecord:
        role = Role.ASSISTANT if usage else Role.USER
        return MessageRecord(f"m{n}", "c", None, role, "x", ReplyStatus.COMPLETE, "t", usage=usage, cost_usd=cost)

    info = ChatInfo("c", "t", "t", "t")
    known = (message(1, None, None), message(2, Usage(10, 20), 0.001), message(3, Usage(5, 5), 0.0025))
    assert chat_cost(ChatRecord(info, known)) == Decimal("0.0035")
    assert chat_cost(ChatRecord(info, (*known, message(4, Usage(1, 1), None)))) is None  # never a guess
    assert chat_cost(ChatRecord(info, (message(5, Usage(0, 0), None),))) == Decimal(0)  # nothing used, nothing owed


async def test_an_mcp_prompts_messages_are_saved_and_a_reopened_chat_gives_the_model_the_same_history(
    store: Store, tmp_path: Path
) -> None:
    from mcp.types import GetPromptResult, PromptMessage, TextContent

    from tui_chat.tools.mcp.prompts import prompt_messages

    picked = prompt_messages(GetPromptResult(messages=[
        PromptMessage(role="user", content=TextContent(type="text", text="Review this diff:\n+ x = 1")),
        PromptMessage(role="assistant", content=TextContent(type="text", text="Send me the file it is in.")),
    ]))  # fmt: skip
    provider = ScriptedProvider(answer("Looks fine."), answer("Still fine."))
    loop = recorded_loop(store, provider, tmp_path, ScriptedApprover())
    for message in picked:  # what the chat screen does with a prompt picked in Ctrl+O
        loop.conversation.append(message)
        loop.recorder.added(message)
    await play(loop, "it is in main.py")
    await store.flush()

    record = await store.load_chat(loop.recorder.chat_id)
    assert record.info.title == "Review this diff:", "the prompt's first message names the chat"
    sent = provider.requests[0].messages
    assert history_messages(record) == [*sent, Message(Role.ASSISTANT, "Looks fine.")]

    reopened = ToolLoop(Conversation(provider), ToolRegistry([], workspace=Workspace(tmp_path)))
    for message in history_messages(record):
        reopened.conversation.append(message)
    await play(reopened, "and now?")
    assert provider.requests[1].messages[: len(sent) + 1] == (*sent, Message(Role.ASSISTANT, "Looks fine."))
