"""How a screen's frames are drawn and what rides on them: Textual's private API (see `_textual_internals`).

- `RedrawsOnlyChanges`: a partial update renders only the rows of the widgets it updates and none
  a widget in front hides; a layout does not redraw widgets it only renumbered.
- `RepaintsWithFrames` and `repaint_with_next_frame`: a widget whose repaint need not be at once (a
  clock, a counter) rides on the next frame the screen makes anyway, or gets its own frame when
  none comes within a given time.
- `RendersChangedLines`: a text widget whose content grew renders again only its lines that changed.
- `AncestryKept`: a widget looks its screen up again only when its parent changed, and blends its
  ancestors' backgrounds again only when one may have changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual._compositor import ChopsUpdate, Compositor
from textual.color import Color
from textual.content import Content
from textual.dom import DOMNode
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget, _RenderCache
from textual.widgets import Static

from ._textual_reflow import Splicing
from ._textual_wrap import line_key, wrap_grown

if TYPE_CHECKING:
    from textual.screen import Screen

    _ScreenMixin = Screen[Any]
    _StaticMixin = Static
    _WidgetMixin = Widget
else:
    _ScreenMixin = _StaticMixin = _WidgetMixin = object

__all__ = [
    "AncestryKept",
    "RedrawsOnlyChanges",
    "RendersChangedLines",
    "RepaintsWithFrames",
    "inner_size",
    "repaint_with_next_frame",
    "styles_key",
]

MAX_REGIONS = 8
"""A partial update of more regions than this is rendered over the box around them all (a layout
that moved much): matching each widget against each region would cost more than it saves."""


def inner_size(widget: Widget) -> Size:
    """The size of `widget`'s content area as last laid out (what `Widget.size` gives a widget on
    screen), without looking its region up on the screen: that walks up to the screen and into its
    map, and, asked while the map is stale (after a mount, during a layout), maps the whole screen
    again. A streamed reply asked it on every flush and every render of a growing line."""
    width, height = widget.outer_size
    gutter = widget.styles.gutter
    return Size(max(0, width - gutter.width), max(0, height - gutter.height))


class _ChangesCompositor(Splicing, Compositor):
    """Textual's compositor, redrawing for a partial update only what changed and what shows it.

    - Textual renders, for an update of any part of the screen, every widget whose clip (for a
      widget in a scrolling log: the log's whole view) meets the box around every region to
      update, and each of them whole: all the lines it has on screen, of which all but the updated
      ones are thrown away. A streamed line of text and the status bar under the log drew every
      widget between them again, every frame. Here only the widgets that meet a region to update
      are rendered, of each only its rows in those regions, and none that a widget in front hides
      there (a widget draws every cell of its region: the containers behind a line of text, the
      screen behind the log) (`_get_renders`).
    - A layout marks as changed every widget whose painting order changed, and Textual numbers
      siblings from the last: a block mounted at the end of a reply renumbered every block before
      it, and each of those was drawn again (most of the screen, for each new block). A widget whose
      geometry is unchanged but for that number is drawn as before if the widgets it can overlap
      keep their order, so when the order of all the widgets that were there before is unchanged,
      such widgets are not redrawn (`reflow`).
    - A scroll marks Textual's map of every widget stale, and a layout builds a new one but leaves
      it marked stale: the first widget asked for its place after a layout (most frames while a
      reply streams: the log scrolls to follow it) arranged the whole screen a second time. The
      map a layout builds is kept as current (`reflow`).
    - A layout marks as changed the whole of every container that grew (a list by an item, the
      reply, the log's content), and Textual draws again every widget in it, of which most are
      where they were and as they were. A widget the terminal shows in place (its place unchanged,
      nothing to repaint, nothing but the containers it is in moved over it) is not drawn: its
      cells are left as the terminal shows them (`_in_place`, `_Kept`). Where they were is the map
      of the last layout or scroll (`_on_screen`), not Textual's map of every widget, which a newly
      mounted widget makes stale before the layout that places it.
    """

    _updating: tuple[Region, ...] = ()
    """The regions the partial update being rendered is for (none outside one)."""
    _on_screen: dict[Widget, Any] | None = None
    """Where the last layout or scroll put the widgets (what the screen shows once it is drawn).
    Textual's own map of every widget is no such record: it is marked stale when a widget it does not
    hold asks to be drawn (one just mounted), and built again, as the widgets are by then, by the
    first look-up of a place after that, before the layout that shows them."""
    _before: dict[Widget, Any] | None = None
    """Where the widgets the screen shows are, if a layout since the last frame knows it (else None)."""
    _keeping = False
    """May the update being rendered leave cells as the terminal shows them (a partial update, not
    of the whole screen)?"""
    _kept = False
    """Did the update being rendered leave some widget's cells as the terminal shows them?"""

    def __init__(self) -> None:
        super().__init__()
        self._moved: dict[Widget, list[Region]] = {}
        """Each widget whose place a layout since the last frame changed -> where on screen it was and is."""
        self._repainted: set[Widget] = set()
        """The widgets to repaint with the next frame (their content changed)."""

    def update_widgets(self, widgets: set[Widget]) -> None:
        self._repainted |= widgets
        super().update_widgets(widgets)

    def reflow(self, parent: Widget, size: Size) -> Any:
        old_map = self._full_map
        on_screen = self._on_screen
        dirty = self._dirty_regions
        before = set(dirty)
        result = super().reflow(parent, size)
        self._full_map_invalidated = False  # the map just built is of every widget, as they are now
        new_map = self._on_screen = self._full_map
        self._note_moves(on_screen, new_map)
        if size.region in dirty:
            return result
        renumbered = _renumbered(old_map, new_map)
        if renumbered:
            changed = {
                geometry.clip.intersection(geometry.region)
                for widget, geometry in old_map.items() ^ new_map.items()
                if widget not in renumbered
            }
            dirty.clear()
            dirty.update(before, (region for region in changed if region))
        return result

    def reflow_visible(self, parent: Widget, size: Size) -> set[Widget]:
        if self._before is not None:
            self._before = {}  # a scroll after a layout not yet drawn: none is known to be in place
        exposed = super().reflow_visible(parent, size)
        self._on_screen = self._visible_map  # the widgets in view, where the scroll put them
        return exposed

    def _note_moves(self, on_screen: dict[Widget, Any] | None, new_map: dict[Widget, Any]) -> None:
        """Note which widgets a layout moved away from what the screen shows (`on_screen`; None: not
        known), and where on screen each was and is; after a second layout before a frame, none
        is known to be in place."""
        if on_screen is None or self._before is not None:
            self._before, self._moved = {}, {}
            return
        renumbered = _renumbered(on_screen, new_map)
        moved: dict[Widget, list[Region]] = {}
        for widget, geometry in on_screen.items() ^ new_map.items():
            if widget not in renumbered and (shown := geometry.clip.intersection(geometry.region)):
                moved.setdefault(widget, []).append(shown)
        self._before, self._moved = on_screen, moved

    def _in_place(self, widget: Widget, shown: Region) -> bool:
        """Does the screen show `widget` as this frame would: not moved, not repainted, and nothing
        but the containers it is in moved over it?"""
        before = self._before
        if (
            not self._keeping
            or before is None
            or widget not in before
            or widget in self._moved
            or widget in self._repainted
            or widget._dirty_regions
        ):
            return False
        around = widget.ancestors
        return not any(
            other not in around and region.overlaps(shown)
            for other, regions in self._moved.items()
            for region in regions
        )

    def render_update(self, full: bool = False, screen_stack: Any = None, simplify: bool = False) -> Any:
        try:
            return super().render_update(full, screen_stack, simplify)
        finally:
            self._before, self._moved, self._repainted = None, {}, set()

    def render_partial_update(self) -> ChopsUpdate | None:
        regions = self._dirty_regions
        self._updating = tuple(regions) if len(regions) <= MAX_REGIONS else ()
        self._keeping = self.size.region not in regions
        try:
            update = super().render_partial_update()
        finally:
            self._updating, self._keeping = (), False
        if update is not None and self._kept:
            for line in update.chops:
                for cut, strip in line.items():
                    if strip is _KEPT:
                        line[cut] = None  # type: ignore[index]  # not written: the terminal shows it
        self._kept = False
        return update

    def _get_renders(self, crop: Region | None = None) -> Iterable[tuple[Region, Region, list[Strip]]]:
        if crop is None:
            yield from super()._get_renders(crop)
            return
        areas = self._updating or (crop,)
        drawn: list[Region] = []  # what widgets in front of the next (they come front first) draw
        for widget, (region, clip) in self.visible_widgets.items():
            shown = region.intersection(clip)
            if not shown.overlaps(crop):
                continue
            parts = [
                part
                for area in areas
                if (part := shown.intersection(area).intersection(crop))
                and not any(front.contains_region(part) for front in drawn)  # hidden: drawn in front
            ]
            in_place = bool(parts) and self._in_place(widget, shown)
            self._kept |= in_place
            for first, last in _row_spans(parts):
                updated = Region(shown.x, first, shown.width, last - first)  # the rows of it that are updated
                drawn.append(updated)
                if in_place:
                    yield region, updated, [_KEPT] * (last - first)
                    continue
                lines = Region(shown.x - region.x, first - region.y, shown.width, last - first)
                yield region, updated, widget.render_lines(lines)


class _Kept(Strip):
    """Put where a widget the screen already shows in place would be drawn: its cells are left as
    the terminal shows them (and no widget behind it is drawn there)."""

    def divide(self, cuts: Iterable[int]) -> list[Strip]:
        return [self for _ in cuts]


_KEPT = _Kept([])


def _row_spans(parts: list[Region]) -> list[tuple[int, int]]:
    """The rows the regions `parts` cover, as (first, end) spans, in order, none touching another."""
    spans: list[tuple[int, int]] = []
    for first, last in sorted((part.y, part.bottom) for part in parts):
        if spans and first <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(last, spans[-1][1]))
        else:
            spans.append((first, last))
    return spans


def _renumbered(old_map: dict[Widget, Any], new_map: dict[Widget, Any]) -> set[Widget]:
    """The widgets in both maps whose geometry differs only in painting order, if the widgets in
    both come in the same order in each (else none)."""
    renumbered = {
        widget
        for widget in old_map.keys() & new_map.keys()
        if old_map[widget] != new_map[widget]
        and old_map[widget]._replace(order=new_map[widget].order) == new_map[widget]
    }
    return renumbered if renumbered and _same_order(old_map, new_map) else set()


def _same_order(old_map: dict[Widget, Any], new_map: dict[Widget, Any]) -> bool:
    """Do the widgets in both maps come in the same painting order in each?"""
    common = old_map.keys() & new_map.keys()
    return sorted(common, key=lambda widget: old_map[widget].order) == sorted(
        common, key=lambda widget: new_map[widget].order
    )


class RedrawsOnlyChanges(_ScreenMixin):
    """A screen whose frames redraw only what changed (see `_ChangesCompositor`).

    A mixin, put before the screen class.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compositor = _ChangesCompositor()


class RepaintsWithFrames(_ScreenMixin):
    """A screen whose widgets may ask to be repainted with its next frame, or within a time if none
    comes (`repaint_with_next_frame`).

    A repaint asked for with `refresh` makes a frame of its own on the next 60 Hz tick. A status
    bar's clock ticking ten times a second while a reply streams made ten frames a second of its
    own (a fifth of the frames at 50 chunks/s), next to the reply's own, each drawing a line: its
    repaint rides on the reply's frames instead, and when none is made in time (no text yet, a
    pause) it gets its own.

    A mixin, put before the screen class.
    """

    _with_next_frame: dict[Widget, Timer] | None = None
    """Each widget to repaint with the next frame, and the timer that repaints it if none comes."""

    def repaint_with_next_frame(self, widget: Widget, within: float) -> None:
        """Repaint `widget` with the next frame made, or in `within` seconds if none is made by then
        (an earlier request's time stands)."""
        waiting = self._with_next_frame
        if waiting is None:
            waiting = self._with_next_frame = {}
        if widget not in waiting:
            waiting[widget] = self.set_timer(within, partial(self._repaint_due, widget), name="repaint-due")

    def _repaint_due(self, widget: Widget) -> None:
        """No frame came in time: `widget` is repainted on its own."""
        if self._with_next_frame is not None and self._with_next_frame.pop(widget, None) is not None:
            widget.refresh()

    def _on_timer_update(self) -> None:
        waiting = self._with_next_frame
        if (
            waiting
            and self.is_current
            and not self.app._batch_count
            and (self._dirty_widgets or self._layout_required or self._repaint_required)
        ):
            for widget, timer in waiting.items():
                timer.stop()
                if widget.is_attached:
                    widget.refresh()
                    widget._repaint_required = False  # drawn by this frame, not posted for another
                    self._dirty_widgets.add(widget)
            waiting.clear()
        super()._on_timer_update()


def _has_link(content: Content) -> bool:
    """Whether a span of `content` may be a link: a style with "@click" in its meta, the only
    segments Textual's link style styles (a style given as text is taken to be one if it says so)."""
    for span in content.spans:
        style = span.style
        if "@click" in style if isinstance(style, str) else "@click" in style.meta:
            return True
    return False


def repaint_with_next_frame(widget: Widget, within: float) -> None:
    """Repaint `widget` with its screen's next frame, or in `within` seconds if none comes by then
    (at once, as `refresh` does, on a screen that is not a `RepaintsWithFrames`)."""
    screen = widget.screen
    if isinstance(screen, RepaintsWithFrames):
        screen.repaint_with_next_frame(widget, within)
    else:
        widget.refresh()


class RendersChangedLines(_StaticMixin):
    """A text widget that renders again only the lines of its content that changed.

    Textual renders a widget's whole content again whenever it changes: each of its lines made into
    a strip of styled segments (most of the cost of a frame that shows a streamed paragraph grow by
    a word, for a paragraph of a dozen lines). Here the content is wrapped as Textual wraps it, and
    each wrapped line that is the same as one rendered last time, at the same place, keeps that
    line's strip: a paragraph growing at its end renders its last line or two. What this does not
    cover (a content that is not `Content`, a selection, content aligned other than to the top
    left) is left to Textual.

    Textual also paints a changed widget whole again: every row styled (background, padding,
    filters) and sent to the terminal. Content shown with `show_changed`, which leaves the widget's
    size as it is (text grown within the rows it has), repaints only the rows whose line changed.

    A mixin, put before the widget class.
    """

    _line_strips: dict[tuple[object, ...], Strip] | None = None
    """Each line rendered last time (its text, styles and place) -> its strip."""
    _line_strips_for: tuple[object, ...] | None = None
    """What every strip in `_line_strips` was rendered with (width, style, link style)."""
    _wrapped: tuple[object, tuple[object, ...], list[Any], list[tuple[object, ...]]] | None = None
    """The last content wrapped, what with, all its lines and their keys (see `line_key`): a grown
    content is wrapped once, for its height (`wrapped_height`), its changed rows and its render."""
    _repaint_rows: tuple[Region, ...] | None = None
    """While `show_changed` shows a content: the rows to repaint, the only ones whose line changed."""

    def show_changed(self, content: Content) -> None:
        """Show `content`, which leaves this widget's size as it is: repaint only the rows whose line
        changed (all of it if that is not known: the first content, a new width or style)."""
        self._repaint_rows = self._changed_rows(content)
        try:
            self.update(content, layout=False)
        finally:
            self._repaint_rows = None

    def wrapped_height(self, content: Content, width: int) -> int:
        """How many lines `content` takes at content width `width` (as `Content.get_height` counts
        them), wrapped as it will be shown, so that showing it wraps it no more."""
        settings = self._settings(content)
        if settings is None or settings[0] != width:
            return content.get_height(self.styles, width)
        return len(self._wrap(content, settings)[0])

    def refresh(self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False) -> Any:
        rows = self._repaint_rows
        if rows and not regions and not layout and not recompose:
            regions = rows
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _settings(self, content: Content) -> tuple[object, ...] | None:
        """What the lines of `content` are rendered with (None: they are left to Textual, see the class
        docstring). The link style is read only for a content with a link: it styles nothing else, and
        reading it walks every ancestor's background (over half of what this took, on each flush and
        render of a grown text)."""
        screen = self.screen
        if screen._selecting or screen.selections.get(self) is not None or self.styles.content_align != ("left", "top"):
            return None
        links = self.auto_links and not self.is_container and _has_link(content)
        return (inner_size(self).width, self.visual_style, self.link_style if links else None)

    def _wrap(self, visual: Content, settings: tuple[object, ...]) -> tuple[list[Any], list[tuple[object, ...]]]:
        """`visual` wrapped as Textual wraps it, every line, and each line's key (wrapped once per
        content and settings; a content that grew at its end, from its last line on: `wrap_grown`)."""
        wrapped = self._wrapped
        if wrapped is not None and wrapped[1] == settings:
            if wrapped[0] is visual:
                return wrapped[2], wrapped[3]
            lines, keys = wrap_grown(wrapped[0], wrapped[2], wrapped[3], visual, self._wrapper(settings))
        else:
            lines = self._wrapper(settings)(visual)
            keys = [line_key(line) for line in lines]
        self._wrapped = (visual, settings, lines, keys)
        return lines, keys

    def _wrapper(self, settings: tuple[object, ...]) -> Callable[[Content], list[Any]]:
        """A content's lines as Textual wraps and formats them in this widget with `settings`."""
        width = settings[0]
        assert isinstance(width, int)
        if not width:
            return lambda visual: []
        get_rule = self.styles.get_rule
        return partial(
            Content._wrap_and_format,
            width=width,
            align=get_rule("text_align", "left"),
            overflow=get_rule("text_overflow", "fold"),
            no_wrap=get_rule("text_wrap", "wrap") == "nowrap",
            line_pad=get_rule("line_pad", 0),
            tab_size=8,
            get_style=self._get_style,
        )

    def _lines(self, visual: Content, settings: tuple[object, ...]) -> tuple[list[Any], list[tuple[object, ...]]]:
        """The lines `visual` shows in this widget's height, and their keys."""
        lines, keys = self._wrap(visual, settings)
        height = inner_size(self).height
        return lines[:height], keys[:height]


    def _changed_rows(self, content: Content) -> tuple[Region, ...] | None:
        """The rows whose line showing `content` changes, as regions of the content area (None: not known)."""
        settings = self._settings(content)
        previous = self._line_strips
        if settings is None or previous is None or self._line_strips_for != settings:
            return None
        lines, keys = self._lines(content, settings)
        changed = [y for y, key in enumerate(keys) if key not in previous]
        changed += range(len(lines), len(previous))  # rows whose line is gone
        width = settings[0]
        regions: list[Region] = []
        for y in changed:
            if regions and regions[-1].bottom == y:
                regions[-1] = regions[-1]._replace(height=regions[-1].height + 1)
            else:
                regions.append(Region(0, y, width, 1))
        return tuple(regions) or None

    def _render_content(self) -> None:
        visual = self._render()
        settings = self._settings(visual) if isinstance(visual, Content) else None
        if settings is None:
            self._line_strips = None
            super()._render_content()
            return
        style, link_style = settings[1], settings[2]
        previous = self._line_strips if self._line_strips_for == settings else None
        rendered: dict[tuple[object, ...], Strip] = {}
        strips: list[Strip] = []
        for line, key in zip(*self._lines(visual, settings)):
            strip = rendered.get(key) or (previous.get(key) if previous else None)
            if strip is None:
                strip = Strip(*line.to_strip(style))
                if link_style is not None:
                    strip = strip._apply_link_style(link_style)
            rendered[key] = strip
            strips.append(strip)
        self._line_strips, self._line_strips_for = rendered, settings
        self._render_cache = _RenderCache(inner_size(self), strips)
        self._dirty_regions.clear()


def styles_key(widget: Widget) -> tuple[object, ...]:
    """What `widget` and each of its ancestors are, and how often each one's styles changed (Textual
    counts every change to a node's styles: CSS applied, a class, a theme, an inline rule): equal
    keys, equal styles all the way up. (The nodes themselves, not their ids: none is freed and
    its id reused while a key holds it.)"""
    nodes = widget.ancestors_with_self
    return (*nodes, *[node.styles._cache_key for node in nodes])


class AncestryKept(_WidgetMixin):
    """A widget that keeps what it works out from its ancestors for every render: its screen, while its
    parent is the one it had, and the blend of their backgrounds, while none of their styles changed.

    Textual walks up from a widget to its screen for each look-up of its place (its size, its region:
    several for each render), and blends the backgrounds of all its ancestors on every render
    (`background_colors`). For a block of a streamed reply, a dozen levels deep, those were about 5
    and 25 microseconds a time, over a frame's worth of walks for each frame while text streams.
    A widget stays on its screen while its parent does (Textual detaches every widget it removes,
    the innermost first, and moves none to another parent), and what the blend reads (each node's
    background, tint and opacity) is in its styles, kept against `styles_key`.

    A mixin, put before the widget class.
    """

    _screen_under: tuple[object, Screen[Any]] | None = None
    """The parent this widget had when its screen was last looked up, and that screen."""
    _background_for: tuple[object, ...] | None = None
    """The `styles_key` the kept colours were blended for."""
    _background: tuple[Color, Color] = (Color(0, 0, 0, 0), Color(0, 0, 0, 0))

    @property
    def screen(self) -> Screen[Any]:
        parent, kept = self._parent, self._screen_under
        if kept is not None and kept[0] is parent:
            return kept[1]
        screen = DOMNode.screen.fget(self)  # type: ignore[attr-defined]  # raises NoScreen if none
        self._screen_under = (parent, screen)
        return screen

    @property
    def background_colors(self) -> tuple[Color, Color]:
        key = styles_key(self)
        if key != self._background_for:
            self._background = DOMNode.background_colors.fget(self)  # type: ignore[attr-defined]
            self._background_for = key
        return self._background
