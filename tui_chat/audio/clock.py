"""Time counted in samples: `AudioClock`, the clock of a voice session, and `LoopLag`.

A microphone is a clock: counting what it delivers keeps time exactly, and a file read faster than
real time behaves as it would live. The session and its turn taker each keep one.

A speaker is a clock too. `LoopLag` keeps how late the event loop has been, measured on the
speaker's clock (samples it took while a probe waited for the loop), so the speaker's jitter
buffer can hold as much audio as the loop's stalls need, and tests can make a stall of an exact
length without any wall-clock time.
"""

from __future__ import annotations

from collections import deque


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


class LoopLag:
    """The worst loop lag (samples of a device's clock) seen over the last `window` samples.

    `note(at, lag)`: a probe posted to the loop at device time `at - lag` ran at `at`.
    A sliding maximum: each note costs O(1) amortised.
    """

    def __init__(self, window: int) -> None:
        self.window = window
        self._peaks: deque[tuple[int, int]] = deque()  # (at, lag), lags decreasing from the left

    def note(self, at: int, lag: int) -> None:
        peaks = self._peaks
        while peaks and peaks[-1][1] <= lag:
            peaks.pop()
        peaks.append((at, lag))
        while peaks[0][0] < at - self.window:
            peaks.popleft()

    @property
    def worst(self) -> int:
        """The largest lag noted within the window (0 before any)."""
        try:  # (read from the writing thread while a probe may be noting on another)
            return self._peaks[0][1]
        except IndexError:
            return 0
