"""Wrapping a text as Textual wraps it, and a text that grew at its end from its last line on:
Textual's private API (see `_textual_internals`): `Content._wrap_and_format` and the lines it makes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from textual.content import Content, Span

__all__ = ["line_key", "wrap_grown"]


def line_key(line: Any) -> tuple[object, ...]:
    """What a wrapped line renders from: equal keys, equal strips (with the same settings)."""
    content = line.content
    return (content.plain, tuple(content.spans), line.x, line.y, line.align, line.line_end)


def wrap_grown(
    old: Content,
    lines: list[Any],
    keys: list[tuple[object, ...]],
    new: Content,
    wrap: Callable[[Content], list[Any]],
) -> tuple[list[Any], list[tuple[object, ...]]]:
    """`new` wrapped by `wrap` and its lines' keys, given `old` wrapped so (`lines`, `keys`): where
    `new` is `old` grown at its end, only from `old`'s last line on.

    A streamed paragraph grows at its end, and was wrapped whole on every flush. Textual wraps each
    line of text (between newlines) greedily, word by word (`rich._wrap.divide_line`): where a
    wrapped line starts at a word (after white space), the lines before it are what they were if
    the text before that word is, and the rest wraps as that word's text would alone (a line cut at
    a width, not wrapped, is cut again where the whole line's cuts fall). So the old last line is
    wrapped again with what came after it, unless the text or the styles before it changed
    (emphasis closed over earlier text) or the first word of that line is shorter now (it may fit
    the line before): then the whole is wrapped. A line that starts inside a word (a long word
    folded) is wrapped again from the last line before it that starts a word or the line of text.
    Tabs, which are expanded from the start of their line, have the whole wrapped.
    """
    start = _restart(old, lines, new)
    if start is None:
        lines = wrap(new)
        return lines, [line_key(line) for line in lines]
    index, offset = start
    first = lines[index]
    x, y = first.x, first.y
    text = new.plain
    tail = Content(
        text[offset:],
        [  # as Textual divides a text's styles among its lines: each cut to the line, none empty
            Span(begin - offset, stop - offset, span.style)
            for span in new.spans
            if (stop := min(span.end, len(text))) > (begin := max(span.start, offset))
        ],
        strip_control_codes=False,
    )
    grown = wrap(tail)
    for line in grown:
        if not line.y:
            line.x += x
        line.y += y
    return lines[:index] + grown, keys[:index] + [line_key(line) for line in grown]


def _restart(old: Content, lines: list[Any], new: Content) -> tuple[int, int] | None:
    """The first of `old`'s wrapped `lines` to wrap again for `new`, and its offset in the text; None:
    wrap `new` whole (see `wrap_grown`)."""
    if not lines:
        return None
    plain, grown = old.plain, new.plain
    line_start = plain.rfind("\n") + 1  # the last line of text: the last wrapped line is in it
    if "\t" in grown[line_start:]:
        return None
    index = len(lines) - 1
    while index and not (
        lines[index - 1].y != lines[index].y  # the first of its line of text (x is 0)
        or lines[index].x and _word_starts(plain, line_start + lines[index].x)
    ):
        index -= 1  # (cut at a width, not wrapped, every line has x 0)
    if not index:
        return None
    offset = line_start + lines[index].x
    # Wrapped there for a word that did not fit the line before: the same word, or a longer one.
    word_end = _WORD.match(plain, offset).end() if lines[index].x else offset  # type: ignore[union-attr]
    if not grown.startswith(plain[:word_end]):
        return None
    if _spans_before(old.spans, offset) != _spans_before(new.spans, offset):
        return None
    return index, offset


_WORD = re.compile(r"\S*")
"""A word: what a wrapped line that starts after white space starts with."""


def _word_starts(text: str, offset: int) -> bool:
    """Does a word start at `offset` of `text`, after white space?"""
    return 0 < offset < len(text) and text[offset - 1].isspace() and not text[offset].isspace()


def _spans_before(spans: list[Span], offset: int) -> list[tuple[int, int, object]]:
    """The styled ranges of a text before `offset`, in their order."""
    return [(span.start, min(span.end, offset), span.style) for span in spans if span.start < offset]
