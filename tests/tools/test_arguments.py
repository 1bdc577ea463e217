"""Argument text from the model is read strictly and shown escaped, exactly as it will run."""

from __future__ import annotations

import pytest

from tui_chat.tools.arguments import ArgumentError, parse_arguments, pretty_arguments, shown_arguments


@pytest.mark.parametrize("text", ["", "  ", "{}"])
def test_blank_or_empty_is_an_empty_object(text: str) -> None:
    assert parse_arguments(text) == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"expression": "1+', "end before the JSON is complete"),
        ('{"a": 1', "end before the JSON is complete"),
        ("{'a': 1}", "not valid JSON"),
        ('{"a": 1} trailing', "not valid JSON"),
        ("[1, 2]", "must be a JSON object, not an array"),
        ('"text"', "must be a JSON object, not a string"),
        ('{"a": NaN}', "NaN is not a JSON value"),
        ('{"command": "ls", "command": "rm -rf ~"}', 'key "command" more than once'),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_unusable_text_is_refused_with_a_reason(text: str, expected: str) -> None:
    with pytest.raises(ArgumentError, match=expected):
        parse_arguments(text)


def test_huge_text_is_refused_before_decoding() -> None:
    with pytest.raises(ArgumentError, match="at most"):
        parse_arguments('{"a": "' + "x" * 1_000_001 + '"}')


def test_controls_and_bidi_are_shown_escaped() -> None:
    text = '{"path": "a\\u001b[31mred", "name": "\u202egnp.exe", "osc": "\\u001b]8;;http://x\\u0007"}'
    pretty = pretty_arguments(text)
    assert "\x1b" not in pretty and "\u202e" not in pretty and "\x07" not in pretty
    assert "\\u202e" in pretty and "\\u001b[31m" in pretty
    assert "\\u202e" in shown_arguments(text)
    assert parse_arguments(text)["path"] == "a\x1b[31mred"  # still the exact value that would run


def test_raw_c1_controls_in_text_are_escaped() -> None:
    assert shown_arguments('{"a": "\x9b31m"}') == '{"a": "\\x9b31m"}'
    assert "\\x9b" in pretty_arguments('{"a": "\x9b31m"}')
