"""The scrolling list of messages. It follows new text only while the view is at the bottom.

Scrolling up releases the anchor so a person can read back while a reply streams; returning to
the bottom takes it again (Textual's anchor does exactly this). The message widgets (and the
Markdown parser behind them) are loaded with the first message, not for the empty first screen.

A reopened chat (`show_saved`) can hold thousands of messages, and each reply is Markdown that
costs a few milliseconds to build: only a window of about two screens of them is mounted, between
two markers. The marker above says how many earlier messages there are; when it scrolls into view
the batch before the window is mounted above it, and the view is moved by what was added, so
what the person reads stays where it is. The marker below does the same for later messages (a
chat opened at an old search hit). Home and End jump to the first and the newest messages (the
window is made there). What happens in the chat after it is opened (live messages) is mounted
after both markers and stays mounted.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from .._textual_internals import AlikeLines, after_own_screen_refresh

if TYPE_CHECKING:
    from textual.widget import Widget

    from .message import AssistantMessage, UserMessage
    from .saved_entries import SavedEntry
    from .tool_item import ToolItem

WELCOME = (
    "Type a message and press Enter to send it.\n"
    "Shift+Enter or Ctrl+J starts a new line · Esc stops a reply · F1 lists every key · Ctrl+P opens the command palette"
)
WINDOW_SCREENS = 2
"""How many screens of a saved chat are mounted at once, when it is opened and per batch after."""


class ChatLog(AlikeLines, VerticalScroll):
    """Messages, oldest first."""

    DEFAULT_CSS = """
    ChatLog {
        height: 1fr;
        padding: 0 1;
        scrollbar-size-vertical: 1;
        /* A fixed gutter: otherwise the whole log re-wraps when the scrollbar first appears. */
        scrollbar-gutter: stable;
    }
    ChatLog > .welcome {
        width: 100%;
        margin: 1 2;
        color: $text-muted;
        text-align: center;
    }
    ChatLog > .more {
        width: 100%;
        margin: 1 0 0 0;
        color: $text-muted;
        text-align: center;
        display: none;
    }
    ChatLog > .more.-shown { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._saved: Sequence[SavedEntry] = ()
        """The entries of the chat reopened here (none: a new chat)."""
        self._start = self._end = 0
        """The window of `_saved` that is mounted: entries [_start, _end)."""
        self._shown: list[Widget] = []
        """The widgets of the window, in order."""
        self._earlier, self._later = _markers()
        """Above and below the window; mounted only for a chat that does not fit in its first window."""
        self._loading = False
        """A batch is being loaded (`_load_batch` runs)."""
        self._window_lock = asyncio.Lock()
        """Held while the window changes (opened, jumped, a batch loaded): one change at a time."""

    def compose(self):  # type: ignore[override]
        yield Static(WELCOME, classes="welcome", markup=False)

    def on_mount(self) -> None:
        self.anchor()
        self.watch(self, "scroll_y", self._scrolled, init=False)

    def release_anchor(self) -> None:
        """Stop following new text (every scroll does this), from a place the log can be drawn at.

        Textual draws a following log that fits its view at the bottom by a negative scroll offset
        worked out again on every frame (Textual #6652). Let go of, the offset stays as the last
        frame left it, and Textual puts it right only when the log's size changes, which a log that
        fits never does: after a frame of the empty log (a chat opened from the list) every message
        stayed below the view (issue 14). So a negative offset becomes the top (where a log that fits
        is also at its bottom, so Textual's own check lets it follow again)."""
        super().release_anchor()
        if self.scroll_y < 0:
            self.scroll_y = 0

    # --- live messages ---------------------------------------------------------------------------

    async def add_user(self, text: str) -> UserMessage:
        from .message import UserMessage

        await self._to_newest()
        message = UserMessage(text)
        await self.mount(message)
        return message

    async def add_reply(self) -> AssistantMessage:
        from .message import AssistantMessage

        await self._to_newest()
        reply = AssistantMessage()
        await self.mount(reply)
        self.anchor()
        return reply

    async def add_tool(self, item: ToolItem) -> ToolItem:
        await self._to_newest()
        await self.mount(item)
        return item

    @property
    def replies(self) -> list[AssistantMessage]:
        """The replies mounted now (of a long saved chat, those near the view, and every live one)."""
        return list(self.query("AssistantMessage"))  # type: ignore[arg-type]

    def last_reply_text(self) -> str | None:
        """The newest reply's text, mounted or not (None: there is no reply)."""
        later = [text for entry in self._saved[self._end :] if (text := entry.reply_text) is not None]
        if later:
            return later[-1]
        replies = self.replies
        return replies[-1].text if replies else None

    async def clear(self) -> None:
        """Back to the empty log of a new chat."""
        self._saved, self._start, self._end, self._shown = (), 0, 0, []
        self._earlier, self._later = _markers()
        await self.remove_children()
        await self.mount(Static(WELCOME, classes="welcome", markup=False))

    # --- a saved chat, a window at a time ---------------------------------------------------------

    async def show_saved(self, entries: Sequence[SavedEntry], at: int | None = None) -> Widget | None:
        """Show a reopened chat's `entries`: the window around entry `at` (None: the newest).

        Returns the widget of entry `at`, or None."""
        await self.query(".welcome").remove()
        self._saved = entries
        if not entries:
            return None
        newest = len(entries) - 1
        async with self._window_lock:
            await self._show_window(newest if at is None else min(at, newest))
            return None if at is None else self._shown[min(at, newest) - self._start]

    @property
    def unmounted(self) -> int:
        """How many entries of the saved chat are not mounted now (above and below the window)."""
        return len(self._saved) - (self._end - self._start)

    async def _show_window(self, at: int) -> None:
        """Replace the mounted window with the one around entry `at`: a screen from `at` on, and
        as much before it as makes `WINDOW_SCREENS` screens."""
        width, screen = self._page()
        end, lines = at + 1, self._saved[at].lines(width)
        while end < len(self._saved) and lines < screen:
            lines += self._saved[end].lines(width)
            end += 1
        start = self._fill_back(at, lines, width, screen)
        if self._shown:
            await self.remove_children(self._shown)
        self._start = self._end = end
        self._shown = []
        if not self._earlier.is_attached and (start > 0 or end < len(self._saved)):
            await self.mount(self._earlier, self._later)  # the first window of a chat just opened
        await self._mount_entries(start, end, earlier=True)

    def _fill_back(self, start: int, lines: int, width: int, screen: int) -> int:
        """The first entry of a window that ends before entry `start` has `lines` lines and holds
        `WINDOW_SCREENS` screens (or everything before it)."""
        while start > 0 and lines < WINDOW_SCREENS * screen:
            start -= 1
            lines += self._saved[start].lines(width)
        return start

    def _page(self) -> tuple[int, int]:
        """The width and height the log shows its entries in (the app's, before the first layout)."""
        size = self.scrollable_content_region.size
        if size.height <= 0:
            size = self.app.size
        return max(size.width, 20), max(size.height, 5)

    async def _mount_entries(self, start: int, end: int, *, earlier: bool) -> None:
        """Mount the widgets of entries [start, end) just above the window (`earlier`) or just below
        it, and fill them; the window grows by them and the markers say what is left."""
        entries = self._saved[start:end]
        widgets = [entry.make() for entry in entries]
        if not self._earlier.is_attached:
            await self.mount_all(widgets)  # the whole chat fits: nothing else is in the log yet
        elif earlier:
            await self.mount_all(widgets, after=self._earlier)
        else:
            await self.mount_all(widgets, before=self._later)
        for entry, widget in zip(entries, widgets, strict=True):
            await entry.settle(widget)
        if earlier:
            self._shown[:0] = widgets
            self._start = start
        else:
            self._shown.extend(widgets)
            self._end = end
        self._say_what_is_left()

    def _say_what_is_left(self) -> None:
        earlier, later = self._start, len(self._saved) - self._end
        self._earlier.update(Content(f"↑ {earlier:,} earlier messages: scroll up for them, Home for the first"))
        self._later.update(Content(f"↓ {later:,} later messages: scroll down for them, End for the newest"))
        self._earlier.set_class(earlier > 0, "-shown")
        self._later.set_class(later > 0, "-shown")

    async def _to_newest(self) -> None:
        """Before a live message: the window ends with the newest saved entry (they come before it)."""
        await self.query(".welcome").remove()
        async with self._window_lock:
            if self._end < len(self._saved):
                await self._show_window(len(self._saved) - 1)

    # --- loading as the view moves ----------------------------------------------------------------

    def _scrolled(self) -> None:
        if not self._loading and self._marker_in_view() is not None:
            self._loading = True
            self.run_worker(self._load_batch(), group="saved-batch", exit_on_error=False)

    def _marker_in_view(self) -> Static | None:
        """The marker of unmounted entries that is in the view now, if any."""
        top, bottom = self.scroll_y, self.scroll_y + self.scrollable_content_region.height
        for marker, left in ((self._earlier, self._start), (self._later, len(self._saved) - self._end)):
            region = marker.virtual_region if marker.is_attached else None
            if left and region is not None and region.height and region.y < bottom and region.bottom > top:
                return marker
        return None

    async def _load_batch(self) -> None:
        """Mount the batch the marker in view stands for (earlier: keeping what is read in its place),
        and go on while a marker is still in view (a short window, Home pressed)."""
        try:
            while True:
                async with self._window_lock:
                    if (marker := self._marker_in_view()) is None:
                        return
                    width, screen = self._page()
                    if marker is self._earlier:
                        await self._load_earlier(width, screen)
                    else:
                        end, lines = self._end, 0
                        while end < len(self._saved) and lines < WINDOW_SCREENS * screen:
                            lines += self._saved[end].lines(width)
                            end += 1
                        await self._mount_entries(self._end, end, earlier=False)
                await self.laid_out()
        finally:
            self._loading = False

    async def _load_earlier(self, width: int, screen: int) -> None:
        first = self._shown[0] if self._shown else self._later
        was_at = first.virtual_region.y
        start = self._fill_back(self._start, 0, width, screen)
        await self._mount_entries(start, self._start, earlier=True)
        await self.laid_out()
        self.scroll_to(y=self.scroll_y + first.virtual_region.y - was_at, animate=False, immediate=True)

    async def laid_out(self) -> None:
        """Wait until what was just mounted has been laid out (its place and height are known)."""
        done = asyncio.Event()
        after_own_screen_refresh(self, done.set)  # not `call_after_refresh`: a screen on top may drop it
        await done.wait()

    # --- Home and End ---------------------------------------------------------------------------

    async def action_scroll_home(self) -> None:
        """Home: the chat's first message (a long saved chat's first window is made for it)."""
        async with self._window_lock:
            if self._start > 0:
                await self._show_window(0)
        self.release_anchor()
        self.scroll_home(animate=False, immediate=True)

    async def action_scroll_end(self) -> None:
        """End: the newest message (a long saved chat's newest window is made for it)."""
        await self._to_newest()
        self.scroll_end(animate=False, immediate=True)


def _markers() -> tuple[Static, Static]:
    """The markers above and below a saved chat's window (hidden until entries are left out there)."""
    return Static("", classes="more earlier"), Static("", classes="more later")
