"""Parking: which segments of a reply are parked off screen, and when parked estimates are measured.

A segment whose blocks are all final and that is more than PARK_SCREENS screens away from the view
is parked (see `segments`): Textual lays out every widget of a screen on every layout, so without
this each frame of a long reply would cost more than the last. The sweep runs after a refresh, so
that positions are current. A reply up to EXACT_CHARS long has its parked estimates replaced by
exact heights, one segment a refresh, so that even its scrollbar is exact.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual.css.query import NoMatches
from textual.errors import NoWidget

from ..._textual_internals import after_own_screen_refresh
from .part import MarkdownPart
from .segments import Segment

if TYPE_CHECKING:
    from .reconcile import Shown

__all__ = ["Parking"]


class Parking(MarkdownPart):
    """The parking part of `StreamingMarkdown` (a mixin: the state is the widget's)."""

    PARK_SCREENS: ClassVar[float]
    _segments: list[Segment]
    _tail_shown: list[Shown]
    _remeasure_scheduled: bool
    _sweep_scheduled: bool

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
        """Sweep after the reply's screen next refreshes (once, however many flushes ask before it).

        Queued on that screen itself, not through the reply's messages (`call_after_refresh`: a
        message per flush, handed to whichever screen is on top, which drops it if popped before
        its next frame, and then the reply would never park again)."""
        if not self._sweep_scheduled and self.is_attached:
            self._sweep_scheduled = True
            after_own_screen_refresh(self, self._sweep)

    def _sweep(self) -> None:
        """Park every segment that may be parked (after a refresh, so positions are current)."""
        self._sweep_scheduled = False
        for segment in self._segments[:-1]:
            if not segment.parked and self.may_park(segment):
                segment.call_later(segment.park)
