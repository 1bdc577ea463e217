"""`MeteredSink`: a playback sink that measures the reply audio as it is heard, for a meter.

Textual-free; the chat's voice mode wraps the speaker in it and reads `reading(at)` for the
output side of its level meter. Reply audio is written on the model session's own thread
(`playback_lane`) while the meter reads on the front end's loop, so what they share is locked.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Hashable

import numpy as np

from ..audio.levels import LevelMeter
from ..audio.pcm import resample
from ..audio.playback import PlaybackSink
from .meter import SILENCE, MeterLevels


class MeteredSink:
    """A `PlaybackSink` that hands everything to `inner` and measures the reply audio as it is heard.

    What is heard is what was written less what is still queued (`inner.pending_s`); a flush drops
    the unplayed tail here too. `reading(at)` measures what was heard since the previous reading,
    padded with silence up to the time gone by, so the held peak falls when the speaker is quiet.
    """

    def __init__(self, inner: PlaybackSink) -> None:
        self.inner = inner
        self.rate = inner.rate
        self.clocked = inner.clocked
        self._meter: LevelMeter | None = None
        self._meter_rate = inner.rate
        self._pieces: deque[tuple[float, np.ndarray]] = deque()  # (start second, samples at _meter_rate)
        self._written = 0.0
        self._measured_to = 0.0
        self._last_at: float | None = None
        self._last = SILENCE
        self._lock = threading.Lock()  # `write` and `flush` (any thread) against `reading` (the front end's)

    @property
    def error(self) -> Any:
        return self.inner.error

    def write(self, samples: np.ndarray, rate: int, tag: Hashable = None) -> None:
        with self._lock:
            self.inner.write(samples, rate, tag)
            if self._meter is None:
                self._meter_rate = rate
                self._meter = LevelMeter(rate)
            if rate != self._meter_rate:
                samples = resample(samples, rate, self._meter_rate)
            if samples.size:
                self._pieces.append((self._written, samples))
                self._written += samples.size / self._meter_rate

    def advance(self, samples: int, rate: int) -> None:
        self.inner.advance(samples, rate)

    def flush(self, *, keep_current: bool = False) -> float:
        with self._lock:
            dropped = self.inner.flush(keep_current=keep_current)
            self._written = max(self._measured_to, self._written - dropped)
            while self._pieces and self._pieces[-1][0] >= self._written:
                self._pieces.pop()
            if self._pieces:
                start, samples = self._pieces[-1]
                keep = int(round((self._written - start) * self._meter_rate))
                self._pieces[-1] = (start, samples[:keep])
            return dropped

    @property
    def pending_s(self) -> float:
        return self.inner.pending_s

    @property
    def playing(self) -> Hashable:
        return self.inner.playing

    def played_s(self, tag: Hashable) -> float:
        return self.inner.played_s(tag)

    async def drain(self) -> None:
        await self.inner.drain()

    async def aclose(self) -> None:
        await self.inner.aclose()

    def reading(self, at: float) -> MeterLevels:
        """The speaker's level over what was heard since the last reading (`at`: audio time)."""
        if self._meter is None:
            return SILENCE
        elapsed = 0.0 if self._last_at is None else min(0.5, max(0.0, at - self._last_at))
        self._last_at = at
        with self._lock:  # (the measuring below works on what is taken, outside the lock)
            heard = min(self._written, max(self._measured_to, self._written - self.inner.pending_s))
            played = self._take(self._measured_to, heard)
            self._measured_to = heard
        rate = self._meter_rate
        quiet = max(0, int(round(elapsed * rate)) - played.size)
        if played.size + quiet == 0:
            return self._last
        frame = np.concatenate((played, np.zeros(quiet, dtype=np.int16))) if quiet else played
        level = self._meter.measure(frame)
        self._last = MeterLevels(level.rms_db, level.peak_db, level.hold_db, level.clipped)
        return self._last

    def _take(self, begin: float, end: float) -> np.ndarray:
        """The audio written between `begin` and `end` seconds; pieces wholly before `end` are let go."""
        rate = self._meter_rate
        parts = []
        while self._pieces:
            start, samples = self._pieces[0]
            lo = max(0, int(round((begin - start) * rate)))
            hi = min(samples.size, int(round((end - start) * rate)))
            if hi > lo:
                parts.append(samples[lo:hi])
            if start + samples.size / rate <= end + 1e-9:
                self._pieces.popleft()
                continue
            break
        if not parts:
            return np.zeros(0, dtype=np.int16)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)
