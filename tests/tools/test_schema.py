"""The small JSON-Schema checker agrees with jsonschema on the subset tool schemas use."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from tui_chat.tools.schema import validate

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 5},
        "count": {"type": "integer", "minimum": 1, "maximum": 10},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "mode": {"enum": ["fast", "slow"]},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
        "flag": {"type": "boolean"},
        "nested": {
            "type": "object",
            "properties": {"x": {"type": ["integer", "null"]}},
            "required": ["x"],
            "additionalProperties": {"type": "string"},
        },
    },
    "required": ["name"],
    "additionalProperties": False,
}

CASES = [
    {"name": "ab"},
    {"name": "ab", "count": 3, "ratio": 0.5, "mode": "fast", "tags": ["a"], "flag": True},
    {"name": "ab", "count": 2.0},
    {"name": "ab", "nested": {"x": None, "other": "s"}},
    {},
    {"name": ""},
    {"name": "toolong"},
    {"name": 3},
    {"name": "ab", "count": 0},
    {"name": "ab", "count": 11},
    {"name": "ab", "count": 1.5},
    {"name": "ab", "count": True},
    {"name": "ab", "ratio": 0},
    {"name": "ab", "ratio": 1},
    {"name": "ab", "mode": "medium"},
    {"name": "ab", "tags": []},
    {"name": "ab", "tags": ["a", "b", "c"]},
    {"name": "ab", "tags": ["a", 1]},
    {"name": "ab", "flag": "yes"},
    {"name": "ab", "extra": 1},
    {"name": "ab", "nested": {}},
    {"name": "ab", "nested": {"x": "1"}},
    {"name": "ab", "nested": {"x": 1, "other": 2}},
    ["not", "an", "object"],
    None,
]


@pytest.mark.parametrize("value", CASES)
def test_agrees_with_jsonschema(value: Any) -> None:
    expected = jsonschema.Draft202012Validator(SCHEMA).is_valid(value)
    assert (validate(value, SCHEMA) == []) == expected


def test_problems_name_the_path_and_the_fault() -> None:
    problems = validate({"count": "3", "tags": ["a", 1], "nested": {"x": 1, "other": 2}, "bad": 0}, SCHEMA)
    assert "$.name: is required" in problems
    assert "$.count: must be an integer, not string" in problems
    assert "$.tags[1]: must be a string, not integer" in problems
    assert "$.nested.other: must be a string, not integer" in problems
    assert any(p.startswith("$.bad: is not a known property") for p in problems)


def test_odd_keys_are_quoted_in_paths() -> None:
    schema = {"type": "object", "properties": {"a b": {"type": "string"}}}
    assert validate({"a b": 1}, schema) == ['$["a b"]: must be a string, not integer']


def test_lengths_count_characters_not_bytes() -> None:
    assert validate("ééééé", {"type": "string", "maxLength": 5}) == []


def test_annotations_and_keywords_json_schema_does_not_define_are_ignored() -> None:
    assert validate("x", {"type": "string", "format": "email", "description": "d", "x-vendor": 1}) == []


def test_pattern_is_checked_as_a_search() -> None:
    assert validate("xyz", {"type": "string", "pattern": "y"}) == []
    assert validate("x", {"type": "string", "pattern": "^y$"}) == ['$: must match the pattern "^y$"']


def test_a_constraint_that_is_not_checked_refuses_the_call() -> None:
    (problem,) = validate([1, 1], {"type": "array", "uniqueItems": True})
    assert problem.startswith("$: ") and "'uniqueItems' is not supported" in problem


def test_false_schema_refuses_everything() -> None:
    assert validate({"a": 1}, {"type": "object", "properties": {"a": False}}) == ["$.a: is not allowed"]
