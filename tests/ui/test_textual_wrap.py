"""`wrap_grown`: a text that grew at its end, wrapped again from its last line on, is wrapped exactly
as Textual wraps the whole of it, for every way Textual wraps (widths, folding, cutting, padding,
alignment), wide characters, long words, runs of spaces, new lines, tabs and styles that change."""

from __future__ import annotations

import random
from functools import partial

import pytest
from textual.content import Content, Span
from textual.style import Style

from tui_chat.ui._textual_wrap import _restart, line_key, wrap_grown

BOLD, LINK = Style(bold=True), Style(underline=True)
WORDS = ["a", "to", "word", "streamed", "漢字", "ünïcödé", "x" * 17, "supercalifragilistic", "-", "`code`"]


def random_text(rng: random.Random, words: int) -> str:
    """Words joined by single and double spaces, a new line now and then, a tab rarely."""
    parts: list[str] = []
    for _ in range(words):
        parts.append(rng.choice(WORDS))
        parts.append(rng.choices([" ", "  ", "\n", "\t", " \n"], weights=[70, 10, 8, 2, 3])[0])
    return "".join(parts)


def random_spans(rng: random.Random, length: int) -> list[Span]:
    """Styles over ranges of a text, some empty, some past its end (as a highlighter may leave them)."""
    spans = []
    for _ in range(rng.randrange(6)):
        start = rng.randrange(length)
        spans.append(Span(start, rng.randrange(start, length + 3), rng.choice([BOLD, LINK, "italic"])))
    return spans


def grown(text: str, spans: list[Span], end: int) -> Content:
    """The first `end` characters of `text`, with the styles over them (as a stream shows them)."""
    return Content(text[:end], [Span(s.start, s.end if s.end > len(text) else min(s.end, end), s.style) for s in spans if s.start <= end])


WRAPPERS = {
    "wrap": {},
    "wrap, cut with an ellipsis": {"overflow": "ellipsis"},
    "wrap, padded, centred": {"line_pad": 1, "align": "center"},
    "no wrap, folded": {"no_wrap": True},
    "no wrap, cut": {"no_wrap": True, "overflow": "ellipsis"},
    "wrap, right": {"align": "right"},
}


@pytest.mark.parametrize("width", [1, 4, 11, 30])
@pytest.mark.parametrize("how", list(WRAPPERS))
def test_a_grown_text_wraps_as_its_whole_does(width: int, how: str) -> None:
    wrap = partial(Content._wrap_and_format, width=width, tab_size=8, **WRAPPERS[how])
    rng = random.Random(f"{width} {how}")
    restarted = steps = 0
    for _ in range(40):
        text = random_text(rng, rng.randrange(1, 30))
        spans = random_spans(rng, len(text))
        ends = sorted(rng.sample(range(1, len(text) + 1), min(len(text), rng.randrange(1, 8))))
        old = grown(text, spans, ends[0])
        lines = wrap(old)
        keys = [line_key(line) for line in lines]
        for end in ends[1:]:
            new = grown(text, spans, end)
            if rng.random() < 0.1:  # a style that starts before the end: emphasis closed over earlier text
                new = Content(new.plain, [*new.spans, Span(0, rng.randrange(1, end + 1), BOLD)])
            elif rng.random() < 0.1:  # the end changed (markup resolved: "**" gone), not only grew
                new = Content(new.plain[: rng.randrange(end)] + "".join(rng.choices("ab *", k=5)), new.spans)
            restarted += _restart(old, lines, new) is not None
            steps += 1
            lines, keys = wrap_grown(old, lines, keys, new, wrap)
            assert keys == [line_key(line) for line in wrap(new)], (text[:end], how, width)
            old = new
    # Many steps wrap again from the last line only (too few would leave the above untested). Cut at
    # a width rather than wrapped, a text wraps again from the start of its last line of text only.
    wrapped = width > 1 and not WRAPPERS[how].get("no_wrap")
    assert restarted > steps / (4 if wrapped else 20)


def test_only_a_text_grown_at_its_end_is_wrapped_from_its_last_line() -> None:
    wrap = partial(Content._wrap_and_format, width=10, tab_size=8)
    old = Content("one two three four five")
    lines = wrap(old)
    assert len(lines) > 2
    assert _restart(old, lines, Content("one two three four five six")) == (len(lines) - 1, 19)
    assert _restart(old, lines, Content("one two three four five, six")) == (len(lines) - 1, 19)
    assert _restart(old, lines, Content("one twO three four five six")) is None
    assert _restart(old, lines, Content("one two three four five six", [Span(0, 3, BOLD)])) is None
    assert _restart(old, lines, Content("one two three four five\tsix")) is None
    # The last line's first word shorter now: it may fit the line before.
    assert _restart(old, lines, Content("one two three four f")) != (len(lines) - 1, 19)
