"""A voice session starts from the conversation so far (`BidiConfig.history`), over real sockets.

OpenAI Realtime gets it as `conversation.item.create` text items after `session.updated`, Gemini
Live as one `clientContent` with `turnComplete: false` after `setupComplete`; both before any audio,
and neither answers it. The fakes (tests/fakes/realtime_*.py) check the shapes against the
references and keep what their conversation holds. Also here: the user's words arriving in pieces
over the wire, as partial transcripts before the whole one.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.realtime_gemini import FakeGeminiLive
from tests.fakes.realtime_gemini import Reply as GeminiReply
from tests.fakes.realtime_openai import FakeOpenAIRealtime
from tests.fakes.realtime_openai import Reply as OpenAIReply
from tui_chat.chunks import AudioChunk, Done, ErrorChunk, Message, ReplyStatus, RetryNotice, Role, ToolCall, TranscriptChunk
from tui_chat.realtime import open_bidi
from tui_chat.realtime.base import BidiConfig, spoken_history

from .conftest import Sleeps, send_frames, settings_for, settled, silence, speech, until

CHAT = (
    Message(Role.SYSTEM, "You are terse."),
    Message(Role.USER, "My name is Ada."),
    Message(Role.ASSISTANT, "Hello Ada."),
    Message(Role.USER, "What is the weather in Paris?"),
    Message(Role.ASSISTANT, "", tool_calls=(ToolCall("call_1", "get_weather", '{"city": "Paris"}'),)),
    Message(Role.TOOL, "sunny, 21 C", tool_call_id="call_1", name="get_weather"),
    Message(Role.ASSISTANT, "It is sunny and 21 C in", status=ReplyStatus.INTERRUPTED),
    Message(Role.USER, "   "),
)
SPOKEN = [
    ("user", "My name is Ada."),
    ("assistant", "Hello Ada."),
    ("user", "What is the weather in Paris?"),
    ("assistant", "It is sunny and 21 C in"),
]


def user_pieces(chunks: list[Any]) -> list[tuple[str, bool]]:
    return [(c.text, c.final) for c in chunks if isinstance(c, TranscriptChunk) and c.role is Role.USER]


# --- what of the history is given -------------------------------------------------------------


def test_the_spoken_history_is_the_user_and_assistant_text() -> None:
    assert spoken_history(CHAT) == SPOKEN  # no system, tool call or tool result; no empty message
    assert spoken_history(CHAT, last=2) == SPOKEN[2:]
    assert spoken_history(CHAT, last=0) == []


def test_the_config_keeps_the_history_as_a_tuple() -> None:
    messages = list(CHAT)
    config = BidiConfig(history=messages)  # type: ignore[arg-type]
    messages.clear()
    assert config.history == CHAT


# --- OpenAI Realtime ---------------------------------------------------------------------------


async def test_openai_is_given_the_history_as_items_before_any_audio(openai_server: FakeOpenAIRealtime) -> None:
    openai_server.replies.append(OpenAIReply(text="You are Ada.", heard="who am I"))
    config = BidiConfig(instructions="Be brief.", turn_detection="manual", history=CHAT)
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=config)
    await send_frames(session, speech(0.5))
    await session.end_turn()
    chunks = await until(session)
    await session.close()

    conn = openai_server.last
    kinds = [m["type"] for m in conn.received]
    assert kinds[0] == "session.update"
    assert kinds[1:5] == ["conversation.item.create"] * 4 and kinds[5] == "input_audio_buffer.append"
    assert [m["item"] for m in conn.received[1:5]] == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "My name is Ada."}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello Ada."}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "What is the weather in Paris?"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "It is sunny and 21 C in"}]},
    ]
    # Not answered: the one response is the turn's; the fake took every item (no error came).
    assert kinds.count("response.create") == 1 and kinds.index("response.create") > kinds.index("input_audio_buffer.commit")
    assert not [c for c in chunks if isinstance(c, ErrorChunk)] and chunks[-1] == Done()
    assert conn.state["conversation"] == [*SPOKEN, ("user", "who am I"), ("assistant", "You are Ada.")]


async def test_openai_is_given_only_the_last_history_replay_entries(openai_server: FakeOpenAIRealtime) -> None:
    session = await open_bidi("openai-realtime", settings_for(openai_server, history_replay=3), config=BidiConfig(history=CHAT))
    await openai_server.wait_for(lambda: len(openai_server.last.state["conversation"]) == 3)
    await session.close()
    assert openai_server.last.state["conversation"] == SPOKEN[1:]


async def test_without_history_openai_is_given_no_items(openai_server: FakeOpenAIRealtime) -> None:
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=BidiConfig())
    await session.send_text("hello")
    await until(session)
    await session.close()
    kinds = [m["type"] for m in openai_server.last.received]
    assert kinds == ["session.update", "conversation.item.create", "response.create"]


async def test_a_reconnected_openai_session_gets_the_history_and_what_was_said_since(openai_server: FakeOpenAIRealtime, sleeps: Sleeps) -> None:
    """One list, one path: the history the session opened with, then its own exchanges, bounded."""
    openai_server.replies.append(OpenAIReply(text="Noted."))
    config = BidiConfig(history=CHAT)
    session = await open_bidi("openai-realtime", settings_for(openai_server, sleeps, history_replay=4), config=config)
    await session.send_text("I like tea.")
    await until(session)
    openai_server.last.abort()
    await until(session, lambda c: isinstance(c, RetryNotice))
    await openai_server.wait_for(lambda: len(openai_server.conns) == 2 and len(openai_server.last.state.get("conversation", ())) == 4)
    await session.close()
    assert openai_server.last.state["conversation"] == [*SPOKEN[2:], ("user", "I like tea."), ("assistant", "Noted.")]


@pytest.mark.parametrize("cut_while", ["coming", "playing"])
async def test_a_reconnected_openai_session_is_given_only_the_heard_part_of_a_cut_reply(
    openai_server: FakeOpenAIRealtime, sleeps: Sleeps, cut_while: str
) -> None:
    """`conversation.item.truncate` makes the service forget what was not heard; the history this
    side replays after a reconnect says the same (the words heard, `realtime.heard.SpokenWords`)."""
    words = " ".join(f"w{n}" for n in range(1, 11))  # one word to each 0.1 s piece
    openai_server.replies.append(OpenAIReply(text=words, audio_s=1.0, hold_after_s=0.6 if cut_while == "coming" else None))
    session = await open_bidi("openai-realtime", settings_for(openai_server, sleeps), config=BidiConfig())
    await session.send_text("Count to ten.")
    if cut_while == "coming":  # 0.6 s of it came, and no more will until it is cut
        received = [0.0]

        def all_held(chunk: Any) -> bool:
            if isinstance(chunk, AudioChunk):
                received[0] += len(chunk.pcm) / 2 / chunk.rate
            return received[0] >= 0.6 - 1e-9

        await until(session, all_held)
    else:
        await until(session)  # it all came: its audio plays on at the front end
    await session.interrupt(played=0.35)  # heard up to the middle of the fourth piece
    if cut_while == "coming":
        await until(session)
    openai_server.last.abort()
    await until(session, lambda c: isinstance(c, RetryNotice))
    await openai_server.wait_for(lambda: len(openai_server.conns) == 2 and len(openai_server.last.state.get("conversation", ())) == 2)
    await session.close()
    assert [end_ms for _item, end_ms in session.truncations] == [350]  # type: ignore[attr-defined]
    assert openai_server.last.state["conversation"] == [("user", "Count to ten."), ("assistant", "w1 w2 w3 w4")]


async def test_the_openai_fake_refuses_an_assistant_item_in_the_beta_shape(openai_server: FakeOpenAIRealtime) -> None:
    """The fake checks what the reference allows, so the seeding tests above mean something."""
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=BidiConfig())
    bad = {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "beta"}]}
    await session._send({"type": "conversation.item.create", "item": bad})  # type: ignore[attr-defined]
    chunks = await until(session, lambda c: isinstance(c, ErrorChunk))
    await session.close()
    assert "Invalid value: 'text'" in chunks[-1].message and openai_server.last.state["conversation"] == []


async def test_openai_user_words_come_over_the_wire_before_the_whole_transcript(openai_server: FakeOpenAIRealtime) -> None:
    openai_server.replies.append(OpenAIReply(heard="what time is it", heard_by_word=True))
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=BidiConfig(turn_detection="server"))
    await send_frames(session, speech(0.6))
    await send_frames(session, silence(0.6))
    chunks = await until(session)
    await session.close()
    assert user_pieces(chunks) == [("what", False), (" time", False), (" is", False), (" it", False), ("what time is it", True)]


# --- Gemini Live -------------------------------------------------------------------------------


async def test_gemini_is_given_the_history_as_client_content_not_to_be_answered(gemini_server: FakeGeminiLive) -> None:
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=BidiConfig(turn_detection="manual", history=CHAT))
    await send_frames(session, speech(0.5, rate=16000), rate=16000)
    await session.end_turn()
    chunks = await until(session)
    await session.close()

    conn = gemini_server.last
    assert "setup" in conn.received[0]
    assert conn.received[1] == {"clientContent": {"turns": [
        {"role": "user", "parts": [{"text": "My name is Ada."}]},
        {"role": "model", "parts": [{"text": "Hello Ada."}]},
        {"role": "user", "parts": [{"text": "What is the weather in Paris?"}]},
        {"role": "model", "parts": [{"text": "It is sunny and 21 C in"}]},
    ], "turnComplete": False}}
    assert "realtimeInput" in conn.received[2]  # before any audio
    # Not answered: the one reply is the audio turn's, and the model counts the seeded turns.
    assert [c.text for c in chunks if isinstance(c, TranscriptChunk) and c.role is Role.ASSISTANT and c.final] == [
        "Turn 3 of this conversation."
    ]
    assert [c for c in chunks if isinstance(c, Done)] == [chunks[-1]]
    assert conn.state["history"][:4] == [f"{'model' if role == 'assistant' else role}: {text}" for role, text in SPOKEN]


async def test_gemini_turns_of_one_role_in_a_row_become_one_turn(gemini_server: FakeGeminiLive) -> None:
    history = (Message(Role.USER, "one"), Message(Role.USER, "two"), Message(Role.ASSISTANT, "three"))
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=BidiConfig(history=history))
    await gemini_server.wait_for(lambda: len(gemini_server.last.received) == 2)
    await session.close()
    assert gemini_server.last.received[1]["clientContent"]["turns"] == [
        {"role": "user", "parts": [{"text": "one"}, {"text": "two"}]},
        {"role": "model", "parts": [{"text": "three"}]},
    ]


async def test_gemini_resuming_with_a_handle_is_not_given_the_history_again(gemini_server: FakeGeminiLive, sleeps: Sleeps) -> None:
    session = await open_bidi("gemini-live", settings_for(gemini_server, sleeps), config=BidiConfig(turn_detection="server", history=CHAT))
    await session.send_text("hi")
    await until(session)
    await settled(lambda: session.handle is not None)  # type: ignore[attr-defined]
    handle = session.handle  # type: ignore[attr-defined]
    gemini_server.last.abort()
    await gemini_server.wait_for(lambda: len(gemini_server.conns) == 2 and gemini_server.last.received)
    await session.send_text("again")
    chunks = await until(session)
    await session.close()
    resumed = gemini_server.last
    assert resumed.received[0]["setup"]["sessionResumption"] == {"handle": handle}
    assert [m for m in resumed.received if "clientContent" in m and not m["clientContent"]["turnComplete"]] == []
    finals = [c.text for c in chunks if isinstance(c, TranscriptChunk) and c.role is Role.ASSISTANT and c.final]
    assert finals == ["Turn 4 of this conversation."]  # the seeded two, "hi", "again": nothing twice


async def test_gemini_reconnecting_without_a_handle_gives_the_history_again(gemini_server: FakeGeminiLive, sleeps: Sleeps) -> None:
    session = await open_bidi("gemini-live", settings_for(gemini_server, sleeps), config=BidiConfig(history=CHAT))
    await gemini_server.wait_for(lambda: len(gemini_server.last.received) == 2)
    gemini_server.last.abort()  # before any turn: the service gave no handle yet
    chunks = await until(session, lambda c: isinstance(c, ErrorChunk) and "no resumption handle" in c.message)
    await gemini_server.wait_for(lambda: len(gemini_server.conns) == 2 and len(gemini_server.last.received) == 2)
    await session.close()
    assert gemini_server.last.received[0]["setup"]["sessionResumption"] == {}
    assert gemini_server.last.received[1] == gemini_server.conns[0].received[1]
    assert "without what was said on the old one" in chunks[-1].message


async def test_without_history_gemini_is_given_no_client_content(gemini_server: FakeGeminiLive) -> None:
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=BidiConfig(history=(Message(Role.SYSTEM, "x"),)))
    await session.send_text("hello")
    await until(session)
    await session.close()
    assert [next(iter(m)) for m in gemini_server.last.received] == ["setup", "clientContent"]
    assert gemini_server.last.received[1]["clientContent"]["turnComplete"] is True


async def test_the_gemini_fake_refuses_client_content_with_another_role(gemini_server: FakeGeminiLive, sleeps: Sleeps) -> None:
    session = await open_bidi("gemini-live", settings_for(gemini_server, sleeps), config=BidiConfig())
    await session._send({"clientContent": {"turns": [{"role": "assistant", "parts": [{"text": "x"}]}]}})  # type: ignore[attr-defined]
    chunks = await until(session, lambda c: False)
    await session.close()
    assert isinstance(chunks[-1], ErrorChunk) and "invalid argument" in chunks[-1].message


async def test_gemini_user_words_come_over_the_wire_before_the_whole_transcript(gemini_server: FakeGeminiLive) -> None:
    gemini_server.replies.append(GeminiReply(heard="what time is it", heard_by_word=True))
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=BidiConfig(turn_detection="server"))
    await send_frames(session, speech(0.6, rate=16000), rate=16000)
    await send_frames(session, silence(0.6, rate=16000), rate=16000)
    chunks = await until(session)
    await session.close()
    assert user_pieces(chunks) == [("what", False), (" time", False), (" is", False), (" it", False), ("what time is it", True)]


# --- the demo ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("history", "said"), [(CHAT, " I was given 4 earlier messages of this conversation."), ((), "")])
async def test_the_demo_says_how_many_earlier_messages_it_was_given(history: tuple[Message, ...], said: str) -> None:
    session = await open_bidi("demo", config=BidiConfig(history=history))
    replies = []
    for text in ("hello", "again"):
        await session.send_text(text)
        chunks = await until(session)
        replies.append([c.text for c in chunks if isinstance(c, TranscriptChunk) and c.final][-1])
    await session.close()
    assert replies[0] == "You wrote 1 word. This is the offline voice demo." + said
    assert replies[1] == "You wrote 1 word. This is the offline voice demo."  # only the first reply says it
