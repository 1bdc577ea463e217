"""Growing text shown in its block's widget without laying the screen out, where it can be.

Streamed text mostly grows within the last line of a paragraph or a line of code: then only that
widget is painted again, and nothing else on screen is arranged, measured or rendered
(`show_grown`). A new line makes the widget taller, which is a layout of the screen; while the
reply streams with room ahead (`room`), the growing widget takes the room's blank rows below it
into its own box (a minimum height, `GrowingBlock`), so that the lines after it fill rows it
already has: each is a repaint of that one widget, and only a line past the room costs a layout.
Its rows are handed back (the minimum height dropped) as soon as another block grows, and when
the reply ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from ..._textual_frames import RendersChangedLines, inner_size

__all__ = ["GrowingBlock", "inner_size", "show_grown"]


def show_grown(widget: Static, content: Content, *, layout: bool = False) -> None:
    """Show `content` in `widget`, laying the screen out again only if the widget's size changes
    (or `layout`: the caller knows of another size that does)."""
    if layout or _resizes(widget, content):
        widget.update(content, layout=True)
    else:
        _show_in_place(widget, content)


def _show_in_place(widget: Static, content: Content) -> None:
    """Show `content` in `widget`, whose size it leaves as it is: a widget that renders only its
    changed lines repaints only their rows."""
    if isinstance(widget, RendersChangedLines):
        widget.show_changed(content)
    else:
        widget.update(content, layout=False)


def _resizes(widget: Static, content: Content) -> bool:
    """Would showing `content` change `widget`'s size (as its layout measures it)?"""
    width, height = inner_size(widget)
    parent = widget.parent
    if not width or not height or not isinstance(parent, Widget):
        return True  # not laid out yet
    if _height(widget, content, width) != height:
        return True
    return _widens(widget, content)


def _height(widget: Static, content: Content, width: int) -> int:
    """How many lines `content` takes in `widget` at content width `width` (a widget that renders
    only its changed lines wraps it once, for this and to show it)."""
    if isinstance(widget, RendersChangedLines):
        return widget.wrapped_height(content, width)
    return content.get_height(widget.styles, width)


def _widens(widget: Static, content: Content) -> bool:
    """Would showing `content` change the width of `widget`, whose width follows its content?"""
    styles = widget.styles
    parent = widget.parent
    if styles.width is not None and styles.width.is_auto and isinstance(parent, Widget):
        container = inner_size(parent).width
        return content.get_optimal_width(styles, container) != widget.visual.get_optimal_width(styles, container)
    return False


def _width_for(widget: Static, content: Content, width: int) -> int:
    """The width `widget`, now `width` wide, takes to show `content`: wider, if its width follows its
    content (code, which scrolls sideways rather than wrap a long line)."""
    styles = widget.styles
    parent = widget.parent
    if styles.width is not None and styles.width.is_auto and isinstance(parent, Widget):
        return max(width, content.get_optimal_width(styles, inner_size(parent).width))
    return width


@dataclass(slots=True)
class GrowingBlock:
    """The one widget of a streaming reply that holds the room's blank rows in its own box.

    `spare` is given by the reply: how many blank rows its room has below its text now.
    """

    widget: Static | None = None
    """The widget holding rows of the room (None: no widget does)."""
    extra: int = 0
    """How many blank rows below its text it holds (as of the last layout)."""

    def show(self, widget: Static, content: Content, spare: int, growth: Callable[[int], int]) -> None:
        """Show `content` in `widget` (a paragraph or the code of a fence, grown), taking the room's
        `spare` rows into it when it must grow past its height: no layout until they are filled.

        Text that grows past the room's rows grows the room by `growth(rows past its end)` rows
        (`Room.growth`, the rule `Room.height` then measures it by): the widget takes those rows
        too, in the same layout, rather than in a second one for the line after.
        A widget as wide as its content (code, which scrolls sideways) also takes its container's
        width while it holds rows, so that a longer line of code does not resize it either.
        """
        width, height = inner_size(widget)
        if not width or not height or not isinstance(widget.parent, Widget):
            self.release()
            widget.update(content, layout=True)  # not laid out yet
            return
        held = widget is self.widget
        styles = widget.styles
        wide = _width_for(widget, content, width)
        needed = _height(widget, content, wide)
        if held:
            fits = needed <= height and wide == width
        else:
            fits = needed == height and not _widens(widget, content)
        if fits:
            if held:
                self.extra = height - needed
            _show_in_place(widget, content)  # fills rows it already has
            return
        if not held:
            self.release()
        shown = widget.visual.get_height(styles, width) if held else height
        rows = shown + spare
        if needed > rows:
            rows += growth(needed - rows)  # the rows the room grows by to hold it
        self.widget = widget
        self.extra = rows - needed
        styles.min_height = rows + styles.gutter.height  # a layout, once
        parent = widget.parent
        if styles.width is not None and styles.width.is_auto and isinstance(parent, Widget):
            styles.min_width = inner_size(parent).width
        widget.update(content, layout=True)

    def release(self) -> None:
        """Hand the rows back: the widget is as tall as its text again."""
        widget, self.widget, self.extra = self.widget, None, 0
        if widget is not None and widget.is_attached:
            widget.styles.min_height = None
            widget.styles.min_width = None
