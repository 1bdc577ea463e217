"""A Markdown table as wide as its content (up to the reply's width), with plain-text tooltips.

Textual's own table fills the width, so a two-column table stretched across a 200-column
terminal; with an automatic width its columns take what their cells need, and a table wider than
the reply shrinks its columns to fit (Textual's grid wraps their text). Textual's table also gives
each cell a tooltip parsed as markup, so a model's cell holding `[/]` crashed the app when
hovered. Here the tooltips are `Content` of the cell's plain text.

A streamed table keeps its widgets: a cell whose text grew is shown in its own widget, and a new
row's cells are mounted after the others (`SafeTable.splice`), where building the table anew
composed, styled and laid out every cell again for each row.
"""

from __future__ import annotations

from typing import Sequence

from textual.app import ComposeResult
from textual.content import Content
from textual.geometry import Size

from ..._textual_frames import AncestryKept
from ..._textual_internals import (
    MarkdownTable,
    MarkdownTableCellContents,
    MarkdownTableContent,
    set_table_cell,
    table_headers_and_rows,
)
from .growing import show_grown
from .splice import Splice

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


class TableCell(AncestryKept, MarkdownTableCellContents):
    """A cell of a table, as Textual's; its background blended once, not on each render (a table
    has many cells, and each is drawn again when the table grows)."""


def _cell(cell: Content, row: int, column: int) -> MarkdownTableCellContents:
    """The widget of a cell, as Textual's table makes it (`row` 0: a header), with a plain-text tooltip."""
    if not row:
        return TableCell(cell, classes="header").with_tooltip(tooltip(cell))
    return TableCell(cell, classes=f"row{row} cell", name=f"cell{row}.{column}").with_tooltip(tooltip(cell))


class _SafeTableContent(MarkdownTableContent):
    """Textual's table content, with plain-text tooltips (never parsed as markup)."""

    def compose(self) -> ComposeResult:
        for column, header in enumerate(self.headers, 1):
            yield _cell(header, 0, column)
        for row_index, row in enumerate(self.rows, 1):
            for cell_index, cell in enumerate(row, 1):
                yield _cell(cell, row_index, cell_index)
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

    def splice(self, changed: dict[int, Content], added: list[Content], count: int) -> Splice | None:
        """Show a new parse of the table with the same header: the cells `changed` (by index: the
        headers first, then each row's cells) with their new text, `added` (whole rows) after
        the last, and only `count` cells in all (fewer: rows parsed away). What a table built anew
        would show, without building it: a streamed table grows cell by cell and row by row.

        The widgets of new rows, and of rows that go, are the returned splice's, to mount and remove
        with the rest of the flush's change; None if the table does not have the cells it was told.
        """
        # The children by class, not by a CSS query: a query matched a selector against each cell,
        # on every flush while the table streams.
        composed = [child for child in self.children if isinstance(child, _SafeTableContent)]
        if not composed:
            return None  # not composed yet
        [content] = composed
        cells = [child for child in content.children if isinstance(child, MarkdownTableCellContents)]
        columns = len(content.headers)
        if not columns or len(cells) != columns * (len(content.rows) + 1) or max(changed, default=0) >= len(cells):
            return None
        for index, cell in changed.items():
            self._show_cell(content, cells[index], index, cell)
        kept = min(count, len(cells))
        del content.rows[kept // columns - 1 :]
        splice = Splice(content, list(cells[kept:]))
        for start in range(0, len(added), columns):
            row = added[start : start + columns]
            content.rows.append(row)
            splice.added += [_cell(cell, len(content.rows), column) for column, cell in enumerate(row, 1)]
        content.last_row = len(content.rows)
        return splice

    def _show_cell(self, content: _SafeTableContent, widget: MarkdownTableCellContents, index: int, cell: Content) -> None:
        before = natural_width([content.headers, *content.rows])
        set_table_cell(self, content, index, cell)
        widened = natural_width([content.headers, *content.rows]) != before
        # Each column is as wide as its widest cell, so the table's size changes with its natural
        # width (one changed cell can only widen or narrow its own column); else only the cell's
        # own height can change.
        show_grown(widget, cell, layout=widened)
        widget.tooltip = tooltip(cell)
