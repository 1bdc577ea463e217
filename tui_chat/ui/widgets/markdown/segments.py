"""Segments: runs of top-level blocks that can be parked off screen, and their layout.

A long reply's blocks live in `Segment`s of a few blocks each (a `Markdown` with no box of its own).
A segment whose blocks are final and that is far from the view is *parked*: its block widgets are
removed and it keeps only its height and its text, from which it is rebuilt when it comes back
into view. Textual lays out every widget of a screen on every layout, so without parking each frame
of a long reply would cost more than the last. A segment can also be *born* parked, from text that
was never built (a backlog caught up with): its height is then an estimate (`blocks.estimate_height`),
exact once it has been built and parked again. Such a segment holds any amount of text (all that
one backlog brought): the part of it that comes into view is split off and built, the rest stays
parked around it, so the number of segments grows with what was looked at, not with the reply. `SegmentLayout` places the segments so that every
block lands where it would if all blocks were children of one `Markdown` (margins collapse across
segment edges as between siblings).
"""

from __future__ import annotations

import weakref
from fractions import Fraction
from typing import ClassVar, Protocol, Self

from textual import events
from textual.box_model import BoxModel
from textual.geometry import NULL_OFFSET, NULL_SPACING, Region, Size
from textual.layout import DockArrangeResult, WidgetPlacement
from textual.layouts.vertical import VerticalLayout
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Markdown

from ..._textual_internals import AlikeLines, MarkdownBlock, forget_arrangement
from .blocks import estimate_height

__all__ = ["Segment", "SegmentLayout", "SegmentOwner"]


class SegmentOwner(Protocol):
    """What a segment needs of the widget that holds it."""

    @property
    def size(self) -> Size: ...

    def may_park(self, segment: Segment) -> bool:
        """May `segment` be parked now (all its blocks final, far off screen)?"""

    def build_blocks(self, text: str, first_line: int) -> list[MarkdownBlock]:
        """The block widgets for `text`, whose first line is line `first_line` of the reply."""
        ...

    def schedule_sweep(self) -> None:
        """Park, after the next refresh, every segment that may be parked."""

    async def build_in_view(self, segment: Segment, crop: Region) -> None:
        """Build the part of parked `segment` that is in view (`crop`, in its own lines)."""


