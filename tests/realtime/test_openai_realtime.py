"""OpenAI Realtime against the fake GA service (tests/fakes/realtime_openai.py), over real sockets."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from tests.fakes.realtime_openai import FakeOpenAIRealtime, Reply
from tui_chat.chunks import (
    AudioChunk,
    Done,
    ErrorChunk,
    FinishReason,
    Interrupted,
    RetryNotice,
    Role,
    ToolCallChunk,
    TranscriptChunk,
    UsageChunk,
)
from tui_chat.errors import ProviderError
from tui_chat.realtime import open_bidi
from tui_chat.realtime.base import BidiConfig

from .conftest import Sleeps, audio_s, send_frames, settings_for, silence, speech, until

HANDS_FREE = BidiConfig(instructions="Be brief.", turn_detection="server", voice="cedar")
PUSH_TO_TALK = BidiConfig(instructions="Be brief.", turn_detection="manual")


async def test_a_hands_free_turn(openai_server: FakeOpenAIRealtime) -> None:
    openai_server.replies.append(Reply(text="Hi there, how can I help?", audio_s=0.6, heard="hello"))
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=HANDS_FREE)
    await send_frames(session, speech(0.6))
    await send_frames(session, silence(0.6))  # the server's VAD hears the end of the speech
    chunks = await until(session)
    await session.close()

    assert [c.text for c in chunks if isinstance(c, TranscriptChunk) and c.role is Role.USER] == ["hello", "hello"]
    said = [c for c in chunks if isinstance(c, TranscriptChunk) and c.role is Role.ASSISTANT]
    assert "".join(c.text for c in said if not c.final) == "Hi there, how can I help?"
    assert said[-1] == TranscriptChunk("Hi there, how can I help?", Role.ASSISTANT, final=True)
    assert {c.rate for c in chunks if isinstance(c, AudioChunk)} == {24000}
    assert audio_s(chunks) == pytest.approx(0.6)
    assert any(isinstance(c, UsageChunk) and c.usage.input_tokens == 20 for c in chunks)
    assert chunks[-1] == Done()

    conn = openai_server.last
    # GA handshake: the key in a header, never in the URL; no beta header; the model in the query.
    assert conn.handshake.path == "/v1/realtime" and conn.handshake.query == "model=gpt-realtime"
    assert conn.handshake.headers["authorization"] == "Bearer test-key" and "openai-beta" not in conn.handshake.headers
    update = conn.received[0]
    assert update == {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "output_modalities": ["audio"],
            "instructions": "Be brief.",
            "audio": {
                "input": {
                    "format": {"type": "audio/pcm", "rate": 24000},
                    "turn_detection": {"type": "server_vad", "create_response": True, "interrupt_response": True},
                    "transcription": {"model": "gpt-4o-mini-transcribe"},
                },
                "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "cedar"},
            },
        },
    }
    kinds = [m["type"] for m in conn.received[1:]]
    assert set(kinds) == {"input_audio_buffer.append"}  # the server committed and answered by itself


async def test_a_push_to_talk_turn(openai_server: FakeOpenAIRealtime) -> None:
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=PUSH_TO_TALK)
    await send_frames(session, speech(0.5))
    await session.end_turn()
    chunks = await until(session)
    await session.close()
    assert chunks[-1] == Done() and audio_s(chunks) == pytest.approx(0.5)
    assert [c.text for c in chunks if isinstance(c, TranscriptChunk) and c.role is Role.USER and c.final] == ["(0.5 s of audio)"]
    conn = openai_server.last
    assert conn.received[0]["session"]["audio"]["input"]["turn_detection"] is None
    kinds = [m["type"] for m in conn.received[1:]]
    assert kinds[-2:] == ["input_audio_buffer.commit", "response.create"]
    assert set(kinds[:-2]) == {"input_audio_buffer.append"}


async def test_push_to_talk_audio_at_another_rate_is_converted(openai_server: FakeOpenAIRealtime) -> None:
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=PUSH_TO_TALK)
    await send_frames(session, speech(0.5, rate=16000), rate=16000)
    await session.end_turn()
    chunks = await until(session)
    await session.close()
    heard = [c.text for c in chunks if isinstance(c, TranscriptChunk) and c.role is Role.USER and c.final]
    assert heard == ["(0.5 s of audio)"]  # 0.5 s at 24 kHz reached the server (less the filter's few ms)


async def test_text_in_a_voice_session(openai_server: FakeOpenAIRealtime) -> None:
    openai_server.replies.append(Reply(text="You said hello."))
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=HANDS_FREE)
    await session.send_text("hello")
    chunks = await until(session)
    await session.close()
    assert chunks[-1] == Done()
    assert [c.text for c in chunks if isinstance(c, TranscriptChunk) and c.final] == ["You said hello."]
    sent = openai_server.last.received[1:]
    assert [m["type"] for m in sent] == ["conversation.item.create", "response.create"]
    assert sent[0]["item"] == {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}


async def test_beta_event_names_are_understood(openai_server: FakeOpenAIRealtime) -> None:
    openai_server.replies.append(Reply(text="Old names.", beta_names=True))
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=HANDS_FREE)
    await session.send_text("hi")
    chunks = await until(session)
    await session.close()
    assert audio_s(chunks) == pytest.approx(0.5)
    assert [c.text for c in chunks if isinstance(c, TranscriptChunk) and c.final] == ["Old names."]


async def test_a_text_sent_during_a_reply_waits_for_it(openai_server: FakeOpenAIRealtime) -> None:
    release = asyncio.Event()
    openai_server.replies.extend([Reply(text="First.", hold_after_s=0.2, release=release), Reply(text="Second.")])
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=HANDS_FREE)
    await session.send_text("one")
    first = await until(session, lambda c: isinstance(c, AudioChunk))
    await session.send_text("two")
    release.set()
    chunks = first + await until(session) + await until(session)
    await session.close()
    assert [c.text for c in chunks if isinstance(c, TranscriptChunk) and c.final] == ["First.", "Second."]
    assert not [c for c in chunks if isinstance(c, ErrorChunk)]
    kinds = [m["type"] for m in openai_server.last.received[1:]]
    assert kinds == ["conversation.item.create", "response.create", "conversation.item.create", "response.create"]


# --- tools ------------------------------------------------------------------------------------


async def test_a_tool_call_approved_runs_and_the_model_answers(openai_server: FakeOpenAIRealtime, weather_tools: Any) -> None:
    tools, approver, events = weather_tools(["approve"])
    openai_server.replies.extend([
        Reply(calls=[("call_1", "get_weather", '{"city": "Paris"}')]),
        Reply(text="It is sunny in Paris."),
    ])
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=BidiConfig(tools=tools))
    await session.send_text("weather in Paris?")
    chunks = await until(session)
    await session.close()

    calls = [c.call for c in chunks if isinstance(c, ToolCallChunk)]
    assert [(c.id, c.name, c.arguments) for c in calls] == [("call_1", "get_weather", '{"city": "Paris"}')]
    assert [r.tool for r in approver.requests] == ["get_weather"]
    assert [c for c in chunks if isinstance(c, Done)] == [Done()]  # one Done for the whole turn
    assert [c.text for c in chunks if isinstance(c, TranscriptChunk) and c.final] == ["It is sunny in Paris."]
    assert [e.status.value for e in events] == ["waiting", "running", "done"]

    conn = openai_server.last
    declared = conn.received[0]["session"]
    assert declared["tools"] == [{
        "type": "function", "name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }]
    assert declared["tool_choice"] == "auto"
    outputs = [m["item"] for m in conn.received if m["type"] == "conversation.item.create" and m["item"]["type"] == "function_call_output"]
    assert outputs == [{"type": "function_call_output", "call_id": "call_1", "output": "sunny, 21 C in Paris"}]
    kinds = [m["type"] for m in conn.received[1:]]
    assert kinds == ["conversation.item.create", "response.create", "conversation.item.create", "response.create"]


async def test_a_tool_call_denied_tells_the_model(openai_server: FakeOpenAIRealtime, weather_tools: Any) -> None:
    tools, approver, events = weather_tools(["deny"])
    openai_server.replies.extend([
        Reply(calls=[("call_9", "get_weather", '{"city": "Oslo"}')]),
        Reply(text="All right, I will not look it up."),
    ])
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=BidiConfig(tools=tools))
    await session.send_text("weather in Oslo?")
    chunks = await until(session)
    await session.close()
    assert chunks[-1] == Done()
    assert approver.ran == []
    outputs = [m["item"] for m in openai_server.last.received if m["type"] == "conversation.item.create" and m["item"]["type"] == "function_call_output"]
    assert outputs == [{"type": "function_call_output", "call_id": "call_9", "output": "denied by user: not now"}]
    assert [e.status.value for e in events] == ["waiting", "denied"]


async def test_without_tools_a_call_gets_an_error_result(openai_server: FakeOpenAIRealtime) -> None:
    openai_server.replies.extend([Reply(calls=[("c1", "rm_rf", "{}")]), Reply(text="Sorry.")])
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=HANDS_FREE)
    await session.send_text("do it")
    chunks = await until(session)
    await session.close()
    assert chunks[-1] == Done()
    assert "tools" not in openai_server.last.received[0]["session"]
    items = [m["item"] for m in openai_server.last.received if m["type"] == "conversation.item.create"]
    outputs = [item["output"] for item in items if item["type"] == "function_call_output"]
    assert outputs == ["not run: no tools are available in this voice session"]


# --- barge-in ---------------------------------------------------------------------------------


async def test_barge_in_cancels_truncates_and_drops_late_deltas(openai_server: FakeOpenAIRealtime) -> None:
    openai_server.replies.append(Reply(text="A long story " * 10, audio_s=3.0, hold_after_s=1.0, late_deltas=3))
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=PUSH_TO_TALK)
    await session.send_text("tell me a story")
    received: list[Any] = []
    async with asyncio.timeout(10):
        async for chunk in session.output():
            received.append(chunk)
            if audio_s(received) >= 1.0 - 1e-9:
                break
    await session.interrupt(played=0.437)
    after = await until(session)
    assert after == [Interrupted("the user spoke over the reply")]
    # The late deltas of the cancelled response never come out; the next reply is clean.
    await openai_server.wait_for(lambda: openai_server.last.state["active"] is None)
    await session.send_text("again")
    nxt = await until(session)
    await session.close()
    assert not [c for c in nxt if isinstance(c, TranscriptChunk) and "late" in c.text]
    assert audio_s(nxt) == pytest.approx(0.5) and nxt[-1] == Done()

    st = openai_server.last.state
    assert st["cancels"] == 1
    assert [end for _, end in st["truncations"]] == [437]
    truncate = [m for m in openai_server.last.received if m["type"] == "conversation.item.truncate"][0]
    assert truncate["content_index"] == 0 and truncate["item_id"] == st["truncations"][0][0]


async def test_speech_heard_by_the_server_calls_the_front_end_which_truncates(openai_server: FakeOpenAIRealtime) -> None:
    openai_server.replies.append(Reply(text="Something long", audio_s=3.0, hold_after_s=0.8))
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=HANDS_FREE)
    calls: list[str] = []

    async def on_user_speech() -> None:  # what the voice session does: flush, then say what was heard
        calls.append("speech")
        await session.interrupt(played=0.25)

    session.on_user_speech = on_user_speech
    await session.send_text("talk")
    received_so_far: list[Any] = []
    async with asyncio.timeout(10):
        async for chunk in session.output():
            received_so_far.append(chunk)
            if audio_s(received_so_far) >= 0.8 - 1e-9:
                break
    await send_frames(session, speech(0.3))
    after = await until(session)
    await session.close()
    assert calls == ["speech"] and after[-1] == Interrupted("the user spoke over the reply")
    await openai_server.wait_for(lambda: openai_server.last.state["truncations"])
    assert [end for _, end in openai_server.last.state["truncations"]] == [250]
    assert not [c for c in after if isinstance(c, ErrorChunk)]  # a cancel that came second is not an error


# --- errors -----------------------------------------------------------------------------------


async def test_an_error_event_is_shown_and_the_session_goes_on(openai_server: FakeOpenAIRealtime) -> None:
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=PUSH_TO_TALK)
    await session.send_audio(speech(0.02).tobytes(), 24000)
    await openai_server.wait_for(lambda: len(openai_server.last.received) >= 2)
    await openai_server.last.send({"type": "error", "event_id": "event_x", "error": {
        "type": "invalid_request_error", "code": "invalid_value", "message": "Something about your request was off.", "param": None}})
    shown = await until(session, lambda c: isinstance(c, ErrorChunk))
    assert shown[-1].message == "OpenAI Realtime: Something about your request was off."
    await session.end_turn()
    chunks = await until(session)
    await session.close()
    assert chunks[-1] == Done() and session.error is None


async def test_a_refused_commit_ends_the_turn_so_nobody_waits(openai_server: FakeOpenAIRealtime) -> None:
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=PUSH_TO_TALK)
    # Less than 100 ms is padded by the client; to see the refusal, clear the buffer behind its back.
    await session.send_audio(speech(0.2).tobytes(), 24000)
    await openai_server.wait_for(lambda: len(openai_server.last.received) >= 2)
    openai_server.last.state["buffer"] = bytearray()
    await session.end_turn()
    chunks = await until(session)
    await session.close()
    assert isinstance(chunks[0], ErrorChunk) and "buffer too small" in chunks[0].message
    assert chunks[-1] == Done(FinishReason.ERROR)


async def test_an_invalid_json_frame_is_reported_and_skipped(openai_server: FakeOpenAIRealtime) -> None:
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=HANDS_FREE)
    await openai_server.last.send_raw('{"type": "response.output_audio.delta", "delta": ')
    await openai_server.last.send_raw(b"\xff\xfe not utf-8")
    await openai_server.last.send_raw("[1, 2, 3]")
    errors = [(await until(session, lambda c: isinstance(c, ErrorChunk)))[-1] for _ in range(3)]
    assert "not valid JSON" in errors[0].message and "response.output_audio.delta" in errors[0].message
    assert "not valid JSON" in errors[1].message
    assert "not a JSON object" in errors[2].message
    await session.send_text("still there?")
    assert (await until(session))[-1] == Done()
    await session.close()
    assert session.error is None


async def test_bad_audio_from_the_server_is_an_error_and_dropped(openai_server: FakeOpenAIRealtime) -> None:
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=HANDS_FREE)
    await openai_server.last.send({"type": "response.output_audio.delta", "response_id": "r", "item_id": "i", "delta": "not//base64!!"})
    shown = await until(session, lambda c: isinstance(c, ErrorChunk))
    await session.close()
    assert "not valid base64" in shown[-1].message and not [c for c in shown if isinstance(c, AudioChunk)]


async def test_a_message_over_the_default_websockets_limit_is_accepted(openai_server: FakeOpenAIRealtime) -> None:
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=HANDS_FREE)
    big = {"type": "rate_limits.updated", "event_id": "e", "rate_limits": [], "padding": "x" * (2 * 1024 * 1024)}
    await openai_server.last.send(big)
    await session.send_text("hi")
    chunks = await until(session)
    await session.close()
    assert chunks[-1] == Done() and not [c for c in chunks if isinstance(c, ErrorChunk)]


async def test_an_oversized_message_ends_the_session_naming_the_limit(openai_server: FakeOpenAIRealtime) -> None:
    session = await open_bidi("openai-realtime", settings_for(openai_server, max_message_bytes=1024 * 1024), config=HANDS_FREE)
    await openai_server.last.send({"type": "rate_limits.updated", "padding": "x" * (1024 * 1024 + 10)})
    chunks = await until(session, lambda c: False)
    await session.close()
    assert isinstance(chunks[-1], ErrorChunk) and "larger than 1048576 bytes (max_message_bytes)" in chunks[-1].message
    assert session.error is not None and "max_message_bytes" in session.error.hint
    assert len(openai_server.conns) == 1


# --- close codes and reconnecting -------------------------------------------------------------


@pytest.mark.parametrize(("code", "reason"), [(1007, "Invalid payload."), (1008, "Policy violation: key revoked"), (4001, "session expired")])
async def test_policy_and_payload_closes_end_the_session_with_the_reason(openai_server: FakeOpenAIRealtime, sleeps: Sleeps, code: int, reason: str) -> None:
    session = await open_bidi("openai-realtime", settings_for(openai_server, sleeps), config=HANDS_FREE)
    await openai_server.last.close(code, reason)
    chunks = await until(session, lambda c: False)
    await session.close()
    assert isinstance(chunks[-1], ErrorChunk) and reason in chunks[-1].message and f"code {code}" in chunks[-1].message
    assert session.error is not None and reason in session.error.message
    assert len(openai_server.conns) == 1 and sleeps.delays == []  # no reconnect loop
    with pytest.raises(ProviderError, match="has ended"):
        await session.send_text("anyone?")


@pytest.mark.parametrize("how", ["1011", "1006"])
async def test_a_dropped_connection_reconnects_with_backoff_and_the_conversation(openai_server: FakeOpenAIRealtime, sleeps: Sleeps, how: str) -> None:
    openai_server.replies.append(Reply(text="First answer.", heard="hello"))
    session = await open_bidi("openai-realtime", settings_for(openai_server, sleeps), config=PUSH_TO_TALK)
    await session.send_text("my name is Ada")
    await until(session)
    first = openai_server.last
    if how == "1011":
        await first.close(1011, "internal error")
    else:
        first.abort()
    notice = await until(session, lambda c: isinstance(c, RetryNotice))
    assert isinstance(notice[-1], RetryNotice) and f"code {how}" in notice[-1].reason and notice[-1].attempt == 1
    await openai_server.wait_for(lambda: len(openai_server.conns) == 2 and len(openai_server.last.received) >= 3)
    second = openai_server.last
    assert second.received[0]["type"] == "session.update"
    replayed = [m["item"] for m in second.received[1:3]]
    assert replayed == [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "my name is Ada"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "First answer."}]},
    ]
    await session.send_text("what is my name?")
    chunks = await until(session)
    await session.close()
    assert chunks[-1] == Done() and session.error is None and session.reconnects == 1
    assert sleeps.delays == [0.5]


async def test_a_reply_cut_by_a_dropped_connection_is_interrupted(openai_server: FakeOpenAIRealtime, sleeps: Sleeps) -> None:
    openai_server.replies.append(Reply(audio_s=2.0, hold_after_s=0.5))
    session = await open_bidi("openai-realtime", settings_for(openai_server, sleeps), config=PUSH_TO_TALK)
    await session.send_text("talk")
    await until(session, lambda c: isinstance(c, AudioChunk))
    openai_server.last.abort()
    chunks = await until(session)
    assert isinstance(chunks[-1], Interrupted) and "dropped" in chunks[-1].reason
    await session.close()


async def test_reconnecting_gives_up_after_the_set_attempts(openai_server: FakeOpenAIRealtime, sleeps: Sleeps) -> None:
    session = await open_bidi("openai-realtime", settings_for(openai_server, sleeps, reconnects=3), config=HANDS_FREE)
    openai_server.refusals.extend([(503, "overloaded")] * 3)
    await openai_server.last.close(1011, "internal error")
    chunks = await until(session, lambda c: False)
    await session.close()
    assert [c.attempt for c in chunks if isinstance(c, RetryNotice)] == [1, 2, 3]
    assert sleeps.delays == [0.5, 1.0, 2.0]
    assert isinstance(chunks[-1], ErrorChunk) and "3 attempts to reconnect failed" in chunks[-1].message and "overloaded" in chunks[-1].message


# --- opening ----------------------------------------------------------------------------------


async def test_a_refused_key_fails_at_once_with_a_hint_and_no_key_shown(openai_server: FakeOpenAIRealtime, sleeps: Sleeps) -> None:
    with pytest.raises(ProviderError) as caught:
        await open_bidi("openai-realtime", settings_for(openai_server, sleeps, key="sk-wrong-1234"))
    assert "401" in caught.value.message and "Incorrect API key" in caught.value.message
    assert "OPENAI_API_KEY" in caught.value.hint and "sk-wrong-1234" not in str(caught.value)
    assert sleeps.delays == []


async def test_an_overloaded_service_is_retried_then_opens(openai_server: FakeOpenAIRealtime, sleeps: Sleeps) -> None:
    openai_server.refusals.append((503, "Service Unavailable"))
    session = await open_bidi("openai-realtime", settings_for(openai_server, sleeps))
    await session.close()
    assert sleeps.delays == [0.5] and len(openai_server.handshakes) == 2


async def test_no_key_names_the_variable(openai_server: FakeOpenAIRealtime) -> None:
    with pytest.raises(ProviderError) as caught:
        await open_bidi("openai-realtime", settings_for(openai_server, key=None))
    assert "no API key for OpenAI Realtime" in caught.value.message and "OPENAI_API_KEY" in caught.value.hint


async def test_the_key_comes_from_the_environment_without_a_key_source(openai_server: FakeOpenAIRealtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    settings = settings_for(openai_server)
    settings.api_key = None
    session = await open_bidi("openai", settings)  # the text provider's name finds its voice side
    assert session.provider == "openai-realtime"
    await session.close()


async def test_a_refused_session_update_fails_the_opening(openai_server: FakeOpenAIRealtime, sleeps: Sleeps) -> None:
    with pytest.raises(ProviderError) as caught:
        await open_bidi("openai-realtime", settings_for(openai_server, sleeps), config=BidiConfig(voice="bogus"))
    assert "refused the session set-up: Invalid value: 'bogus'" in caught.value.message
    assert "voice" in caught.value.hint and sleeps.delays == []
    assert openai_server.last.closed.is_set() or await openai_server.wait_for(lambda: openai_server.last.closed.is_set()) is None


async def test_base_urls_are_turned_into_the_realtime_endpoint() -> None:
    from tui_chat.providers.registry import ProviderSettings
    from tui_chat.realtime.openai_realtime import OpenAIRealtimeSession

    def url(base: str | None, model: str | None = None) -> str:
        return OpenAIRealtimeSession(ProviderSettings(model=model, base_url=base))._url()

    assert url(None) == "wss://api.openai.com/v1/realtime?model=gpt-realtime"
    assert url("https://api.openai.com/v1", "gpt-realtime-mini") == "wss://api.openai.com/v1/realtime?model=gpt-realtime-mini"
    assert url("http://127.0.0.1:8080") == "ws://127.0.0.1:8080/v1/realtime?model=gpt-realtime"
    assert url("wss://proxy.example/openai/v1/realtime?x=1") == "wss://proxy.example/openai/v1/realtime?x=1&model=gpt-realtime"


async def test_several_sessions_at_once(openai_server: FakeOpenAIRealtime) -> None:
    sessions = [await open_bidi("openai-realtime", settings_for(openai_server), config=PUSH_TO_TALK) for _ in range(3)]

    async def talk(session: Any, seconds: float) -> list[Any]:
        await send_frames(session, speech(seconds))
        await session.end_turn()
        return await until(session)

    replies = await asyncio.gather(*(talk(s, n) for s, n in zip(sessions, (0.2, 0.4, 0.6))))
    for session in sessions:
        await session.close()
    heard = [[c.text for c in r if isinstance(c, TranscriptChunk) and c.role is Role.USER and c.final] for r in replies]
    assert heard == [["(0.2 s of audio)"], ["(0.4 s of audio)"], ["(0.6 s of audio)"]]
    assert len(openai_server.conns) == 3


def test_session_update_json_is_plain() -> None:
    from tui_chat.providers.registry import ProviderSettings
    from tui_chat.realtime.openai_realtime import OpenAIRealtimeSession

    session = OpenAIRealtimeSession(ProviderSettings(options={"transcription_model": "", "vad": {"silence_duration_ms": 300}}))
    assert session.session_update()["session"]["audio"]["input"]["turn_detection"] is None  # manual unless told
    session.config = BidiConfig(turn_detection="server", barge_in=False)
    json.dumps(session.session_update())
    audio_in = session.session_update()["session"]["audio"]["input"]
    assert "transcription" not in audio_in
    assert audio_in["turn_detection"] == {"type": "server_vad", "create_response": True, "interrupt_response": False, "silence_duration_ms": 300}


class LateResponses(FakeOpenAIRealtime):
    """Begins no response (not even its `response.created`) until `go` is set: the session reads
    the server on its own thread, so only the server can make "not begun yet" certain (and a
    response that waits to be cancelled makes "cancelled while active" certain)."""

    def __init__(self) -> None:
        super().__init__()
        self.go = asyncio.Event()

    async def respond(self, conn: Any, reply: Reply, active: dict[str, Any]) -> None:
        await self.go.wait()
        await super().respond(conn, reply, active)


async def test_interrupting_before_the_response_began_cancels_it_when_it_does() -> None:
    async with LateResponses() as openai_server:
        openai_server.replies.append(Reply(hold_after_s=0.0))  # begun, it waits to be cancelled
        session = await open_bidi("openai-realtime", settings_for(openai_server), config=PUSH_TO_TALK)
        await send_frames(session, speech(0.3))
        await session.end_turn()
        await session.interrupt(played=0.0)  # before response.created came back
        chunks = await until(session)
        assert chunks[-1] == Interrupted("the user spoke over the reply")
        openai_server.go.set()
        await openai_server.wait_for(lambda: openai_server.last.state["cancels"] == 1 and openai_server.last.state["active"] is None)
        await session.send_text("next")
        nxt = await until(session)
        await session.close()
    assert nxt[-1] == Done() and not [c for c in nxt if isinstance(c, (ErrorChunk, Interrupted))]
    assert audio_s(nxt) == pytest.approx(0.5)


async def test_without_barge_in_the_servers_speech_does_not_cut_the_reply(openai_server: FakeOpenAIRealtime) -> None:
    release = asyncio.Event()
    openai_server.replies.append(Reply(audio_s=1.0, hold_after_s=0.3, release=release))
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=BidiConfig(turn_detection="server", barge_in=False))
    heard: list[str] = []

    async def on_user_speech() -> None:
        heard.append("speech")

    session.on_user_speech = on_user_speech
    await session.send_text("talk")
    await until(session, lambda c: isinstance(c, AudioChunk))
    await send_frames(session, speech(0.2))
    await openai_server.wait_for(lambda: any(m["type"] == "input_audio_buffer.append" for m in openai_server.last.received))
    release.set()
    chunks = await until(session)
    await session.close()
    assert chunks[-1] == Done() and heard == []
    assert openai_server.sessions[0]["audio"]["input"]["turn_detection"]["interrupt_response"] is False
