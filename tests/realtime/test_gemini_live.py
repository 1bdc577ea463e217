"""Gemini Live against the fake service (tests/fakes/realtime_gemini.py), over real sockets."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import numpy as np
import pytest

from tests.fakes.realtime_gemini import FakeGeminiLive, Reply, frames_of
from tui_chat.chunks import (
    AudioChunk,
    Done,
    ErrorChunk,
    Interrupted,
    RetryNotice,
    Role,
    ToolCallChunk,
    TranscriptChunk,
    Usage,
    UsageChunk,
)
from tui_chat.errors import ProviderError
from tui_chat.realtime import open_bidi
from tui_chat.realtime.base import BidiConfig
from tui_chat.realtime.gemini_live import parse_duration

from .conftest import Sleeps, audio_s, send_frames, settings_for, settled, silence, speech, until

HANDS_FREE = BidiConfig(instructions="Be brief.", turn_detection="server", voice="Kore")
PUSH_TO_TALK = BidiConfig(turn_detection="manual")


def finals(chunks: list[Any], role: Role = Role.ASSISTANT) -> list[str]:
    return [c.text for c in chunks if isinstance(c, TranscriptChunk) and c.role is role and c.final]


async def test_a_hands_free_turn(gemini_server: FakeGeminiLive) -> None:
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=HANDS_FREE)
    await send_frames(session, speech(0.6, 16000), 16000)
    await send_frames(session, silence(0.6, 16000), 16000)  # the service's detection hears the end
    chunks = await until(session)
    usage = await until(session, lambda c: isinstance(c, UsageChunk))  # usageMetadata follows turnComplete
    await session.close()

    assert usage == [UsageChunk(Usage(21, 13))]
    assert finals(chunks, Role.USER) == ["(0.6 s of audio)"]
    assert finals(chunks) == ["Turn 1 of this conversation."]
    assert "".join(c.text for c in chunks if isinstance(c, TranscriptChunk) and c.role is Role.ASSISTANT and not c.final) == "Turn 1 of this conversation."
    assert {c.rate for c in chunks if isinstance(c, AudioChunk)} == {24000} and audio_s(chunks) == pytest.approx(0.5)
    assert chunks[-1] == Done()
    conn = gemini_server.last
    assert conn.handshake.headers["x-goog-api-key"] == "test-key" and "key=" not in conn.handshake.query
    assert conn.received[0] == {"setup": {
        "model": "models/gemini-2.5-flash-native-audio-preview-12-2025",
        "generationConfig": {"responseModalities": ["AUDIO"], "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}},
        "realtimeInputConfig": {"automaticActivityDetection": {"disabled": False}, "activityHandling": "START_OF_ACTIVITY_INTERRUPTS"},
        "inputAudioTranscription": {},
        "outputAudioTranscription": {},
        "sessionResumption": {},
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
    }}
    assert set(frames_of(conn)[1:]) == {"audio"}


async def test_a_push_to_talk_turn_opens_the_activity_before_the_pre_roll(gemini_server: FakeGeminiLive) -> None:
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=PUSH_TO_TALK)
    pre_roll = np.full(4800, 123, np.int16)  # 0.3 s kept from before the detected start
    await session.send_audio(pre_roll.tobytes(), 16000)
    await send_frames(session, speech(0.5, 16000), 16000)
    await session.end_turn()
    chunks = await until(session)
    await session.send_text("and now?")
    more = await until(session)
    await session.close()
    assert chunks[-1] == Done() and finals(chunks, Role.USER) == ["(0.8 s of audio)"]
    assert finals(more) == ["Turn 2 of this conversation."]
    conn = gemini_server.last
    assert conn.received[0]["setup"]["realtimeInputConfig"]["automaticActivityDetection"] == {"disabled": True}
    kinds = frames_of(conn)[1:]
    assert kinds[0] == "activityStart" and kinds[1] == "audio" and kinds[-2:] == ["activityEnd", "clientContent"]
    first_audio = base64.b64decode(conn.received[2]["realtimeInput"]["audio"]["data"])
    assert first_audio == pre_roll.tobytes()
    assert conn.state["outside"] == 0


async def test_audio_at_another_rate_is_converted(gemini_server: FakeGeminiLive) -> None:
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=PUSH_TO_TALK)
    await send_frames(session, speech(0.5, 24000), 24000)
    await session.end_turn()
    chunks = await until(session)
    await session.close()
    assert finals(chunks, Role.USER) == ["(0.5 s of audio)"]


async def test_text_in_a_voice_session(gemini_server: FakeGeminiLive) -> None:
    gemini_server.replies.append(Reply(text="Hello to you."))
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=HANDS_FREE)
    await session.send_text("hello")
    chunks = await until(session)
    await session.close()
    assert finals(chunks) == ["Hello to you."] and chunks[-1] == Done()
    assert gemini_server.last.received[1] == {"clientContent": {"turns": [{"role": "user", "parts": [{"text": "hello"}]}], "turnComplete": True}}


@pytest.mark.parametrize("config", [HANDS_FREE, PUSH_TO_TALK])
async def test_text_as_realtime_input(gemini_server: FakeGeminiLive, config: BidiConfig) -> None:
    session = await open_bidi("gemini-live", settings_for(gemini_server, text_input="realtime"), config=config)
    await session.send_text("hello")
    chunks = await until(session)
    await session.close()
    assert chunks[-1] == Done()
    kinds = frames_of(gemini_server.last)[1:]
    assert kinds == (["text"] if config is HANDS_FREE else ["activityStart", "text", "activityEnd"])


# --- tools ------------------------------------------------------------------------------------


async def test_a_tool_call_approved(gemini_server: FakeGeminiLive, weather_tools: Any) -> None:
    tools, approver, events = weather_tools(["approve"])
    gemini_server.replies.extend([Reply(calls=[("fc-1", "get_weather", {"city": "Paris"})]), Reply(text="Sunny in Paris.")])
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=BidiConfig(tools=tools))
    await session.send_text("weather?")
    chunks = await until(session)
    await session.close()
    calls = [c.call for c in chunks if isinstance(c, ToolCallChunk)]
    assert [(c.id, c.name, c.arguments) for c in calls] == [("fc-1", "get_weather", '{"city": "Paris"}')]
    assert approver.ran == ["Paris"] and finals(chunks) == ["Sunny in Paris."]
    assert [c for c in chunks if isinstance(c, Done)] == [Done()]
    conn = gemini_server.last
    assert conn.received[0]["setup"]["tools"] == [{"functionDeclarations": [{
        "name": "get_weather", "description": "Weather for a city",
        "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }]}]
    assert conn.state["tool_responses"] == [{"functionResponses": [
        {"name": "get_weather", "response": {"output": "sunny, 21 C in Paris"}, "id": "fc-1"}
    ]}]
    assert [e.status.value for e in events] == ["waiting", "running", "done"]


async def test_a_tool_call_denied(gemini_server: FakeGeminiLive, weather_tools: Any) -> None:
    tools, approver, events = weather_tools(["deny"])
    gemini_server.replies.extend([Reply(calls=[("fc-2", "get_weather", {"city": "Oslo"})]), Reply(text="Fine.")])
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=BidiConfig(tools=tools))
    await session.send_text("weather?")
    chunks = await until(session)
    await session.close()
    assert chunks[-1] == Done() and approver.ran == []
    assert gemini_server.last.state["tool_responses"] == [{"functionResponses": [
        {"name": "get_weather", "response": {"error": "denied by user: not now"}, "id": "fc-2"}
    ]}]


async def test_a_cancelled_tool_call_withdraws_its_approval(gemini_server: FakeGeminiLive) -> None:
    from tui_chat.chunks import ToolSpec
    from tui_chat.realtime.tools import SessionTools
    from tui_chat.tools.registry import Tool, ToolRegistry

    asked = asyncio.Event()

    class Waiting:
        async def decide(self, request: Any) -> Any:
            asked.set()
            await asyncio.Event().wait()  # the person has not answered

    events: list[Any] = []
    registry = ToolRegistry([Tool(ToolSpec("get_weather", "Weather"), lambda a, c: None)])  # type: ignore[arg-type, return-value]
    tools = SessionTools(registry, approver=Waiting(), on_event=events.append)
    withdraw = asyncio.Event()
    gemini_server.replies.append(Reply(calls=[("fc-3", "get_weather", {})], cancel_calls=True, cancel_when=withdraw))
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=BidiConfig(tools=tools))
    await session.send_text("weather?")
    await asyncio.wait_for(asked.wait(), 10)
    withdraw.set()
    chunks = await until(session)
    await asyncio.wait_for(_until_status(events, "cancelled"), 10)
    await session.send_text("never mind")
    assert (await until(session))[-1] == Done()
    await session.close()
    assert [e.status.value for e in events] == ["waiting", "cancelled"]
    assert gemini_server.last.state["tool_responses"] == []
    assert isinstance(chunks[-1], Interrupted)


async def _until_status(events: list[Any], status: str) -> None:
    while not any(e.status.value == status for e in events):
        await asyncio.sleep(0)


# --- barge-in ---------------------------------------------------------------------------------


async def test_the_service_hearing_the_user_flushes_playback(gemini_server: FakeGeminiLive) -> None:
    gemini_server.replies.append(Reply(audio_s=3.0, hold_after_s=0.5))
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=HANDS_FREE)
    flushed: list[str] = []

    async def on_user_speech() -> None:
        flushed.append("flush")
        await session.interrupt(played=0.3)

    session.on_user_speech = on_user_speech
    await session.send_text("talk")
    await until(session, lambda c: isinstance(c, AudioChunk))
    await send_frames(session, speech(0.2, 16000), 16000)
    chunks = await until(session)
    assert flushed == ["flush"] and chunks[-1] == Interrupted("the user spoke over the reply")
    await send_frames(session, silence(0.6, 16000), 16000)
    nxt = await until(session)
    await session.close()
    assert nxt[-1] == Done() and finals(nxt) == ["Turn 2 of this conversation."]


async def test_interrupting_drops_what_is_still_sent_of_the_reply(gemini_server: FakeGeminiLive) -> None:
    release = asyncio.Event()
    gemini_server.replies.append(Reply(text="one two three four five six", audio_s=0.6, hold_after_s=0.1, release=release))
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=PUSH_TO_TALK)
    await session.send_text("count")
    first = await until(session, lambda c: isinstance(c, AudioChunk))
    await session.interrupt(played=0.05)
    release.set()  # the service, not knowing yet, sends the rest of the reply and ends its turn
    await gemini_server.wait_for(lambda: gemini_server.last.state["generating"] is None)
    after = await until(session)
    assert after == [Interrupted("the user spoke over the reply")]
    await send_frames(session, speech(0.3, 16000), 16000)
    await session.end_turn()
    nxt = await until(session)
    await session.close()
    # Nothing of the first reply came after its Interrupted; the next reply is whole.
    assert audio_s(nxt) == pytest.approx(0.5) and finals(nxt) == ["Turn 2 of this conversation."]
    assert audio_s(first) == pytest.approx(0.1)


# --- goAway and resumption --------------------------------------------------------------------


async def test_go_away_moves_to_a_new_connection_with_the_latest_handle(gemini_server: FakeGeminiLive) -> None:
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=HANDS_FREE)
    await session.send_text("my name is Ada")
    first = await until(session)
    await gemini_server.wait_for(lambda: gemini_server.handles)
    old = gemini_server.last
    handle = list(gemini_server.handles)[-1]
    await settled(lambda: session.handle == handle)  # type: ignore[attr-defined]
    await gemini_server.go_away(old, "5s")
    await gemini_server.wait_for(lambda: len(gemini_server.conns) == 2 and old.closed.is_set())
    new = gemini_server.last
    assert new.received[0]["setup"]["sessionResumption"] == {"handle": handle}
    assert old.close_code == 1000 and old.state["deadline"].cancelled()  # closed by the client, before the deadline
    await session.send_text("what is my name?")
    second = await until(session)
    await session.close()
    assert finals(first) == ["Turn 1 of this conversation."]
    assert finals(second) == ["Turn 2 of this conversation."]  # the conversation went on
    assert session.resumptions == 1 and session.reconnects == 0  # type: ignore[attr-defined]
    assert not [c for c in first + second if isinstance(c, (ErrorChunk, Interrupted, RetryNotice))]


async def test_go_away_during_a_reply_lets_it_finish_first(gemini_server: FakeGeminiLive) -> None:
    release = asyncio.Event()
    gemini_server.replies.append(Reply(audio_s=1.0, hold_after_s=0.3, release=release))
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=HANDS_FREE)
    await session.send_text("go on")
    await until(session, lambda c: isinstance(c, AudioChunk))
    await gemini_server.go_away(gemini_server.last, "30s")
    async with asyncio.timeout(10):
        while session._moving is None:  # type: ignore[attr-defined]
            await asyncio.sleep(0)
    for _ in range(20):
        await asyncio.sleep(0)
    # The move waits for the reply to finish on the old connection.
    assert not session._moving.done() and not session._settled.is_set()  # type: ignore[attr-defined]
    assert len(gemini_server.conns) == 1
    release.set()
    chunks = await until(session)
    await gemini_server.wait_for(lambda: len(gemini_server.conns) == 2)
    await session.close()
    assert chunks[-1] == Done() and audio_s(chunks) == pytest.approx(0.9)


@pytest.mark.parametrize("how", ["1011", "1006"])
async def test_a_dropped_connection_resumes_with_backoff(gemini_server: FakeGeminiLive, sleeps: Sleeps, how: str) -> None:
    session = await open_bidi("gemini-live", settings_for(gemini_server, sleeps), config=HANDS_FREE)
    await session.send_text("hi")
    await until(session)
    await settled(lambda: session.handle is not None)  # type: ignore[attr-defined]
    handle = session.handle  # type: ignore[attr-defined]
    if how == "1011":
        await gemini_server.last.close(1011, "Internal error encountered.")
    else:
        gemini_server.last.abort()
    notice = await until(session, lambda c: isinstance(c, RetryNotice))
    assert f"code {how}" in notice[-1].reason
    await gemini_server.wait_for(lambda: len(gemini_server.conns) == 2 and gemini_server.last.received)
    assert gemini_server.last.received[0]["setup"]["sessionResumption"] == {"handle": handle}
    await session.send_text("again")
    chunks = await until(session)
    await session.close()
    assert finals(chunks) == ["Turn 2 of this conversation."] and sleeps.delays == [0.5]


@pytest.mark.parametrize(("code", "reason"), [
    (1007, "Request contains an invalid argument."), (1008, "Quota exceeded for this project."), (4003, "permission denied"),
])
async def test_policy_and_payload_closes_end_the_session(gemini_server: FakeGeminiLive, sleeps: Sleeps, code: int, reason: str) -> None:
    session = await open_bidi("gemini-live", settings_for(gemini_server, sleeps), config=HANDS_FREE)
    await gemini_server.last.close(code, reason)
    chunks = await until(session, lambda c: False)
    await session.close()
    assert isinstance(chunks[-1], ErrorChunk) and reason in chunks[-1].message
    assert len(gemini_server.conns) == 1 and sleeps.delays == []


async def test_a_refused_key_fails_during_the_setup_without_retrying(gemini_server: FakeGeminiLive, sleeps: Sleeps) -> None:
    with pytest.raises(ProviderError) as caught:
        await open_bidi("gemini-live", settings_for(gemini_server, sleeps, key="AIza-wrong"))
    assert "API key not valid" in caught.value.message and "during the session set-up" in caught.value.message
    assert "code 1007" in caught.value.message and "AIza-wrong" not in str(caught.value)
    assert sleeps.delays == [] and len(gemini_server.conns) == 1


async def test_no_setup_complete_times_out(gemini_server: FakeGeminiLive, sleeps: Sleeps) -> None:
    gemini_server.send_setup_complete = False
    with pytest.raises(ProviderError) as caught:
        await open_bidi("gemini-live", settings_for(gemini_server, sleeps, setup_timeout=0.2, retries=1))
    assert "did not confirm the session set-up within 0.2 s (setup_timeout)" in caught.value.message
    assert "gave up after 2 attempts" in caught.value.message and sleeps.delays == [0.5]


async def test_an_invalid_frame_is_reported_and_skipped(gemini_server: FakeGeminiLive) -> None:
    session = await open_bidi("gemini-live", settings_for(gemini_server), config=HANDS_FREE)
    await gemini_server.last.send_raw(b"\x00\x01 binary junk")
    shown = await until(session, lambda c: isinstance(c, ErrorChunk))
    assert "not valid JSON" in shown[-1].message
    await session.send_text("hi")
    assert (await until(session))[-1] == Done()
    await session.close()


async def test_an_oversized_frame_ends_the_session(gemini_server: FakeGeminiLive) -> None:
    session = await open_bidi("gemini-live", settings_for(gemini_server, max_message_bytes=64 * 1024), config=HANDS_FREE)
    await gemini_server.last.send({"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": "AAAA" * 20000}}]}}})
    chunks = await until(session, lambda c: False)
    await session.close()
    assert "larger than 65536 bytes (max_message_bytes)" in chunks[-1].message


async def test_several_sessions_at_once(gemini_server: FakeGeminiLive) -> None:
    sessions = [await open_bidi("gemini-live", settings_for(gemini_server), config=PUSH_TO_TALK) for _ in range(3)]

    async def talk(session: Any, seconds: float) -> list[Any]:
        await send_frames(session, speech(seconds, 16000), 16000)
        await session.end_turn()
        return await until(session)

    replies = await asyncio.gather(*(talk(s, n) for s, n in zip(sessions, (0.2, 0.4, 0.6))))
    for session in sessions:
        await session.close()
    assert [finals(r, Role.USER) for r in replies] == [["(0.2 s of audio)"], ["(0.4 s of audio)"], ["(0.6 s of audio)"]]


def test_urls_and_durations() -> None:
    from tui_chat.providers.registry import ProviderSettings
    from tui_chat.realtime.gemini_live import GeminiLiveSession

    def url(base: str | None) -> str:
        return GeminiLiveSession(ProviderSettings(base_url=base))._url()

    path = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
    assert url(None) == "wss://generativelanguage.googleapis.com" + path
    assert url("https://generativelanguage.googleapis.com/v1beta") == "wss://generativelanguage.googleapis.com" + path
    assert url("http://127.0.0.1:9000/v1alpha") == "ws://127.0.0.1:9000" + path.replace("v1beta", "v1alpha")
    assert url("wss://proxy.example" + path) == "wss://proxy.example" + path
    assert parse_duration("10s") == 10.0 and parse_duration("1.5s") == 1.5 and parse_duration({"seconds": 2}) == 2.0
    assert parse_duration("soon") is None
