"""`Splice`: a block widget's children changed in place, for a list that gains an item or a table a row.

A streamed list or table grows at its end. Built anew for each new item or row, the whole block
is composed, styled and laid out again with every widget in it, and the bigger it gets the more
that costs; spliced, only the widgets of the new items or rows are (and of the one before them
that changed, if one did): the rest of the block stays on screen as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.widget import Widget

__all__ = ["Splice"]


@dataclass(slots=True)
class Splice:
    """Children of `parent` to remove (`removed`) and new ones to mount after the rest (`added`)."""

    parent: Widget
    removed: list[Widget] = field(default_factory=list)
    added: list[Widget] = field(default_factory=list)

    async def apply(self) -> None:
        """Remove and mount (call it inside the batch update that shows the rest of the change)."""
        if self.removed:
            await self.parent.remove_children(self.removed)
        if self.added and self.parent.is_attached:
            await self.parent.mount_all(self.added)
