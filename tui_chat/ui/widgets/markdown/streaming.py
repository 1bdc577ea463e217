"""One assistant reply as Markdown, rendered while it streams in, in time linear in its length.

`StreamingMarkdown` is a `Markdown` widget fed with `append(text)` and closed with `finish()`. It
shows exactly what `Markdown(full_text)` shows, but its cost per frame does not grow with the
length of the reply.

How it stays fast:

- `append` only cleans the text and stores it; it never parses or renders. The first append after
  a flush schedules the next flush a frame (1/60 s) later, so every chunk that arrives within a
  frame is rendered by one update.
- The text is kept as *frozen* top-level blocks followed by a short *tail*. A flush parses only
  the tail (from the start of the last top-level block or two) and rebuilds only the tail's
  blocks: a growing paragraph or code fence is updated in place, other changed blocks are
  replaced. A block is frozen once the start of a later top-level block is settled (see
  `blocks.settled_start`): its widget is never touched again and its text is never parsed again. An
  open code fence or a list is one top-level block, so it stays whole in the tail until closed.
- Blocks live in *segments* of about SEGMENT_BLOCKS blocks (`segments.Segment`, a `Markdown` with no
  padding), laid out by `segments.SegmentLayout` exactly as if every block were a direct child: margins
  collapse across segment edges as they do between siblings. A segment whose blocks are all
  frozen and that is more than PARK_SCREENS screens away from the view is *parked*: its widgets
  are removed and it keeps only its height (and its text). Textual lays out every widget of a
  screen on every layout, so without this each frame of a long reply would cost more than the
  last. A parked segment that comes into view rebuilds its blocks from its text.
- When text comes faster than it can be shown, a flush takes on at most a budget of characters
  that keeps it near FLUSH_TARGET seconds, and the next flush waits until the layout it caused has
  had LAYOUT_RATIO times its own cost of free loop time: keys are still handled promptly.
- When more than CATCHUP_SCREENS screens of text are pending (a very fast model, huge chunks, the
  benchmark), the reply *catches up*: final blocks are found by a block-level parse only and
  their text is parked in hidden segments with an estimated height, never built, until the
  backlog is down to a screen; then they are shown, the last screen of them built, and the rest
  streams in as usual. Rendering a backlog of megabytes builds one screenful; a part scrolled to
  later is built then, and measured exactly from then on. (A reply up to EXACT_CHARS long is
  measured everywhere, so that even its scrollbar is exact.)
- Removed widgets are not kept alive by Textual's caches (see `Segment.park`): the garbage
  collector, whose full pauses are the worst key-latency hiccups, has less to scan.
- `finish` shows the rest and parses the tail in full, so the final screen is what
  `Markdown(full_text)` shows: the blocks before the tail are final, except where a link
  reference defined elsewhere applies, which is looked for (only in a text holding "]:") and
  rebuilds the segments that are built. `finish(cancelled=True)` (Esc) does not wait for a
  backlog: the reply ends with the text it has taken on.

Model text is data: it is cleaned of control characters, shown through `Content` (never parsed as
Rich/Textual markup), links do not open (`Markdown.LinkClicked` bubbles with the href for the app
to confirm) and table cell tooltips are plain text (Textual's own table parses them as markup,
so a cell holding `[/]` crashed the app when hovered).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from functools import partial
from typing import ClassVar, Literal

from markdown_it.token import Token
from textual import events
from textual.css.query import NoMatches
from textual.errors import NoWidget
from textual.geometry import Region
from textual.layout import Layout
from textual.widgets import Markdown

from ....safe_text import clean
from ..._textual_internals import (
    MarkdownBlock,
    MarkdownFence,
    current_message_pump,
    markdown_blocks,
    set_markdown_source,
    update_fence,
    update_paragraph,
)
from .blocks import (
    Group,
    line_offsets,
    link_references,
    new_block_parser,
    new_parser,
    settled_start,
    signature,
    top_level_groups,
)
from .pacing import FlushPacer, PendingText
from .safe_table import SafeTable
from .segments import Segment, SegmentLayout

__all__ = ["StreamingMarkdown"]

FlushMode = Literal["refresh", "timer"]


@dataclass(slots=True)
class _Shown:
    """A top-level block that is shown: its lines, its token signature, its widget and segment.

    `widget` is None for a block Markdown does not display (an HTML block, for instance).
    """

    start: int
    end: int
    signature: bytes
    widget: MarkdownBlock | None
    segment: Segment | None = None


# -- the widget -----------------------------------------------------------------------------


class StreamingMarkdown(Markdown):
    """A Markdown reply that grows as text is appended and costs little per chunk.

    Use `append` for each piece of streamed text and `await finish()` once at the end (also when
    the reply was cancelled or failed). Links never open: `Markdown.LinkClicked` bubbles to the
    app with the href.
    """

    FLUSH_MODE: ClassVar[FlushMode] = "timer"
    """When a flush runs after an append: "timer" (1/60 s later, the default) or "refresh" (after
    the next screen refresh). Both coalesce every append of one frame into one update; on the
    benchmark the timer gave fewer frames and more throughput for the same key latency."""
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
    SEGMENT_BLOCKS: ClassVar[int] = 8
    """Top-level blocks per segment."""
    PARK_SCREENS: ClassVar[float] = 1.0
    """A finished segment further than this many screen heights from the screen is parked."""
    CATCHUP_SCREENS: ClassVar[float] = 1.0
    """Catch up while more than this many screens of text (width x height characters) are
    pending: each character takes a cell at least, so that much text fills that many screens."""
    EXACT_CHARS: ClassVar[int] = 64 * 1024
    """A reply up to this long has exact heights everywhere, also for text parked unbuilt: its
    parked segments are built once to be measured (when a backlog has been caught up with, and
    after a resize). A longer one keeps estimates where nobody has looked, so that its cost stays
    bounded by what is on screen (the scrollbar is then approximate)."""

    BLOCKS = {**Markdown.BLOCKS, "table_open": SafeTable}

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
        self._tail = ""
        """The live text: from the start of the first block that may still change to the end."""
        self._tail_line = 0
        """The line number of the tail's first line in the whole reply."""
        self._tail_shown: list[_Shown] = []
        """The tail's top-level blocks on screen, lines relative to the tail."""
        self._segments: list[Segment] = []
        self._catching_up = False
        self._width = 0
        self._staged: Segment | None = None
        """The segment, hidden, that holds the text parked while catching up."""
        self._drained = asyncio.Event()
        self._drained.set()
        self._flush_scheduled = False
        self._sweep_scheduled = False
        self._finished = False
        self._built_final = False
        self._stream_lock = asyncio.Lock()
        self._sync_time = 0.0
        self._parser = new_parser()
        self._block_parser = new_block_parser()
        self._references: dict[str, object] = {}
        """The reply's link reference definitions, known once it is finished (they apply to every block)."""
        self._layout = SegmentLayout()
        self.flush_count = 0
        """How many flushes took on new text (for tests and benchmarks)."""
        self.parsed_chars = 0
        """How many characters were parsed in full, inline text too, to build widgets (for tests and benchmarks)."""
        self.block_parsed_chars = 0
        """How many characters were parsed for their blocks only, to park them unbuilt (for tests and benchmarks)."""
        self.blocks_built = 0
        """How many top-level block widgets were built (for tests and benchmarks)."""
        self.dropped_chars = 0
        """How many characters appended were never shown: the reply was cancelled before."""
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

    def append(self, text: str) -> None:  # type: ignore[override]  # sync, unlike Markdown.append
        """Add streamed text. Cheap and synchronous: rendering happens at most once a frame."""
        if self._finished:
            raise RuntimeError("StreamingMarkdown.append after finish()")
        text = clean(text)
        if not text:
            return
        self._parts.append(text)
        self._length += len(text)
        self._pending.add(text)
        self._drained.clear()
        self._schedule_flush()

    async def wait_flushed(self) -> None:
        """Wait until every piece appended so far has been rendered (for tests and tools)."""
        if self.is_mounted and current_message_pump() is not self:
            await self._drained.wait()

    async def finish(self, *, cancelled: bool = False) -> None:
        """Show the whole reply exactly as `Markdown(full_text)` would, then stop streaming.

        `cancelled`: the reply was stopped (Esc). It ends at once with what it has taken on, shown
        or parked; text still waiting behind a backlog is dropped, from `source` too, so that
        what is shown is what the reply holds.

        A caller cancelled while it waits for a backlog to be shown (Esc once the text has all
        come) has cancelled the reply too: the backlog is dropped, the reply ends with what it
        took on, and the cancellation goes on.

        Returns once the final blocks are mounted. Calling it again once they are does nothing;
        `append` after it raises `RuntimeError`.
        """
        self._finished = True
        if cancelled and self.is_mounted:
            self._drop_pending()
        if not self.is_mounted or self._built_final:
            return  # built on mount, or already
        try:
            if current_message_pump() is self:
                # Called from this widget's own queue, which runs the flushes: flush here.
                while self._pending and not self._built_final:
                    await self._flush()
            else:
                await self._drained.wait()
        except asyncio.CancelledError:
            self._drop_pending()
            await self._build_final()
            raise
        await self._build_final()

    def _drop_pending(self) -> None:
        """Forget the text that no flush has taken on yet, and end `source` before it."""
        dropped = self._pending.chars
        if dropped:
            self.dropped_chars += dropped
            self._length -= dropped
            self._parts[:] = [self.source[: self._length]]
            self._pending.clear()
        self._drained.set()

    # -- Textual plumbing -------------------------------------------------------------------

    @property
    def layout(self) -> Layout:
        """The vertical layout, for segments."""
        layout = super().layout
        return self._layout if layout.name == "vertical" else layout

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
            self._width = width
            # Parked heights were for another width: estimate them at this one. A segment in view
            # is rebuilt when drawn, and measured exactly when parked again.
            for segment in self._segments:
                segment.reestimate(width)
            if self._length <= self.EXACT_CHARS:
                self._schedule_remeasure()

    def _schedule_remeasure(self) -> None:
        if not self._remeasure_scheduled and self.is_attached:
            self._remeasure_scheduled = True
            self.call_after_refresh(self._remeasure_next)

    def _remeasure_next(self) -> None:
        """Build the next parked segment with an estimated height, one a refresh (the sweep parks it again, measured)."""
        self._remeasure_scheduled = False
        for segment in self._segments:
            if segment.parked and segment.estimated and not segment.staged:
                segment.call_later(segment.unpark)
                self._schedule_remeasure()
                return

    # -- flushing ---------------------------------------------------------------------------

    def _schedule_flush(self) -> None:
        """Have pending text flushed once, after the next screen refresh (or timer tick)."""
        if self._flush_scheduled or not self.is_attached:
            return
        self._flush_scheduled = True
        if self.FLUSH_MODE == "timer":
            delay = max(1 / 60, self._pacer.next_flush_at - time.perf_counter())
            self.set_timer(delay, partial(self.call_later, self._flush), name="markdown-flush")
        else:
            self.call_after_refresh(self._start_flush)

    def _start_flush(self) -> None:
        """Called after a screen refresh: flush now, or once the layout cost allows it."""
        delay = self._pacer.next_flush_at - time.perf_counter()
        # The flush runs on this widget's own message queue, never on the screen's: it awaits
        # mounts, and the screen must keep handling keys meanwhile.
        if delay > 0.001:
            self.set_timer(delay, partial(self.call_later, self._flush), name="markdown-flush")
        else:
            self.call_later(self._flush)

    def _measure_refresh(self, flushed_at: float) -> None:
        """Called after the refresh that showed a flush: pace the flushes to its cost.

        The time from the end of a flush to the end of the refresh that shows it is mostly that
        refresh's layout. The next flush waits LAYOUT_RATIO times as long, so that layouts leave
        the loop free most of the time (keys are handled between them).
        """
        self._pacer.refreshed(flushed_at, time.perf_counter())

    async def _flush(self) -> None:
        """Render pending text: parse the tail, update its blocks, freeze what is final.

        One flush takes on at most the pacer's budget of characters (cutting a long piece), so that when text
        comes faster than it can be shown the screen still refreshes and keys are still handled
        between flushes; the budget adapts so that a flush takes about FLUSH_TARGET seconds.
        """
        self._flush_scheduled = False
        if self._built_final or not self._pending:
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
            limit = max(self._pacer.budget, len(self._tail)) if self._catching_up else self._pacer.budget
            limited = self._pending.chars > limit
            taken = self._pending.take(limit)
            threshold = self._catch_up_threshold()
            self._tail += taken
            self.flush_count += 1
            self._sync_time += time.perf_counter() - started
            if not self._catching_up and self._pending.chars > threshold:
                await self._start_catch_up()
            if self._catching_up:
                await self._park_final_blocks()
                if self._pending.chars <= threshold:
                    await self._end_catch_up()
                    await self._show_tail()
            else:
                await self._show_tail()
        # While catching up the screen refreshes during the awaits: only the time the flush held
        # the loop counts. Otherwise the screen waits for the whole flush.
        elapsed = self._sync_time if self._catching_up else time.perf_counter() - started
        target = self.CATCHUP_FLUSH_TARGET if self._catching_up else self.FLUSH_TARGET
        if limited:
            self._pacer.adapt(elapsed, target)
        self.call_after_refresh(self._measure_refresh, time.perf_counter())
        self.schedule_sweep()
        if self._pending and self._catching_up:
            # Nothing new to show, but the loop must be free again for as long as this flush held
            # it (keys are handled meanwhile): flushes queued on this widget's own queue back to
            # back would never let another task run.
            self._pacer.next_flush_at = time.perf_counter() + elapsed
        if self._pending:
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
        self._tail_shown = await self._reconcile(tokens, groups, self._tail_shown, self._tail_line)
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

    async def _reconcile(
        self, tokens: list[Token], groups: list[Group], shown: list[_Shown], line_base: int
    ) -> list[_Shown]:
        """Make the last blocks on screen (`shown`) match `groups`; return what is shown after.

        Blocks with the same first line and signature are kept as they are; a changed paragraph
        or fence is updated in place; from the first other change on, the old widgets are removed
        and new ones mounted at the end.
        """
        started = time.perf_counter()
        signatures = [signature(tokens, group) for group in groups]
        keep = 0
        limit = min(len(shown), len(groups))
        while keep < limit and shown[keep].start == groups[keep].start and shown[keep].signature == signatures[keep]:
            keep += 1
        result = shown[:keep]
        for index in range(keep):  # a kept block's range may still grow by lines read ahead
            result[index].end = groups[index].end

        new_entries: list[_Shown] = []
        replace_from: int | None = None
        for index in range(keep, len(groups)):
            group = groups[index]
            old = shown[index] if index < len(shown) else None
            if replace_from is None and old is not None:
                if old.widget is not None and self._update_in_place(old.widget, tokens, group, line_base):
                    result.append(_Shown(group.start, group.end, signatures[index], old.widget, old.segment))
                    continue
            blocks = markdown_blocks(self, tokens[group.first : group.stop])
            self.blocks_built += len(blocks)
            block = blocks[0] if blocks else None
            if block is not None:
                block.source_range = (group.start + line_base, group.end + line_base)
            if replace_from is None and old is not None and old.widget is None and block is None:
                result.append(_Shown(group.start, group.end, signatures[index], None, old.segment))
                continue
            if replace_from is None:
                replace_from = index
            entry = _Shown(group.start, group.end, signatures[index], block)
            new_entries.append(entry)
            result.append(entry)

        first_removed = len(groups) if replace_from is None else replace_from
        removed = [entry.widget for entry in shown[first_removed:] if entry.widget is not None]
        self._sync_time += time.perf_counter() - started
        if removed or new_entries:
            # One screen update for the whole change: nothing shows twice or goes missing, and
            # the new blocks' composition does not cost a layout per block.
            with self.app.batch_update():
                for widget in removed:
                    await widget.remove()
                await self._mount_entries(new_entries)
        return result

    def _update_in_place(self, widget: MarkdownBlock, tokens: list[Token], group: Group, line_base: int) -> bool:
        """Show a grown paragraph or code fence in its widget; False if it is another kind now.

        Does what building a new block and `_update_from_block` would, without the new widget.
        """
        token = tokens[group.first]
        if token.type == "paragraph_open" and group.stop - group.first == 3:
            if type(widget) is not self.get_block_class("paragraph_open"):
                return False
            update_paragraph(widget, token, tokens[group.first + 1])
        elif token.type in ("fence", "code_block") and group.stop - group.first == 1:
            if type(widget) is not self.get_block_class(token.type) or not isinstance(widget, MarkdownFence):
                return False
            update_fence(widget, token, self.app)
        else:
            return False
        widget.source_range = (group.start + line_base, group.end + line_base)
        return True

    async def _mount_entries(self, entries: list[_Shown]) -> None:
        """Mount the widgets of new blocks at the end, opening new segments as they fill up."""
        if not entries:
            return
        segment = self._segments[-1] if self._segments else None
        if segment is not None and segment.parked:
            segment = None  # its text is all it holds: new blocks start a segment of their own
        batch: list[MarkdownBlock] = []
        for entry in entries:
            if segment is None or (
                entry.widget is not None
                and len(segment.children) + len(batch) >= self.SEGMENT_BLOCKS
            ):
                if segment is not None and batch:
                    await self._mount_in(segment, batch)
                    batch = []
                segment = Segment(self)
                self._segments.append(segment)
                await self.mount(segment)
                if not segment.is_mounted:
                    return  # the app is closing: nothing more will be shown
            entry.segment = segment
            if entry.widget is not None:
                batch.append(entry.widget)
        if batch and segment is not None:
            await self._mount_in(segment, batch)

    async def _mount_in(self, segment: Segment, blocks: list[MarkdownBlock]) -> None:
        started = time.perf_counter()
        mounting = segment.mount_all(blocks)  # registers the widgets now; composes them later
        self._sync_time += time.perf_counter() - started
        await mounting

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

    # -- catching up ------------------------------------------------------------------------
    #
    # When text comes much faster than it can be laid out (a fast local model, a pasted reply,
    # huge chunks, the benchmark), most of it would scroll far away before anyone could read it.
    # While more than CATCHUP_SCREENS screens of text are pending, the reply therefore *catches
    # up*: each flush cuts the tail's final blocks off with a block-level parse only (no inline
    # parsing, no widgets) and parks their text in hidden segments, with estimated heights of
    # about a screen each. The screen keeps showing what it showed and stays responsive. When
    # the backlog is down to a screen, the hidden segments are shown, the last screen of them
    # built, and the rest streams in as usual. So catching up on megabytes builds one screenful.

    def _catch_up_threshold(self) -> int:
        width = self.size.width or self.app.size.width
        return int(self.CATCHUP_SCREENS * max(width, 1) * max(self.app.size.height, 1))

    async def _start_catch_up(self) -> None:
        """Start catching up: the live tail's widgets go (its text is parked with the rest)."""
        self._catching_up = True
        live = [shown.widget for shown in self._tail_shown if shown.widget is not None]
        self._tail_shown = []
        if live:
            with self.app.batch_update():
                for widget in live:
                    await widget.remove()

    async def _park_final_blocks(self) -> None:
        """Cut the tail's final blocks off as parked text in hidden segments, never built."""
        started = time.perf_counter()
        tail = self._tail
        self.block_parsed_chars += len(tail)
        groups = top_level_groups(self._block_parser.parse(tail))
        settled = settled_start(groups, tail.count("\n"))
        if not settled:
            self._sync_time += time.perf_counter() - started
            return
        # Each block takes the text from its start to the next block's start (the first also
        # takes any blank lines before it), as `_freeze` cuts them.
        starts = [group.start for group in groups if 0 < group.start < settled]
        offsets = line_offsets(tail, starts + [settled])
        width = self.size.width or self.app.size.width
        segment = self._staged
        new = segment is None
        if segment is None:
            segment = self._staged = Segment(self)
            segment.staged = True
            segment.styles.display = "none"
            self._segments.append(segment)
        previous = 0
        for line, offset in zip([0, *starts], offsets):
            segment.park_text(tail[previous:offset], self._tail_line + line, width)
            previous = offset
        self._tail = tail[offsets[-1] :]
        self._tail_line += settled
        self._sync_time += time.perf_counter() - started
        if new:
            await self.mount(segment)

    async def _end_catch_up(self) -> None:
        """Show the text parked while catching up, its last screen built (all measured, for a short reply)."""
        self._catching_up = False
        staged, self._staged = self._staged, None
        if staged is None or not staged.is_mounted:
            return
        keep = self.app.size.height
        shown = [staged]
        if self._length <= self.EXACT_CHARS:
            # Segments of SEGMENT_BLOCKS blocks, each built once to be measured; the last screen stays built.
            while len(shown[-1].texts) > self.SEGMENT_BLOCKS:
                shown.append(await self._split(shown[-1], self.SEGMENT_BLOCKS))
            below = 0
            for segment in reversed(shown):
                await segment.unpark()
                if below >= keep:
                    await segment.park(force=True)
                below += segment.measure(self.size.width)
        else:
            first, _ = staged.blocks_between(staged.parked_height - keep, staged.parked_height)
            if first > 0:
                shown.append(await self._split(staged, first))
            await shown[-1].unpark()
        with self.app.batch_update():
            for segment in shown:
                segment.staged = False
                segment.styles.display = "block"

    async def _split(self, segment: Segment, index: int) -> Segment:
        """Split a parked segment with estimated heights before its block `index`; the second part."""
        rest = segment.split_off(index)
        self._segments.insert(self._segments.index(segment) + 1, rest)
        await self.mount(rest, after=segment)
        return rest

    async def build_in_view(self, segment: Segment, crop: Region) -> None:
        """Build the part of parked `segment` in view (`crop`, its own lines), a screen either side.

        A segment with estimated heights is split so that only that part is built; the rest
        stays parked before and after it.
        """
        if segment.estimated and len(segment.texts) > 1:
            margin = max(crop.height, 1)
            first, stop = segment.blocks_between(crop.y - margin, crop.bottom + margin)
            if stop < len(segment.texts):
                await self._split(segment, stop)
            if first > 0:
                segment = await self._split(segment, first)
        await segment.unpark()

    # -- parking ----------------------------------------------------------------------------

    def may_park(self, segment: Segment) -> bool:
        """May `segment` be parked: all its blocks final, not the last, and far off screen?"""
        if not self._segments or segment is self._segments[-1]:
            return False
        if any(shown.segment is segment for shown in self._tail_shown):
            return False
        try:
            region = self.screen.find_widget(segment).region
        except (NoWidget, NoMatches):
            return False
        height = self.screen.size.height
        far = self.PARK_SCREENS * height
        return region.bottom < -far or region.y > height + far

    def schedule_sweep(self) -> None:
        if not self._sweep_scheduled and self.is_attached:
            self._sweep_scheduled = True
            self.call_after_refresh(self._sweep)

    def _sweep(self) -> None:
        """Park every segment that may be parked (after a refresh, so positions are current)."""
        self._sweep_scheduled = False
        for segment in self._segments[:-1]:
            if not segment.parked and self.may_park(segment):
                segment.call_later(segment.park)

    # -- finishing --------------------------------------------------------------------------

    async def _build_final(self) -> None:
        """Show the rest of the text as a plain `Markdown` of the whole reply would show it.

        Only the tail is parsed: the blocks before it are final. The one thing that changes a
        final block is a link reference defined elsewhere in the reply; those are looked for
        (off the loop, and only in a text holding "]:") and any segment built without them is
        rebuilt (parked ones are built with them when they come into view).
        """
        async with self._stream_lock:
            if self._built_final:
                return
            self._built_final = True
            self._drained.set()
            if self._catching_up:
                await self._end_catch_up()
            if self._pending:  # finish() from this widget's own queue, or before mount
                self._tail += self._pending.take(self._pending.chars)
            text = self.source
            tail = self._tail
            loop = asyncio.get_running_loop()
            self._references = await loop.run_in_executor(None, link_references, text)
            self.parsed_chars += len(tail)
            # Parsed off the loop (as Markdown.update parses), with a parser of its own.
            tokens = await loop.run_in_executor(None, _parse_in_full, tail, dict(self._references))
            self._tail_shown = await self._reconcile(tokens, top_level_groups(tokens), self._tail_shown, self._tail_line)
            set_markdown_source(self, text)
            # Every block is final now: give the segments the text of the tail's blocks, so that
            # they can be parked too.
            shown = self._tail_shown
            if shown:
                lines = [0] + [entry.start for entry in shown[1:]]
                starts = line_offsets(tail, lines)
                for entry, line, start, end in zip(shown, lines, starts, starts[1:] + [len(tail)]):
                    segment = entry.segment
                    if segment is not None:
                        if segment.first_line < 0:
                            segment.first_line = self._tail_line + line
                        segment.texts.append(tail[start:end])
            self._tail_shown = []
            self._tail = ""
            if self._references:
                for segment in self._segments:
                    if not segment.parked and segment.texts:
                        await segment.rebuild()
        self.schedule_sweep()


def _parse_in_full(text: str, references: dict[str, object]) -> list[Token]:
    """`text` parsed in full with `references` known (for a thread: a parser of its own)."""
    return new_parser().parse(text, {"references": references})
