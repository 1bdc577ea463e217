"""Stopping the assistant: `VoiceSession.interrupt()` (Esc), and a reply the provider cuts by itself.

The input is fed by the test frame by frame (`FedSource`), so audio time, and with it what the
virtual speaker has played, is the test's: the test lets a known stretch of reply play, stops it,
and reads in the recording of the speaker exactly what was heard.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import numpy as np
import pytest

from tests.fakes.realtime_server import tone
from tui_chat.voice.events import BargeIn, ProviderChunk, ReplyEnded, ReplyStarted, SessionEnded, TurnEnded
from tui_chat.audio.playback import ClockedSink
from tui_chat.voice.session import VoiceOptions, VoiceSession
from tui_chat.audio.synth import speech_like
from tui_chat.audio.wav import WavWriter, read_wav
from tui_chat.chunks import AudioChunk, Done, Interrupted, Role, TranscriptChunk
from tui_chat.providers.registry import ProviderSettings
from tui_chat.realtime import open_bidi
from tui_chat.realtime.base import BidiConfig, BidiSession

from tests.audio.conftest import RATE, silence
from .test_session import sounding

OUT_RATE = 24000
BLOCK = 0.02


class FedSource:
    """A microphone stand-in: frames come when the test feeds them, and `drained` is set once the
    session has taken (and fully processed) every frame fed."""

    def __init__(self, rate: int = RATE) -> None:
        self.rate = rate
        self.frame_samples = rate // 50
        self.warnings: list[str] = []
        self.drained = asyncio.Event()
        self._queue: asyncio.Queue[np.ndarray | None] = asyncio.Queue()

    def feed(self, samples: np.ndarray) -> None:
        n = self.frame_samples
        samples = np.concatenate((samples.astype(np.int16), np.zeros((-samples.size) % n, np.int16)))
        for first in range(0, samples.size, n):
            self._queue.put_nowait(samples[first : first + n])
        self.drained.clear()

    def end(self) -> None:
        self._queue.put_nowait(None)
        self.drained.clear()

    async def frames(self) -> AsyncIterator[np.ndarray]:
        while True:
            if self._queue.empty():
                self.drained.set()  # the frame before was processed: the session asks for the next
            frame = await self._queue.get()
            if frame is None:
                return
            yield frame

    async def take(self, samples: np.ndarray) -> None:
        """Feed `samples` and wait until the session has processed them."""
        self.feed(samples)
        await self.drained.wait()

    async def aclose(self) -> None:
        pass


async def until(condition: Callable[[], bool], turns: int = 20000) -> None:
    """Let the loop run until `condition` holds (bounded, so a bug fails instead of hanging)."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


class Run:
    """A voice session run in a task, its events collected as they come."""

    def __init__(self, voice: VoiceSession) -> None:
        self.voice = voice
        self.events: list[Any] = []
        self.task = asyncio.create_task(self._collect())

    async def _collect(self) -> None:
        async for event in self.voice.run():
            self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    async def finish(self) -> None:
        async with asyncio.timeout(30):
            await self.task


def turn() -> np.ndarray:
    """Half a second of silence, a spoken-like phrase, and the silence that ends the turn."""
    return np.concatenate((silence(0.5), speech_like("Tell me a long story about the sea, please.", RATE), silence(1.0)))


# --- interrupt() on the demo -----------------------------------------------------------------------


async def test_interrupt_stops_the_reply_at_once_and_tells_the_model_what_was_heard(tmp_path: Path) -> None:
    bidi = await open_bidi("demo", ProviderSettings(options={"hold_after_s": 2.0}))  # 2 s of reply, then it waits
    sink = ClockedSink(OUT_RATE, WavWriter(tmp_path / "heard.wav", OUT_RATE))
    source = FedSource()
    # Ignore: the interruption strategy does not matter to an explicit stop.
    run = Run(VoiceSession(bidi, source, sink, VoiceOptions(levels=False, interruption="ignore")))
    voice = run.voice
    assert not voice.assistant_active and await voice.interrupt() is False  # nothing to stop yet

    spoken = turn()
    await source.take(spoken)
    await until(lambda: sink.pending_s + sink.played_s(1) >= 2.0 - 1e-9)  # the demo sent its 2 s
    assert voice.assistant_active
    await source.take(silence(0.6))  # 0.6 s more of the reply is heard
    played = sink.played_s(1)
    stopped_at = voice.now
    assert 0.6 <= played < 2.0

    assert await voice.interrupt() is True
    assert sink.pending_s == 0  # flushed at once, before any more input
    [barge] = run.of(BargeIn)
    assert (barge.cause, barge.strategy, barge.reply) == ("stop", "immediate", 1)
    assert barge.played_s == pytest.approx(played) and barge.flushed_s == pytest.approx(2.0 - played, abs=0.01)
    await until(lambda: bool(run.of(ReplyEnded)))
    [ended] = run.of(ReplyEnded)
    assert ended.status == "interrupted" and ended.played_s == pytest.approx(played)
    assert ended.text and "I heard".startswith(ended.text[:7])  # the words that came stay
    assert bidi.interruptions == 1  # type: ignore[attr-defined]
    assert not voice.assistant_active and await voice.interrupt() is False

    await source.take(silence(1.0))
    source.end()
    await run.finish()
    assert isinstance(run.events[-1], SessionEnded) and run.events[-1].error is None and run.events[-1].replies == 1
    # The recording of the speaker: the reply sounds from when it came (once the turn fed at once
    # was taken) until the stop, within one block, and never again.
    spans = sounding(read_wav(tmp_path / "heard.wav").samples, OUT_RATE, BLOCK)
    begin, end = spans[0][0], spans[-1][1]
    assert run.of(TurnEnded)[0].detected_at <= begin <= spoken.size / RATE + BLOCK
    assert end == pytest.approx(stopped_at, abs=BLOCK)
    assert sum(b - a for a, b in spans) <= played + BLOCK


