"""VoiceHistory: a voice session's exchanges go into the conversation in order, each reply once ended,
and into a saved chat (a real SQLite file) while each reply streams."""

from __future__ import annotations

from pathlib import Path

from tui_chat.chunks import Message, ReplyStatus, Role, TextDelta, ToolCall, TranscriptChunk
from tui_chat.store.history import open_store
from tui_chat.store.reads import list_chats, load_chat
from tui_chat.store.recorder import ChatSettings, Recorder
from tui_chat.store.records import ToolCallRecord, ToolDecision
from tui_chat.tools.loop import ToolEvent, ToolStatus
from tui_chat.tools.result import ToolResult
from tui_chat.voice.dispatch import dispatch
from tui_chat.voice.events import ProviderChunk, ReplyEnded, ReplyStarted
from tui_chat.voice.history import UNTRANSCRIBED, VoiceHistory


def said(recorded: list[Message]) -> list[tuple[str, str, str]]:
    return [(m.role.value, m.content, m.status.value) for m in recorded]


def test_what_is_typed_while_a_reply_still_plays_goes_in_after_it_once_it_ends() -> None:
    recorded: list[Message] = []
    history = VoiceHistory(lambda message, spoken: recorded.append(message))
    history.heard("Tell me a story.")
    history.reply_started(1)  # its words all come; its audio plays on
    history.typed("Shorter, please.")
    history.reply_started(2)
    assert said(recorded) == [("user", "Tell me a story.", "complete")]  # reply 1 has not ended
    history.reply_ended(2, "Once.", "complete")
    history.reply_ended(1, "Once upon a time", "interrupted")  # cut while it played, after reply 2 came
    assert said(recorded) == [
        ("user", "Tell me a story.", "complete"),
        ("assistant", "Once upon a time", "interrupted"),
        ("user", "Shorter, please.", "complete"),
        ("assistant", "Once.", "complete"),
    ]


def test_voice_stopping_lets_nothing_wait_behind_a_reply_that_did_not_end() -> None:
    recorded: list[Message] = []
    history = VoiceHistory(lambda message, spoken: recorded.append(message))
    history.reply_started(1)  # its turn's transcript has not come
    history.reply_ended(1, "Half a", "cancelled")  # (as the front end ends it, from `VoiceSession.unended`)
    history.reply_started(2)
    history.typed("hello?")
    history.close("cancelled")
    assert said(recorded) == [
        ("user", UNTRANSCRIBED, "complete"),
        ("assistant", "Half a", "cancelled"),
        ("user", UNTRANSCRIBED, "complete"),
        ("assistant", "", "cancelled"),
        ("user", "hello?", "complete"),
    ]


def test_a_reply_that_said_nothing_leaves_no_message_and_no_stand_in() -> None:
    recorded: list[Message] = []
    history = VoiceHistory(lambda message, spoken: recorded.append(message))
    history.reply_started(1)
    history.reply_ended(1, "", "complete")
    history.heard("Hello?")
    history.reply_started(2)
    history.reply_ended(2, "Hi.", "complete")
    assert said(recorded) == [("user", "Hello?", "complete"), ("assistant", "Hi.", "complete")]
    assert all(m.status is ReplyStatus.COMPLETE and m.role in (Role.USER, Role.ASSISTANT) for m in recorded)


