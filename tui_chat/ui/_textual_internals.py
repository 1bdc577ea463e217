"""Every use of Textual's private API in tui-chat, here and in its `_textual_*` siblings.

Checked against Textual 8.2.8 (`TEXTUAL_CHECKED`; pyproject.toml pins `textual>=8.2.8,<8.3`). A
Textual upgrade that moves or changes any of these breaks these files alone: check each name here
against the new version, adjust, then widen the pin. `tests/ui/test_textual_internals.py` fails
when another module of tui_chat (but `ui/_textual_*.py`) imports a private Textual module
(`textual._*`, `textual.*._*`) or touches one of `PRIVATE_ATTRIBUTES`, and checks that what is
here still exists. How frames are made and drawn (`RedrawsOnlyChanges`, `RepaintsWithFrames`) is
in `_textual_frames`.

What tui-chat needs that Textual keeps private:

- the message pump running now (`textual._context`): whether a widget is called from its own queue;
- the Markdown block widgets (`textual.widgets._markdown`) and the way a `Markdown` turns tokens
  into blocks, updates a paragraph or fence in place (the content a block keeps, the label a
  fence shows its code in), and keeps its source;
- a widget's arrangement cache, which keeps removed children alive until cleared;
- the input parser (`textual._xterm_parser`, `textual._parser`) and the Linux driver's app, debug
  flag and writer thread, for key-release events;
- the running driver of an app (`App._driver`), Footer's "bindings ready" flag, and the title
  widget of a `Collapsible`;
- how Textual draws a container's own lines (`AlikeLines`): background and side edges, the same
  on every line when it has no top or bottom edge;
- how a message pump finds its handlers (`QuickDispatch`);
- how a screen lays itself out (`_textual_reflow.LayoutOnce`): which widgets ask for a layout while it runs;
- how a screen makes a frame (`PaintBeforeLayout`, `FocusedAtOnce`): which widgets changed, which
  asked for a layout, and when the frame is made;
- a screen's queue of calls for after its next refresh (`after_own_screen_refresh`, `PlainCallbacks`);
- how a screen clears its tooltip on each key (`TooltipClearedQuietly`);
- a TextArea's theme object and component styles, and a node's count of style changes (`_textual_text_area`,
  and `_textual_frames.styles_key`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, Final

from textual._context import active_message_pump
from textual._parser import ParseError, Peek1, Read1, TokenCallback
from textual._xterm_parser import XTermParser
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget
from textual.widgets import Static, Tooltip
from textual.widgets._collapsible import CollapsibleTitle

if TYPE_CHECKING:
    from markdown_it.token import Token
    from rich.text import Text
    from textual.widgets._markdown import (
        MarkdownBlock,
        MarkdownFence,
        MarkdownTable,
        MarkdownTableCellContents,
        MarkdownTableContent,
    )
    from textual import events
    from textual.app import App
    from textual.driver import Driver
    from textual.message import Message
    from textual.message_pump import MessagePump
    from textual.screen import Screen
    from textual.widgets import Footer, Markdown

__all__ = [
    "PRIVATE_ATTRIBUTES",
    "TEXTUAL_CHECKED",
    "AlikeLines",
    "CollapsibleTitle",
    "FocusedAtOnce",
    "PaintBeforeLayout",
    "PlainCallbacks",
    "QuickDispatch",
    "TooltipClearedQuietly",
    "MarkdownBlock",
    "MarkdownFence",
    "MarkdownTable",
    "MarkdownTableCellContents",
    "MarkdownTableContent",
    "ParseError",
    "Peek1",
    "Read1",
    "TokenCallback",
    "XTermParserWithHook",
    "after_own_screen_refresh",
    "block_showing",
    "current_message_pump",
    "driver_app",
    "driver_debug",
    "driver_writer",
    "forget_arrangement",
    "inline_content",
    "mark_bindings_ready",
    "markdown_blocks",
    "running_driver",
    "set_markdown_source",
    "set_table_cell",
    "show_at_once",
    "table_headers_and_rows",
    "update_fence",
    "update_paragraph",
]

_MARKDOWN_BLOCKS: Final = (
    "MarkdownBlock",
    "MarkdownFence",
    "MarkdownTable",
    "MarkdownTableCellContents",
    "MarkdownTableContent",
)


def __getattr__(name: str) -> Any:
    """The Markdown block widgets, imported with their first use: the first screen needs no Markdown."""
    if name in _MARKDOWN_BLOCKS:
        from textual.widgets import _markdown

        return getattr(_markdown, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

TEXTUAL_CHECKED: Final = "8.2.8"
"""The Textual version every name in this module was checked against."""

PRIVATE_ATTRIBUTES: Final = frozenset(
    {
        "_app",
        "_apply_link_style",
        "_arrange_root",
        "_bindings_ready",
        "_blocks",
        "_batch_count",
        "_cache_key",
        "_clear_arrangement_cache",
        "_clear_tooltip",
        "_compositor",
        "_compositor_refresh",
        "_component_styles",
        "_content",
        "_debug",
        "_decorated_handlers",
        "_dirty_regions",
        "_dirty_widgets",
        "_driver",
        "_full_map",
        "_full_map_invalidated",
        "_get_dispatch_methods",
        "_get_headers_and_rows",
        "_get_renders",
        "_get_style",
        "_headers",
        "_highlighted_code",
        "_inline_token",
        "_invoke_later",
        "_layout_required",
        "_layout_updates",
        "_layout_widgets",
        "_markdown",
        "_no_default_action",
        "_nodes",
        "_on_idle",
        "_on_timer_update",
        "_parse_markdown",
        "_refresh_layout",
        "_render_cache",
        "_render_content",
        "_repaint_required",
        "_rows",
        "_selecting",
        "_sequence_to_key_events",
        "_table_of_contents",
        "_theme",
        "_token",
        "_token_to_content",
        "_wrap_and_format",
        "_writer_thread",
    }
)
"""Private Textual attributes tui-chat relies on: only this module may touch them."""


def current_message_pump() -> MessagePump | None:
    """The message pump (app, screen or widget) whose handler is running now, if any."""
    return active_message_pump.get(None)


# -- Markdown --------------------------------------------------------------------------------


def markdown_blocks(markdown: Markdown, tokens: Iterable[Token]) -> list[MarkdownBlock]:
    """The block widgets `markdown` builds for `tokens` (as its `update` does)."""
    return list(markdown._parse_markdown(tokens))  # type: ignore[arg-type]


def set_markdown_source(markdown: Markdown, text: str) -> None:
    """Record `text` as what `markdown` shows (its `source`), forgetting its table of contents."""
    markdown._markdown = text
    markdown._table_of_contents = None


def update_paragraph(widget: MarkdownBlock, token: Token, inline: Token) -> Content:
    """Give a paragraph's or heading's widget its new inline content (as its `set_content` would);
    the content, for the caller to show (`growing`)."""
    widget._token = token
    widget._inline_token = inline
    content = widget._token_to_content(inline)
    widget._content = content
    return content


def block_showing(root: MarkdownBlock, inline: Token) -> MarkdownBlock | None:
    """The block widget in `root` (itself or one inside it) whose text was built from `inline`."""
    from textual.widgets._markdown import MarkdownBlock

    # A walk by class, not a CSS query: the query matched a selector against each node, several
    # times a second for the growing item of a streamed list.
    for block in root.walk_children(MarkdownBlock, with_self=True):
        if block._inline_token is inline:
            return block
    return None


def update_fence(widget: MarkdownFence, token: Token, app: App[Any]) -> tuple[Static, Content] | None:
    """Give a code fence's widget its new code, highlighted (as its `set_content` would); the label
    its `compose` made to show the code in and the new content, for the caller to show (`growing`),
    or None when the code did not change."""
    from .widgets.markdown.highlighting import fence_theme, growing_highlight

    widget._token = token
    code = token.content.rstrip()
    if code == widget.code and token.info == widget.lexer:
        return None
    widget.code = code
    widget.lexer = token.info
    theme = fence_theme(ansi=app.native_ansi_color, dark=app.current_theme.dark)
    content = growing_highlight(widget).highlight(code, token.info, theme)  # what `widget.highlight` gives
    widget._highlighted_code = content
    widget._content = content
    # The label its `compose` made, found by a walk rather than a CSS query (once per flush).
    label = next((node for node in widget.walk_children(Static) if node.id == "code-content"), None)
    return None if label is None else (label, content)


def inline_content(block: MarkdownBlock, inline: Token) -> Content:
    """The content a block builds from an inline token (what its `build_from_token` shows)."""
    return block._token_to_content(inline)


def set_table_cell(table: MarkdownTable, content: MarkdownTableContent, index: int, cell: Content) -> None:
    """Record `cell` as cell `index` (the headers first, then each row's) of a table and the widget showing it.

    The content widget's rows are the table's own row lists (its headers a copy).
    """
    headers = content.headers
    if index < len(headers):
        headers[index] = cell
        table._headers[index] = cell
        return
    columns = max(len(headers), 1)
    row, column = divmod(index - len(headers), columns)
    content.rows[row][column] = cell


def table_headers_and_rows(table: MarkdownTable) -> tuple[list[Text], list[list[Text]]]:
    """A Markdown table's header and row cells, kept on the table as its own `compose` keeps them."""
    headers, rows = table._get_headers_and_rows()
    table._headers = headers
    table._rows = rows
    return headers, rows


# -- widgets and the app ---------------------------------------------------------------------


if TYPE_CHECKING:
    _WidgetMixin = Widget
    _ScreenMixin = Screen[Any]
else:
    _WidgetMixin = _ScreenMixin = object


class AlikeLines(_WidgetMixin):
    """A container whose own lines are all alike: one is rendered, and repeated.

    Textual renders a container's own lines (its background, padding and side borders, under its
    children) one by one through a line cache that it clears whenever the container changes size,
    and a container that holds a streaming reply grows by a line at a time: every line of it in
    view was rendered again for each new one (the reply, the log around it). With no top or bottom
    edge and no content of its own, each of those lines is the same as the first, so that one is
    all there is to render (and of its content, a blank, one line, where Textual renders as many
    lines as the container is tall, on screen or not). Anything else (a top or bottom border or
    padding, an outline, a hatch, a keyline, a widget that renders content of its own) is left to
    Textual.

    A mixin, put before the widget class: not a `Widget` itself, so that it adds no CSS type of
    its own (a `Widget` subclass among the bases changes which default styles win).
    """

    def render_lines(self, crop: Region) -> list[Strip]:
        if crop.height <= 1 or not _lines_alike(self):
            return super().render_lines(crop)
        return super().render_lines(Region(crop.x, crop.y, crop.width, 1)) * crop.height

    def render_line(self, y: int) -> Strip:
        """Line `y` of its own content (a blank): rendered alone, where Textual renders them all."""
        if not _lines_alike(self):
            return super().render_line(y)
        return Visual.to_strips(self, visualize(self, self.render()), self.size.width, 1, self.visual_style)[0]


def _lines_alike(widget: Widget) -> bool:
    """Does Textual draw every line of `widget`'s own box the same (see `AlikeLines`)?"""
    styles = widget.styles
    top, _, bottom, _ = styles.padding
    return (
        widget.is_container
        and type(widget).render is Widget.render  # a container's own content is a blank
        and not top
        and not bottom
        and not styles.border_top[0]
        and not styles.border_bottom[0]
        and not styles.outline_top[0]
        and not styles.outline_bottom[0]
        and styles.keyline[0] == "none"
        and not styles.has_rule("hatch")
    )


class QuickDispatch(_WidgetMixin):
    """A message pump that finds its handlers for a kind of message once, where Textual looks for
    them along its whole class hierarchy for every message and every idle event.

    A screen or a widget built of several mixins has a long hierarchy (a chat screen 14 classes):
    the walk took some 20 microseconds, twice per message (the handler, then the idle event after
    it), thousands of times a second while a reply streams. The handlers by name along the
    hierarchy are kept per class, handler name and kind of message; a kind of message that one of
    the `@on` handlers (chosen by its sender too) may take is left to Textual's walk. As in
    Textual's, a handler that prevents the default stops the rest.

    A mixin, put before the widget or screen class.
    """

    def _get_dispatch_methods(self, method_name: str, message: Message) -> Iterable[tuple[type, Callable[..., Any]]]:
        key = (type(self), method_name, type(message))
        try:
            found = _HANDLERS[key]
        except KeyError:
            found = _HANDLERS[key] = _named_handlers(type(self), method_name, type(message))
        if found is None:
            yield from super()._get_dispatch_methods(method_name, message)
            return
        for cls, method in found:
            if message._no_default_action:
                break
            yield cls, method.__get__(self, cls)


_HANDLERS: dict[tuple[type, str, type], tuple[tuple[type, Any], ...] | None] = {}
"""(pump class, handler name, message class) -> its handlers by name along the class hierarchy, as
(class, function); None where an `@on` handler may take the message (see `QuickDispatch`)."""


def _named_handlers(kind: type, method_name: str, message_kind: type) -> tuple[tuple[type, Any], ...] | None:
    """The handlers by name of `kind` for `method_name`, along its hierarchy (as Textual finds them),
    or None if a class of it has an `@on` handler for `message_kind` or a kind it derives from."""
    from textual.message import Message

    message_kinds = [base for base in message_kind.__mro__ if issubclass(base, Message)]
    found: list[tuple[type, Any]] = []
    for cls in kind.__mro__:
        decorated = cls.__dict__.get("_decorated_handlers")
        if decorated and any(decorated.get(base) for base in message_kinds):
            return None
        method = cls.__dict__.get(f"_{method_name}") or cls.__dict__.get(method_name)
        if method is not None and not getattr(method, "_textual_on", None):
            found.append((cls, method))
    return tuple(found)


class PaintBeforeLayout(_ScreenMixin):
    """A screen whose frame shows what needs no layout first, then lays out the rest.

    Textual makes one frame of all that changed since the last: when part of the screen must be
    laid out again (a streamed reply grew by a line) a key typed meanwhile is shown only once the
    layout and the whole re-render it brings are done (20-40 ms at 200 chunks/s: most of a key's
    latency). Here such a frame first paints and shows the changed widgets the layout cannot move
    or resize (the prompt, the status bar), then lays out and shows the rest, in the same tick.

    A widget cannot be moved by the layout when neither it nor any of its ancestors asked for the
    layout or holds a widget that did (Textual's own record of what a layout is for, which stops
    at the first container whose size does not follow its content). A layout with no such record
    (a resize, the screen's own) is not split, nor is a frame that repaints the whole screen.

    A mixin, put before the screen class.
    """

    def _on_timer_update(self) -> None:
        apart = self._needing_no_layout()
        if apart:
            rest = self._dirty_widgets - apart
            self._compositor.update_widgets(apart)
            self._compositor_refresh()  # shows them; forgets every dirty widget
            self._dirty_widgets |= rest
        super()._on_timer_update()

    def _needing_no_layout(self) -> set[Widget]:
        """The changed widgets a pending layout leaves where they are (none: the frame is not split)."""
        asked = self._layout_widgets
        if not (
            asked
            and self._layout_required
            and self._dirty_widgets
            and not self._repaint_required
            and self.is_current
            and not self.app._batch_count
            and not self.app.is_inline
        ):
            return set()
        moved: set[object] = set(asked)
        for widgets in asked.values():
            moved |= widgets
        return {
            widget
            for widget in self._dirty_widgets
            if not any(node in moved for node in widget.ancestors_with_self)
        }


class FocusedAtOnce(_ScreenMixin):
    """A screen that shows a change to its focused widget (a key typed), or one a widget asked to be
    shown at once (`show_at_once`), as soon as it is idle.

    Textual makes frames on a 60 Hz tick: a key waited for the next one (up to 17 ms) and, while a
    reply streams, for whatever else ran on the loop until then: half of a key's latency. A change
    to the focused widget is what a person just did, and its frame is cheap (the prompt's lines;
    `PaintBeforeLayout` keeps a pending layout from joining it): that frame is made at once, with
    whatever else changed since the last. So is the frame of streamed text a reply has just taken
    on: its flushes are already paced to the text's arrival, and waiting for the tick only made
    each batch later (by 8 ms on average) without saving a frame. Other changes keep Textual's tick.

    A mixin, put before the screen class.
    """

    _shown_at_once: Widget | None = None
    """A widget whose change is to be shown at once (see `show_at_once`)."""

    async def _on_idle(self, event: events.Idle) -> None:
        focused = self.focused
        dirty = self._dirty_widgets
        wanted = self._shown_at_once
        if (
            (focused is not None and focused in dirty or wanted is not None and (dirty or self._layout_required))
            and self.is_current
            and not self.app._batch_count
        ):
            event.prevent_default()
            self._on_timer_update()
            return
        await super()._on_idle(event)

    def _on_timer_update(self) -> None:
        if self.is_current and not self.app._batch_count:
            self._shown_at_once = None  # this frame shows it, whether made at once or by the tick
        super()._on_timer_update()


def show_at_once(widget: Widget) -> None:
    """Have `widget`'s screen show its change as soon as the screen is idle, not on its next tick
    (when it is a `FocusedAtOnce` screen)."""
    screen = widget.screen
    if isinstance(screen, FocusedAtOnce):
        screen._shown_at_once = widget
        screen.check_idle()


class PlainCallbacks(_ScreenMixin):
    """A screen that queues a call asked for after its refresh (`call_after_refresh`) with no
    arguments as the function itself.

    Textual wraps each such call in a `partial`, and looks the signature of what it wraps up again
    every time it runs one (it caches the parameter count on the function, but each partial is
    new): some 40 microseconds of the screen's time, for each flush of a streamed reply (its
    sweep) among others. The function alone runs the same (it is called with nothing, as the
    partial was), its count cached.

    A mixin, put before the screen class.
    """

    def _invoke_later(self, callback: Callable[[], object], sender: MessagePump) -> None:
        if isinstance(callback, partial) and not callback.args and not callback.keywords:
            callback = callback.func
        super()._invoke_later(callback, sender)


class TooltipClearedQuietly(_ScreenMixin):
    """A screen that clears its tooltip, on each key, without building an error message.

    Textual looks the tooltip up among the screen's children and, when it has none (nearly always),
    raises `NoMatches` with a message holding the repr of every child of the screen: some 90
    microseconds of each key pressed on the chat screen. Here the lookup finds no tooltip first.

    A mixin, put before the screen class.
    """

    def _clear_tooltip(self) -> None:
        if any(type(child) is Tooltip for child in self._nodes):  # as Textual finds it: this class exactly
            super()._clear_tooltip()


def after_own_screen_refresh(widget: Widget, callback: Callable[[], object]) -> None:
    """Call `callback` after `widget`'s own screen next refreshes.

    Textual's `call_after_refresh` hands the call to whichever screen is on top when the message is
    handled; a screen popped before its next frame drops it, and whoever waited on it waits forever.
    """
    widget.screen._invoke_later(callback, widget)


def forget_arrangement(widget: Widget) -> None:
    """Drop a widget's cached arrangements and displayed children (which hold removed children)."""
    widget._clear_arrangement_cache()
    _ = widget.displayed_children


def mark_bindings_ready(footer: Footer) -> None:
    """Let a Footer show its keys (its `compose` shows nothing before the first bindings change)."""
    footer._bindings_ready = True


def running_driver(app: App[Any]) -> Driver | None:
    """The driver an app runs on (Textual has no public accessor), None before it runs."""
    return app._driver


# -- input -----------------------------------------------------------------------------------


class XTermParserWithHook(XTermParser):
    """Textual's input parser, with its private sequence-to-keys step behind a public name.

    Override `sequence_to_keys`; `textual_keys` is Textual's own reading of a sequence.
    """

    def _sequence_to_key_events(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        return self.sequence_to_keys(sequence, alt)

    def sequence_to_keys(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        """The keys for a complete escape sequence; none means "read on"."""
        return self.textual_keys(sequence, alt)

    def textual_keys(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        """Textual's keys for a sequence (may raise on a malformed one)."""
        return super()._sequence_to_key_events(sequence, alt)


def driver_app(driver: Driver) -> App[Any]:
    """The app a driver sends its events to."""
    return driver._app


def driver_debug(driver: Driver) -> bool:
    """Whether a driver was started in debug mode."""
    return driver._debug


def driver_writer(driver: Driver) -> object | None:
    """The Linux driver's writer thread: a new one is started each time it enters application mode."""
    return getattr(driver, "_writer_thread", None)
