"""The mark of a message said aloud: live voice turns and the spoken turns of a reopened chat
look the same (the `-spoken` class, a dashed bar in the chat screen's CSS, and a tooltip)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.widget import Widget


def mark_spoken(message: Widget) -> None:
    """Show `message` (a user message or a reply) as said aloud, not typed."""
    message.add_class("-spoken")
    message.tooltip = "said aloud (voice)"
