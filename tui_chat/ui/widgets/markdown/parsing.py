"""Parsing the live tail of a streaming reply again and again, its unchanged inline text once.

Every flush parses the tail in full (`StreamingMarkdown._show_tail`), and a list or table stays
the tail until it ends: its items' text was parsed again on every flush, though only the last
one grows. Inline parsing (emphasis, links, code spans...) is about two thirds of markdown-it's
time, and the inline tokens of a block's text depend only on that text and the link references
known (markdown-it's core rules after the block phase, `inline`, `linkify` and `text_join`, each
take one inline token at a time). `TailParser` parses the blocks every time and takes the inline
tokens of a text it parsed at the last flush from then, so that the tokens are the same as a
full parse's.
"""

from __future__ import annotations

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
        self.inline_parsed_chars = 0
        """How many characters of inline text were parsed (for tests)."""

    def parse(self, text: str, env: dict[str, Any]) -> list[Token]:
        """The tokens of `text` with `env` (its "references" are the link references known)."""
        tokens = self._block_parser.parse(text, env)
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
