"""A layout inside a widget whose box it leaves as it was re-arranges only that widget: Textual's
private API (see `_textual_internals`).

Textual lays a screen out whole, whichever widget asked: it arranges the screen, the log and the
message around a reply again, and walks every widget on screen to place it. While a reply streams
it keeps room ahead (`markdown.room`), so that its height stays as it is: a block mounted in it, a
list's new item or a table's new row moves nothing outside it. For such a layout `ReflowsWithin`
checks that the widget's place in its parent is unchanged, and has the compositor walk that widget
alone with Textual's own walk (`_arrange_root`, the widget as its root) and splice the places it
finds into the screen's map (`spliced_map`). Textual then compares the new map with the old as after
any layout (what moved, what to draw again, which widgets were shown, hidden or resized), and tells
the widgets of that part alone their sizes (`Splicing.layers`).

It is a layout of the widget alone only when nothing outside it can have changed: every widget that
asked for the layout since the last one (each `messages.Layout` posted to the screen, seen as it is
posted: Textual keeps only the last of several queued) is inside it; the screen did not ask for a
layout of its own, nor was it resized or scrolled; the screen's map is current; and the widget's
parent, arranged again, places it where it was, as large. Otherwise the whole screen is laid out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import messages
from textual.geometry import Size
from textual.message import Message
from textual.scrollbar import ScrollBar, ScrollBarCorner
from textual.widget import Widget

if TYPE_CHECKING:
    from typing import Self

    from textual._compositor import Compositor, MapGeometry
    from textual.screen import Screen

    _ScreenMixin = Screen[Any]
else:
    _ScreenMixin = object

__all__ = ["LayoutOnce", "ReflowsWithin", "Splicing", "spliced_map"]

CompositorMap = dict[Widget, "MapGeometry"]


def spliced_map(compositor: Compositor, within: Widget) -> tuple[CompositorMap, set[Widget]] | None:
    """The screen's map and visible widgets with `within`'s part arranged again (None: it cannot be).

    Textual's walk is run with `within` as its root, at its size. Each place it finds is then where
    the whole walk would put it: moved by `within`'s offset on screen, clipped by `within`'s clip,
    and ordered after `within` (the walk numbers siblings from the widget it starts at: every number
    below `within` is offset by `within`'s own). A widget laid over the whole screen (an overlay)
    is clipped by the screen, not by `within`: with one inside, it cannot be done here.
    """
    old_map: CompositorMap = compositor._full_map
    geometry = old_map.get(within)
    if geometry is None:
        return None
    sub_map, sub_widgets = compositor._arrange_root(within, geometry.region.size, visible_only=False)
    offset, clip, order = geometry.region.offset, geometry.clip, geometry.order
    first = order[-1][2]  # the number the walk gave `within` among its siblings, which its children count from
    placed: CompositorMap = {}
    for widget, place in sub_map.items():
        if widget is within:
            placed[widget] = geometry._replace(virtual_size=place.virtual_size)
            continue
        if place.order[0] != (0, 0, 0):
            return None  # an overlay
        chrome = isinstance(widget, (ScrollBar, ScrollBarCorner))  # placed by its region on screen
        placed[widget] = place._replace(
            region=place.region.translate(offset),
            clip=clip.intersection(place.clip.translate(offset)),
            order=order + tuple((layer, z, number + first) for layer, z, number in place.order[1:]),
            virtual_region=place.virtual_region.translate(offset) if chrome else place.virtual_region,
        )
    depth = len(order)
    new_map = {widget: place for widget, place in old_map.items() if place.order[:depth] != order}
    widgets = {
        widget
        for widget in compositor.widgets
        if widget in new_map
        or (widget not in old_map and widget.is_attached and widget is not within and not _is_inside(widget, within))
    }  # (a widget arranged but not mounted yet is not in the map)
    new_map.update(placed)
    return new_map, widgets | sub_widgets


def _is_inside(widget: Widget, container: Widget) -> bool:
    """Is `widget` below `container` in the DOM (a scrollbar: below the widget it scrolls)?"""
    node = widget.parent
    while node is not None:
        if node is container:
            return True
        node = node.parent
    return False


class ReflowsWithin(_ScreenMixin):
    """A screen that lays out only the widget a layout is for, where that leaves its box as it was
    (see the module's docstring).

    The widgets tried are those whose class sets `REFLOWS_ALONE` (a streaming reply, whose room
    ahead keeps its height, and the segments of blocks in it): the innermost one around all that
    asked for the layout whose place stays is laid out.

    A mixin, put before the screen class (and before `LayoutOnce`, which it leaves to judge the
    requests a layout makes).
    """

    _asked: set[Widget] | None = None
    """The widgets that asked for a layout since the last one."""
    _asked_whole = False
    """Did the screen ask for a layout of its own since the last one (all of it is laid out)?"""

    def post_message(self, message: Message) -> bool:
        if isinstance(message, messages.Layout):
            if self._asked is None:
                self._asked = set()
            self._asked.add(message.widget)  # type: ignore[arg-type]
        return super().post_message(message)

    def refresh(self, *regions: Any, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Self:
        if layout:
            self._asked_whole = True
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        compositor = self._compositor
        within = None if size is not None or scroll else self._laid_out_within()
        self._asked, self._asked_whole = None, False
        if within is None:
            super()._refresh_layout(size, scroll)
            return
        compositor.within = within  # (a `Splicing` compositor: `_laid_out_within` found one)
        try:
            super()._refresh_layout(size, scroll)
        finally:
            compositor.within = None

    def _laid_out_within(self) -> Widget | None:
        """The widget this layout is for alone, if one is (see the module's docstring)."""
        asked, compositor = self._asked, self._compositor
        if (
            not asked
            or not isinstance(compositor, Splicing)
            or self._asked_whole
            or compositor._full_map_invalidated
            or self.outer_size != compositor.size
            or self.app._batch_count
        ):
            return None
        around: list[Widget] | None = None  # the widgets tried around all that asked, innermost first
        for widget in asked:
            tried = [node for node in widget.ancestors_with_self if getattr(node, "REFLOWS_ALONE", False)]
            around = tried if around is None else [node for node in around if node in tried]
            if not around:
                return None
        return next((node for node in around or () if _keeps_its_place(compositor, node)), None)


def _keeps_its_place(compositor: Compositor, widget: Widget) -> bool:
    """Does `widget`'s parent, arranged again, place it where it is on screen, as large? (And is the
    parent, where its height follows its content, as tall as it is: measured as a layout measures
    it, which is also where a streaming reply keeps the height of its text for its room.)"""
    parent = widget.parent
    old_map: CompositorMap = compositor._full_map
    if not isinstance(parent, Widget) or parent not in old_map or widget not in old_map:
        return False
    if parent.is_scrollable and (any(parent.scrollbars_enabled) or parent.scroll_offset):
        return False
    content = old_map[parent].region.shrink(parent.styles.gutter)
    if parent.styles.is_auto_height:
        around = parent.parent
        if not isinstance(around, Widget) or around not in old_map:
            return False
        container = old_map[around].container_size  # what its parent lays it out in
        if parent.get_content_height(container, compositor.size, content.width) != content.height:
            return False
    arrangement = parent.arrange(Size(*content.size))
    for placement in arrangement.placements:
        if placement.widget is widget:
            return placement.region.translate(content.offset + placement.offset) == old_map[widget].region
    return False


class Splicing:
    """A compositor that lays out only `within`, when set, splicing its part into the map it has
    (`spliced_map`); the whole screen when that cannot be done. A mixin, put before `Compositor`.

    After such a layout the screen tells only the widgets of that part their sizes (`layers`).
    """

    within: Widget | None = None
    """The widget the next layout is for alone (set by `ReflowsWithin` for one layout)."""
    _spliced_layers: list[tuple[Widget, MapGeometry]] | None = None
    """After a layout of `within` alone, until read: the places of the widgets it arranged, in
    layer order (see `layers`)."""

    @property
    def layers(self) -> list[tuple[Widget, MapGeometry]]:
        """Textual's widgets and places in layer order; after a layout of one widget alone, the
        widgets it arranged only.

        The screen reads this once after each layout, for nothing but to tell each widget its size
        (`Screen._refresh_layout`): Textual sorts every widget of the map for it and calls each
        one, every layout. After a layout of one widget alone every other widget's place is the
        one it had, and was told, before.
        """
        spliced, self._spliced_layers = self._spliced_layers, None
        return super().layers if spliced is None else spliced  # type: ignore[misc]

    def _arrange_root(self, root: Widget, size: Size, visible_only: bool = True) -> tuple[CompositorMap, set[Widget]]:
        within, self.within = self.within, None
        self._spliced_layers = None
        if within is not None and not visible_only:
            spliced = spliced_map(self, within)  # type: ignore[arg-type]
            if spliced is not None:
                self._spliced_layers = _layers_within(spliced[0], within)
                return spliced
        return super()._arrange_root(root, size, visible_only)  # type: ignore[misc]


def _layers_within(new_map: CompositorMap, within: Widget) -> list[tuple[Widget, MapGeometry]]:
    """`within` and the widgets placed inside it, from front to back (as `Compositor.layers` orders them)."""
    order = new_map[within].order
    depth = len(order)
    inside = [(widget, place) for widget, place in new_map.items() if place.order[:depth] == order]
    return sorted(inside, key=lambda item: item[1].order, reverse=True)


class LayoutOnce(_ScreenMixin):
    """A screen that lays out once for a change, where Textual lays out twice.

    In a layout Textual records each widget's new size as its `virtual_size`, a reactive that asks
    for a layout of that widget: every widget that grew (a streaming paragraph, the reply and the
    log around it) asked for the next frame to lay the screen out again, which found nothing to
    move but re-arranged and re-measured all it had just done (a quarter of the CPU a streamed
    reply cost). Those requests are dropped here, as the layout that made them already holds what
    they ask for: a request made during the layout by a widget it placed before, and any request
    still pending from a widget it placed for the first time (it was measured as it is now). A
    widget whose scrollbars came or went keeps its request (its gutter changed; a new widget with
    a scrollbar that takes room always does: not a code fence's, which takes none), and so does a
    widget placed before that asked before the layout (the arrangement around it may be cached from
    before its change).

    Only widgets of (or inside) the kinds in `LAYOUT_ONCE_WITHIN` are treated so (all, when it is
    empty): where text grows, and nowhere it does not pay (a footer rebuilding its keys was seen,
    rarely, laid out 2 cells off with it).

    A mixin, put before the screen class.
    """

    LAYOUT_ONCE_WITHIN: ClassVar[tuple[type[Widget], ...]] = ()

    def _lays_out_once(self, widget: Widget) -> bool:
        kinds = self.LAYOUT_ONCE_WITHIN
        return not kinds or any(isinstance(node, kinds) for node in widget.ancestors_with_self)

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        compositor = self._compositor
        placed = compositor.widgets
        # A layout of one widget alone (`Splicing.within`) places and sizes only it and what it holds:
        # the rest keep their sizes and requests.
        within = compositor.within if isinstance(compositor, Splicing) else None
        before = {
            widget: (widget._layout_updates, widget.scrollbars_enabled)
            for widget in (placed if within is None else within.walk_children(with_self=True))
            if not widget._layout_required and widget in placed
        }
        super()._refresh_layout(size, scroll)
        placed_now = compositor.widgets
        for widget in placed_now if within is None else within.walk_children(with_self=True):
            if not widget._layout_required or widget not in placed_now or not self._lays_out_once(widget):
                continue
            if widget in before:
                updates, scrollbars = before[widget]
                if widget._layout_updates == updates + 1 and widget.scrollbars_enabled == scrollbars:
                    widget._layout_required = False
                    widget._layout_updates = updates
            elif widget not in placed and not any(widget.scrollbar_gutter):
                widget._layout_required = False
