"""Flush pacing: how much pending text one flush takes on, and when the next may run.

Pure bookkeeping, no Textual. Text appended between flushes waits in `PendingText`.

- `FrameBudget` paces flushes to the arrival rate while the screen keeps up: text arriving after a
  quiet spell (the first chunk of a reply, a slow stream) is painted at once; text arriving faster
  is painted in batches, each flushed on the arrival after which waiting for the next chunk would
  pass the latency budget, which adapts so that chunks are painted within a goal (p90). Each paint
  may be a layout of the screen: fewer of them is most of the CPU saved.
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
    """The budget of one flush, the earliest time of the next, and whether text comes as a flood.

    A flood (text coming faster than flushes that build widgets show it, see `flooded`) is judged
    from what is pending, how fast text arrives and how fast flushes took it on, so that a backlog
    takes the same path whichever of the first flushes and arrivals happens to run first. A flush
    that builds widgets and one that only parks text (catching up) cost very different amounts per
    character: each has a budget of its own, so that leaving a catch-up does not build the large
    slices parking took on.
    """

    start: int = 1024
    minimum: int = 256
    maximum: int = 1 << 20
    layout_ratio: float = 1.0
    """After a flush, the next one waits this many times as long as the refresh it caused took."""
    horizon: float = 0.25
    """The time constant of `flow` and `shown`: at zero delay a screen of text comes in a few
    milliseconds, at a model's speed in seconds."""
    budget: int = field(init=False)
    """How many pending characters one flush that builds widgets takes on."""
    catch_up_budget: int = field(init=False)
    """How many pending characters one flush takes on while catching up (parking them unbuilt)."""
    next_flush_at: float = 0.0
    """The `time.perf_counter()` before which no flush should start."""
    flow: float = field(default=0.0, init=False)
    """The characters that arrived lately, each weighed down by e^-(its age / `horizon`): at a
    steady rate, the rate times `horizon`. A lull of a few frames in a flood (the loop busy with
    something else, a burst of another task's work) barely lowers it."""
    shown: float = field(default=0.0, init=False)
    """The characters flushes took on lately, weighed alike: at a steady pace, what they show in
    `horizon` seconds."""
    _flow_at: float = field(default=0.0, init=False)
    _arrived: int = field(default=0, init=False)
    """Characters appended since `flow` was last brought up to date."""

    def __post_init__(self) -> None:
        self.budget = self.catch_up_budget = self.start

    def limit(self, catching_up: bool) -> int:
        """The budget of the next flush."""
        return self.catch_up_budget if catching_up else self.budget

    def adapt(self, elapsed: float, target: float, *, catching_up: bool = False) -> None:
        """A flush that was limited by the budget took `elapsed` seconds: aim its budget at `target`.

        A slow flush at most halves the budget: one flush that happened to hold a layout (the
        first blocks of a reply, a burst of other work) does not send it to its floor.
        """
        budget = self.limit(catching_up)
        if elapsed > target:
            budget = max(self.minimum, budget // 2, int(budget * target / elapsed))
        elif elapsed < target / 2:
            budget = min(self.maximum, budget * 2)
        if catching_up:
            self.catch_up_budget = budget
        else:
            self.budget = budget

    def arrived(self, chars: int) -> None:
        """`chars` characters were appended."""
        self._arrived += chars

    def flooded(self, pending: int, taken: int, screen: int, now: float, *, ended: bool = False) -> bool:
        """A flush starting at `now` took on `taken` characters and left `pending`: does text come
        faster than flushes that build widgets can show it (so that the reply should catch up)?

        Yes when more than `screen` characters (a screenful) are waiting or about to come (the
        recent `flow`, or as much at the rate text came since the last flush started, for a flood
        that has only just begun), or when more is waiting than flushes showed in the last
        `horizon` (it would be shown more than that late). At zero delay (a backlog behind a fast
        model or a slow terminal) the flow is tens of thousands of characters; and where flushes
        are slow (a loaded machine) they leave the arriving text less loop time, so that it seems
        to come slowly, while what waits is seconds behind. Either way the reply catches up from its first flushes
        on, whether or not the first of them happened to leave much pending, and stays caught up
        through the lulls of a flood until it has ended for a fraction of a second. At a model's
        speed (hundreds to a few thousand characters a second) a flush takes on all that waits.
        Once the stream has `ended`, nothing more is about to come: only what is pending counts.
        """
        since = now - self._flow_at
        decay = math.exp(-since / self.horizon)
        self.flow = self.flow * decay + self._arrived
        self.shown = self.shown * decay + taken
        coming = max(self.flow, self._arrived / max(since, 1 / 60) * self.horizon)
        self._flow_at = now
        self._arrived = 0
        return pending + (0 if ended else coming) > screen or pending > self.shown

    def refreshed(self, flushed_at: float, now: float) -> None:
        """The refresh showing a flush that ended at `flushed_at` ended at `now`: pace the next.

        The time from the end of a flush to the end of the refresh that shows it is mostly that
        refresh's layout; minus what a cheap refresh takes (waiting for the frame timer, composing
        new blocks), so that only expensive layouts slow the flushes down.
        """
        cost = max(0.0, now - flushed_at - 1 / 30)
        self.next_flush_at = now + self.layout_ratio * cost


PAINT_WINDOW = 64
"""How many of the latest chunks' paint times the frame budget adapts to."""
ADAPT_EVERY = 16
"""The frame budget adapts once this many more chunks have been painted."""
ADAPT_GAIN = 0.5
"""The share of the paint p90's distance from its goal that one adaptation moves the budget by."""


@dataclass(slots=True)
class FrameBudget:
    """When pending streamed text should be flushed, given when text arrives.

    Each chunk may wait up to `latency` for the flush that shows it. Text is held while the next
    chunk is expected soon enough to join it within that budget, and flushed on the arrival after
    which it would not be: at 50 chunks/s and 30 ms, every second chunk, on its arrival (the first
    waited 20 ms, the second none); at 50 ms every third; at 200/s and 30 ms every sixth or so. A
    flush falls *on* an arrival, triggered by it, never on a timer racing it: a timer that fired
    just before the chunk it was set for left that chunk to wait a whole interval more (the
    chunk's wait p90 was the whole budget). A timer only backs the budget up for text after which
    nothing comes.

    With a `paint_goal`, the budget adapts to what painting costs here: each chunk's first paint
    (its wait, then the flush and the frame that show it; see `painted`) is timed, and every
    ADAPT_EVERY chunks the budget moves by ADAPT_GAIN of the distance between the goal and the 90th
    percentile of the last PAINT_WINDOW paints, within `bounds`. Where frames are quick the budget
    grows and the reply is painted less often (fewer flushes, frames and layouts: the CPU a reply
    costs at model speeds); where they are slow (a layout in most flushes, a loaded machine) it
    shrinks, so that chunks still show within the goal. Text that came while the reply was behind
    or catching up is not timed: it waited for a backlog, not for the budget.

    All times are `time.perf_counter()` seconds, passed in (a fake clock in tests).
    """

    latency: float = 0.030
    """The longest a piece of text should wait for the flush that takes it on: where an adapting
    budget starts, and where a budget without a `paint_goal` stays."""
    paint_goal: float | None = None
    """The 90th percentile of a chunk's first paint (arrival to the end of the frame showing it)
    that `latency` adapts to; None: `latency` stays as it is."""
    bounds: tuple[float, float] = (0.010, 0.050)
    """The least and the most an adapting `latency` may become. (At 50 chunks/s the budget holds
    three chunks from 45 ms on: the most leaves it a margin over that, as the gap jitters.)"""
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
    _waiting: list[float] = field(default_factory=list)
    """When each piece of text not flushed yet arrived."""
    _unpainted: list[float] = field(default_factory=list)
    """When each piece of flushed text not painted yet arrived (timed ones only)."""
    _paints: deque[float] = field(default_factory=lambda: deque(maxlen=PAINT_WINDOW))
    """The latest chunks' first paints, in seconds."""
    _new_paints: int = 0
    """Paints since the budget last adapted."""

    def arrived(self, now: float) -> None:
        """Text arrived at `now`."""
        if self.last_arrival > -math.inf:
            sample = now - self.last_arrival
            self.gap = sample if self.gap == math.inf else self.gap + self.smoothing * (sample - self.gap)
        self.last_arrival = now
        if self.oldest is None:
            self.oldest = now
        self._waiting.append(now)

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

    def flushed(self, *, timed: bool = True) -> None:
        """A flush started, taking on the text that was waiting (what a flush limited by its size
        leaves is flushed as when behind, without the budget). `timed`: the flush was made by the
        budget, so the paint of its text says how the budget does (not so while behind)."""
        self.oldest = None
        if timed and self.paint_goal is not None:
            self._unpainted += self._waiting
        self._waiting.clear()

    def painted(self, now: float) -> None:
        """The frame showing every flush so far ended at `now`: time their chunks' first paints,
        and adapt the budget to them (see the class's docstring)."""
        if not self._unpainted or self.paint_goal is None:
            return
        self._paints.extend(now - arrival for arrival in self._unpainted)
        self._new_paints += len(self._unpainted)
        self._unpainted.clear()
        if self._new_paints < ADAPT_EVERY:
            return
        self._new_paints = 0
        paints = sorted(self._paints)
        p90 = paints[math.ceil(0.9 * len(paints)) - 1]
        least, most = self.bounds
        self.latency = min(most, max(least, self.latency + ADAPT_GAIN * (self.paint_goal - p90)))
