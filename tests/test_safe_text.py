"""Untrusted text loses every control sequence introducer but keeps its printable characters."""

from __future__ import annotations

import pytest

from tui_chat.safe_text import clean, escape_controls

HOSTILE = [
    ("osc52 clipboard write", "a\x1b]52;c;ZXZpbA==\x07b", "a]52;c;ZXZpbA==b"),
    ("clear screen", "x\x1b[2Jy", "x[2Jy"),
    ("8-bit CSI", "x\x9b31my", "x31my"),
    ("C1 OSC", "x\x9d0;title\x9cy", "x0;titley"),
    ("bidi override", "abc\u202edcba\u202c", "abcdcba"),
    ("bidi isolate", "\u2067x\u2069", "x"),
    ("carriage return overwrite", "safe\rEVIL", "safeEVIL"),
    ("backspace and bell", "a\x08\x07b", "ab"),
    ("delete", "a\x7fb", "ab"),
]


@pytest.mark.parametrize(("name", "text", "expected"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_clean_removes_controls_and_keeps_the_rest(name: str, text: str, expected: str) -> None:
    assert clean(text) == expected


def test_clean_keeps_newlines_tabs_markup_and_unicode() -> None:
    text = "[bold]x[/] arr[i]\n\t[@click=app.quit]q[/] — ünïcødé 👋 中文"
    assert clean(text) == text


def test_escape_controls_makes_them_visible() -> None:
    assert escape_controls("rm\x1b[2J -rf\u202e") == "rm\\x1b[2J -rf\\u202e"
    assert escape_controls("plain\ntext") == "plain\ntext"
