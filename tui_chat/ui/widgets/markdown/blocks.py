"""Streaming Markdown cut into top-level blocks: which are final, what they render from.

Pure text and markdown-it tokens, no Textual: the rules by which `StreamingMarkdown` decides what
to parse again and what it may leave alone, testable on their own.

- `top_level_groups` splits a token list into its top-level blocks (`Group`: lines and tokens).
- `settled_start` says from which line the streamed text must stay live; every block before it
  is final, whatever text comes next.
- `signature` is a digest of what a block renders from, to tell a changed block from the same one.
- `grown_inline` finds the one run of inline text in which a block changed (the growing end of a
  list item, a quote), so that only the widget showing it is updated.
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
    "estimate_height",
    "grown_inline",
    "line_offsets",
    "link_references",
    "new_block_parser",
    "new_parser",
    "settled_start",
    "signature",
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
