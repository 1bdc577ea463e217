"""`AudioClock`: time counted in samples of input, the clock of a voice session.

A microphone is a clock: counting what it delivers keeps time exactly, and a file read faster than
real time behaves as it would live. The session and its turn taker each keep one.
"""

from __future__ import annotations


class AudioClock:
    """Seconds of audio taken at `rate` samples a second."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.samples = 0

    def advance(self, samples: int) -> None:
        """`samples` more samples were taken."""
        self.samples += samples

    @property
    def now(self) -> float:
        """Audio time: seconds of input taken so far."""
        return self.samples / self.rate
