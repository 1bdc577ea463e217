"""Streaming Markdown cut into top-level blocks: which are final, what they render from.

Pure text and markdown-it tokens, no Textual: the rules by which `StreamingMarkdown` decides what
to parse again and what it may leave alone, testable on their own.

- `top_level_groups` splits a token list into its top-level blocks (`Group`: lines and tokens).
- `settled_start` says from which line the streamed text must stay live; every block before it
  is final, whatever text comes next.
- `signature` is a digest of what a block renders from, to tell a changed block from the same one.
- `grown_inline` finds the one run of inline text in which a block changed (the growing end of a
  list item, a quote), so that only the widget showing it is updated.
- `kept_items` and `changed_cells` tell how a list or a table changed otherwise (a new item or
  row, the last one changed): what stays, so that only the rest is built and mounted;
  `inner_groups` are a list's items or an item's blocks, `sublist` a list of some of a list's items
  (to build only those), `same_blocks` and `same_shape` tell unchanged ones.
- `line_offsets` maps line numbers to string offsets, to cut the text of final blocks off.
- `new_block_parser` finds the blocks without parsing their inline text (about eight times faster):
  enough to cut text that nobody sees yet into final blocks.
- `estimate_height` guesses the lines a block's text takes before it is ever built.
- `link_references` are the link reference definitions of a text, which apply to the whole reply.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

__all__ = [
    "Group",
    "changed_cells",
    "estimate_height",
    "grown_inline",
    "inner_groups",
    "kept_items",
    "line_offsets",
    "link_references",
    "new_block_parser",
    "new_parser",
    "same_blocks",
    "same_shape",
    "settled_start",
    "signature",
    "sublist",
    "top_level_groups",
]


def new_parser() -> MarkdownIt:
    """A parser configured as Textual's `Markdown` widget configures its own."""
    return MarkdownIt("gfm-like")


def new_block_parser() -> MarkdownIt:
    """`new_parser` without its inline rules: the same blocks, lines and link references, no inline tokens.

    Inline parsing is most of markdown-it's time; block structure never depends on it.
    """
    parser = new_parser()
    parser.core.ruler.enableOnly(["normalize", "block"])
    return parser


_MAYBE_REFERENCE = re.compile(r"\]:")


def link_references(text: str) -> dict[str, Any]:
    """The link reference definitions in `text` (markdown-it's `env["references"]`), found by block parsing.

    A definition applies to links anywhere in the reply, also before it. Texts without "]:"
    (nearly every reply) define none and are not parsed at all.
    """
    if not _MAYBE_REFERENCE.search(text):
        return {}
    env: dict[str, Any] = {}
    new_block_parser().parse(text, env)
    return dict(env.get("references", {}))