# --- a provider scripted by the test ---------------------------------------------------------------


class ScriptedBidi(BidiSession):
    """A provider whose replies the test writes: `say(seconds)` sends that much tone as reply
    audio; on `interrupt` it records `played`, sends `late` seconds more of the reply (audio
    already on its way) and then `Interrupted`; `cut()` ends the reply as a server would on its own."""

    provider = "scripted"
    input_rate = RATE
    output_rate = OUT_RATE

    def __init__(self, *, turn_detection: str = "manual", late: float = 0.0) -> None:
        super().__init__()
        self.config = BidiConfig(turn_detection=turn_detection)
        self.late = late
        self.received = 0.0
        self.turn_ends = 0
        self.interrupts: list[float | None] = []
        self.replying = False

    async def _connect(self) -> None:
        pass

    async def _send_audio(self, pcm: bytes, rate: int) -> None:
        self.received += len(pcm) / 2 / rate

    async def _send_text(self, text: str) -> None:
        pass

    async def _end_turn(self) -> None:
        self.turn_ends += 1

    def say(self, seconds: float) -> None:
        self.replying = True
        self._emit(TranscriptChunk("A reply", Role.ASSISTANT))
        audio = tone(seconds, OUT_RATE)
        for first in range(0, audio.size, OUT_RATE // 10):
            self._emit(AudioChunk(audio[first : first + OUT_RATE // 10].tobytes(), OUT_RATE))

    def cut(self) -> None:
        self.replying = False
        self._emit(Interrupted("the service cut the reply"))

    async def _interrupt(self, played: float | None) -> None:
        self.interrupts.append(played)
        if not self.replying:
            return  # (as every provider: nothing in progress, nothing emitted)
        if self.late:
            self._emit(AudioChunk(tone(self.late, OUT_RATE).tobytes(), OUT_RATE))
        self.cut()

    async def _disconnect(self) -> None:
        pass


async def test_audio_of_the_stopped_reply_that_arrives_late_is_not_played(tmp_path: Path) -> None:
    bidi = ScriptedBidi(late=1.0)
    sink = ClockedSink(OUT_RATE, WavWriter(tmp_path / "heard.wav", OUT_RATE))
    source = FedSource()
    run = Run(VoiceSession(bidi, source, sink, VoiceOptions(levels=False)))
    await source.take(turn())
    assert bidi.turn_ends == 1
    bidi.say(3.0)
    await until(lambda: sink.pending_s >= 3.0 - 1e-9)
    await source.take(silence(0.5))
    stopped_at = run.voice.now
    assert await run.voice.interrupt() is True
    assert bidi.interrupts == [pytest.approx(0.5)]
    await until(lambda: bool(run.of(ReplyEnded)))
    assert sink.pending_s == 0  # the late second of the reply was dropped, not queued
    assert [e.status for e in run.of(ReplyEnded)] == ["interrupted"]
    await source.take(silence(1.5))
    source.end()
    await run.finish()
    spans = sounding(read_wav(tmp_path / "heard.wav").samples, OUT_RATE, BLOCK)
    assert spans and spans[-1][1] == pytest.approx(stopped_at, abs=BLOCK)


async def test_a_reply_the_provider_cuts_by_itself_is_flushed_with_server_turns(tmp_path: Path) -> None:
    """Server turn detection: every frame is streamed, no turn is ended by the session, and an
    `Interrupted` the provider sends on its own (no barge-in of ours) stops playback at once."""
    bidi = ScriptedBidi(turn_detection="server")
    sink = ClockedSink(OUT_RATE, WavWriter(tmp_path / "heard.wav", OUT_RATE))
    source = FedSource()
    run = Run(VoiceSession(bidi, source, sink, VoiceOptions(levels=False)))
    assert run.voice.server_turns and bidi.on_user_speech is not None
    signal = turn()
    await source.take(signal)
    assert bidi.received == pytest.approx(signal.size / RATE, abs=0.02)  # all of it, silence too
    assert bidi.turn_ends == 0  # the provider decides where the turn ends
    [ended_turn] = run.of(TurnEnded)
    assert ended_turn.sent is False
    bidi.say(2.0)
    await until(lambda: sink.pending_s >= 2.0 - 1e-9)
    await source.take(silence(0.4))
    bidi.cut()
    await until(lambda: bool(run.of(ReplyEnded)))
    assert sink.pending_s == 0 and run.of(BargeIn) == []
    assert [e.status for e in run.of(ReplyEnded)] == ["interrupted"]
    cut_at = run.voice.now
    await source.take(silence(1.0))
    source.end()
    await run.finish()
    assert bidi.turn_ends == 1  # the end of the input: the provider is let hear the end of the audio
    assert isinstance(run.events[-1], SessionEnded) and run.events[-1].error is None
    spans = sounding(read_wav(tmp_path / "heard.wav").samples, OUT_RATE, BLOCK)
    assert spans[-1][1] == pytest.approx(cut_at, abs=BLOCK)


async def test_the_providers_voice_detection_barges_in_per_the_strategy() -> None:
    """`on_user_speech` over a reply is a barge-in (cause "server"); with "ignore" it does nothing;
    with nothing playing the provider is still told."""
    for strategy, expect_barge in (("immediate", True), ("ignore", False)):
        bidi = ScriptedBidi(turn_detection="server")
        sink = ClockedSink(OUT_RATE)
        source = FedSource()
        run = Run(VoiceSession(bidi, source, sink, VoiceOptions(levels=False, interruption=strategy)))
        await source.take(silence(0.2))
        assert bidi.on_user_speech is not None
        await bidi.on_user_speech()  # nothing playing
        assert bidi.interrupts == ([None] if expect_barge else []) and run.of(BargeIn) == []
        bidi.say(1.0)
        await until(lambda: sink.pending_s >= 1.0 - 1e-9)
        await source.take(silence(0.2))
        await bidi.on_user_speech()
        if expect_barge:
            await until(lambda: bool(run.of(ReplyEnded)))
            assert [(b.cause, b.reply) for b in run.of(BargeIn)] == [("server", 1)] and sink.pending_s == 0
            assert bidi.interrupts[-1] == pytest.approx(0.2)
            assert [e.status for e in run.of(ReplyEnded)] == ["interrupted"]
        else:
            assert sink.pending_s > 0 and bidi.interrupts == []  # the reply goes on
            bidi.replying = False
            bidi._emit(Done())
            await source.take(silence(0.4))
            assert run.of(ReplyEnded) == []  # all came, not all heard: not ended yet
            await source.take(silence(0.6))  # the rest of its audio is heard
            await until(lambda: bool(run.of(ReplyEnded)))
            assert run.of(BargeIn) == [] and [e.status for e in run.of(ReplyEnded)] == ["complete"]
        source.end()
        await run.finish()
        assert not any(isinstance(e, ProviderChunk) and isinstance(e.chunk, AudioChunk) for e in run.events)
        assert run.of(ReplyStarted)


async def test_interrupt_also_stops_a_reply_still_waiting_its_turn(tmp_path: Path) -> None:
    """Two things said; the first reply is playing, the second waits behind it. Esc stops both:
    nothing more is heard, and each ends interrupted (the session owes no reply any more)."""
    bidi = await open_bidi("demo", ProviderSettings(options={"hold_after_s": 1.0}))
    sink = ClockedSink(OUT_RATE, WavWriter(tmp_path / "heard.wav", OUT_RATE))
    source = FedSource()
    run = Run(VoiceSession(bidi, source, sink, VoiceOptions(levels=False)))
    await source.take(silence(0.2))
    await run.voice.send_text("tell me about the sea")
    await run.voice.send_text("and then about the sky")
    await until(lambda: sink.pending_s >= 1.0 - 1e-9)
    await source.take(silence(0.3))
    stopped_at = run.voice.now
    assert await run.voice.interrupt() is True
    await until(lambda: len(run.of(ReplyEnded)) == 2)
    assert [e.status for e in run.of(ReplyEnded)] == ["interrupted", "interrupted"]
    assert bidi.interruptions == 2 and not run.voice.assistant_active  # type: ignore[attr-defined]
    await source.take(silence(2.0))
    source.end()
    await run.finish()
    spans = sounding(read_wav(tmp_path / "heard.wav").samples, OUT_RATE, BLOCK)
    assert spans[-1][1] == pytest.approx(stopped_at, abs=BLOCK)
