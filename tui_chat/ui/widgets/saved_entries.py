"""A reopened chat's history as the chat log shows it: one entry per widget, made only when shown.

A saved chat can hold thousands of messages; the log mounts the few near the view (see
`ChatLog.show_saved`). Each entry here knows what it will show (a person's message, a reply with
how it ended, or a tool call paired with its result) and roughly how many lines that takes, so
the log can pick a screenful without making a single widget.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...chunks import Message, ReplyStatus, Role, ToolCall

if TYPE_CHECKING:
    from textual.widget import Widget

CODE_OR_TABLE_EXTRA = 2
"""Lines a fenced block or a table adds around its text (borders, padding)."""


@dataclass(frozen=True, slots=True)
class SavedEntry:
    """One widget of a saved chat: `message` (a user message or a reply), or its tool call `call`
    with the tool's `result` message (None: the call never got one)."""

    message: Message
    call: ToolCall | None = None
    result: Message | None = None

    def lines(self, width: int) -> int:
        """About how many lines the entry takes at `width` columns (a folded tool call: its title)."""
        if self.call is not None:
            return 2
        text = self.message.content
        wrapped = sum(1 + len(line) // max(width, 1) for line in text.splitlines()) or 1
        blocks = text.count("```") // 2 + text.count("\n| --")
        status = 0 if self.message.status is ReplyStatus.COMPLETE else 1
        return 1 + wrapped + blocks * CODE_OR_TABLE_EXTRA + status

    def make(self) -> Widget:
        """The entry's widget, not yet mounted (`settle` fills it once it is)."""
        from .message import AssistantMessage, UserMessage
        from .spoken import mark_spoken
        from .tool_item import ToolItem

        if self.call is not None:
            return ToolItem(self.call)
        widget: Widget = UserMessage(self.message.content) if self.message.role is Role.USER else AssistantMessage()
        if self.message.spoken:
            mark_spoken(widget)
        return widget

    async def settle(self, widget: Widget) -> None:
        """Show the reply's text and how it ended, or the tool call's result (mounted `widget`)."""
        from ...tools.loop import ToolEvent, ToolStatus
        from ...tools.result import text_result
        from .message import AssistantMessage
        from .tool_item import ToolItem

        if isinstance(widget, AssistantMessage):
            widget.append(self.message.content)
            await widget.finish(self.message.status)
        elif isinstance(widget, ToolItem) and self.result is not None:
            result = text_result(self.result.content, is_error=self.result.is_error)
            status = ToolStatus.ERROR if self.result.is_error else ToolStatus.DONE
            widget.update(ToolEvent(widget.call, status, 1, 1, 0, widget.call.arguments, result=result))

    @property
    def reply_text(self) -> str | None:
        """The reply's text (None: not a reply)."""
        is_reply = self.call is None and self.message.role is Role.ASSISTANT
        return self.message.content if is_reply else None


def saved_entries(history: Sequence[Message]) -> tuple[list[SavedEntry], dict[int, int]]:
    """The entries `history` is shown as, and which entry shows each user message and reply (by its
    position in `history`): a reply's text, else (a reply that only called tools) its first call.

    A reply that completed with no text shows no box; tool results join their calls.
    """
    results = {m.tool_call_id: m for m in history if m.role is Role.TOOL and m.tool_call_id}
    entries: list[SavedEntry] = []
    where: dict[int, int] = {}
    for position, message in enumerate(history):
        first = len(entries)
        if message.role is Role.USER:
            entries.append(SavedEntry(message))
        elif message.role is Role.ASSISTANT:
            if message.content or message.status is not ReplyStatus.COMPLETE:
                entries.append(SavedEntry(message))
            entries.extend(SavedEntry(message, call, results.get(call.id)) for call in message.tool_calls)
        if len(entries) > first:
            where[position] = first
    return entries, where
