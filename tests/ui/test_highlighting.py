"""A growing code block highlights exactly as Textual highlights the whole code, lexing only its end again."""

from __future__ import annotations

import random

import pytest
from textual.content import Content
from textual.highlight import ANSIDarkHighlightTheme, HighlightTheme, highlight

from tui_chat.ui.widgets.markdown.highlighting import RESUMABLE, GrowingHighlight, lexer_for

# Code whose strings and comments span lines, and constructs whose lexing depends on text after them.
SAMPLES = {
    "python": (
        'import re\n\n\ndef f(x):\n    """A docstring\n    over lines."""\n    s = """a\n# not a comment\n'
        '"""  # a comment\n    t = \'\'\'b\n\'\'\'\n    u = f"{x!r:>{10}}" + rb"\\d"\n\tif x:  # tab\n'
        "        return [\n            1,\n            2,\n        ]\n    @decorator\n    class A(B):\n"
        "        pass\nr'''raw\n'''\n\n"
    ),
    "go": (
        'package main\n\nimport (\n\t"fmt"\n)\n\n/* a comment\nover lines */\nfunc main() {\n'
        "\tx := `a raw\nstring // not a comment`\n\tfmt.Println(x) // a comment\n\ty := 'c'\n}\n"
    ),
    "bash": 'for i in 1 2; do\n  echo "$i\n  more"\ndone\ncat <<EOF\nhere $x\ndone\nEOF\necho after\n',
    "javascript": "/* a\n */\n\n// c\nconst re = /ab+c/g;\nlet t = `a\n${b}`;\nx = y / 2 / z;\n",
    "": "def guessed(x):\n    return x\n",
}


def streamed(code: str, seed: int) -> list[str]:
    """The code as a fence shows it while it streams: growing by a few characters, trailing space cut."""
    rng = random.Random(seed)
    shown: list[str] = []
    end = 0
    while end < len(code):
        end = min(len(code), end + rng.choice([1, 1, 2, 3, 5, 8, 13]))
        shown.append(code[:end].rstrip())
    return shown


def same(got: Content, want: Content) -> bool:
    return got.plain == want.plain and got.spans == want.spans


@pytest.mark.parametrize("language", SAMPLES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_step_equals_highlighting_the_whole_code(language: str, seed: int) -> None:
    growing = GrowingHighlight()
    for code in streamed(SAMPLES[language], seed):
        got = growing.highlight(code, language, HighlightTheme)
        assert same(got, highlight(code, language=language or None, theme=HighlightTheme)), code


def test_every_resumable_lexer_is_checked_here() -> None:
    assert RESUMABLE <= set(SAMPLES)


def test_a_growing_python_block_is_lexed_again_only_near_its_end() -> None:
    code = "".join(f"def step_{i}(x):\n    '''Step {i}.'''\n    return x + {i}  # {i}\n\n" for i in range(60))
    growing = GrowingHighlight()
    lines = code.splitlines(keepends=True)
    for count in range(1, len(lines) + 1):
        growing.highlight("".join(lines[:count]).rstrip(), "python", HighlightTheme)
    whole = sum(len("".join(lines[:count]).rstrip()) for count in range(1, len(lines) + 1))
    assert growing.lexed_chars < whole / 20  # a line or two a step, not the whole block
    assert same(growing.highlight(code.rstrip(), "python", HighlightTheme), highlight(code.rstrip(), language="python"))


def test_an_open_string_keeps_its_lines_lexed_again_until_it_closes() -> None:
    growing = GrowingHighlight()
    opening = 'x = 1\ns = """\n'
    growing.highlight(opening + "a", "python", HighlightTheme)
    lexed = growing.lexed_chars
    growing.highlight(opening + "ab", "python", HighlightTheme)
    assert growing.lexed_chars - lexed >= len('s = """\nab')  # from the string's line: no resume point inside
    code = opening + 'ab\n"""\ny = 2'
    assert same(growing.highlight(code, "python", HighlightTheme), highlight(code, language="python"))


def test_code_that_changes_before_its_end_or_a_new_language_or_theme_is_highlighted_afresh() -> None:
    growing = GrowingHighlight()
    growing.highlight("a = 1\nb = 2\nc = 3", "python", HighlightTheme)
    for code, language, theme in [
        ("a = 1\nb = '''\nc = 3", "python", HighlightTheme),  # an edit in the middle
        ("a = 1\nb = '''\nc = 3", "python", ANSIDarkHighlightTheme),
        ("a = 1\nb = '''\nc = 3", "go", ANSIDarkHighlightTheme),
        ("", "go", ANSIDarkHighlightTheme),
    ]:
        got = growing.highlight(code, language, theme)
        assert same(got, highlight(code, language=language, theme=theme))


def test_a_lexer_is_looked_up_once_per_language() -> None:
    assert lexer_for("python") is lexer_for("python")
    assert lexer_for("no-such-language").aliases[0] == "text"  # plain text, as Textual falls back to