async def test_a_voice_reply_is_saved_while_it_streams_and_a_cut_one_reopens_interrupted_with_the_words_heard(
    tmp_path: Path,
) -> None:
    db = tmp_path / "chats.db"
    store = open_store(db)
    recorder = Recorder(store, lambda: ChatSettings(provider="demo"))
    history = VoiceHistory(
        lambda message, spoken: recorder.spoken(message, spoken, provider="demo", model="demo-voice-1"),
        recorder.spoken_replies(lambda: ("demo", "demo-voice-1")),
    )

    def reopened() -> list[tuple[Role, str, ReplyStatus]]:
        other = open_store(db)  # the file as another process (or the next start) finds it
        try:
            chats = other.run(list_chats, None).result()
            assert len(chats) <= 1
            return [(m.role, m.text, m.status) for c in chats for m in other.run(load_chat, c.id).result().messages]
        finally:
            other.close()

    for event in (ReplyStarted(0.5, 1), ProviderChunk(0.6, TextDelta("Once upon ")), ProviderChunk(0.7, TextDelta("a time"))):
        dispatch(event, history)
    await store.flush()
    assert reopened() == [], "the reply waits for the words it answers"
    dispatch(ProviderChunk(0.8, TranscriptChunk("Tell me a story.", Role.USER, final=True)), history)
    dispatch(ProviderChunk(0.9, TextDelta(" there was")), history)
    await store.flush()
    assert reopened() == [
        (Role.USER, "Tell me a story.", ReplyStatus.COMPLETE),
        (Role.ASSISTANT, "Once upon a time there was", ReplyStatus.STREAMING),
    ], "saved while it streams: a process killed now keeps it"
    dispatch(ProviderChunk(1.0, TextDelta(" a fox")), history)
    dispatch(ProviderChunk(1.0, TranscriptChunk("Once upon a time there was a fox", Role.ASSISTANT, final=True)), history)
    dispatch(ReplyEnded(2.0, 1, "interrupted", 3.0, 1.2, "Once upon a time", "Once upon a time there was a fox"), history)
    await store.flush()
    expected = [
        (Role.USER, "Tell me a story.", ReplyStatus.COMPLETE),
        (Role.ASSISTANT, "Once upon a time", ReplyStatus.INTERRUPTED),
    ]
    assert reopened() == expected
    [chat] = await store.list_chats()
    record = await store.load_chat(chat.id)
    assert record.messages[1].voice is not None and record.messages[1].model == "demo-voice-1"
    assert [hit.message_id for hit in await store.search("upon")] == [record.messages[1].id]
    assert await store.search("fox") == [], "the words not heard are not kept"
    recorder.close()
    assert reopened() == expected


async def test_a_voice_replys_tool_calls_are_saved_on_it_with_their_decisions_and_results(tmp_path: Path) -> None:
    store = open_store(tmp_path / "chats.db")
    recorder = Recorder(store, lambda: ChatSettings(provider="demo"))
    history = VoiceHistory(lambda message, spoken: recorder.spoken(message, spoken), recorder.spoken_replies(lambda: ("demo", None)))
    add = ToolCall("c1", "calculator", '{"expression": "2+2"}')
    shell = ToolCall("c2", "run_shell", '{"cmd": "rm -rf /"}')

    def event(call: ToolCall, status: ToolStatus, result: ToolResult | None = None, arguments: str | None = None) -> ToolEvent:
        return ToolEvent(call, status, 0, 2, 1, arguments or call.arguments, result=result)

    history.reply_started(1)  # the transcript of the question comes after the tools were asked for
    history.tool_event(event(add, ToolStatus.WAITING))
    history.tool_event(event(add, ToolStatus.RUNNING, arguments='{"expression": "3+3"}'))
    history.heard("What is two and two? And clean my disk.")
    history.tool_event(event(add, ToolStatus.DONE, ToolResult("6"), arguments='{"expression": "3+3"}'))
    history.tool_event(event(shell, ToolStatus.DENIED, ToolResult("the person said no", is_error=True)))
    history.reply_words("It is six.")
    history.reply_ended(1, "It is six.", "complete")
    recorder.close()

    again = open_store(tmp_path / "chats.db")
    try:
        [chat] = again.run(list_chats, None).result()
        question, reply = again.run(load_chat, chat.id).result().messages
    finally:
        again.close()
    assert (question.text, reply.text, reply.status) == ("What is two and two? And clean my disk.", "It is six.", ReplyStatus.COMPLETE)
    assert reply.tool_calls == (
        ToolCallRecord("c1", "calculator", add.arguments, ToolDecision.EDITED, edited_arguments='{"expression": "3+3"}', result="6"),
        ToolCallRecord("c2", "run_shell", shell.arguments, ToolDecision.DENIED, reason="the person said no",
                       result="the person said no", result_is_error=True),
    )  # fmt: skip


def test_voice_stopping_keeps_the_words_that_came_of_a_reply_that_did_not_end() -> None:
    recorded: list[Message] = []
    history = VoiceHistory(lambda message, spoken: recorded.append(message))
    history.heard("Tell me a story.")
    history.reply_started(1)
    history.reply_words("Once upon ")
    history.reply_words("a time")
    history.close("error")  # the session never ended reply 1 (it failed)
    assert said(recorded) == [("user", "Tell me a story.", "complete"), ("assistant", "Once upon a time", "error")]
