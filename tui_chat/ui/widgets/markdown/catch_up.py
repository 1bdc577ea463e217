"""Catching up with a backlog: text parked unbuilt, in hidden segments, while it comes too fast.

When text comes much faster than it can be laid out (a fast local model, a pasted reply, huge
chunks, the benchmark), most of it would scroll far away before anyone could read it. While text
comes as a flood (more than CATCHUP_SCREENS screens of it waiting or about to come, or waiting
longer than flushes take to show it: `pacing.FlushPacer.flooded`), a `StreamingMarkdown` therefore
*catches up*: each flush cuts the tail's final blocks off with a block-level parse only (no inline
parsing, no widgets) and parks their text in hidden segments, with estimated heights. The screen
keeps showing what it showed and stays responsive. When the flood is over, the hidden segments are
shown, the last screen of them built, and the rest streams in as usual. So catching up on
megabytes builds one screenful; a part scrolled to later is built then (`build_in_view`).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, ClassVar

from markdown_it import MarkdownIt
from textual.geometry import Region

from ..._textual_frames import inner_size
from .blocks import line_offsets, new_block_parser, settled_start, top_level_groups
from .part import MarkdownPart
from .segments import Segment

if TYPE_CHECKING:
    from .reconcile import Shown

__all__ = ["CatchingUp"]


class CatchingUp(MarkdownPart):
    """The catching-up part of `StreamingMarkdown` (a mixin: the state is the widget's)."""

    CATCHUP_SCREENS: ClassVar[float]
    EXACT_CHARS: ClassVar[int]
    SEGMENT_BLOCKS: ClassVar[int]
    _catching_up: bool
    _backlog: str
    _staged: Segment | None
    _segments: list[Segment]
    _tail: str
    _tail_line: int
    _tail_shown: list[Shown]
    _length: int
    _sync_time: float
    _block_parser: MarkdownIt
    block_parsed_chars: int

    def _catch_up_threshold(self) -> int:
        width = inner_size(self).width or self.app.size.width
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

    async def _park_backlog(self) -> None:
        """Take on the text a cancelled reply set aside (`_backlog`): parked unbuilt if over a screen.

        Like catching up, but its blocks are found in one block-level parse in a thread: the
        reply ends at once, and the loop does not parse megabytes meanwhile.
        """
        backlog, self._backlog = self._backlog, ""
        if len(backlog) <= self._catch_up_threshold():
            self._tail += backlog  # a screen or less: the final parse shows it
            return
        if not self._catching_up:
            await self._start_catch_up()
        self._tail += backlog
        await self._park_final_blocks(off_loop=True)

    async def _park_final_blocks(self, *, off_loop: bool = False) -> None:
        """Cut the tail's final blocks off as parked text in hidden segments, never built.

        `off_loop`: find the blocks in a thread (for a tail of any size, at the end).
        """
        started = time.perf_counter()
        tail = self._tail
        self.block_parsed_chars += len(tail)
        if off_loop:
            tokens = await asyncio.get_running_loop().run_in_executor(None, new_block_parser().parse, tail)
            started = time.perf_counter()  # the loop was free meanwhile
        else:
            tokens = self._block_parser.parse(tail)
        groups = top_level_groups(tokens)
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
        segment.park_texts([tail[start:end] for start, end in zip([0, *offsets], offsets)], self._tail_line, width)
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