class Segment(AlikeLines, Markdown):
    """A run of consecutive top-level blocks of a StreamingMarkdown.

    A `Markdown` so that every `Markdown > Block` style rule applies to its blocks as it would
    in a plain Markdown; its own box adds nothing (no padding, margin or border).
    """

    REFLOWS_ALONE: ClassVar[bool] = True
    """A layout for a change inside it is of it alone while its box stays (`_textual_reflow`): the
    last segment takes the rows below the reply's text, so a block added to it leaves its box."""

    def __init__(self, owner: SegmentOwner) -> None:
        super().__init__(None, open_links=False)
        self._owner_ref = weakref.ref(owner)
        self.first_line = -1
        """The line of the reply where this segment's text starts (-1: not known yet)."""
        self.texts: list[str] = []
        """The text of its frozen blocks, in order (what a parked segment is rebuilt from)."""
        self.parked = False
        self.staged = False
        """Hidden while the reply catches up with a backlog (see "catching up" below)."""
        self.parked_insets = (0, 0)
        self.parked_width = 0
        self.parked_height = 0
        self.estimated = False
        """Parked with an estimated height: its blocks were not built since its text or width changed."""
        self.heights: list[int] = []
        """While `estimated`: the estimated height of each of `texts`."""
        self._unpark_requested = False
        styles = self.styles
        styles.padding = 0
        styles.margin = 0
        styles.border = ("none", "black")
        styles.background = "transparent"

    async def _on_mount(self, event: events.Mount) -> None:
        event.prevent_default()  # Markdown would `update` and remove the blocks mounted in it

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        """As Textual's, but a layout (a block mounted or removed) does not repaint the segment.

        It has no look of its own (see `__init__`): where the layout changes its size, the screen
        draws it again anyway. A repaint would draw all of it again, blocks and all, for a block
        added at its end: the segment that holds the room ahead reaches the bottom of the screen.
        """
        return super().refresh(*regions, repaint=repaint and not layout, layout=layout, recompose=recompose)

    def arrange(self, size: Size, optimal: bool = False) -> DockArrangeResult:
        """As Textual's, but blocks that are all as tall as their content are arranged once per change.

        Their places do not depend on the segment's height: the arrangement at no height, which
        measured the segment (`measure`), also places them in whatever height the segment is given
        (taller than its blocks while the reply keeps room ahead, see `SegmentLayout`). Textual's
        cache is by size, so every layout arranged the blocks of a changed segment twice.
        """
        if size.height and not optimal and all(_content_tall(child) for child in self.displayed_children):
            size = Size(size.width, 0)
        return super().arrange(size, optimal)

    def insets(self) -> tuple[int, int]:
        """The top margin of its first block and the bottom margin of its last, which it holds."""
        if self.parked:
            return self.parked_insets
        children = self.displayed_children
        if not children:
            return (0, 0)
        return (children[0].styles.margin.top, children[-1].styles.margin.bottom)

    def render_lines(self, crop: Region) -> list[Strip]:
        # Only called for what is on screen: a parked segment in view is rebuilt.
        if self.parked and not self._unpark_requested:
            self._unpark_requested = True
            self.call_later(self._bring_into_view, crop)
        return super().render_lines(crop)

    async def _bring_into_view(self, crop: Region) -> None:
        owner = self._owner_ref()
        try:
            if owner is not None and self.parked:
                await owner.build_in_view(self, crop)
        finally:
            self._unpark_requested = False  # only now: until the blocks are mounted, it is being rebuilt

    def blocks_between(self, top: int, bottom: int) -> tuple[int, int]:
        """While `estimated`: the range [first, stop) of `texts` that covers its lines [top, bottom)."""
        first = stop = 0
        y = 0
        for index, height in enumerate(self.heights):
            if y <= top:
                first = index
            if y < bottom:
                stop = index + 1
            y += height
        return first, stop

    def split_off(self, index: int) -> Segment:
        """While `estimated`: move `texts[index:]` to a new parked segment, to be mounted right after this one."""
        owner = self._owner_ref()
        assert owner is not None and self.estimated
        rest = Segment(owner)
        rest.first_line = self.first_line + sum(text.count("\n") for text in self.texts[:index])
        rest.texts, self.texts = self.texts[index:], self.texts[:index]
        rest.heights, self.heights = self.heights[index:], self.heights[:index]
        for segment in (self, rest):
            segment.parked = segment.estimated = True
            segment.parked_width = self.parked_width
            segment.parked_height = sum(segment.heights)
            segment.styles.height = segment.parked_height
        rest.staged = self.staged
        rest.styles.display = self.styles.display
        return rest

    def park_texts(self, texts: list[str], first_line: int, width: int) -> None:
        """Hold `texts` (final blocks, the first at line `first_line`) parked, unbuilt, their heights estimated.

        Only for a segment that has no block widgets: one that is new or parked with an estimate.
        Its height is set once for them all: a backlog brings thousands of blocks at a time.
        """
        if self.first_line < 0:
            self.first_line = first_line
        heights = [estimate_height(text, width) for text in texts]
        self.texts += texts
        self.heights += heights
        self.parked = self.estimated = True
        self.parked_width = width
        self.parked_height += sum(heights)
        self.styles.height = self.parked_height

    def reestimate(self, width: int) -> None:
        """A parked segment's height at another `width`, estimated (exact again once built)."""
        if self.parked and self.parked_width != width:
            self.heights = [estimate_height(text, width) for text in self.texts]
            self.parked_height = sum(self.heights)
            self.parked_width = width
            self.parked_insets = (0, 0)
            self.estimated = True
            self.styles.height = self.parked_height

    async def park(self, force: bool = False) -> None:
        """Drop the block widgets, keeping the height they take."""
        owner = self._owner_ref()
        if self.parked or owner is None or not (force or owner.may_park(self)):
            return
        width = owner.size.width
        height = self.measure(width)
        insets = self.insets()
        with self.app.batch_update():
            self.styles.height = height
            await self.remove_children()
        # Textual caches past arrangements and the list of displayed children; refresh them, or
        # they would keep the removed blocks alive.
        forget_arrangement(self)
        self.parked = True
        self.estimated = False
        self.heights = []
        self.parked_height = height
        self.parked_insets = insets
        self.parked_width = width

    def measure(self, width: int) -> int:
        """The height of this segment at `width` (what SegmentLayout gives it)."""
        if self.parked:
            return self.parked_height
        return self.arrange(Size(width, 0)).total_region.height if self.children else 0

    async def unpark(self) -> None:
        """Rebuild the block widgets from the text."""
        owner = self._owner_ref()
        if not self.parked or owner is None or not self.is_mounted:  # not mounted: the app is closing
            return
        blocks = owner.build_blocks("".join(self.texts), self.first_line)
        self.estimated = False
        self.heights = []
        self.parked_height = 0
        if self.staged:  # hidden: nothing to keep the screen from showing meanwhile
            self.styles.height = None
            self.parked = False
            await self.mount_all(blocks)
        else:
            with self.app.batch_update():
                self.styles.height = None
                self.parked = False
                await self.mount_all(blocks)
        owner.schedule_sweep()


    async def rebuild(self) -> None:
        """Build the block widgets of a segment that is not parked again from its text.

        For when what its text renders to changed: the reply's link references became known.
        """
        owner = self._owner_ref()
        if self.parked or owner is None or not self.is_mounted:
            return
        blocks = owner.build_blocks("".join(self.texts), self.first_line)
        with self.app.batch_update():
            await self.remove_children()
            await self.mount_all(blocks)


