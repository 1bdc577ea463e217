"""The scrolling list of messages. It follows new text only while the view is at the bottom.

Scrolling up releases the anchor so a person can read back while a reply streams; returning to
the bottom takes it again (Textual's anchor does exactly this). The message widgets (and the
Markdown parser behind them) are loaded with the first message, not for the empty first screen.
"""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.widgets import Static

from .._textual_internals import AlikeLines

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .message import AssistantMessage, UserMessage
    from .tool_item import ToolItem

WELCOME = (
    "Type a message and press Enter to send it.\n"
    "Shift+Enter or Ctrl+J starts a new line · Esc stops a reply · F1 lists every key · Ctrl+P opens the command palette"
)


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
    """

    def compose(self):  # type: ignore[override]
        yield Static(WELCOME, classes="welcome", markup=False)

    def on_mount(self) -> None:
        self.anchor()

    async def add_user(self, text: str) -> UserMessage:
        from .message import UserMessage

        self.query(".welcome").remove()
        message = UserMessage(text)
        await self.mount(message)
        return message

    async def add_reply(self) -> AssistantMessage:
        from .message import AssistantMessage

        reply = AssistantMessage()
        await self.mount(reply)
        self.anchor()
        return reply

    async def add_tool(self, item: ToolItem) -> ToolItem:
        await self.mount(item)
        return item

    @property
    def replies(self) -> list[AssistantMessage]:
        return list(self.query("AssistantMessage"))  # type: ignore[arg-type]

    async def clear(self) -> None:
        await self.remove_children()
        await self.mount(Static(WELCOME, classes="welcome", markup=False))
