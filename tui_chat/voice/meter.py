"""What a level meter shows of one side of a voice conversation. Plain values, no numpy.

Apart from the voice events so that the chat screen, which draws an (idle) meter from its first
frame, does not load the voice path's event types before voice is first turned on.
"""

from __future__ import annotations

from dataclasses import dataclass

SILENT_DB = -100.0
"""What the audio layer reports for digital silence (`audio.levels.MIN_DB`, without loading numpy)."""


@dataclass(frozen=True, slots=True)
class MeterLevels:
    """One side's reading for a meter: RMS and peak of the latest stretch, the held peak, clipping."""

    rms_db: float = SILENT_DB
    peak_db: float = SILENT_DB
    hold_db: float = SILENT_DB
    clipped: bool = False


SILENCE = MeterLevels()
"""The reading of a side that is silent, or not listened to."""
