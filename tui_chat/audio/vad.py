"""Voice activity detection: is someone speaking, and since when.

`VoiceActivityDetector` is the interface a voice session uses; `EnergyVad` is the built-in one,
and a stronger detector (a neural one, say) can take its place by implementing the same three
members. Every time here is audio time, counted from the samples fed in, never the wall clock,
so a file processed faster than real time gives the same events as the same audio live.

`EnergyVad` compares each frame's RMS level with an adaptive noise floor: the quietest frame
level of the last `floor_window_s` seconds. A frame is speech when it is `threshold_db` above that
floor (and louder than `min_volume_db`); once speech has been confirmed, frames stay speech down to
`release_db` above the floor (hysteresis). States:

  quiet     no speech
  starting  speech-like frames, not yet `start_s` of them (gaps up to `start_gap_s` allowed)
  speaking  speech confirmed: `SpeechStart` was reported, dated at the first speech frame
  stopping  speech paused; after `stop_s` of no speech `SpeechEnd` is reported, dated at the
            first frame of the pause, and the state is quiet again

Stationary noise, whatever its level, sits at the floor and never becomes speech; a sudden step
of steady noise reads as speech for at most `floor_window_s` (the floor catches up with it).
"""

from __future__ import annotations

import enum
import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from .levels import MIN_DB


class VadState(str, enum.Enum):
    QUIET = "quiet"
    STARTING = "starting"
    SPEAKING = "speaking"
    STOPPING = "stopping"


@dataclass(frozen=True, slots=True)
class VadParams:
    """Settings of the energy VAD. Times are seconds of audio; levels are dB."""

    threshold_db: float = 12.0
    """How far above the noise floor a frame must be to start speech."""
    release_db: float = 6.0
    """How far above the noise floor a frame must stay to continue speech (hysteresis)."""
    min_volume_db: float = -50.0
    """Frames quieter than this (dBFS RMS) are never speech, however quiet the room."""
    start_s: float = 0.2
    """Speech needed before it is confirmed."""
    stop_s: float = 0.8
    """Silence needed before speech is over."""
    start_gap_s: float = 0.15
    """A gap this long while starting is not speech after all."""
    floor_window_s: float = 2.0
    """The noise floor is the quietest frame of this much recent audio."""

    def __post_init__(self) -> None:
        if self.release_db > self.threshold_db:
            raise ValueError("release_db must not be above threshold_db")
        for name in ("start_s", "stop_s", "start_gap_s", "floor_window_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")


@dataclass(frozen=True, slots=True)
class SpeechStart:
    """Speech was confirmed. `at` is when it began; `detected_at` when it was confirmed."""

    at: float
    detected_at: float


@dataclass(frozen=True, slots=True)
class SpeechEnd:
    """Speech is over. `at` is when it stopped; `detected_at` when that became sure (`at` + stop_s)."""

    at: float
    detected_at: float


VadEvent = SpeechStart | SpeechEnd


@runtime_checkable
class VoiceActivityDetector(Protocol):
    """What a voice session needs from a VAD. Frames are int16 mono at `rate`, any length."""

    rate: int

    @property
    def state(self) -> VadState: ...

    def process(self, frame: np.ndarray) -> list[VadEvent]:
        """Take the next frame; return the events it caused (usually none)."""
        ...

    def reset(self) -> None:
        """Forget everything heard (a new stream starts)."""
        ...


class _SlidingMinimum:
    """The minimum of the values of the last `window` seconds, in O(1) per value.

    Values are kept as minima of sub-blocks of 1/8 of the window, so the window is exact to one
    sub-block.
    """

    BLOCKS = 8

    def __init__(self, window: float) -> None:
        self.block_len = window / self.BLOCKS
        self._done: deque[float] = deque(maxlen=self.BLOCKS)
        self._current = math.inf
        self._current_len = 0.0

    def push(self, value: float, duration: float) -> float:
        self._current = min(self._current, value)
        self._current_len += duration
        minimum = min(self._current, min(self._done, default=math.inf))
        if self._current_len >= self.block_len:
            self._done.append(self._current)
            self._current = math.inf
            self._current_len = 0.0
        return minimum


class EnergyVad:
    """Energy VAD with an adaptive noise floor and hysteresis (see the module text)."""

    def __init__(self, rate: int, params: VadParams | None = None) -> None:
        self.rate = rate
        self.params = params or VadParams()
        self.reset()

    def reset(self) -> None:
        self._state = VadState.QUIET
        self._samples = 0
        self._floor = _SlidingMinimum(self.params.floor_window_s)
        self.floor_db = MIN_DB
        self.level_db = MIN_DB
        self._onset = 0.0
        self._speech_s = 0.0
        self._gap_s = 0.0
        self._offset = 0.0
        self._silence_s = 0.0

    @property
    def state(self) -> VadState:
        return self._state

    @property
    def now(self) -> float:
        """Audio time at the end of the last frame, in seconds."""
        return self._samples / self.rate

    @property
    def pause_started(self) -> float | None:
        """While stopping: when the current pause in speech began; else None."""
        return self._offset if self._state is VadState.STOPPING else None

    def process(self, frame: np.ndarray) -> list[VadEvent]:
        p = self.params
        n = frame.size
        if n == 0:
            return []
        start = self._samples / self.rate
        self._samples += n
        end = self._samples / self.rate
        duration = n / self.rate

        x = frame.astype(np.float32)
        mean_square = float(np.dot(x, x)) / n
        level = MIN_DB if mean_square <= 0.0 else max(MIN_DB, 10.0 * math.log10(mean_square / 1073741824.0))
        self.level_db = level
        floor = self._floor.push(level, duration)
        self.floor_db = floor

        state = self._state
        margin = p.release_db if state in (VadState.SPEAKING, VadState.STOPPING) else p.threshold_db
        speech = level >= p.min_volume_db and level >= floor + margin

        events: list[VadEvent] = []
        if state is VadState.QUIET:
            if speech:
                self._state = VadState.STARTING
                self._onset = start
                self._speech_s = duration
                self._gap_s = 0.0
                state = self._state
        elif state is VadState.STARTING:
            if speech:
                self._speech_s += duration
                self._gap_s = 0.0
            else:
                self._gap_s += duration
                if self._gap_s >= p.start_gap_s - 1e-9:
                    self._state = VadState.QUIET
        elif state is VadState.SPEAKING:
            if not speech:
                self._state = VadState.STOPPING
                self._offset = start
                self._silence_s = duration
        else:  # STOPPING
            if speech:
                self._state = VadState.SPEAKING
            else:
                self._silence_s += duration
        if self._state is VadState.STARTING and self._speech_s >= p.start_s - 1e-9:
            self._state = VadState.SPEAKING
            events.append(SpeechStart(self._onset, end))
        elif self._state is VadState.STOPPING and self._silence_s >= p.stop_s - 1e-9:
            self._state = VadState.QUIET
            events.append(SpeechEnd(self._offset, end))
        return events
