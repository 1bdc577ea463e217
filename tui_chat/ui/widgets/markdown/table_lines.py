"""`TableLines`: a streamed table drawn as one widget of lines, as Textual's table widgets draw it.

Textual shows a table as a grid of cell widgets framed by keylines. Streamed, a cell whose text
widened its column moved every cell after it (all drawn again), and each new row mounted a widget
per cell and laid the grid out: a table cost over twice as much per character as a paragraph.
A streamed table that fits the reply is shown instead by one `TableLines` widget: its lines are
what the grid draws (each column as wide as its widest cell and a space either side, keylines
around and between the cells, the header in its colour, a light theme's background), checked cell
by cell, colours too, against a plain `Markdown` at every step of a stream. It grows as a streamed
paragraph does, in the room ahead (`growing`), but for a light theme's table: its background would
show on those rows, so it is laid out for each new row.

It stays once final (Textual's table then cost a build and layout of every cell, for the same
screen). A table wider than the reply has its columns shrunk and its cells wrapped by Textual: it is
Textual's table (`SafeTable`) from the start (`shown_as_table_lines`), from when it outgrows the
reply, or from when the reply narrows below it (`Reconciling._refit_tables`). Its cells have no
tooltips (Textual's give each cell one, for text cut short, which these never are), and selected text
is its lines as drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from markdown_it.token import Token
from textual.app import ComposeResult
from textual.content import Content, Span
from textual.geometry import Size

from ..._textual_frames import AncestryKept, RendersChangedLines
from ..._textual_internals import inline_content
from .safe_table import SafeTable, natural_width

if TYPE_CHECKING:
    from textual.widgets import Markdown

__all__ = ["TableLines", "shown_as_table_lines"]

_KEYLINE = ".table-lines--keyline"
_HEADER = ".table-lines--header"


def _cells(tokens: list[Token]) -> list[list[Token]] | None:
    """The inline tokens of a table's cells, row by row (the header first); None if a row is not as
    wide as the header (Textual's grid would place its cells on the next row)."""
    rows: list[list[Token]] = []
    for token in tokens:
        if token.type == "tr_open":
            rows.append([])
        elif token.type == "inline" and rows:
            rows[-1].append(token)
    if not rows or any(len(row) != len(rows[0]) for row in rows):
        return None
    return rows


def shown_as_table_lines(tokens: list[Token]) -> bool:
    """Can a `TableLines` show the top-level block `tokens`: a table whose rows are as wide as its
    header? (Where it fits the reply: `TableLines.fits`.)"""
    return tokens[0].type == "table_open" and _cells(tokens) is not None


class TableLines(AncestryKept, RendersChangedLines, SafeTable):
    """A streaming table drawn as one widget of lines (see the module)."""

    DEFAULT_CSS = """
    TableLines {
        & > .table-lines--keyline { color: $foreground 20%; }
        & > .table-lines--header { color: $primary; }
    }
    """
    COMPONENT_CLASSES = {"table-lines--keyline", "table-lines--header"}

    def __init__(self, markdown: Markdown, tokens: list[Token]) -> None:
        super().__init__(markdown, tokens[0])
        self.tokens = tokens
        """The tokens it shows (for Textual's table, should it no longer fit)."""
        self._cell_contents: dict[str, Content] = {}
        """Each cell's text -> its content, as drawn last time."""
        self._cell_rows: list[list[Content]] = []
        """The cells' contents, row by row (the header first)."""
        self._drawn_lines: Content | None = None
        """The lines drawn for them (None: not yet)."""
        if not self._take(tokens):
            raise ValueError("a table with rows as wide as its header was expected (`shown_as_table_lines`)")

    def compose(self) -> ComposeResult:
        yield from ()

    def draw(self, tokens: list[Token]) -> Content | None:
        """Take the table's new `tokens`; the lines it shows now, for `show_grown`. None (and nothing
        taken) if a row of them is not as wide as the header."""
        return self.render() if self._take(tokens) else None

    def _take(self, tokens: list[Token]) -> bool:
        rows = _cells(tokens)
        if rows is None:
            return False
        self.tokens = tokens
        contents: dict[str, Content] = {}
        for row in rows:
            for token in row:
                if token.content not in contents:
                    contents[token.content] = self._cell_contents.get(token.content) or inline_content(self, token)
        self._cell_contents = contents
        self._cell_rows = [[contents[token.content] for token in row] for row in rows]
        self._drawn_lines = None
        return True

    def render(self) -> Content:
        if self._drawn_lines is None:
            self._drawn_lines = self._draw()
        return self._drawn_lines

    def fits(self, width: int) -> bool:
        """Does the table, as wide as its cells, fit `width` columns (the reply's)?"""
        return natural_width(self._cell_rows) <= width

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return natural_width(self._cell_rows)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 2 * len(self._cell_rows) + 1

    def _draw(self) -> Content:
        """The table's lines: keylines above, between and below the rows, a keyline between cells."""
        rows = self._cell_rows
        widths = [max(row[column].cell_length for row in rows) for column in range(len(rows[0]))]

        def rule(left: str, middle: str, right: str) -> Content:
            text = left + middle.join("─" * (width + 2) for width in widths) + right
            return Content(text, [Span(0, len(text), _KEYLINE)])

        lines = [rule("┌", "┬", "┐")]
        for index, row in enumerate(rows):
            if index:
                lines.append(rule("├", "┼", "┤"))
            lines.append(self._row(row, widths, header=not index))
        lines.append(rule("└", "┴", "┘"))
        return Content("\n").join(lines)

    @staticmethod
    def _row(row: list[Content], widths: list[int], *, header: bool) -> Content:
        """A row of cells between keylines, each padded to its column's width."""
        bar = Content("│", [Span(0, 1, _KEYLINE)])
        parts = [bar]
        for cell, width in zip(row, widths):
            if header:
                spans = [Span(0, len(cell.plain), _HEADER), *cell.spans]
                cell = Content(cell.plain, spans, cell.cell_length, strip_control_codes=False)
            parts += [Content(" "), cell, Content(" " * (width - cell.cell_length + 1)), bar]
        return Content("").join(parts)
