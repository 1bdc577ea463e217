"""The voice session: turns to the provider, replies to the speaker, barge-in, bad input, failures.

Runs use fast sources and the clocked (virtual) speaker: audio time comes from the samples, and
the recording of the speaker lines up with the input, so what was heard when can be checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, AsyncIterator

import numpy as np
import pytest

from tui_chat.audio.errors import AudioDeviceError
from tui_chat.voice.events import (
    BargeIn,
    InputWarning,
    LevelReading,
    ProviderChunk,
    ReplyEnded,
    ReplyStarted,
    SessionEnded,
    SessionError,
    TurnEnded,
    TurnStarted,
    event_to_dict,
)
from tui_chat.audio.playback import ClockedSink
from tui_chat.voice.session import VoiceOptions, VoiceSession
from tui_chat.audio.sources import PcmSource
from tui_chat.audio.wav import WavWriter, read_wav
from tui_chat.chunks import ErrorChunk, Interrupted, Role, TranscriptChunk
from tui_chat.providers.registry import ProviderSettings
from tui_chat.realtime import open_bidi

from tests.audio.conftest import RATE, Spoken, silence

OUT_RATE = 24000
BLOCK = 0.02
REPLY_DELAY = 4 * BLOCK + 1e-9


async def run_session(samples: np.ndarray, tmp_path: Path | None = None, *, source: Any = None, **settings: Any) -> tuple[list, Any]:
    demo = settings.pop("demo", {})
    options = VoiceOptions(**{"levels": False, **settings})
    bidi = await open_bidi("demo", ProviderSettings(options=demo))
    writer = WavWriter(tmp_path / "heard.wav", OUT_RATE) if tmp_path else None
    sink = ClockedSink(OUT_RATE, writer)
    voice = VoiceSession(bidi, source or PcmSource(samples, RATE, fast=True), sink, options)
    events = [event async for event in voice.run()]
    assert bidi.closed
    return events, voice


def of(events: list, kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


def chunks_of(events: list, kind: type) -> list:
    return [e.chunk for e in events if isinstance(e, ProviderChunk) and isinstance(e.chunk, kind)]


def sounding(samples: np.ndarray, rate: int = OUT_RATE, block: float = BLOCK) -> list[tuple[float, float]]:
    """The stretches (start, end) of blocks that are not silent."""
    n = int(rate * block)
    loud = [bool(np.any(samples[i : i + n])) for i in range(0, samples.size, n)]
    spans, start = [], None
    for index, flag in enumerate(loud + [False]):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            spans.append((start * block, index * block))
            start = None
    return spans


def merged(spans: list[tuple[float, float]], gap: float = 0.5) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for start, end in spans:
        if out and start - out[-1][1] <= gap:
            out[-1][1] = end
        else:
            out.append([start, end])
    return [(a, b) for a, b in out]


@pytest.fixture(params=["synth", "espeak"])
def speech(request: pytest.FixtureRequest) -> Spoken:
    return request.getfixturevalue("synth_two_phrases" if request.param == "synth" else "two_phrases")


async def test_two_turns_two_replies(speech: Spoken, tmp_path: Path) -> None:
    events, voice = await run_session(speech.samples, tmp_path, interruption="ignore")
    turns = of(events, TurnEnded)
    assert [(round(t.start, 1), t.reason, t.sent) for t in turns] == [(round(s, 1), "silence", True) for s, _ in speech.truth]
    for turn, (start, end) in zip(turns, speech.truth):
        assert abs(turn.start - start) <= 0.1 and abs(turn.at - end) <= 0.1
    heard = [c.text for c in chunks_of(events, TranscriptChunk) if c.role is Role.USER]
    assert len(heard) == 2
    replies = of(events, ReplyEnded)
    assert [r.status for r in replies] == ["complete", "complete"]
    assert all(r.text.startswith("I heard ") for r in replies)
    ended = events[-1]
    assert isinstance(ended, SessionEnded) and ended.turns == 2 and ended.replies == 2 and ended.error is None
    assert voice.error is None

    # The recording: the first reply starts when the turn's end was reported; the second was
    # queued behind it (the user spoke while the first played), so both play whole, in a row.
    recording = read_wav(tmp_path / "heard.wav")
    spans = merged(sounding(recording.samples))
    assert len(spans) == 1
    assert 0 <= spans[0][0] - turns[0].detected_at <= REPLY_DELAY
    # (Each reply ends with its closing pause, which is silent.)
    assert spans[0][1] - spans[0][0] == pytest.approx(replies[0].audio_s + replies[1].audio_s, abs=0.45)


async def test_barge_in_flushes_playback_at_once(speech: Spoken, tmp_path: Path) -> None:
    events, _ = await run_session(speech.samples, tmp_path, interruption="immediate")
    barge = of(events, BargeIn)
    second = of(events, TurnStarted)[1]
    assert len(barge) == 1 and barge[0].at == pytest.approx(second.detected_at) and barge[0].reply == 1
    assert barge[0].flushed_s > 0.5 and barge[0].played_s > 0
    assert len(chunks_of(events, Interrupted)) == 1
    replies = of(events, ReplyEnded)
    assert [r.status for r in replies] == ["interrupted", "complete"]
    assert replies[0].played_s == pytest.approx(barge[0].played_s)
    assert replies[0].text and "I heard".startswith(replies[0].text[:7])  # the partial text is kept

    recording = read_wav(tmp_path / "heard.wav").samples
    spans = merged(sounding(recording))
    first_reply = spans[0]
    # Playback stopped within one output block of the barge-in being detected...
    assert barge[0].at - BLOCK <= first_reply[1] <= barge[0].at + BLOCK
    # ...and what was heard of it is what the session says was played.
    assert first_reply[1] - first_reply[0] == pytest.approx(barge[0].played_s, abs=2 * BLOCK)
    # The interrupted reply's remaining audio never played: next comes the second reply.
    # (The demo's reply starts a few loop turns, at most REPLY_DELAY of fast audio, after the turn.)
    assert 0 <= spans[1][0] - of(events, TurnEnded)[1].detected_at <= REPLY_DELAY


async def test_deferred_interruption_lets_the_piece_being_played_finish(synth_two_phrases: Spoken, tmp_path: Path) -> None:
    events, _ = await run_session(synth_two_phrases.samples, tmp_path, interruption="deferred", demo={"chunk_ms": 400})
    barge = of(events, BargeIn)[0]
    assert barge.strategy == "deferred"
    spans = merged(sounding(read_wav(tmp_path / "heard.wav").samples))
    assert barge.at < spans[0][1] <= barge.at + 0.4 + BLOCK  # the 400 ms piece played to its end
    played = barge.played_s
    piece_end = (played // 0.4 + 1) * 0.4
    assert spans[0][1] - spans[0][0] == pytest.approx(piece_end, abs=2 * BLOCK)
    assert barge.reply == 1
    # Its 400 ms pieces came faster than the loop turns: the reply had all arrived before the user
    # spoke, but playback was cut, so it ends interrupted.
    assert [r.status for r in of(events, ReplyEnded)] == ["interrupted", "complete"]
    assert chunks_of(events, Interrupted) == []


async def test_ignore_lets_the_reply_play_over_the_user(synth_two_phrases: Spoken, tmp_path: Path) -> None:
    events, _ = await run_session(synth_two_phrases.samples, tmp_path, interruption="ignore")
    assert of(events, BargeIn) == [] and chunks_of(events, Interrupted) == []
    replies = of(events, ReplyEnded)
    assert [r.status for r in replies] == ["complete", "complete"]
    spans = merged(sounding(read_wav(tmp_path / "heard.wav").samples))
    assert spans[0][1] - spans[0][0] == pytest.approx(replies[0].audio_s + replies[1].audio_s, abs=0.45)


async def test_without_auto_complete_turns_wait_for_the_front_end(synth_two_phrases: Spoken) -> None:
    events, voice = await run_session(synth_two_phrases.samples, auto_complete=False)
    assert [t.sent for t in of(events, TurnEnded)] == [False, False]
    # The input's end sends what was said, as one turn, and its reply is awaited.
    heard = [c.text for c in chunks_of(events, TranscriptChunk) if c.role is Role.USER]
    assert len(heard) == 1 and len(of(events, ReplyEnded)) == 1
    assert voice.bidi.turns == 1  # type: ignore[attr-defined]


async def test_end_turn_from_the_front_end(synth_two_phrases: Spoken) -> None:
    bidi = await open_bidi("demo")
    voice = VoiceSession(bidi, PcmSource(synth_two_phrases.samples, RATE, fast=True), ClockedSink(OUT_RATE), VoiceOptions(levels=False, auto_complete=False))
    events = []
    async for event in voice.run():
        events.append(event)
        if isinstance(event, TurnEnded):
            await voice.end_turn()
    assert bidi.turns == 2  # type: ignore[attr-defined]
    assert len(of(events, ReplyEnded)) == 2


async def test_text_in_the_middle_of_a_voice_session() -> None:
    bidi = await open_bidi("demo")
    voice = VoiceSession(bidi, PcmSource(silence(1.0), RATE, fast=True), ClockedSink(OUT_RATE), VoiceOptions(levels=True))
    events = []
    async for event in voice.run():
        events.append(event)
        if len(events) == 1:
            await voice.send_text("hello there")
    said = [c.text for c in chunks_of(events, TranscriptChunk) if c.final]
    assert said == ["You wrote 2 words. This is the offline voice demo."]


async def test_levels_for_a_meter(synth_two_phrases: Spoken) -> None:
    events, _ = await run_session(synth_two_phrases.samples, levels=True)
    levels = of(events, LevelReading)
    assert len(levels) == int(np.ceil(synth_two_phrases.samples.size / (RATE // 50)))
    assert levels[0].rms_db == -100.0 and not levels[0].speaking
    assert max(level.rms_db for level in levels) > -30
    inside = [lv for lv in levels if 1.0 < lv.at < 2.5]
    assert all(lv.speaking for lv in inside)
    assert levels[-1].at == pytest.approx(synth_two_phrases.duration, abs=0.02)


async def test_silence_only_gives_no_turn_and_a_warning() -> None:
    events, voice = await run_session(silence(4.0))
    assert of(events, TurnStarted) == [] and of(events, ReplyStarted) == []
    warnings = [w.message for w in of(events, InputWarning)]
    assert len(warnings) == 1 and "digital silence" in warnings[0] and "muted" in warnings[0]
    assert voice.error is None and isinstance(events[-1], SessionEnded)


async def test_clipping_only_gives_no_turn_and_a_warning() -> None:
    square = np.where((np.arange(RATE * 3) // 40) % 2 == 0, 32767, -32768).astype(np.int16)
    events, voice = await run_session(square)
    assert of(events, TurnStarted) == []
    warnings = [w.message for w in of(events, InputWarning)]
    assert warnings == ["the input is clipping: lower the microphone's gain or move it away"]
    assert warnings and voice.error is None


class FailingSource:
    """A microphone that delivers `frames` frames of speech, then is lost."""

    def __init__(self, samples: np.ndarray, frames: int) -> None:
        self.rate = RATE
        self.frame_samples = RATE // 50
        self.warnings: list[str] = []
        self.samples = samples
        self.count = frames
        self.closed = False

    async def frames(self) -> AsyncIterator[np.ndarray]:
        for index in range(self.count):
            yield self.samples[index * self.frame_samples : (index + 1) * self.frame_samples]
        raise AudioDeviceError("the microphone 'USB mic' stopped: the device was lost or failed", hint="check that it is connected")

    async def aclose(self) -> None:
        self.closed = True


async def test_a_device_lost_mid_turn_ends_the_session_cleanly(synth_two_phrases: Spoken, tmp_path: Path) -> None:
    source = FailingSource(synth_two_phrases.samples, 75)  # 1.5 s: in the middle of the first phrase
    events, voice = await run_session(synth_two_phrases.samples, tmp_path, source=source)
    errors = of(events, SessionError)
    assert len(errors) == 1 and "'USB mic' stopped" in errors[0].message and errors[0].hint
    assert errors[0].at == pytest.approx(1.5)
    assert isinstance(events[-1], SessionEnded) and "USB mic" in events[-1].error
    assert source.closed and voice.error is not None
    assert read_wav(tmp_path / "heard.wav").duration == pytest.approx(1.5)  # the recording is finished, not broken
    assert event_to_dict(errors[0])["fatal"] is True


@pytest.mark.parametrize("fault", ["odd_pcm", "bad_base64"])
async def test_bad_provider_audio_is_reported_and_the_session_goes_on(synth_two_phrases: Spoken, fault: str) -> None:
    events, voice = await run_session(synth_two_phrases.samples, interruption="ignore", demo={"fault": fault})
    errors = chunks_of(events, ErrorChunk)
    assert len(errors) == 2  # one per reply
    assert [r.status for r in of(events, ReplyEnded)] == ["complete", "complete"]
    assert voice.error is None
    dicts = [event_to_dict(e) for e in events if isinstance(e, ProviderChunk) and isinstance(e.chunk, ErrorChunk)]
    assert all(d["type"] == "error" and d["fatal"] is False for d in dicts)


async def test_a_dropped_connection_ends_the_session(synth_two_phrases: Spoken) -> None:
    events, voice = await run_session(synth_two_phrases.samples, demo={"fault": "disconnect"})
    errors = of(events, SessionError)
    assert len(errors) == 1 and "dropped" in errors[0].message
    assert not chunks_of(events, ErrorChunk)  # reported once
    assert [r.status for r in of(events, ReplyEnded)] == ["error"]
    assert isinstance(events[-1], SessionEnded) and events[-1].turns == 1  # the input stopped there
    assert voice.error is not None


async def test_a_speaker_lost_ends_the_session(synth_two_phrases: Spoken) -> None:
    class LosingSink(ClockedSink):
        def advance(self, samples: int, rate: int) -> None:
            super().advance(samples, rate)
            if self.position_s >= 1.0:
                self.error = AudioDeviceError("the speaker 'HDMI' stopped: the device was lost or failed")

    bidi = await open_bidi("demo")
    voice = VoiceSession(bidi, PcmSource(synth_two_phrases.samples, RATE, fast=True), LosingSink(OUT_RATE), VoiceOptions(levels=False))
    events = [e async for e in voice.run()]
    assert [e.message for e in of(events, SessionError)] == ["the speaker 'HDMI' stopped: the device was lost or failed"]


async def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="interruption"):
        VoiceOptions(interruption="sometimes")


async def test_a_voice_session_runs_once() -> None:
    bidi = await open_bidi("demo")
    voice = VoiceSession(bidi, PcmSource(silence(0.1), RATE, fast=True), ClockedSink(OUT_RATE))
    [e async for e in voice.run()]
    with pytest.raises(RuntimeError):
        [e async for e in voice.run()]


async def test_the_consumer_stopping_early_closes_everything(synth_two_phrases: Spoken) -> None:
    bidi = await open_bidi("demo")
    source = PcmSource(synth_two_phrases.samples, RATE, fast=True)
    voice = VoiceSession(bidi, source, ClockedSink(OUT_RATE), VoiceOptions(levels=False))
    stream = voice.run()
    async for event in stream:
        if isinstance(event, TurnStarted):
            break
    await stream.aclose()
    assert bidi.closed and source._closed


async def test_a_turn_cut_at_the_maximum_length_goes_on_without_interrupting_its_own_reply() -> None:
    from tui_chat.audio.synth import speech_like
    from tui_chat.voice.turns import TurnParams

    talk = np.concatenate([speech_like("on and on and on, without a pause at all", RATE)] * 2)
    signal = np.concatenate((silence(0.3), talk, silence(1.5)))
    events, _ = await run_session(signal, turns=TurnParams(max_turn_s=2.0))
    turns = of(events, TurnEnded)
    assert [t.reason for t in turns][:2] == ["max_length", "max_length"] and turns[-1].reason == "silence"
    assert all(t.sent for t in turns)
    assert of(events, BargeIn) == []  # the speech that goes on is not a barge-in on the first part's reply
    assert len(of(events, ReplyEnded)) == len(turns)
