"""Code highlighted as Textual's `highlight` does it, cheaply for code that grows (a streaming fence).

Textual's `MarkdownFence` highlights its whole code on every update and looks its lexer up by name
each time (a search of pygments' lexer table). While a fence streams in, that is done once per
flush on an ever longer text. `GrowingHighlight` gives the very same `Content` for less:

- lexers are looked up once per language and kept (`lexer_for`);
- for lexers where it is sound (`RESUMABLE`), the code is lexed again only from a *resume
  point*: the start of a line where the lexer was back in its root state (no string, comment or
  other construct open) at the start of a match, and whose whole line the old and the new code
  share. Lexing from there in the root state gives the same tokens as lexing the whole code, so
  the spans before it are kept: a flush lexes the last line or two again, not the whole fence.

Resuming needs to know the lexer's state at a line start, which pygments does not tell: it is
read from the frame of `RegexLexer.get_tokens_unprocessed` (its locals `statestack`, `m`) as
each line's first token comes out. Other lexers (not listed, a `get_tokens_unprocessed` of their
own, filters) lex the whole code every time, as Textual does, only with the lexer kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from pygments.lexer import Lexer, RegexLexer
from pygments.lexers import get_lexer_by_name
from pygments.token import _TokenType
from pygments.util import ClassNotFound
from textual.content import Content, Span
from textual.highlight import (
    ANSIDarkHighlightTheme,
    ANSILightHighlightTheme,
    HighlightTheme,
    guess_language,
)

__all__ = ["GrowingHighlight", "fence_theme", "growing_highlight", "lexer_for"]

TAB_SIZE = 8
"""The tab size Textual's `highlight` lexes with by default (as `MarkdownFence` calls it)."""


def fence_theme(*, ansi: bool, dark: bool) -> type[HighlightTheme]:
    """The highlight theme `MarkdownFence.highlight` uses for an app with these colours."""
    if ansi:
        return ANSIDarkHighlightTheme if dark else ANSILightHighlightTheme
    return HighlightTheme


@lru_cache(maxsize=64)
def lexer_for(language: str) -> Lexer:
    """The lexer Textual's `highlight` makes for `language` (plain text when pygments has none), made once."""
    try:
        return get_lexer_by_name(language, stripnl=False, ensurenl=True, tabsize=TAB_SIZE)
    except ClassNotFound:
        return get_lexer_by_name("text", stripnl=False, ensurenl=True, tabsize=TAB_SIZE)


class _ResumePoint(NamedTuple):
    """A place to lex again from: a line start where the lexer was in its root state."""

    index: int
    """Where in the lexed text."""
    offset: int
    """Where in the content: the sum of the lengths of the tokens before it (Textual places spans so)."""
    spans: int
    """How many spans the tokens before it made."""


RESUMABLE = frozenset({"python", "go"})
"""The lexers (by their first alias) checked to lex the same from a resume point as from the start.

A resume point is sound only if no match tried before it looked past it: for a lexer whose rules
try one match across lines and fall back to others when it fails (bash's here-documents, the
Markdown lexer's fences; JavaScript's regex literals), text that comes later changes how the
lines before it lex. Python's and Go's multi-line rules (strings) only start at a point in the root
state and keep the lexer out of it until they end, so their resume points are sound; each listed
lexer is checked in tests/ui/test_highlighting.py against highlighting the whole code."""


def _resumable(lexer: Lexer) -> bool:
    """True when `lexer` is a listed one that lexes with `RegexLexer`'s own loop (whose state can be
    read) and has no filters."""
    return (
        bool(lexer.aliases)
        and lexer.aliases[0] in RESUMABLE
        and type(lexer).get_tokens_unprocessed is RegexLexer.get_tokens_unprocessed
        and not lexer.filters
    )


def _shared_prefix(old: str, new: str) -> int:
    """The length of the text `old` and `new` start with."""
    if new.startswith(old):
        return len(old)
    low, high = 0, min(len(old), len(new))  # old[:low] is shared; old[:high + 1] is not
    while low < high:
        middle = (low + high + 1) // 2
        if new.startswith(old[:middle]):
            low = middle
        else:
            high = middle - 1
    return low


