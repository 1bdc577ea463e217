"""Flush pacing: how much pending text one flush takes on, and when the next may run.

Pure bookkeeping, no Textual. Text appended between flushes waits in `PendingText`.

- `FrameBudget` paces flushes to the arrival rate while the screen keeps up: text arriving after a
  quiet spell (the first chunk of a reply, a slow stream) is painted at once; text arriving faster
  is painted in batches, each flushed on the arrival after which waiting for the next chunk would
  pass the latency budget. Each paint may be a layout of the screen: fewer of them is most of the
  CPU saved.
- `FlushPacer`: when text comes faster than it can be shown, a flush takes on at most a *budget*
  of characters, adapted so that a flush takes about its target time, and the next flush waits
  until the layout the last one caused has had `layout_ratio` times its own cost of free loop
  time: keys are still handled promptly.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

__all__ = ["FlushPacer", "FrameBudget", "PendingText"]


@dataclass(slots=True)
class PendingText:
    """Text appended and not yet flushed, taken from the front in bounded slices."""

    _pieces: deque[str] = field(default_factory=deque)
    chars: int = 0
    """How many characters are pending."""

    def __bool__(self) -> bool:
        return self.chars > 0

    def add(self, text: str) -> None:
        self._pieces.append(text)
        self.chars += len(text)

    def clear(self) -> None:
        self._pieces.clear()
        self.chars = 0

    def take(self, limit: int) -> str:
        """At most `limit` characters (at least one) from the front.

        A piece longer than what is left of `limit` is cut: however large the chunks a model
        sends, one flush never takes on more than its budget.
        """
        taken: list[str] = []
        room = max(1, limit)
        pieces = self._pieces
        while pieces and room:
            piece = pieces[0]
            if len(piece) <= room:
                taken.append(pieces.popleft())
                room -= len(piece)
            else:
                taken.append(piece[:room])
                pieces[0] = piece[room:]
                room = 0
        text = "".join(taken)
        self.chars -= len(text)
        return text


@dataclass(slots=True)
class FlushPacer:
    """The budget of one flush and the earliest time of the next."""

    start: int = 1024
    minimum: int = 256
    maximum: int = 1 << 20
    layout_ratio: float = 1.0
    """After a flush, the next one waits this many times as long as the refresh it caused took."""
    budget: int = field(init=False)
    """How many pending characters one flush takes on."""
    next_flush_at: float = 0.0
    """The `time.perf_counter()` before which no flush should start."""

    def __post_init__(self) -> None:
        self.budget = self.start

    def adapt(self, elapsed: float, target: float) -> None:
        """A flush that was limited by the budget took `elapsed` seconds: aim the budget at `target`."""
        if elapsed > target:
            self.budget = max(self.minimum, int(self.budget * target / elapsed))
        elif elapsed < target / 2:
            self.budget = min(self.maximum, self.budget * 2)

    def refreshed(self, flushed_at: float, now: float) -> None:
        """The refresh showing a flush that ended at `flushed_at` ended at `now`: pace the next.

        The time from the end of a flush to the end of the refresh that shows it is mostly that
        refresh's layout; minus what a cheap refresh takes (waiting for the frame timer, composing
        new blocks), so that only expensive layouts slow the flushes down.
        """
        cost = max(0.0, now - flushed_at - 1 / 30)
        self.next_flush_at = now + self.layout_ratio * cost


@dataclass(slots=True)
class FrameBudget:
    """When pending streamed text should be flushed, given when text arrives.

    Each chunk may wait up to `latency` for the flush that shows it. Text is held while the next
    chunk is expected soon enough to join it within that budget, and flushed on the arrival after
    which it would not be: at 50 chunks/s and 30 ms, every second chunk, on its arrival (the first
    waited 20 ms, the second none); at 200/s every sixth or so. A flush falls *on* an arrival,
    triggered by it, never on a timer racing it: a timer that fired just before the chunk it was
    set for left that chunk to wait a whole interval more (the chunk's wait p90 was the whole
    budget). A timer only backs the budget up for text after which nothing comes.

    All times are `time.perf_counter()` seconds, passed in (a fake clock in tests). The budget
    does not shrink when paints are slow: painting more often would only make them slower.
    """

    latency: float = 0.030
    """The longest a piece of text should wait for the flush that takes it on. (40 ms was measured
    at 50 chunks/s: ~16% less CPU, but a chunk's first paint p90 61-90 ms against 48-51 at 30 ms,
    over the 50 ms goal: `bench/stream_rate.py --latency`.)"""
    smoothing: float = 0.25
    """Weight of the newest sample in the running average of the arrival gap."""
    spare: float = 0.25
    """The next chunk is expected this share of a gap later than the average gap: arrivals jitter,
    and a flush due about when it comes is made on this arrival instead of racing it."""
    gap: float = math.inf
    """The running average of the time between two arrivals (inf before the second)."""
    last_arrival: float = -math.inf
    oldest: float | None = None
    """When the oldest text not flushed yet arrived (None: none is waiting)."""

    def arrived(self, now: float) -> None:
        """Text arrived at `now`."""
        if self.last_arrival > -math.inf:
            sample = now - self.last_arrival
            self.gap = sample if self.gap == math.inf else self.gap + self.smoothing * (sample - self.gap)
        self.last_arrival = now
        if self.oldest is None:
            self.oldest = now

    def delay(self, now: float) -> float:
        """Seconds from `now` until the waiting text should be flushed (0: at once).

        At once when the next chunk, expected a little over one average gap from now, would come
        after the oldest waiting text's budget ran out (the first chunk of a reply, text after a quiet spell,
        a slow stream: every chunk); else when the budget runs out, unless a later arrival finds
        it is time (see `arrived`).
        """
        if self.oldest is None:
            return 0.0
        deadline = self.oldest + self.latency
        if now + self.gap * (1 + self.spare) > deadline:
            return 0.0
        return deadline - now

    def flushed(self) -> None:
        """A flush started, taking on the text that was waiting (what a flush limited by its size
        leaves is flushed as when behind, without the budget)."""
        self.oldest = None
