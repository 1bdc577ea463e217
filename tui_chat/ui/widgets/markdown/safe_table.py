"""A Markdown table as wide as its content (up to the reply's width), with plain-text tooltips.

Textual's own table fills the width, so a two-column table stretched across a 200-column
terminal; with an automatic width its columns take what their cells need, and a table wider than
the reply shrinks its columns to fit (Textual's grid wraps their text). Textual's table also gives
each cell a tooltip parsed as markup, so a model's cell holding `[/]` crashed the app when
hovered. Here the tooltips are `Content` of the cell's plain text.
"""

from __future__ import annotations

from typing import Sequence

from textual.app import ComposeResult
from textual.content import Content
from textual.geometry import Size

from ..._textual_internals import (
    MarkdownTable,
    MarkdownTableCellContents,
    MarkdownTableContent,
    set_table_cell,
    table_headers_and_rows,
)
from .growing import show_grown

__all__ = ["SafeTable"]

CELL_PADDING = 2
"""Columns around each cell's text (Textual's `padding: 0 1`)."""
RULE = 1
"""Columns of each vertical line: one between cells (the grid gutter), one at each edge."""


def natural_width(rows: Sequence[Sequence[Content]]) -> int:
    """The width of a table of `rows` (the header first) with each column as wide as its widest cell."""
    columns = max((len(row) for row in rows), default=0)
    widest = [max((row[i].cell_length for row in rows if i < len(row)), default=0) for i in range(columns)]
    return sum(widest) + columns * CELL_PADDING + (columns + 1) * RULE


def tooltip(cell: Content) -> Content:
    """A cell's tooltip: its plain text, never parsed as markup."""
    return Content(cell.plain)


class _SafeTableContent(MarkdownTableContent):
    """Textual's table content, with plain-text tooltips (never parsed as markup)."""

    def compose(self) -> ComposeResult:
        for header in self.headers:
            yield MarkdownTableCellContents(header, classes="header").with_tooltip(tooltip(header))
        for row_index, row in enumerate(self.rows, 1):
            for cell_index, cell in enumerate(row, 1):
                yield MarkdownTableCellContents(
                    cell,
                    classes=f"row{row_index} cell",
                    name=f"cell{row_index}.{cell_index}",
                ).with_tooltip(tooltip(cell))
            self.last_row = row_index

    def get_content_width(self, container: Size, viewport: Size) -> int:
        """The automatic width: what the cells need unwrapped (`max-width` keeps it within the reply)."""
        return natural_width([self.headers, *self.rows])


class SafeTable(MarkdownTable):
    """A Markdown table as wide as its content, whose cells get plain-text tooltips."""

    DEFAULT_CSS = """
    SafeTable {
        width: auto;
        max-width: 100%;
        & > _SafeTableContent { width: auto; max-width: 100%; }
    }
    """

    def compose(self) -> ComposeResult:
        headers, rows = table_headers_and_rows(self)
        yield _SafeTableContent(headers, rows)

    def update_cell(self, index: int, cell: Content) -> bool:
        """Show `cell` in cell `index` (the headers first, then each row's cells); False if it has no such cell.

        What a table built anew would show, without building it: a streamed table grows cell
        by cell, and each of its rows holds every column's cell from its first character on.
        """
        cells = list(self.query(MarkdownTableCellContents))
        if index >= len(cells):
            return False
        widened = False
        for content in self.query(_SafeTableContent):
            before = natural_width([content.headers, *content.rows])
            set_table_cell(self, content, index, cell)
            widened = natural_width([content.headers, *content.rows]) != before
        # Each column is as wide as its widest cell, so the table's size changes with its natural
        # width (one changed cell can only widen or narrow its own column); else only the cell's
        # own height can change.
        show_grown(cells[index], cell, layout=widened)
        cells[index].tooltip = tooltip(cell)
        return True
