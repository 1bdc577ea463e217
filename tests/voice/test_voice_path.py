"""The whole voice path over the WebSocket providers: VoiceSession, the virtual speaker, `tui-chat voice`."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any, AsyncIterator

import numpy as np
import pytest

from tests.voice.test_session import sounding
from tests.fakes.realtime_gemini import FakeGeminiLive
from tests.fakes.realtime_openai import FakeOpenAIRealtime, Reply
from tui_chat.voice.events import BargeIn, ReplyEnded, SessionEnded
from tui_chat.audio.playback import ClockedSink
from tui_chat.voice.session import VoiceOptions, VoiceSession
from tui_chat.audio.synth import speech_like
from tui_chat.audio.wav import WavWriter, read_wav
from tui_chat.realtime import open_bidi
from tui_chat.realtime.base import BidiConfig

from tests.realtime.conftest import settings_for

RATE = 24000
BLOCK = 0.02


def quiet(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), np.int16)


class GatedSource:
    """Frames of `first`, then (once `ready()` holds) frames of `second`: the user speaks again
    only once the reply is being played, whatever the network's pace. Audio time is frames, and
    no frame comes while `wait()` holds (the reply is arriving: the session reads it on its own
    thread, and the virtual speaker must not play on past audio still on its way)."""

    def __init__(self, first: np.ndarray, second: np.ndarray, ready: Any, wait: Any = lambda: False) -> None:
        self.rate = RATE
        self.frame_samples = RATE // 50
        self.warnings: list[str] = []
        self.parts = (first, second)
        self.ready = ready
        self.wait = wait

    async def frames(self) -> AsyncIterator[np.ndarray]:
        for index, samples in enumerate(self.parts):
            if index == 1:
                async with asyncio.timeout(10):
                    while not self.ready():
                        await asyncio.sleep(0)
            for first in range(0, samples.size, self.frame_samples):
                frame = samples[first : first + self.frame_samples]
                if frame.size < self.frame_samples:
                    frame = np.concatenate((frame, np.zeros(self.frame_samples - frame.size, np.int16)))
                await asyncio.sleep(0)
                async with asyncio.timeout(10):
                    while self.wait():
                        await asyncio.sleep(0)
                yield frame

    async def aclose(self) -> None:
        pass


async def test_barge_in_truncates_at_the_audio_actually_played(openai_server: FakeOpenAIRealtime, tmp_path: Path) -> None:
    openai_server.replies.append(Reply(text="A long answer " * 8, audio_s=4.0, hold_after_s=2.0))
    bidi = await open_bidi("openai-realtime", settings_for(openai_server), config=BidiConfig(turn_detection="manual"))
    sink = ClockedSink(RATE, WavWriter(tmp_path / "heard.wav", RATE))
    talk = speech_like("Hello there, tell me a long story please.", RATE)
    again = speech_like("Wait, stop.", RATE)
    source = GatedSource(
        np.concatenate((quiet(0.4), talk, quiet(1.0))),
        np.concatenate((quiet(0.6), again, quiet(1.0))),
        lambda: sink.pending_s + sink.played_s(1) >= 2.0 - 1e-9,  # all of the reply before its hold came
        lambda: not sink.queue.flushes and 0 < sink.pending_s + sink.played_s(1) < 2.0 - 1e-9,  # it is coming (and not cut)
    )
    voice = VoiceSession(bidi, source, sink, VoiceOptions(levels=False, interruption="immediate"))
    events = [event async for event in voice.run()]

    barge = [e for e in events if isinstance(e, BargeIn)]
    assert len(barge) == 1 and barge[0].played_s > 0.5
    assert [e.status for e in events if isinstance(e, ReplyEnded)][0] == "interrupted"
    truncations = openai_server.conns[0].state["truncations"]
    assert len(truncations) == 1 and openai_server.conns[0].state["cancels"] == 1
    end_ms = truncations[0][1]
    # What the model is told was heard is what the session says was played...
    assert end_ms == pytest.approx(barge[0].played_s * 1000, abs=1)
    # ...and what the recording of the speaker holds, within one block.
    spans = sounding(read_wav(tmp_path / "heard.wav").samples, RATE, BLOCK)
    assert abs((spans[0][1] - spans[0][0]) * 1000 - end_ms) <= BLOCK * 1000
    assert isinstance(events[-1], SessionEnded) and events[-1].error is None


@pytest.mark.parametrize("provider", ["openai-realtime", "gemini-live"])
async def test_the_voice_command_runs_with_both_providers(provider: str, tmp_path: Path) -> None:
    from tui_chat.voice.headless import run_voice
    from tui_chat.audio.wav import write_wav

    rate = 24000 if provider == "openai-realtime" else 16000
    path = tmp_path / "turn.wav"
    samples = np.concatenate((np.zeros(rate // 2, np.int16), speech_like("What time is it?", rate), np.zeros(rate, np.int16)))
    write_wav(path, samples, rate)
    server_type = FakeOpenAIRealtime if provider == "openai-realtime" else FakeGeminiLive
    async with server_type() as server:
        out, err = io.StringIO(), io.StringIO()
        code = await run_voice(provider, settings=settings_for(server), audio_in=path, audio_out=tmp_path / "reply.wav",
                               fast=True, json_out=True, out=out, err=err)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 0, out.getvalue() + err.getvalue()
    kinds = [line["type"] for line in lines]
    assert kinds.count("turn_started") == 1 and kinds.count("reply_ended") == 1
    reply = next(line for line in lines if line["type"] == "reply_ended")
    assert reply["status"] == "complete" and reply["audio_s"] == pytest.approx(0.5)
    assert lines[-1]["type"] == "session_ended" and lines[-1]["error"] is None
    assert read_wav(tmp_path / "reply.wav").duration > 0.5