def _content_tall(widget: Widget) -> bool:
    """Is `widget` as tall as its content, whatever the height of its container?"""
    styles = widget.styles
    return (
        styles.is_auto_height
        and not styles.is_docked
        and all(length is None or length.is_cells for length in (styles.min_height, styles.max_height))
    )


class SegmentLayout(VerticalLayout):
    """Textual's vertical layout, for a column of segments that each hold blocks.

    Places the segments so that every block lands where VerticalLayout would put it if all the
    blocks were children of one container: a segment holds its first block's top margin and its
    last block's bottom margin inside it, so those margins are collapsed with the neighbours'
    here as VerticalLayout collapses the margins of siblings. Rows the container has below its
    blocks go to the last segment (`_fill`).
    """

    name = "vertical"

    def arrange(
        self, parent: Widget, children: list[Widget], size: Size, greedy: bool = True
    ) -> list[WidgetPlacement]:
        if not all(isinstance(child, Segment) for child in children) or any(
            child.styles.overlay == "screen"
            or child.styles.has_rule("offset")
            or child.styles.has_rule("position")
            or child.styles.has_rule("min_height")
            or child.styles.has_rule("max_height")
            or not (child.parked or child.styles.is_auto_height)
            for child in children
        ):
            return super().arrange(parent, children, size, greedy)
        parent.pre_layout(self)
        # A segment fills the width and is as tall as its blocks (its own arrangement, cached by
        # Textual until its blocks change) or, parked, as tall as it was. Asking each segment
        # for its box model instead would re-arrange every block on every frame, as the
        # container's growing height is part of that cache key.
        width = Fraction(size.width)
        box_models = [
            BoxModel(
                width,
                Fraction(child.measure(size.width)),
                NULL_SPACING,
            )
            for child in children
        ]
        placements: list[WidgetPlacement] = []
        bottom: Fraction | None = None  # where the last non-empty segment's content ends
        pending_margin = 0  # and the bottom margin it leaves to collapse
        for child, (width, height, margin) in zip(children, box_models):
            assert isinstance(child, Segment)
            if not height:  # an empty segment (its blocks were replaced): takes no room at all
                y = Fraction(0) if bottom is None else bottom
                region = Region(margin.left, y.__floor__(), width.__floor__(), 0)
            else:
                top_inset, bottom_inset = child.insets()
                top = Fraction(top_inset) if bottom is None else bottom + max(pending_margin, top_inset)
                y = top - top_inset
                next_y = y + height
                region = Region(margin.left, y.__floor__(), width.__floor__(), next_y.__floor__() - y.__floor__())
                bottom = next_y - bottom_inset
                pending_margin = bottom_inset
            placements.append(WidgetPlacement(region, NULL_OFFSET, margin, child, 0, False, False, False))
        return _fill(placements, size.height)


def _fill(placements: list[WidgetPlacement], height: int) -> list[WidgetPlacement]:
    """The last segment that holds blocks made as tall as fills `height` (the container's, when
    it is taller than its blocks: a streaming reply's room ahead, see `room`).

    The blank rows below the text are then the last segment's own: a block mounted into them, or a
    block growing into them, leaves every segment's size as it was, so only that block is drawn
    again (Textual redraws all of a widget whose size changed, and a segment can fill the screen).
    """
    for index in range(len(placements) - 1, -1, -1):
        placement = placements[index]
        region = placement.region
        if region.height:
            if region.bottom < height:
                placements[index] = placement._replace(region=region._replace(height=height - region.y))
            break
    return placements
