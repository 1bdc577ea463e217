"""One assistant reply as Markdown, rendered while it streams in, in time linear in its length.

`StreamingMarkdown` is a `Markdown` widget fed with `append(text)` and closed with `finish()`. It
shows exactly what `Markdown(full_text)` shows, but its cost per frame does not grow with the
length of the reply.

How it stays fast:

- `append` only cleans the text and stores it; it never parses or renders. The first append after
  a flush schedules the next flush by the reply's *frame budget* (`pacing.FrameBudget`): text
  after a quiet spell (the first chunk of a reply, a slow stream) is flushed at once; text that
  streams in faster is flushed in batches, each on the arrival after which the next chunk would
  come too late for the oldest waiting one to be flushed within the budget (a timer backs that
  up for the last text before a pause); the budget adapts so that a chunk is painted within
  PAINT_GOAL of its arrival (p90), batching more where frames are quick. A flush may be a layout of the screen, so painting
  once per a few chunks is most of the CPU a reply costs at model speeds; every chunk of a batch
  is rendered by one update. The budget is for text that comes slower than it is shown: once
  more text waits for it than one flush takes on, the flush runs as when behind, without waiting.
- The text is kept as *frozen* top-level blocks followed by a short *tail*. A flush parses only
  the tail (from the start of the last top-level block or two) and rebuilds only the tail's
  blocks: a growing paragraph or fence is updated in place, and so is the paragraph that grew in
  a list or quote, or a list or table drawn as lines (`list_lines`, `table_lines`); others are
  replaced. Text grown within its last line repaints its widget alone. A block is frozen
  once the start of a later top-level block is settled (see `blocks.settled_start`): its widget
  is never touched again and its text is never parsed again. An open code fence or a list is one
  top-level block, so it stays whole in the tail until closed: the inline text of the tail's
  blocks that did not change since the last flush is not parsed again (`parsing`), and a growing
  fence's code is lexed again from its last line or two where that is sound (`highlighting`).
- While it streams, the reply keeps *room ahead* (`room`): blank rows below its text, half the
  log at a time, which the growing block takes into its own box (`growing`). A new line fills
  rows already laid out: nothing else moves, the log does not scroll, and the frame redraws that
  block alone; the log moves up a step when the room is used up. The room goes when it ends.
- Blocks live in *segments* of about SEGMENT_BLOCKS blocks (`segments`), laid out exactly as if
  every block were a direct child. A segment whose blocks are all final and that is far from the
  view is *parked* (`parking`): it keeps only its height and its text, and is rebuilt when it
  comes back into view.
- When text comes faster than it can be shown, a flush takes on at most a budget of characters
  that keeps it near FLUSH_TARGET seconds, and the next flush waits until the layout it caused has
  had LAYOUT_RATIO times its own cost of free loop time (`pacing`): keys are still handled promptly.
- When text comes as a flood, the reply *catches up* (`catch_up`): final blocks are found by a
  block-level parse only and parked unbuilt with an estimated height; rendering a backlog of
  megabytes builds one screenful. A flood (`pacing.FlushPacer.flooded`) is more than
  CATCHUP_SCREENS screens of text waiting or about to come (at the rate it comes), or text waiting
  longer than flushes take to show it; judged so, a zero-delay backlog takes one path whichever of
  its first flushes and arrivals runs first, and stays caught up until it ends (EXACT_CHARS long:
  measured exactly everywhere, even its scrollbar).
- `finish` shows the rest and parses the tail in full (`finishing`), so the final screen is what
  `Markdown(full_text)` shows. `finish(cancelled=True)` (Esc) does not wait for a backlog: the
  reply ends at once, the text still waiting parked unbuilt (nothing that arrived is lost).

Model text is data: it is cleaned of control characters, shown through `Content` (never parsed as
Rich/Textual markup), links do not open (`Markdown.LinkClicked` bubbles with the href for the app
to confirm) and table cell tooltips are plain text (Textual's own table parses them as markup,
so a cell holding `[/]` crashed the app when hovered).
"""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar, Literal

from markdown_it.token import Token
from textual import events
from textual.content import Content
from textual.geometry import Size
from textual.layout import Layout
from textual.widget import Widget
from textual.widgets import Markdown, Static

