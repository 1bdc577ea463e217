"""Hands-free with the provider taking the turns (`turn_detection="server"`), through `VoiceSession`,
against the OpenAI Realtime and Gemini Live fakes (whose energy VADs stand in for the services').

The session streams every frame and never ends a turn itself; the fake hears the speech, ends the
turn after its own silence, and answers; speech over a reply is heard by the fake, which cuts the
reply, and the session flushes playback (cause "server") and, for OpenAI, truncates the model's
memory of the reply at what was played.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.voice.test_session import sounding
from tests.fakes.realtime_gemini import FakeGeminiLive, Reply as GeminiReply, frames_of
from tests.fakes.realtime_openai import FakeOpenAIRealtime, Reply as OpenAIReply
from tui_chat.voice.events import BargeIn, InputWarning, ProviderChunk, ReplyEnded, SessionEnded, TurnEnded, TurnStarted
from tui_chat.audio.playback import ClockedSink
from tui_chat.voice.session import VoiceOptions, VoiceSession
from tui_chat.audio.sources import PcmSource
from tui_chat.audio.synth import speech_like
from tui_chat.audio.wav import WavWriter, read_wav
from tui_chat.chunks import Role, TranscriptChunk
from tui_chat.realtime import open_bidi
from tui_chat.realtime.base import BidiConfig

from tests.realtime.conftest import settings_for
from .test_voice_path import GatedSource

OUT_RATE = 24000
BLOCK = 0.02
PROVIDERS = {
    "openai-realtime": (FakeOpenAIRealtime, 24000, OpenAIReply),
    "gemini-live": (FakeGeminiLive, 16000, GeminiReply),
}


def quiet(seconds: float, rate: int) -> np.ndarray:
    return np.zeros(int(round(seconds * rate)), np.int16)


def of(events: list[Any], kind: type) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def transcripts(events: list[Any], role: Role, final: bool) -> list[str]:
    return [
        e.chunk.text for e in events
        if isinstance(e, ProviderChunk) and isinstance(e.chunk, TranscriptChunk) and e.chunk.role is role and e.chunk.final is final
    ]


async def server_session(provider: str, server: Any, source: Any, sink: Any, **options: Any) -> VoiceSession:
    bidi = await open_bidi(provider, settings_for(server), config=BidiConfig(turn_detection="server"))
    voice = VoiceSession(bidi, source, sink, VoiceOptions(levels=False, **options))
    assert voice.server_turns
    return voice


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_a_hands_free_turn_is_taken_and_answered_by_the_provider(provider: str, tmp_path: Path) -> None:
    server_type, rate, _reply = PROVIDERS[provider]
    talk = speech_like("What is the weather like tomorrow?", rate)
    signal = np.concatenate((quiet(0.5, rate), talk, quiet(1.5, rate)))
    async with server_type() as server:
        sink = ClockedSink(OUT_RATE, WavWriter(tmp_path / "heard.wav", OUT_RATE))
        voice = await server_session(provider, server, PcmSource(signal, rate, fast=True), sink)
        events = [event async for event in voice.run()]
        conn = server.conns[0]
    # The provider was set up for its own turn detection, and only ever sent audio: no commit, no
    # response request (OpenAI), no activityStart/End (Gemini); the end of the input is marked.
    if provider == "openai-realtime":
        assert server.sessions[0]["audio"]["input"]["turn_detection"]["type"] == "server_vad"
        kinds = {m["type"] for m in conn.received}
        assert "input_audio_buffer.commit" not in kinds and "response.create" not in kinds
        appended = sum(len(m["audio"]) for m in conn.received if m["type"] == "input_audio_buffer.append")
        assert appended * 3 // 4 / 2 / rate >= signal.size / rate  # every frame went (and then the closing silence)
    else:
        assert server.setups[0]["realtimeInputConfig"]["automaticActivityDetection"]["disabled"] is False
        frames = frames_of(conn)
        assert "activityStart" not in frames and "activityEnd" not in frames
        assert frames[-1] == "audioStreamEnd" and frames.count("audio") == -(-signal.size // (rate // 50))
    assert len(of(events, TurnStarted)) == 1
    [turn] = of(events, TurnEnded)
    assert turn.sent is False  # the provider ended it, not the session
    [reply] = of(events, ReplyEnded)
    assert reply.status == "complete" and reply.audio_s == pytest.approx(0.5) and reply.text
    assert transcripts(events, Role.USER, True)  # what the provider heard
    ended = events[-1]
    assert isinstance(ended, SessionEnded) and ended.error is None and (ended.turns, ended.replies) == (1, 1)
    # The reply was played whole, after the speech.
    spans = sounding(read_wav(tmp_path / "heard.wav").samples, OUT_RATE, BLOCK)
    assert spans and spans[0][0] >= turn.at and sum(b - a for a, b in spans) == pytest.approx(0.5, abs=2 * BLOCK)


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_speech_over_the_reply_is_heard_by_the_provider_and_cuts_it(provider: str, tmp_path: Path) -> None:
    server_type, rate, reply_type = PROVIDERS[provider]
    talk = speech_like("Hello there, tell me a long story please.", rate)
    again = speech_like("Wait, stop.", rate)
    async with server_type() as server:
        server.replies.append(reply_type(text="A long answer " * 8, audio_s=4.0, hold_after_s=2.0))
        sink = ClockedSink(OUT_RATE, WavWriter(tmp_path / "heard.wav", OUT_RATE))
        source = GatedSource(  # the person speaks again once 1 s of the reply is waiting to be heard
            np.concatenate((quiet(0.4, rate), talk, quiet(0.8, rate))),
            np.concatenate((quiet(0.6, rate), again, quiet(1.5, rate))),
            lambda: sink.pending_s >= 1.0,
        )
        source.rate, source.frame_samples = rate, rate // 50
        voice = await server_session(provider, server, source, sink, interruption="immediate")
        events = [event async for event in voice.run()]
        conn = server.conns[0]
    [barge] = of(events, BargeIn)
    assert (barge.cause, barge.strategy, barge.reply) == ("server", "immediate", 1)
    assert barge.played_s >= 0.6 and barge.flushed_s > 0.5
    assert [r.status for r in of(events, ReplyEnded)] == ["interrupted", "complete"]
    assert of(events, ReplyEnded)[0].played_s == pytest.approx(barge.played_s)
    if provider == "openai-realtime":
        # The model's memory of the reply is cut where the person stopped hearing it.
        [(_item, end_ms)] = conn.state["truncations"]
        assert end_ms == pytest.approx(barge.played_s * 1000, abs=1)
    ended = events[-1]
    assert isinstance(ended, SessionEnded) and ended.error is None and ended.replies == 2
    # Playback stopped at the barge-in (within a block) and the next sound is the second reply.
    spans = sounding(read_wav(tmp_path / "heard.wav").samples, OUT_RATE, BLOCK)
    first_end = next(b for a, b in spans if b >= barge.at - BLOCK)
    assert first_end == pytest.approx(barge.at, abs=BLOCK)
    assert sum(b - a for a, b in spans if b <= barge.at + BLOCK) == pytest.approx(barge.played_s, abs=2 * BLOCK)


async def test_speech_the_provider_does_not_take_for_a_turn_ends_with_a_warning() -> None:
    """The local detector heard a turn; the service's (deaf, here) did not answer it: once the
    input has ended the session waits `answer_timeout`, warns and ends cleanly, without an error."""
    rate = 24000
    signal = np.concatenate((quiet(0.5, rate), speech_like("Is anyone there?", rate), quiet(1.0, rate)))
    async with FakeOpenAIRealtime() as server:
        server.vad_threshold = 1e9  # it never hears speech
        voice = await server_session("openai-realtime", server, PcmSource(signal, rate, fast=True), ClockedSink(OUT_RATE), answer_timeout=0.2)
        events = [event async for event in voice.run()]
    assert len(of(events, TurnEnded)) == 1 and of(events, ReplyEnded) == []
    [warning] = of(events, InputWarning)
    assert "openai-realtime did not answer the last 1 turn within 0.2 s" in warning.message
    assert isinstance(events[-1], SessionEnded) and events[-1].error is None and voice.error is None


@pytest.mark.parametrize(("provider", "cause"), [("openai-realtime", "server"), ("gemini-live", "speech")])
async def test_speech_over_the_audio_of_a_finished_reply_stops_it(provider: str, cause: str, tmp_path: Path) -> None:
    """The reply has all come (the service is done with it) but is still being played. OpenAI's
    VAD reports all speech, so the service's signal cuts it; Gemini says nothing when it is not
    generating, so the local detector does."""
    server_type, rate, reply_type = PROVIDERS[provider]
    talk = speech_like("Hello there, tell me a story please.", rate)
    again = speech_like("Wait, stop.", rate)
    async with server_type() as server:
        server.replies.append(reply_type(text="A long answer " * 8, audio_s=3.0))
        sink = ClockedSink(OUT_RATE, WavWriter(tmp_path / "heard.wav", OUT_RATE))
        voice_ref: list[VoiceSession] = []
        source = GatedSource(  # the person speaks again once the reply has all come and 1 s of it waits
            np.concatenate((quiet(0.4, rate), talk, quiet(0.8, rate))),
            np.concatenate((quiet(0.4, rate), again, quiet(1.5, rate))),
            lambda: voice_ref[0].reply_count == 1 and not voice_ref[0].replying and sink.pending_s >= 1.0,
        )
        source.rate, source.frame_samples = rate, rate // 50
        voice = await server_session(provider, server, source, sink, interruption="immediate")
        voice_ref.append(voice)
        events = [event async for event in voice.run()]
    [barge] = of(events, BargeIn)
    assert (barge.cause, barge.reply) == (cause, 1) and barge.flushed_s > 0.5
    # The reply's words had all come, but not all of it was heard: it ends interrupted when cut,
    # with what was heard of it, and not before (its end is decided by playback, not generation).
    first, second = of(events, ReplyEnded)
    assert (first.reply, first.status, second.status) == (1, "interrupted", "complete")
    assert events.index(first) > events.index(barge) and first.at == barge.at
    assert first.played_s == pytest.approx(barge.played_s) and first.played_s < first.audio_s - 0.5 and first.text
    spans = sounding(read_wav(tmp_path / "heard.wav").samples, OUT_RATE, BLOCK)
    assert next(b for a, b in spans if b >= barge.at - BLOCK) == pytest.approx(barge.at, abs=BLOCK)
    assert isinstance(events[-1], SessionEnded) and events[-1].error is None