class GrowingHighlight:
    """The highlighting of one block of code as it changes: each call gives exactly what
    `textual.highlight.highlight(code, language=language or None, theme=theme)` gives."""

    def __init__(self) -> None:
        self._key: tuple[Lexer, type[HighlightTheme]] | None = None
        self._text = ""
        """The text lexed last (the code as the lexer saw it)."""
        self._spans: list[Span] = []
        self._resume_points: list[_ResumePoint] = []
        self.lexed_chars = 0
        """How many characters were lexed in all (for tests)."""

    def highlight(self, code: str, language: str, theme: type[HighlightTheme]) -> Content:
        """`code` highlighted as `language` (guessed when empty, as Textual does) with `theme`."""
        lexer = lexer_for(language or guess_language(code, None))
        code = "\n".join(code.splitlines())
        key = (lexer, theme)
        if not _resumable(lexer):
            self._key = None
            self._spans = list(self._lex_whole(lexer, code, theme.STYLES))
            return _highlighted(code, self._spans)
        text = lexer._preprocess_lexer_input(code)  # what `Lexer.get_tokens` lexes
        points = self._resume_points
        kept = 0  # the resume points kept; the last of them is where lexing resumes
        if key == self._key:
            # The last line end both texts share: a line wholly before it is lexed as it was.
            shared_end = text.rfind("\n", 0, _shared_prefix(self._text, text))
            kept = next((at for at in range(len(points), 0, -1) if points[at - 1].index <= shared_end), 0)
        resume = points[kept - 1] if kept else _ResumePoint(0, 0, 0)
        self._key = key
        self._text = text
        del points[max(kept - 1, 0) :]
        del self._spans[resume.spans :]
        self._lex_from(lexer, text, resume, theme.STYLES)
        return _highlighted(code, self._spans)

    def _lex_whole(self, lexer: Lexer, code: str, styles: dict[_TokenType, str]) -> Iterator[Span]:
        """The spans of all of `code`, lexed as `Lexer.get_tokens` lexes it."""
        self.lexed_chars += len(code)
        start = 0
        for token_type, token in lexer.get_tokens(code):
            end = start + len(token)
            if style := _style(styles, token_type):
                yield Span(start, end, style)
            start = end

    def _lex_from(self, lexer: Lexer, text: str, resume: _ResumePoint, styles: dict[_TokenType, str]) -> None:
        """Lex `text` from `resume` on in the root state: its spans and resume points added."""
        rest = text[resume.index :]
        self.lexed_chars += len(rest)
        spans, points = self._spans, self._resume_points
        points.append(resume)
        tokens = lexer.get_tokens_unprocessed(rest)
        frame = tokens.gi_frame  # type: ignore[attr-defined]  # RegexLexer's generator: read its state
        offset = resume.offset
        for index, token_type, token in tokens:
            at = resume.index + index
            if index and rest[index - 1] == "\n" and points[-1].index < at and _at_root(frame.f_locals, index):
                points.append(_ResumePoint(at, offset, len(spans)))
            end = offset + len(token)
            if style := _style(styles, token_type):
                spans.append(Span(offset, end, style))
            offset = end


def _highlighted(code: str, spans: list[Span]) -> Content:
    """The highlighted code as Textual's `highlight` makes it, with a list of spans of its own
    (the kept ones change with the next call)."""
    return Content(code, spans=list(spans)).stylize_before("$text")


def _at_root(state: dict[str, Any], index: int) -> bool:
    """True when the lexer whose frame's locals are `state` started a match at `index` in its
    root state (and not in the fallback that resets the state at a line end, which has no match)."""
    match = state.get("m")
    return match is not None and match.start() == index and state.get("statestack") == ["root"]


def _style(styles: dict[_TokenType, str], token_type: _TokenType) -> str | None:
    """The theme's style for a token type: its own, else its nearest parent's (as Textual's `highlight`)."""
    while token_type is not None:
        if style := styles.get(token_type):
            return style
        token_type = token_type.parent
    return None


_growing: WeakKeyDictionary[object, GrowingHighlight] = WeakKeyDictionary()


def growing_highlight(widget: object) -> GrowingHighlight:
    """The highlighting kept for the code `widget` shows (made on first use, gone with the widget)."""
    highlight = _growing.get(widget)
    if highlight is None:
        highlight = _growing[widget] = GrowingHighlight()
    return highlight
