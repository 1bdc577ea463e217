"""Turns: the stretches of audio, cut by a VAD, that are sent to the model as one utterance each.

`TurnDetector` feeds each frame to a `VoiceActivityDetector` and says what to do with it:
`TurnStart` (with the pre-roll: the audio from a little before the speech began, so the first
syllable is not cut), `TurnAudio` (send these samples), `TurnEnd` (the utterance is over, by
silence, by reaching the maximum length, or because the input ended). Times are audio seconds.

A different policy (a semantic end-of-turn model, push-to-talk) implements `TurnTaker`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..audio.vad import SpeechEnd, SpeechStart, VadState, VoiceActivityDetector


@dataclass(frozen=True, slots=True)
class TurnParams:
    pre_roll_s: float = 0.3
    """Audio from before the detected start of speech that is sent with it."""
    max_turn_s: float = 30.0
    """A turn is ended (and, while speech goes on, a new one begun) after this long."""


@dataclass(frozen=True, slots=True)
class TurnStart:
    at: float
    """When the speech began."""
    detected_at: float
    """When the VAD was sure of it (the end of the frame that confirmed it)."""
    continued: bool = False
    """The speech went on past the maximum turn length: this turn continues the previous one."""


@dataclass(frozen=True, slots=True)
class TurnAudio:
    samples: np.ndarray
    """Int16 mono samples to send, in order; the first one after a `TurnStart` holds the pre-roll."""


@dataclass(frozen=True, slots=True)
class TurnEnd:
    at: float
    """When the speech stopped (for `max_length` and `input_end`: when the turn was cut)."""
    detected_at: float
    """When the end was reported."""
    start: float
    """When the turn's speech began (its `TurnStart.at`)."""
    reason: str
    """`silence`, `max_length` or `input_end`."""

    @property
    def duration(self) -> float:
        return self.at - self.start


TurnEvent = TurnStart | TurnAudio | TurnEnd


class TurnTaker(Protocol):
    """What a voice session needs from a turn detector."""

    @property
    def in_turn(self) -> bool: ...

    def process(self, frame: np.ndarray) -> list[TurnEvent]: ...

    def finish(self) -> list[TurnEvent]:
        """The input has ended: close any open turn."""
        ...


class TurnDetector:
    """VAD events -> turns, with pre-roll and a maximum turn length."""

    def __init__(self, vad: VoiceActivityDetector, params: TurnParams | None = None) -> None:
        self.vad = vad
        self.params = params or TurnParams()
        self.rate = vad.rate
        self._samples = 0
        # Recent frames with the sample index of their first sample; enough for the pre-roll plus
        # the audio heard while the VAD was confirming the start (which can be long with gaps).
        self._recent: deque[tuple[int, np.ndarray]] = deque()
        self._keep = int((self.params.pre_roll_s + 3.0) * self.rate)
        self._turn_start: float | None = None
        self._vad_offset: float | None = None

    @property
    def in_turn(self) -> bool:
        return self._turn_start is not None

    @property
    def now(self) -> float:
        return self._samples / self.rate

    def process(self, frame: np.ndarray) -> list[TurnEvent]:
        first = self._samples
        self._samples += frame.size
        now = self._samples / self.rate
        self._recent.append((first, frame))
        while self._recent and self._recent[0][0] + self._recent[0][1].size < self._samples - self._keep:
            self._recent.popleft()

        events: list[TurnEvent] = []
        vad_events = self.vad.process(frame)
        if self._turn_start is not None:
            events.append(TurnAudio(frame))
        for event in vad_events:
            if isinstance(event, SpeechStart) and self._turn_start is None:
                self._turn_start = event.at
                events.append(TurnStart(event.at, event.detected_at))
                events.append(TurnAudio(self._since(event.at - self.params.pre_roll_s)))
            elif isinstance(event, SpeechEnd) and self._turn_start is not None:
                events.append(TurnEnd(event.at, event.detected_at, self._turn_start, "silence"))
                self._turn_start = None
        if self._turn_start is not None and now - self._turn_start >= self.params.max_turn_s - 1e-9:
            events.append(TurnEnd(now, now, self._turn_start, "max_length"))
            self._turn_start = None
            if self.vad.state in (VadState.SPEAKING, VadState.STOPPING):
                # Speech goes on: it is the next turn, without pre-roll (nothing was left out).
                self._turn_start = now
                events.append(TurnStart(now, now, continued=True))
        return events

    def finish(self) -> list[TurnEvent]:
        if self._turn_start is None:
            return []
        now = self.now
        paused = getattr(self.vad, "pause_started", None)  # optional in the VAD protocol
        at = paused if isinstance(paused, float) else now
        start, self._turn_start = self._turn_start, None
        return [TurnEnd(max(at, start), now, start, "input_end")]

    def _since(self, time: float) -> np.ndarray:
        """The recent audio from `time` (rounded down to a frame start) to now."""
        first = max(0, int(time * self.rate))
        parts = [f for start, f in self._recent if start + f.size > first]
        if not parts:
            return np.zeros(0, dtype=np.int16)
        head_start = next(start for start, f in self._recent if start + f.size > first)
        audio = np.concatenate(parts)
        return audio[max(0, first - head_start) :]