from ....safe_text import clean
from ..._textual_blocks import StreamedFence, StreamedParagraph
from ..._textual_internals import (
    AlikeLines,
    MarkdownBlock,
    QuickDispatch,
    after_own_screen_refresh,
    current_message_pump,
    markdown_blocks,
    show_at_once,
)
from .blocks import (
    line_offsets,
    new_block_parser,
    settled_start,
    top_level_groups,
)
from .catch_up import CatchingUp
from .finishing import Finishing
from .growing import GrowingBlock, inner_size, show_grown
from .pacing import FlushPacer, FrameBudget, PendingText
from .parking import Parking
from .parsing import TailParser
from .reconcile import Reconciling, Shown
from .room import Room
from .safe_table import SafeTable
from .segments import Segment, SegmentLayout

__all__ = ["StreamingMarkdown"]

FlushMode = Literal["refresh", "timer"]


# -- the widget -----------------------------------------------------------------------------


class StreamingMarkdown(QuickDispatch, CatchingUp, Parking, Finishing, Reconciling, AlikeLines, Markdown):
    """A Markdown reply that grows as text is appended and costs little per chunk.

    Use `append` for each piece of streamed text and `await finish()` once at the end (also when
    the reply was cancelled or failed). Links never open: `Markdown.LinkClicked` bubbles to the
    app with the href.
    """

    FLUSH_MODE: ClassVar[FlushMode] = "timer"
    """When a flush runs after an append while text comes faster than shown (else the frame budget
    decides): "timer" (1/60 s later: fewer frames, more throughput on the benchmark) or "refresh"."""
    REFLOWS_ALONE: ClassVar[bool] = True  # a layout for a change inside is of it alone while its box stays (_textual_reflow)
    LATENCY: ClassVar[float] = 0.030
    """Seconds a streamed chunk may wait for the flush that shows it (the frame budget) at first:
    chunks that come faster are painted in batches within it. It adapts to PAINT_GOAL."""
    PAINT_GOAL: ClassVar[float | None] = 0.045
    """The 90th percentile of a chunk's first paint (its arrival to the end of the frame that shows
    it) the frame budget adapts to (`pacing.FrameBudget`) within LATENCY_BOUNDS (None: LATENCY stays),
    with a margin under bench/stream_rate.py's 50 ms p90 (measured from before the widget)."""
    LATENCY_BOUNDS: ClassVar[tuple[float, float]] = (0.010, 0.050)
    LAYOUT_RATIO: ClassVar[float] = 1.0
    """After a flush, the next one waits this many times as long as the refresh it caused took."""
    FLUSH_TARGET: ClassVar[float] = 0.015
    """Seconds one flush may take (the screen waits for it) when text comes faster than shown.

    15 ms keeps a key press waiting at most a few short flushes (key p90 61-86 ms against 94-139 ms
    at 30 ms in bench/stream_render.py, for about 10% less throughput)."""
    CATCHUP_FLUSH_TARGET: ClassVar[float] = 0.020
    """Seconds one flush may hold the event loop while catching up."""
    BUDGET_START: ClassVar[int] = 1024
    BUDGET_MIN: ClassVar[int] = 256
    BUDGET_MAX: ClassVar[int] = 1 << 20
    AS_LINES: ClassVar[bool] = True  # lists and tables as lines (`list_lines`, `table_lines`); False: Textual's
    SEGMENT_BLOCKS: ClassVar[int] = 8  # top-level blocks per segment
    PARK_SCREENS: ClassVar[float] = 1.0
    """A finished segment further than this many screen heights from the screen is parked."""
    CATCHUP_SCREENS: ClassVar[float] = 1.0
    """Catch up while more than this many screens of text (width x height characters) are pending
    or about to come: each character takes a cell at least, so that much text fills that many
    screens."""
    EXACT_CHARS: ClassVar[int] = 64 * 1024
    """A reply up to this long has exact heights everywhere, also for text parked unbuilt: its
    parked segments are built once to be measured (when a backlog has been caught up with, and
    after a resize). A longer one keeps estimates where nobody has looked, so that its cost stays
    bounded by what is on screen (the scrollbar is then approximate)."""

    BLOCKS = {**Markdown.BLOCKS, "table_open": SafeTable, "paragraph_open": StreamedParagraph, "fence": StreamedFence}

    def __init__(self, markdown: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(None, id=id, classes=classes, open_links=False)
        self._parts: list[str] = []
        """Every cleaned piece of text so far (joined lazily by `source`)."""
        self._length = 0
        """len(source), without joining it."""
        self._remeasure_scheduled = False
        self._pending = PendingText()
        """Text appended since the last flush."""
        self._pacer = FlushPacer(self.BUDGET_START, self.BUDGET_MIN, self.BUDGET_MAX, self.LAYOUT_RATIO)
        self._frames = FrameBudget(self.LATENCY, self.PAINT_GOAL, self.LATENCY_BOUNDS)
        """When the next flush runs while the screen keeps up with the text."""
        self._tail = ""
        """The live text: from the start of the first block that may still change to the end."""
        self._tail_line = 0
        """The line number of the tail's first line in the whole reply."""
        self._tail_shown: list[Shown] = []
        """The tail's top-level blocks on screen, lines relative to the tail."""
        self._segments: list[Segment] = []
        self._catching_up = False
        self._width = 0
        self._backlog = ""
        """Text a cancelled reply never took on: parked unbuilt when it finishes (see `finish`)."""
        self._staged: Segment | None = None
        """The segment, hidden, that holds the text parked while catching up."""
        self._drained = asyncio.Event()
        self._drained.set()
        self._flush_scheduled = False
        self._behind = False
        """Text comes faster than it is shown: the last flush could not take on all pending text, or
        more arrived while a flush waited for the frame budget than one flush takes on."""
        self._budget_timer: asyncio.TimerHandle | None = None
        """The timer of a flush waiting for the frame budget, if one is."""
        self._flushed_at: float | None = None
        """When the last flush ended, while the refresh showing it is awaited (see `_measure_refresh`)."""
        self._sweep_scheduled = False
        self._finished = False
        self._built_final = False
        self._stream_lock = asyncio.Lock()
        self._sync_time = 0.0
        self._parser = TailParser()
        """Parses the tail each flush (its unchanged inline text taken from the last parse), and parked text."""
        self._block_parser = new_block_parser()
        self._references: dict[str, object] = {}
        """The reply's link reference definitions, known once it is finished (they apply to every block)."""
        self._layout = SegmentLayout()
        self._room = Room()
        """The blank rows kept below the text while it streams (see `room`)."""
        self._boxes_height = 0
        """The height of its blocks at the last layout, rows a growing block holds included."""
        self._growing = GrowingBlock()
        """The block that holds the room's rows while it grows (see `growing`)."""
        self._screen_height = 0
        """The screen's height at the last layout (a change: the log's is known only after it)."""
        self.flush_count = 0
        """How many flushes took on new text (for tests and benchmarks)."""
        self.parsed_chars = 0
        """How many characters were parsed in full, inline text too, to build widgets (for tests and benchmarks)."""
        self.block_parsed_chars = 0
        """How many characters were parsed for their blocks only, to park them unbuilt (for tests and benchmarks)."""
        self.blocks_built = 0
        """How many top-level block widgets were built (for tests and benchmarks)."""
        self.shown_chars = 0
        """How many characters flushes have taken on and finished with: what the next frame shows (for benchmarks)."""
        if markdown:
            self.append(markdown)

    # -- public API -------------------------------------------------------------------------

    @property
    def source(self) -> str:
        """All the text appended so far (cleaned).

        Joins the pieces appended since the last call: cheap now and then, not for every chunk.
        """
        if len(self._parts) > 1:
            self._parts[:] = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @property
    def finished(self) -> bool:
        """True once `finish` was called: the text is final."""
        return self._finished

    @property
    def room_rows(self) -> list[int]:
        """The blank rows of the room ahead (see `room`), counted from its top (for tests and benchmarks)."""
        if not self._room.open:
            return []
        top = self.region.y
        rows: list[int] = []
        widget, extra = self._growing.widget, self._growing.extra
        if widget is not None and extra:
            bottom = widget.content_region.bottom - top
            rows += range(bottom - extra, bottom)
        rows += range(self.content_region.y - top + self._boxes_height, self.region.height)
        return rows

    def append(self, text: str) -> None:  # type: ignore[override]  # sync, unlike Markdown.append
        """Add streamed text. Cheap and synchronous: rendering happens at most once a frame."""
        if self._finished:
            raise RuntimeError("StreamingMarkdown.append after finish()")
        text = clean(text)
        if not text:
            return
        self._parts.append(text)
        self._length += len(text)
        now = time.perf_counter()
        self._frames.arrived(now)
        self._pacer.arrived(len(text))
        self._pending.add(text)
        self._drained.clear()
        if self._budget_timer is not None:
            if self._pending.chars > self._pacer.budget:
                self._catch_up_with_arrivals()
            elif not self._frames.delay(now):
                self._flush_on_arrival()
        self._schedule_flush()

    async def wait_flushed(self) -> None:
        """Wait until every piece appended so far has been rendered (for tests and tools)."""
        if self.is_mounted and current_message_pump() is not self:
            await self._drained.wait()

    async def finish(self, *, cancelled: bool = False) -> None:
        """Show the whole reply exactly as `Markdown(full_text)` would, then stop streaming.

        `cancelled`: the reply was stopped (Esc). It ends at once, without waiting for a backlog:
        the text still waiting is kept, parked unbuilt (its blocks found by a block-level parse
        off the loop) and built only where it is scrolled to. Every word that arrived is in the
        reply, as in the conversation.

        A caller cancelled while it waits for a backlog to be shown (Esc once the text has all
        come) ends the reply the same way, and the cancellation goes on.

        Returns once the final blocks are mounted. Calling it again once they are does nothing;
        `append` after it raises `RuntimeError`.
        """
        self._finished = True
        if not self._room.rows:
            self.release_room()  # its text came whole (a saved reply): it never streamed, so no room
        if cancelled and self.is_mounted:
            self._hold_back_pending()
        if not self.is_mounted or self._built_final:
            return  # built on mount, or already
        try:
            if current_message_pump() is self:
                # Called from this widget's own queue, which runs the flushes: flush here.
                while self._pending and not self._built_final:
                    await self._flush()
            else:
                if self._pending and not self._behind and not self._catching_up:
                    self._post_flush()  # the text is complete: nothing to batch it with
                await self._drained.wait()
        except asyncio.CancelledError:
            self._hold_back_pending()
            await self._build_final()
            raise
        await self._build_final()

    def _hold_back_pending(self) -> None:
        """Set the text no flush has taken on yet aside, for `_build_final` to park unbuilt."""
        if self._pending:
            self._backlog += self._pending.take(self._pending.chars)
        self._drained.set()

    # -- Textual plumbing -------------------------------------------------------------------

    @property
    def layout(self) -> Layout:
        """The vertical layout, for segments."""
        layout = super().layout
        return self._layout if layout.name == "vertical" else layout

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """The text's height while finished; while streaming, with room ahead for new lines (`room`)."""
        # Measured at no height: at the container's, the last segment would fill it (`segments._fill`).
        height = self.arrange(Size(width, 0)).total_region.height if width and self.children else 0
        if self._room.open and self._screen_height != viewport.height:
            # The terminal was resized: the log's new height is known only once this layout ends.
            if self._screen_height:
                self.call_after_refresh(self.refresh, layout=True)
            self._screen_height = viewport.height
        view_height = self._view_height(viewport)
        if view_height != self._room.view_height and self._growing.widget is not None:
            # The log was resized: the room is cut to its new step, and the growing block's share of
            # it (sized for the old one) handed back. The room is measured on the text alone.
            height -= self._growing.extra
            self.release_growing()
        self._boxes_height = height
        return self._room.height(height, view_height)

    def _view_height(self, viewport: Size) -> int:
        """The height of the view the reply scrolls in (the screen's, outside one)."""
        for node in self.ancestors:
            if isinstance(node, Widget) and node.styles.overflow_y in ("auto", "scroll"):
                return inner_size(node).height or viewport.height
        return viewport.height

    def release_room(self) -> None:  # the reply ended: as tall as its text again
        self.release_growing()
        if self._room.open:
            self._room.release()
            self.refresh(layout=True)

    def show_grown(self, widget: Static, content: Content) -> None:
        """Show a block's grown `content` in `widget`; while the room is open, into its rows (unless
        the widget has a background, which they would show: a table's, in a light theme)."""
        if not self._room.open or widget.styles.background.a:
            self.release_growing()  # (as `GrowingBlock.show` does for a block it does not hold)
            show_grown(widget, content)
            return
        # The blank rows below the text: the room's, less what the blocks' boxes take beyond their text.
        spare = self._room.rows - self._boxes_height + self._growing.extra
        self._growing.show(widget, content, max(0, spare), self._room.growth)

    def release_growing(self) -> None:
        """The block that grew is done growing (another grows now, or the reply ended)."""
        self._growing.release()

    async def _on_mount(self, event: events.Mount) -> None:
        # Markdown's own mount handler would `update` with the initial text; we build our blocks.
        event.prevent_default()
        if self._finished:
            await self._build_final()
        elif self._pending:
            self._flush_scheduled = False
            self._schedule_flush()

    def _on_unmount(self) -> None:
        self._drained.set()  # nothing will flush any more: let a waiting finish() return

    def _on_resize(self, event: events.Resize) -> None:
        width = self.size.width
        if width != self._width:
            if width < self._width:
                self.call_later(self._refit_tables)
            self._width = width
            self.release_growing()  # it may hold the old width (code, as wide as its container was)
            # Parked heights were for another width: estimate them at this one. A segment in view
            # is rebuilt when drawn, and measured exactly when parked again.
            for segment in self._segments:
                segment.reestimate(width)
            if self._length <= self.EXACT_CHARS:
                self._schedule_remeasure()

    # -- flushing ---------------------------------------------------------------------------

    def _schedule_flush(self) -> None:
        """Have pending text flushed once: by the frame budget while the screen keeps up with the
        text, else after the next timer tick (or screen refresh), once the layout cost allows it."""
        if self._flush_scheduled or not self.is_attached:
            return
        self._flush_scheduled = True
        now = time.perf_counter()
        layout_wait = self._pacer.next_flush_at - now
        if not self._behind and not self._catching_up:
            self._budget_timer = self._flush_after(max(self._frames.delay(now), layout_wait))
        elif self.FLUSH_MODE == "timer":
            self._flush_after(max(1 / 60, layout_wait))
        else:
            self.call_after_refresh(self._start_flush)

    def _start_flush(self) -> None:
        """Called after a screen refresh: flush now, or once the layout cost allows it."""
        self._flush_after(self._pacer.next_flush_at - time.perf_counter())

    def _flush_after(self, delay: float) -> asyncio.TimerHandle | None:
        """Flush in `delay` seconds (at once if about 0); the timer that will, if one was set.

        The event loop's own timer, not a Textual `Timer` (a task, an event and a sleep each): one
        is set for most flushes at model speeds, and most are dropped on the next arrival.
        """
        if delay > 0.001:
            return asyncio.get_running_loop().call_later(delay, self._post_flush)
        self._post_flush()
        return None

    def _post_flush(self) -> None:
        """Have a flush run on this widget's own message queue.

        It never runs on the screen's: it awaits mounts, and the screen must keep handling keys
        meanwhile. (Posted as `call_later` does, without the `partial` that makes Textual look up
        the callback's signature again for every flush.)
        """
        self.post_message(events.Callback(callback=self._flush))

    def _flush_on_arrival(self) -> None:
        """The text waiting for the frame budget should not wait for the next chunk: flush it now
        (or as soon as the layout cost allows), not by the timer set for the budget."""
        self._stop_budget_timer()
        self._flush_scheduled = False

    def _stop_budget_timer(self) -> None:
        if self._budget_timer is not None:
            self._budget_timer.cancel()
            self._budget_timer = None

    def _catch_up_with_arrivals(self) -> None:
        """More text arrived while a flush waited for the frame budget than one flush takes on.

        The budget is for text that comes slower than it can be shown; a backlog that builds while
        the flush waits would only be shown later and in heavier flushes (at zero delay, this wait
        halved the throughput and doubled the key latency). Flush as when behind instead.
        """
        self._stop_budget_timer()
        self._behind = True
        self._flush_scheduled = False

    def _measure_refresh(self) -> None:
        """Called after the refresh that showed the last flush: pace the flushes to its cost (and the
        frame budget to the paints, `FrameBudget.painted`).

        The time from the end of a flush to the end of the refresh that shows it is mostly that
        refresh's layout. The next flush waits LAYOUT_RATIO times as long, so that layouts leave
        the loop free most of the time (keys are handled between them). (Flushes that one refresh
        shows are paced by the last of them.)
        """
        if self._flushed_at is not None:
            now = time.perf_counter()
            self._pacer.refreshed(self._flushed_at, now)
            self._frames.painted(now)
            self._flushed_at = None

    def _await_refresh(self) -> None:
        """A flush ended now: measure the refresh that shows it (asked of the screen directly, not
        through a message to this widget's own queue as Textual's `call_after_refresh` does)."""
        if self._flushed_at is None:
            after_own_screen_refresh(self, self._measure_refresh)
        self._flushed_at = time.perf_counter()

    async def _flush(self) -> None:
        """Render pending text: parse the tail, update its blocks, freeze what is final.

        One flush takes on at most the pacer's budget of characters (cutting a long piece), so that when text
        comes faster than it can be shown the screen still refreshes and keys are still handled
        between flushes; the budget adapts so that a flush takes about FLUSH_TARGET seconds.
        """
        self._flush_scheduled = False
        self._budget_timer = None
        if self._built_final or not (self._pending or self._catching_up):
            self._drained.set()
            return
        limited = False
        async with self._stream_lock:
            self._sync_time = 0.0
            started = time.perf_counter()  # the screen does not refresh until the flush ends
            if self._built_final:
                return
            # While catching up, a flush takes on at least as much as the live tail holds: a block
            # that spans many budgets is parsed a number of times logarithmic in its size.
            parking = self._catching_up
            limit = max(self._pacer.catch_up_budget, len(self._tail)) if parking else self._pacer.budget
            limited = self._pending.chars > limit
            taken = self._pending.take(limit)
            built = self.blocks_built
            threshold = self._catch_up_threshold()
            self._tail += taken
            self.flush_count += bool(taken)
            self._frames.flushed(timed=not (parking or limited or self._behind))
            flooded = self._pacer.flooded(self._pending.chars, len(taken), threshold, started, ended=self._finished)
            self._sync_time += time.perf_counter() - started
            if not self._catching_up and flooded:
                await self._start_catch_up()
            if self._catching_up:
                await self._park_final_blocks()
                if not flooded:
                    await self._end_catch_up()
                    await self._show_tail()
            else:
                await self._show_tail()
            self.shown_chars += len(taken)
        if not (self._catching_up or limited or self.blocks_built != built):
            # Paced by the frame budget already: the tick would only show it later. (New blocks wait
            # for the tick: their children are still being composed, and a frame made now would lay
            # the screen out twice.)
            show_at_once(self)
        # While catching up the screen refreshes during the awaits: only the time the flush held
        # the loop counts. Otherwise the screen waits for the whole flush.
        elapsed = self._sync_time if self._catching_up else time.perf_counter() - started
        target = self.CATCHUP_FLUSH_TARGET if self._catching_up else self.FLUSH_TARGET
        if limited and parking == self._catching_up:
            # (A flush that started or ended a catch-up says nothing about either budget.)
            self._pacer.adapt(elapsed, target, catching_up=parking)
        self._behind = limited
        self._await_refresh()
        self.schedule_sweep()
        if self._pending and self._catching_up:
            # Nothing new to show, but the loop must be free again for as long as this flush held
            # it (keys are handled meanwhile): flushes queued on this widget's own queue back to
            # back would never let another task run.
            self._pacer.next_flush_at = time.perf_counter() + elapsed
        if self._pending or self._catching_up:
            # (Catching up with nothing left: the next flush sees whether the flood goes on.)
            self._schedule_flush()
        else:
            self._drained.set()

    async def _show_tail(self) -> None:
        """Parse the tail, make its blocks on screen match, and freeze those that are final."""
        started = time.perf_counter()
        tokens = self._parse(self._tail)
        groups = top_level_groups(tokens)
        settled = settled_start(groups, self._tail.count("\n"))
        self._sync_time += time.perf_counter() - started
        self._tail_shown = await self._reconcile(tokens, groups, self._tail_shown, self._tail_line, streaming=True)
        self._freeze(settled)

    def _freeze(self, settled: int) -> None:
        """Make the tail's blocks before line `settled` (relative to the tail) final."""
        if not settled:
            return
        frozen = [shown for shown in self._tail_shown if shown.start < settled]
        live = self._tail_shown[len(frozen) :]
        # Each frozen block takes the text from its start to the next block's start (the first
        # also takes any blank lines before it), for its segment to be rebuilt from if parked.
        boundaries = [shown.start for shown in frozen[1:]] + [settled]
        offsets = line_offsets(self._tail, boundaries)
        previous = 0
        for shown, offset in zip(frozen, offsets):
            segment = shown.segment
            if segment is not None:
                if segment.first_line < 0:
                    segment.first_line = self._tail_line + (0 if previous == 0 else shown.start)
                segment.texts.append(self._tail[previous:offset])
            previous = offset
        for shown in live:
            shown.start -= settled
            shown.end -= settled
        self._tail_shown = live
        self._tail = self._tail[offsets[-1] :]
        self._tail_line += settled

    def _parse(self, text: str) -> list[Token]:
        """Tokens for `text`, with the reply's link references once known; counted."""
        self.parsed_chars += len(text)
        return self._parser.parse(text, {"references": dict(self._references)})

    def build_blocks(self, text: str, first_line: int) -> list[MarkdownBlock]:
        """The block widgets for `text`, whose first line is line `first_line` of the reply."""
        blocks = markdown_blocks(self, self._parse(text))
        self.blocks_built += len(blocks)
        for block in blocks:
            start, end = block.source_range
            block.source_range = (start + first_line, end + first_line)
        return blocks
