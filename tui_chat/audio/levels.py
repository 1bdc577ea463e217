"""Signal levels for a meter: RMS and peak in dBFS per frame, with a peak hold.

0 dBFS is a full-scale sine's peak; digital silence reads `MIN_DB`. Time is counted in samples,
so a file read faster than real time holds and releases its peaks exactly as it would live.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_DB = -100.0
"""The level reported for digital silence (and the floor of every reading)."""

_FULL_SCALE_SQ = 32768.0 * 32768.0
CLIP_SAMPLE = 32767
"""An int16 sample at or beyond this magnitude is counted as clipped."""


def rms_dbfs(frame: np.ndarray) -> float:
    """RMS level of an int16 frame in dBFS (`MIN_DB` for silence or an empty frame)."""
    if frame.size == 0:
        return MIN_DB
    x = frame.astype(np.float32)
    mean_square = float(np.dot(x, x)) / frame.size
    if mean_square <= 0.0:
        return MIN_DB
    return max(MIN_DB, 10.0 * math.log10(mean_square / _FULL_SCALE_SQ))


def peak_magnitude(frame: np.ndarray) -> int:
    """The largest absolute sample of an int16 frame (32768 for a -32768 sample)."""
    if frame.size == 0:
        return 0
    return max(int(frame.max()), -int(frame.min()))


def peak_dbfs(frame: np.ndarray) -> float:
    """Peak level of an int16 frame in dBFS."""
    peak = peak_magnitude(frame)
    return MIN_DB if peak == 0 else max(MIN_DB, 20.0 * math.log10(peak / 32768.0))


@dataclass(frozen=True, slots=True)
class Level:
    """One frame's reading. `hold_db` is the held peak a meter draws as a marker."""

    rms_db: float
    peak_db: float
    hold_db: float
    clipped: bool


class LevelMeter:
    """Per-frame readings with a peak hold that stays `hold_s` then falls `fall_db_per_s`."""

    def __init__(self, rate: int, *, hold_s: float = 1.5, fall_db_per_s: float = 20.0) -> None:
        self.rate = rate
        self.hold_s = hold_s
        self.fall_db_per_s = fall_db_per_s
        self._hold_db = MIN_DB
        self._held_for = 0.0  # seconds since the held peak was set

    def reset(self) -> None:
        self._hold_db = MIN_DB
        self._held_for = 0.0

    def measure(self, frame: np.ndarray) -> Level:
        duration = frame.size / self.rate
        peak = peak_magnitude(frame)
        peak_db = MIN_DB if peak == 0 else max(MIN_DB, 20.0 * math.log10(peak / 32768.0))
        if peak_db >= self._hold_db:
            self._hold_db = peak_db
            self._held_for = 0.0
        else:
            self._held_for += duration
            if self._held_for > self.hold_s:
                falling = min(duration, self._held_for - self.hold_s)
                self._hold_db = max(peak_db, self._hold_db - self.fall_db_per_s * falling)
        return Level(rms_dbfs(frame), peak_db, self._hold_db, peak >= CLIP_SAMPLE)
