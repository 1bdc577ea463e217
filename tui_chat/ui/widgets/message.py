"""The two kinds of entry in the chat log: what the person sent and what the model replied.

A reply streams into a `StreamingMarkdown`; when it ends, a line under it says how it ended if it
did not complete (cancelled, interrupted, error), with what to do about an error. Model text is
shown as Markdown, never as Rich/Textual markup.
"""

from __future__ import annotations

from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from ...chunks import ReplyStatus
from ...safe_text import clean
from .._textual_internals import AlikeLines
from .markdown.streaming import StreamingMarkdown


class UserMessage(Static):
    """A prompt the person sent, shown exactly as typed."""

    DEFAULT_CSS = """
    UserMessage {
        margin: 1 0 0 0;
        padding: 0 1;
        border-left: outer $primary;
        background: $primary 8%;
    }
    UserMessage.-hearing {
        color: $text-muted;
        text-style: italic;
        border-left: outer $primary 50%;
    }
    """

    def __init__(self, text: str) -> None:
        super().__init__(Content(clean(text)))
        self.text = text

    def set_text(self, text: str, *, partial: bool = False) -> None:
        """Show `text` instead (what a voice turn was heard saying); dimmed and trailed by "…" while `partial`."""
        self.text = text
        self.update(Content(clean(f"{text} …" if partial else text)))
        self.set_class(partial, "-hearing")


class AssistantMessage(AlikeLines, Vertical):
    """A reply: Markdown that grows while it streams, then a status line if it did not complete."""

    DEFAULT_CSS = """
    AssistantMessage {
        height: auto;
        margin: 1 0 0 0;
        padding: 0 1;
        border-left: outer $secondary;
    }
    AssistantMessage > .reply-status {
        display: none;
        color: $warning;
        text-style: italic;
    }
    AssistantMessage.-ended-error > .reply-status {
        display: block;
        color: $error;
    }
    AssistantMessage.-ended-cancelled > .reply-status,
    AssistantMessage.-ended-interrupted > .reply-status {
        display: block;
    }
    """

    def __init__(self) -> None:
        super().__init__()
        self.body = StreamingMarkdown()
        self.status_line = Static("", classes="reply-status")
        self.status = ReplyStatus.STREAMING

    def compose(self):  # type: ignore[override]
        yield self.body
        yield self.status_line

    @property
    def text(self) -> str:
        return self.body.source

    def append(self, text: str) -> None:
        """Add streamed text; rendering is coalesced to at most one update a frame."""
        self.body.append(text)

    async def finish(self, status: ReplyStatus, reason: str = "", hint: str = "") -> None:
        """Render the whole reply once more, in full, and show how it ended.

        A cancelled reply (Esc) ends at once, without waiting for a backlog to be shown; so does
        one whose text had all come if Esc cancels this call while it waits for the rest to be
        shown (the cancellation goes on). Either way it keeps every word that arrived: what was
        not shown yet is parked, built where it is scrolled to.
        """
        self.status = status
        try:
            await self.body.finish(cancelled=status is ReplyStatus.CANCELLED)
        finally:
            self._show_ending(status, reason, hint)

    def _show_ending(self, status: ReplyStatus, reason: str, hint: str) -> None:
        """The status line under a reply that did not complete."""
        if status is ReplyStatus.COMPLETE:
            return
        label = {
            ReplyStatus.CANCELLED: "⏹ cancelled",
            ReplyStatus.INTERRUPTED: "⚠ interrupted",
            ReplyStatus.ERROR: "✖ error",
        }.get(status, status.value)
        parts = [label]
        if reason and status is not ReplyStatus.CANCELLED:
            parts.append(reason)
        if hint:
            parts.append(hint)
        self.status_line.update(Content(clean(" — ".join(parts))))
        self.add_class(f"-ended-{status.value}")
