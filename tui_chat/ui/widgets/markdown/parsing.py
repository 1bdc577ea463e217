"""Parsing the live tail of a streaming reply again and again, its unchanged inline text once.

Every flush parses the tail in full (`StreamingMarkdown._show_tail`), and a list or table stays
the tail until it ends: its items' text was parsed again on every flush, though only the last
one grows. Inline parsing (emphasis, links, code spans...) is about two thirds of markdown-it's
time, and the inline tokens of a block's text depend only on that text and the link references
known (markdown-it's core rules after the block phase, `inline`, `linkify` and `text_join`, each
take one inline token at a time). `TailParser` parses the blocks every time and takes the inline
tokens of a text it parsed at the last flush from then, so that the tokens are the same as a
full parse's.

Most flushes add words to the last line of a paragraph or of an open code fence, which no block
rule can read otherwise once that line holds what no block starts with (`grown_blocks`): then the
blocks are the last parse's, the growing one's text longer, and only that text is parsed inline.
"""

from __future__ import annotations

import re

from typing import Any

from markdown_it.rules_core import StateCore
from markdown_it.token import Token

from .blocks import new_block_parser, new_parser

__all__ = ["TailParser"]


class TailParser:
    """Parses texts as `blocks.new_parser()` does, keeping the inline tokens of the last parse's texts."""

    def __init__(self) -> None:
        self._block_parser = new_block_parser()
        self._inline = new_parser()
        self._inline.core.ruler.enableOnly(["inline", "linkify", "text_join"])
        self._known: dict[str, list[Token]] = {}
        """The inline tokens of each inline text of the last parse."""
        self._references: Any = None
        """The link references they were parsed with."""
        self._last_parse: tuple[str, list[Token]] | None = None
        """The last text parsed and its tokens (see `grown_blocks`)."""
        self.inline_parsed_chars = 0
        """How many characters of inline text were parsed (for tests)."""

    def parse(self, text: str, env: dict[str, Any]) -> list[Token]:
        """The tokens of `text` with `env` (its "references" are the link references known)."""
        last = self._last_parse
        tokens = grown_blocks(*last, text) if last is not None and env.get("references") == self._references else None
        if tokens is None:
            tokens = self._block_parser.parse(text, env)
        self._last_parse = (text, tokens)
        if env.get("references") != self._references:
            self._known = {}  # a new link reference may turn any text's brackets into a link
            self._references = dict(env.get("references", {}))
        known, self._known = self._known, {}
        unknown: list[Token] = []
        for token in tokens:
            if token.type != "inline":
                continue
            children = known.get(token.content)
            if children is None:
                unknown.append(token)
            else:
                token.children = list(children)
                self._known[token.content] = children
        if unknown:
            self.inline_parsed_chars += sum(len(token.content) for token in unknown)
            self._inline.core.process(StateCore(text, self._inline, env, unknown))
            for token in unknown:
                self._known[token.content] = token.children or []
        return tokens


_CONTAINER_MARKS = re.compile(r"(?:[ \t]*(?:>|[-+*](?=[ \t])|\d{1,9}[.)](?=[ \t])))*[ \t]*")
"""The quote marks and list markers a line starts with (the blocks it is in), and the spaces after them."""

_SETTLED_TEXT = re.compile(r"[`*_~]*[^\W\d_]")
"""Text no block starts with: a letter, after any marks of code or emphasis (a mark and a space start a
list item, marks alone a rule; a line that starts a fence is not a paragraph's)."""

_GROWN_OUT_OF_BLOCKS = ("\n", "\r", "\0")
"""What may change the blocks in the last line: a new line, and what markdown-it normalizes (a carriage
return is a new line to it)."""


def grown_blocks(old: str, tokens: list[Token], text: str) -> list[Token] | None:
    """The block tokens of `text`, which is `old` (block-parsed into `tokens`) grown within its last
    line, if they are `tokens` with the growing block's text longer; None: parse it.

    That holds where the last line belongs to the last block, a paragraph or an open code fence, and
    no block rule can read the grown line otherwise: a paragraph's line whose text (after the quote
    marks and list markers it may start with) starts with a letter, or with marks of code or
    emphasis and then a letter (no heading, fence, rule, underline, HTML block or table delimiter
    row starts so), in a paragraph that is not a link reference definition; a line of code, other
    than the fence's first line, that holds more than the fence's marker (it can no longer close
    the fence). Checked against markdown-it's own parse of random streams in the tests.
    """
    added = text[len(old) :]
    line_start = old.rfind("\n") + 1
    if not added or not text.startswith(old) or any(mark in text[line_start:] for mark in _GROWN_OUT_OF_BLOCKS):
        return None
    index = len(tokens) - 1
    while index >= 0 and tokens[index].nesting == -1:
        index -= 1  # the blocks closed after the last leaf block (paragraph, list item, quote...)
    if index < 0:
        return None
    leaf = tokens[index]
    line = old[line_start:]
    last_line = old.count("\n", 0, line_start)
    if leaf.map is None or leaf.map[1] != last_line + 1 or not line.strip():
        return None
    if leaf.type == "inline" and index and tokens[index - 1].type == "paragraph_open":
        if not _SETTLED_TEXT.match(line, _CONTAINER_MARKS.match(line).end()) or leaf.content.startswith("["):  # type: ignore[union-attr]
            return None
        end = len(old.rstrip())
        content = (leaf.content + text[end:]).rstrip()
        grown = leaf.copy(content=content, children=None)
    elif leaf.type == "fence" and leaf.map[0] < last_line:
        if not line.strip(leaf.markup[0] + " \t"):
            return None  # only the marker so far: it may yet close the fence
        grown = leaf.copy(content=leaf.content + added)
    else:
        return None
    return [*tokens[:index], grown, *tokens[index + 1 :]]
