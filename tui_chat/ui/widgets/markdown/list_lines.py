"""`ListLines`: a streamed list drawn as one widget of lines, as Textual's list widgets draw it.

Textual shows a list as a widget for each item's row, bullet, column and paragraph. Streamed, each
new item mounted four widgets and laid them out, and a line of text that wrapped moved the rows
below it: a list cost about half as much again per character as the same words in a paragraph.
A streamed list of paragraphs and lists (nested at any depth) is shown instead by one `ListLines`
widget: its lines are those Textual's widgets draw (each paragraph wrapped at its column's width,
the bullet before its first line and the bullet's colour on the rows below, nested lists after
their bullets, an item with nothing in it yet on no row), checked cell by cell, colours too,
against a plain `Markdown` at every step of a stream. It grows as a streamed paragraph does: a
paragraph is wrapped again only when its text changed, only the lines that changed are rendered
and repainted, and a new line fills the room ahead (`growing`) without a layout.

It stays once the list is final: building Textual's widgets then would cost what streaming them did
(about 40 ms for a list of six items, on the benchmark machine), for the same screen. (A segment
parked and rebuilt builds Textual's widgets, `parking`, which look the same.) Selected text reads
as the real widgets' does where it matters: a wrapped paragraph is one line again, with the bullet
before it (`get_selection`). A list holding other blocks (a code fence, a quote, a heading) is
shown by Textual's widgets and spliced as it grows (`lists`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from markdown_it.token import Token
from textual.content import Content, Span
from textual.geometry import Size
from textual.selection import Selection
from textual.widget import Widget

from ..._textual_blocks import MarkdownList
from ..._textual_frames import AncestryKept, RendersChangedLines, inner_size
from ..._textual_internals import inline_content

if TYPE_CHECKING:
    from textual.widgets import Markdown

__all__ = ["ListLines", "shown_as_lines"]

_BULLET_STYLE = ".list-lines--bullet"
"""The component class a bullet is drawn with (styled as Textual's `MarkdownBullet`)."""
_SPACES = re.compile(r"\s*")


class _Line(NamedTuple):
    """A line of a drawn list: what it shows, the column its text starts at, and what joined it to
    the line before in its paragraph's text (None: it starts a paragraph)."""

    content: Content
    indent: int
    joiner: str | None


@dataclass(slots=True)
class _List:
    """A list: each item's blocks (a paragraph's inline token, or a list) and bullet."""

    ordered: bool
    items: list[list[Token | _List]] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    """Each item's bullet as its token gives it: its number (ordered), or its symbol."""

    def symbols(self) -> list[str]:
        """The bullets as Textual's lists draw them: an ordered list numbers its items from the
        first item's number, right-aligned to the widest number, with a space before."""
        if not self.ordered:
            return self.bullets
        try:
            start = int(self.bullets[0])
        except (IndexError, ValueError):
            start = 1
        numbers = [f"{number}. " for number in range(start, start + len(self.items))]
        size = max((len(number) for number in numbers), default=0)
        return [number.rjust(size + 1) for number in numbers]


def _tree(tokens: list[Token], bullets: list[str]) -> _List | None:
    """The list `tokens` (one top-level list) as a tree, its bullets picked as Textual's `Markdown`
    picks them (`bullets`: its symbols for unordered items, by how many such items enclose them);
    None if it holds a block other than a paragraph or a list, or text with a tab (expanded from the
    start of its line, which is not where it is in a line of the list)."""
    root: _List | None = None
    lists: list[_List] = []
    unordered = 0
    for token in tokens:
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            node = _List(ordered=kind == "ordered_list_open")
            if lists:
                lists[-1].items[-1].append(node)
            elif root is None:
                root = node
            else:
                return None
            lists.append(node)
        elif kind == "list_item_open":
            node = lists[-1]
            node.items.append([])
            node.bullets.append(token.info or bullets[unordered % len(bullets)])
            unordered += not token.info
        elif kind == "list_item_close":
            unordered -= not lists[-1].ordered
        elif kind in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif kind == "inline" and lists and lists[-1].items and "\t" not in token.content:
            lists[-1].items[-1].append(token)
        elif kind not in ("paragraph_open", "paragraph_close"):
            return None
    return root


def shown_as_lines(tokens: list[Token]) -> bool:
    """Can a `ListLines` show the top-level block `tokens` (a list of paragraphs and lists)?"""
    return tokens[0].type in ("bullet_list_open", "ordered_list_open") and _tree(tokens, ["-"]) is not None


def _indented(width: int, line: _Line) -> _Line:
    """`line` after a blank `width` wide in the bullets' colour (the rows of a bullet under its symbol)."""
    content = line.content
    spans = [Span(0, width, _BULLET_STYLE), *(Span(start + width, end + width, style) for start, end, style in content.spans)]
    indented = Content(" " * width + content.plain, spans, content.cell_length + width, strip_control_codes=False)
    return _Line(indented, line.indent + width, line.joiner)


class ListLines(AncestryKept, RendersChangedLines, MarkdownList):
    """A list of paragraphs and lists drawn as one widget of lines (see the module)."""

    DEFAULT_CSS = """
    ListLines {
        margin: 0 0 1 0;
        padding: 0;
        & > .list-lines--bullet { color: $text-primary; }
        &:light > .list-lines--bullet { color: $text-secondary; }
    }
    """
    COMPONENT_CLASSES = {"list-lines--bullet"}

    def __init__(self, markdown: Markdown, tokens: list[Token]) -> None:
        super().__init__(markdown, tokens[0])
        self._bullets = list(markdown.BULLETS)
        self._drawn: tuple[int, Content, list[_Line]] | None = None
        """The width the list was last drawn at, its lines joined, and its lines."""
        self._paragraphs: dict[tuple[str, int], list[_Line]] = {}
        """Each paragraph drawn last time (its text and width) -> its lines."""
        self._tree = _List(ordered=False)
        if self.draw(tokens) is None:  # (draws nothing before it is mounted)
            raise ValueError("a list of paragraphs and lists was expected (`shown_as_lines`)")

    def draw(self, tokens: list[Token]) -> Content | None:
        """Take the list's new `tokens`; the lines it shows now, for `show_grown`. None (and nothing
        taken) if they are no longer a list of paragraphs and lists."""
        tree = _tree(tokens, self._bullets)
        if tree is None:
            return None
        self._tree = tree
        self._drawn = None
        return self.render()

    def render(self) -> Content:
        """The list's lines at this widget's width (before its first layout: its container's)."""
        parent = self.parent
        width = inner_size(self).width or (inner_size(parent).width if isinstance(parent, Widget) else 0)
        return self._draw_at(width)[1] if width else Content()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._draw_at(width)[2]) if width else 0

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """The selected text, each paragraph on one line as the list's own widgets give it (a
        wrapped line joined to the one before it), nested items indented as shown."""
        if self._drawn is None:
            return None
        text: list[str] = []
        previous = -1
        for y, line in enumerate(self._drawn[2]):
            span = selection.get_span(y)
            if span is None:
                continue
            start, end = span
            plain = line.content.plain
            piece = plain[start : None if end == -1 else end]
            if text and previous == y - 1 and line.joiner is not None:
                text.append(line.joiner + piece[max(0, line.indent - start) :])
            else:
                text.append(("\n" if text else "") + piece)
            previous = y
        return "".join(text), "\n"

    def _draw_at(self, width: int) -> tuple[int, Content, list[_Line]]:
        """The list drawn at `width` (once per width and tokens): the width, its lines joined, its lines."""
        if self._drawn is None or self._drawn[0] != width:
            drawn: dict[tuple[str, int], list[_Line]] = {}
            lines = self._list_lines(self._tree, width, drawn)
            self._paragraphs = drawn  # only what this drawing used is kept
            self._drawn = (width, Content("\n").join(line.content for line in lines), lines)
        return self._drawn

    def _list_lines(self, node: _List, width: int, drawn: dict[tuple[str, int], list[_Line]]) -> list[_Line]:
        """The lines of list `node` at `width`: each item's blocks in a column after its bullet."""
        lines: list[_Line] = []
        for blocks, symbol in zip(node.items, node.symbols()):
            size = len(symbol)
            column: list[_Line] = []
            for block in blocks:
                if isinstance(block, _List):
                    column += self._list_lines(block, max(width - size, 1), drawn)
                else:
                    column += self._paragraph_lines(block, max(width - size, 1), drawn)
            if not column:
                continue  # an item with nothing in it yet ("2." as it streams in) takes no row
            first = column[0]
            bullet = Content(symbol, [Span(0, size, _BULLET_STYLE)])
            lines.append(_Line(bullet + first.content, first.indent + size, first.joiner))
            lines += [_indented(size, line) for line in column[1:]]
        return lines

    def _paragraph_lines(self, inline: Token, width: int, drawn: dict[tuple[str, int], list[_Line]]) -> list[_Line]:
        """A paragraph's lines at `width`, wrapped as Textual wraps a paragraph (once per text and width)."""
        key = (inline.content, width)
        lines = drawn.get(key) or self._paragraphs.get(key)
        if lines is None:
            content = inline_content(self, inline)
            plain = content.plain
            lines = []
            position = 0
            for wrapped in content.wrap(width):
                # What the wrap took out before this line: a space, a line break, or nothing (a long word cut).
                gap = _SPACES.match(plain, position)
                start = gap.end() if gap and lines else position
                lines.append(_Line(wrapped, 0, plain[position:start] if lines else None))
                position = start + len(wrapped.plain)
        drawn[key] = lines
        return lines
