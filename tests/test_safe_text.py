"""Untrusted text loses every control sequence introducer but keeps its printable characters."""

from __future__ import annotations

import pytest

from tui_chat.safe_text import clean, clean_data, escape_controls

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
    ("NUL", "a\x00b", "ab"),
    ("C1 NEL and string introducers", "a\x85\x90\x98\x9e\x9fb", "ab"),
    ("DCS, APC and PM lose their ESC", "\x1bPq\x1b\\\x1b_a\x1b\\\x1b^p\x1b\\", "Pq\\_a\\^p\\"),
    ("lone surrogates from JSON", "a\ud800b\udfffc", "a\ufffdb\ufffdc"),
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
    assert escape_controls("a\ud800") == "a\\ud800"


def test_clean_leaves_text_that_any_utf8_output_can_write() -> None:
    """A lone surrogate (JSON lets a server or a file send one) would fail the write to a terminal mid-reply."""
    assert clean("\ud83d x \udca9").encode("utf-8") == "\ufffd x \ufffd".encode("utf-8")
    assert clean("\U0001f44b") == "\U0001f44b"  # a real pair, as Python holds it, is one character and stays


def test_clean_data_cleans_every_string_value_of_a_parsed_file() -> None:
    parsed = {"k\x1b": ["v\u202e", {"n": "\x9b1m", "x": 1, "ok": True}], "plain": "[b]x[/b]\n\tz"}
    assert clean_data(parsed) == {"k\x1b": ["v", {"n": "1m", "x": 1, "ok": True}], "plain": "[b]x[/b]\n\tz"}
