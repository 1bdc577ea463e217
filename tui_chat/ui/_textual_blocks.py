"""Markdown block widgets for a streamed reply that render again only their lines that changed.

Textual's private API (see `_textual_internals`): the block classes of `textual.widgets._markdown`,
the label a code fence's `compose` shows its code in, and the blocks a block built from tokens holds
until it is composed (a list's items, an item's blocks). Imported with the streaming reply, not
at start-up (the first screen needs no Markdown).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Label
from textual.widgets._markdown import MarkdownBlock, MarkdownFence, MarkdownList, MarkdownParagraph

from ._textual_frames import AncestryKept, RendersChangedLines

__all__ = ["MarkdownList", "StreamedFence", "StreamedParagraph", "inner_blocks"]


class StreamedParagraph(AncestryKept, RendersChangedLines, MarkdownParagraph):
    """A paragraph that, as it grows, renders again only its lines that changed."""


class CodeLines(AncestryKept, RendersChangedLines, Label):
    """A code fence's code that, as it grows, renders again only its lines that changed."""


class StreamedFence(MarkdownFence):
    """A code fence whose code, as it grows, renders again only its lines that changed (every
    line of it was made into a strip again for each new line)."""

    def compose(self) -> ComposeResult:
        yield CodeLines(self._highlighted_code, id="code-content", expand=True)  # as Textual's own


def inner_blocks(block: MarkdownBlock) -> list[MarkdownBlock]:
    """The blocks a block built from tokens holds until its `compose` takes them: a list's items
    (each composed into a row of its bullet and a column of its blocks), an item's blocks."""
    return block._blocks