def estimate_height(text: str, width: int) -> int:
    """About how many lines the blocks of `text` take at `width`, without building them.

    Each line of text wraps to its length over the width; blank lines stand for the margins
    between blocks. Exact enough to place text that is off screen; a block built is measured.
    """
    width = max(width, 1)
    return sum(max(1, -(-len(line) // width)) for line in text.splitlines())


@dataclass(slots=True)
class Group:
    """One top-level block in a token list: its lines [start, end) and tokens [first, stop)."""

    start: int
    end: int
    first: int
    stop: int


def top_level_groups(tokens: list[Token]) -> list[Group]:
    """Split a token list into its top-level blocks."""
    groups: list[Group] = []
    index = 0
    count = len(tokens)
    last_end = 0
    while index < count:
        token = tokens[index]
        stop = index + 1
        if token.nesting == 1:
            depth = 1
            while depth and stop < count:
                depth += tokens[stop].nesting
                stop += 1
        if token.map is not None:
            start, end = token.map
        else:  # not expected for block tokens; keep the group, placed after the previous one
            start = end = last_end
        last_end = end
        groups.append(Group(start, end, index, stop))
        index = stop
    return groups


def _token_signature(token: Token) -> tuple:
    children = token.children
    return (
        token.type,
        token.tag,
        token.nesting,
        token.info,
        token.markup,
        token.content,
        token.hidden,
        tuple(token.attrs.items()) if token.attrs else (),
        tuple(_token_signature(child) for child in children) if children else (),
    )


def signature(tokens: list[Token], group: Group) -> bytes:
    """A digest of what a top-level block renders from: its tokens without their line numbers.

    Two blocks with the same signature build the same widgets. (A digest rather than the tokens,
    to keep nothing alive for the garbage collector to scan.)
    """
    tree = tuple(_token_signature(token) for token in tokens[group.first : group.stop])
    return hashlib.blake2b(repr(tree).encode(), digest_size=16).digest()


def _shape(token: Token) -> tuple:
    """What a token renders from, but its lines and, for inline text, its content."""
    content = "" if token.type == "inline" else token.content
    attrs = tuple(token.attrs.items()) if token.attrs else ()
    return (token.type, token.tag, token.nesting, token.info, token.markup, content, token.hidden, attrs)


def grown_inline(old: list[Token], new: list[Token]) -> int | None:
    """The index of the one inline token in which `new` differs from `old`, if that is all that differs.

    Two parses of a growing block: when they have the same tokens (lines aside) but for the text
    of one inline token, only the widget showing that text need change. None when anything
    else differs (a new item, row or cell, another kind of block) or nothing does.
    """
    if len(old) != len(new):
        return None
    changed: int | None = None
    for index, (before, after) in enumerate(zip(old, new)):
        if _shape(before) != _shape(after):
            return None
        if before.type == "inline" and _token_signature(before) != _token_signature(after):
            if changed is not None:
                return None
            changed = index
    return changed


def inner_groups(tokens: list[Token]) -> list[list[Token]]:
    """The token groups directly inside the block that `tokens` opens and closes (its items, its rows)."""
    children: list[list[Token]] = []
    depth = start = 0
    for index in range(1, len(tokens) - 1):
        if not depth:
            start = index
        depth += tokens[index].nesting
        if not depth:
            children.append(tokens[start : index + 1])
    return children


def _signatures(tokens: list[Token]) -> list[tuple]:
    return [_token_signature(token) for token in tokens]


def same_blocks(old: list[Token], new: list[Token]) -> bool:
    """Do two token runs render the same (their lines aside)?"""
    return len(old) == len(new) and _signatures(old) == _signatures(new)


def same_shape(old: Token, new: Token) -> bool:
    """Do two tokens render the same, but for their lines and any inline text?"""
    return _shape(old) == _shape(new)


def _first_number(items: list[list[Token]]) -> int:
    """The number an ordered list of `items` starts at (Textual's: the first item's, else 1)."""
    first = items[0][0].info if items else ""
    return int(first) if first.isdigit() else 1


def _number_width(items: list[list[Token]]) -> int:
    """How wide the last number of an ordered list of `items` is (Textual pads every number to it)."""
    return len(str(_first_number(items) + len(items) - 1))


def sublist(tokens: list[Token], first: int, stop: int | None = None) -> list[Token]:
    """The tokens of a list of the items [first, stop) of the list `tokens`, each numbered as in it.

    Built, it shows those items as the whole list shows them (Textual numbers an ordered list from
    its first item's number, padded to its last's: the last of the sublist, or a wider one that
    `kept_items` already refuses). Its other tokens are the list's own.
    """
    items = inner_groups(tokens)
    chosen = items[first:stop]
    if chosen and tokens[0].type == "ordered_list_open":
        lead = chosen[0][0].copy(info=str(_first_number(items) + first))
        chosen[0] = [lead, *chosen[0][1:]]
    return [tokens[0], *(token for item in chosen for token in item), tokens[-1]]


def kept_items(old: list[Token], new: list[Token]) -> int | None:
    """How many items of a list stay as they were in a new parse of it: those before the first that
    changed (a new item, the last one grown into more than its text, ...). None when the list
    itself changed (another kind or bullet, every number wider) or the block is no list.

    The items from there on are all that need building: the ones before are shown as they are.
    """
    if not old or not new or old[0].type not in ("bullet_list_open", "ordered_list_open"):
        return None
    if _shape(old[0]) != _shape(new[0]):
        return None
    old_items, new_items = inner_groups(old), inner_groups(new)
    if old[0].type == "ordered_list_open" and _number_width(old_items) != _number_width(new_items):
        return None
    kept = 0
    for before, after in zip(old_items, new_items):
        if _signatures(before) != _signatures(after):
            break
        kept += 1
    return kept


def _table_rows(tokens: list[Token]) -> list[list[Token]] | None:
    """The tokens of each row of a table, its header row first; None if `tokens` are no table."""
    if not tokens or tokens[0].type != "table_open":
        return None
    parts = inner_groups(tokens)
    if not parts or parts[0][0].type != "thead_open":
        return None
    return [row for part in parts for row in inner_groups(part)]


def changed_cells(old: list[Token], new: list[Token]) -> tuple[list[int], int, int] | None:
    """How a table changed in a new parse of it: the cells in both whose text changed, and how many
    cells each parse has (the headers first, then each row's, in order).

    Cells past the old count are new rows; cells past the new count are rows parsed away. None
    when anything but the text of cells changed (the number of columns, an alignment) or no table.
    """
    before, after = _table_rows(old), _table_rows(new)
    if not before or not after:
        return None
    columns = sum(1 for token in before[0] if token.type == "inline")
    if any(sum(1 for token in row if token.type == "inline") != columns for row in before + after):
        return None
    changed: list[int] = []
    for number, (old_row, new_row) in enumerate(zip(before, after)):
        if len(old_row) != len(new_row) or any(_shape(a) != _shape(b) for a, b in zip(old_row, new_row)):
            return None
        cells = [(a, b) for a, b in zip(old_row, new_row) if a.type == "inline"]
        changed += [
            columns * number + cell for cell, (a, b) in enumerate(cells) if _token_signature(a) != _token_signature(b)
        ]
    return changed, columns * len(before), columns * len(after)


def line_offsets(text: str, lines: list[int]) -> list[int]:
    """The index in `text` where each of `lines` (0-based, ascending) starts."""
    offsets: list[int] = []
    offset = 0
    line = 0
    for target in lines:
        while line < target:
            offset = text.index("\n", offset) + 1
            line += 1
        offsets.append(offset)
    return offsets


def settled_start(groups: list[Group], complete_lines: int) -> int:
    """The line from which the tail must stay live; every block before it is final.

    A block's extent is decided by the lines up to the line after it (a setext underline or a
    table delimiter row is read one line ahead), so a block is final once another top-level
    block starts on a complete line that is also followed by a complete line. The last block is
    never final: more text may continue it.
    """
    for group in reversed(groups[1:]):
        if group.start + 1 < complete_lines:
            return group.start
    return 0
