"""A Markdown table whose cell tooltips are plain text.

Textual's own table gives each cell a tooltip parsed as markup, so a model's cell holding `[/]`
crashed the app when hovered. Here the tooltips are `Content` of the cell's plain text.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content

from ..._textual_internals import (
    MarkdownTable,
    MarkdownTableCellContents,
    MarkdownTableContent,
    table_headers_and_rows,
)

__all__ = ["SafeTable"]


class _SafeTableContent(MarkdownTableContent):
    """Textual's table content, with plain-text tooltips (never parsed as markup)."""

    def compose(self) -> ComposeResult:
        for header in self.headers:
            yield MarkdownTableCellContents(header, classes="header").with_tooltip(Content(header.plain))
        for row_index, row in enumerate(self.rows, 1):
            for cell_index, cell in enumerate(row, 1):
                yield MarkdownTableCellContents(
                    cell,
                    classes=f"row{row_index} cell",
                    name=f"cell{row_index}.{cell_index}",
                ).with_tooltip(Content(cell.plain))
            self.last_row = row_index


class SafeTable(MarkdownTable):
    """A Markdown table whose cells get plain-text tooltips."""

    def compose(self) -> ComposeResult:
        headers, rows = table_headers_and_rows(self)
        yield _SafeTableContent(headers, rows)
