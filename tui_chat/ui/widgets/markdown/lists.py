"""Splicing a streamed list at any depth: the rows it keeps stay, an item that grew gains blocks in place.

A streamed list grows at its end: an item comes first as its bare number ("2."), then its text, and
in the last item a nested list gains items in turn. Built anew for each change, the list composed,
styled and laid out every row of it again; spliced, it keeps the rows of the items before the
first that changed, and that item's row too when it only grew (its blocks as they were, but the
last, whose text grew or which is a list that splices in its turn, and new blocks after them):
only the new blocks and the rows of the items after it are built, composed and mounted.

The rows are Textual's: a list composes each item into a row of its bullet and a column of the
item's blocks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markdown_it.token import Token
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from ..._textual_blocks import inner_blocks
from ..._textual_internals import (
    MarkdownBlock,
    block_showing,
    markdown_blocks,
    update_paragraph,
)
from .blocks import (
    grown_inline,
    inner_groups,
    kept_items,
    same_blocks,
    same_shape,
    sublist,
)
from .part import MarkdownPart
from .splice import Splice

__all__ = ["ListSplicing"]


class ListSplicing(MarkdownPart):
    """The list splicing part of `StreamingMarkdown` (a mixin: the state is the widget's)."""

    blocks_built: int

    if TYPE_CHECKING:

        def show_grown(self, widget: Static, content: Content) -> None: ...

    def _splice_list(
        self, widget: Widget, old: list[Token], new: list[Token], splices: list[Splice], built: MarkdownBlock | None = None
    ) -> bool:
        """Show a new parse of the list `widget` shows (`old`: the tokens it was built from) by
        changing it in place, adding what to mount and remove to `splices`; False if it cannot.

        `built`: the new list built already, as a block inside another list's item (it is built here,
        only its items from the first that changed on, for a top-level list).
        """
        kept = kept_items(old, new)
        if kept is None or type(widget) is not self.get_block_class(new[0].type):
            return False
        rows = list(widget.children)
        old_items, new_items = inner_groups(old), inner_groups(new)
        if len(rows) != len(old_items):
            return False  # its items are not all composed yet
        start = kept
        if kept < min(len(old_items), len(new_items)):
            item = inner_blocks(built)[kept] if built is not None else self._built_items(new, kept, kept + 1)[0]
            if self._splice_item(rows[kept], old_items[kept], new_items[kept], item, splices):
                start += 1
        if not start:
            return False  # nothing of it stays: built anew
        added: list[Widget] = []
        if start < len(new_items):
            if built is None:
                [block] = markdown_blocks(self, sublist(new, start))
                self.blocks_built += 1
                added = list(block.compose())
            else:
                added = list(built.compose())[start:]
        if added or start < len(rows):
            splices.append(Splice(widget, rows[start:], added))
        return True

    def _built_items(self, tokens: list[Token], first: int, stop: int) -> list[MarkdownBlock]:
        """The items [first, stop) of the list `tokens`, built (not composed)."""
        [block] = markdown_blocks(self, sublist(tokens, first, stop))
        self.blocks_built += 1
        return inner_blocks(block)

    def _splice_item(
        self, row: Widget, old: list[Token], new: list[Token], built: MarkdownBlock, splices: list[Splice]
    ) -> bool:
        """Show an item's new parse (`new`, `built`) in its `row` if all it did was grow; False if not."""
        if not same_shape(old[0], new[0]) or len(row.children) != 2:
            return False
        column = row.children[-1]  # the column of the item's blocks, after its bullet
        shown = list(column.children)
        old_blocks, new_blocks = inner_groups(old), inner_groups(new)
        blocks = inner_blocks(built)
        if not (len(shown) == len(old_blocks) <= len(new_blocks) == len(blocks)):
            return False  # a block that shows nothing (HTML), or fewer blocks than it had
        if not all(same_blocks(a, b) for a, b in zip(old_blocks[:-1], new_blocks)):
            return False
        if old_blocks:
            last = len(old_blocks) - 1
            before, after = old_blocks[last], new_blocks[last]
            if not same_blocks(before, after) and not self._grow_block(shown[last], before, after, splices, blocks[last]):
                return False
        added = blocks[len(old_blocks) :]
        if added:
            splices.append(Splice(column, [], list(added)))
        return True

    def _grow_block(
        self, widget: Widget, old: list[Token], new: list[Token], splices: list[Splice], built: MarkdownBlock | None = None
    ) -> bool:
        """Show a block's new parse in its `widget` if only one paragraph's text in it grew, or it is a
        list that splices (`built`: as for `_splice_list`); False if not."""
        index = grown_inline(old, new)
        if index is None:
            return new[0].type in ("bullet_list_open", "ordered_list_open") and self._splice_list(
                widget, old, new, splices, built
            )
        if not isinstance(widget, Static):
            return False
        shown = block_showing(widget, old[index])  # type: ignore[arg-type]
        if shown is None or type(shown) is not self.get_block_class("paragraph_open"):
            return False
        self.show_grown(shown, update_paragraph(shown, new[index - 1], new[index]))
        return True
