"""The one checker itself: its rules, tables, key paths and lines, and the JSON Schema compiler against jsonschema."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

import jsonschema
import pytest

from tui_chat.checking import (
    Problems,
    Wrong,
    check_table,
    choice,
    keep_type,
    non_empty_string,
    number,
    string,
    table,
)
from tui_chat.checking.json_rules import array_of, in_range, matching, object_of, typed
from tui_chat.checking.json_schema import UnsupportedSchema, rules_from_json_schema
from tui_chat.checking.paths import json_key_line, key_path, toml_key_line
from tui_chat.checking.tables import check_value

# --- rules ----------------------------------------------------------------------------------------


def _wrong(rule: Any, value: Any) -> str:
    with pytest.raises(Wrong) as caught:
        rule(value)
    return str(caught.value)


def test_string_rules() -> None:
    assert string("x") == "x"
    assert _wrong(string, 3) == "expected a string, got an integer"
    assert non_empty_string(" a ") == " a "
    assert _wrong(non_empty_string, "  ") == "expected a non-empty string, got an empty one"
    assert _wrong(non_empty_string, [1]) == "expected a non-empty string, got an array"


def test_table_rule() -> None:
    assert table({"a": 1}) == {"a": 1}
    assert _wrong(table, "x") == "expected a table, got a string"


def test_choice_suggests_a_near_miss_and_never_shows_a_wrong_type() -> None:
    rule = choice(("ask", "auto", "deny"))
    assert rule("auto") == "auto"
    assert _wrong(rule, "atuo") == "expected one of ask, auto, deny, got 'atuo' (did you mean 'auto'?)"
    assert _wrong(rule, 1) == "expected one of ask, auto, deny, got an integer"


def test_number_bounds_kinds_and_conversion() -> None:
    open_low = number(0, 5, low_open=True, unit=" s")
    assert open_low(2) == 2.0 and isinstance(open_low(2), float)
    assert _wrong(open_low, 0) == "expected a number above 0 up to 5 s, got 0"
    assert _wrong(open_low, 5.5) == "expected a number above 0 up to 5 s, got 5.5"
    assert _wrong(open_low, True) == "expected a number above 0 up to 5 s, got a boolean"
    whole = number(1, whole=True)
    assert whole(3) == 3 and _wrong(whole, 1.5) == "expected a whole number >= 1, got a float"
    assert _wrong(whole, 0) == "expected a whole number >= 1, got 0"


def test_keep_type_keeps_the_value_as_written() -> None:
    rule = keep_type(number(0, 10))
    assert rule(3) == 3 and isinstance(rule(3), int)
    assert _wrong(rule, 11) == "expected a number from 0 to 10, got 11"


# --- tables ---------------------------------------------------------------------------------------


@dataclass
class _Voice:
    rate: float = 1.0
    mode: str = "ask"


def test_wrong_values_leave_the_defaults_and_unknown_keys_get_a_suggestion() -> None:
    problems = Problems("c.toml")
    rules = {"rate": number(0, 2), "mode": choice(("ask", "auto"))}
    good = check_table({"rate": 9, "mode": "auto", "rtae": 1}, rules, ("voice",), problems, wrong="using the default")
    assert _Voice(**good) == _Voice(rate=1.0, mode="auto")
    assert problems.messages == [
        "c.toml: voice.rate: expected a number from 0 to 2, got 9; using the default",
        "c.toml: voice.rtae: unknown setting (did you mean 'rate'?); ignored",
    ]


def test_a_table_that_is_not_a_table_is_one_problem() -> None:
    problems = Problems("c.toml")
    assert check_table([1], {}, ("voice",), problems) == {}
    assert problems.messages == ["c.toml: voice: expected a table, got an array; ignored"]


def test_nested_tables_and_arrays_keep_their_good_parts_and_name_each_problem() -> None:
    rule = object_of(
        {"items": array_of(object_of({"id": typed("integer"), "n": in_range("integer", 1)}, required=("id",))), "name": typed("string")},
        required=("name",),
    )
    problems = Problems(root="$")
    kept = check_value({"items": [{"id": 1, "n": 0}, {"n": 3}, "x"], "extra": 1}, rule, (), problems)
    assert kept == {"items": [{"id": 1}, {"n": 3}]}
    assert problems.messages == [
        "$.items[0].n: 0 is out of range: it must be at least 1",
        "$.items[1].id: is required",
        "$.items[2]: must be an object, not string",
        "$.extra: is not a known key",
        "$.name: is required",
    ]


def test_matching_shows_the_value_and_what_was_expected() -> None:
    assert _wrong(matching(r"[a-z]+", "a lowercase word"), "Ab") == "'Ab' is not a lowercase word"
    assert _wrong(matching(r"[a-z]+", "a lowercase word"), 3) == "must be a string, not integer"


def test_messages_are_cleaned_of_terminal_controls() -> None:
    problems = Problems("f\x1b[31m.toml")
    problems.add(("k\x1b]8;;x\x07",), "bad\u202e")
    (message,) = problems.messages
    assert "\x1b" not in message and "\u202e" not in message and "\x07" not in message


# --- key paths and lines --------------------------------------------------------------------------


def test_key_paths() -> None:
    assert key_path(("voice", "vad_start")) == "voice.vad_start"
    assert key_path(("prompts", "main", "variables", 0, "name")) == "prompts.main.variables[0].name"
    assert key_path(("a b", "c"), "$") == '$["a b"].c'
    assert key_path((), "$") == "$"
    assert key_path(("tools-demo",)) == "tools-demo"


TOML = """\
name = "top"
[voice]
name = "v"          # `name` again, in another table
"quoted.key" = 1
[providers.openai]
name = "p"
[providers."my host"]
url = "http://x"
inline = { depth = 2 }
[[servers]]
name = "first"
[[servers]]
name = "second"
[servers.env]
HOME = "/h"
"""


@pytest.mark.parametrize(
    ("keys", "line"),
    [
        (("name",), 1),
        (("voice",), 2),
        (("voice", "name"), 3),
        (("voice", "quoted.key"), 4),
        (("providers", "openai", "name"), 6),
        (("providers", "my host"), 7),
        (("providers", "my host", "url"), 8),
        (("providers", "my host", "inline"), 9),
        (("servers",), 10),
        (("servers", 0, "name"), 11),
        (("servers", 1), 12),
        (("servers", 1, "name"), 13),
        (("servers", 1, "env", "HOME"), 15),
        (("voice", "absent"), None),
    ],
)
def test_toml_lines(keys: tuple[Any, ...], line: int | None) -> None:
    tomllib.loads(TOML)  # the text is real TOML
    assert toml_key_line(TOML, keys) == line


def test_a_key_inside_an_inline_table_is_named_at_the_line_of_its_table() -> None:
    problems = Problems("c.toml", TOML)
    problems.add(("providers", "my host", "inline", "depth"), "wrong")
    assert problems.messages == ['c.toml:9: providers["my host"].inline.depth: wrong']


JSON = """{
  "name": "top",
  "prompts": {
    "main": {"name": "m", "tools": ["a",
       "b"]},
    "odd \\"key\\"": {
      "name": "o",
      "variables": [{"name": "v"}, {}, {"name": "w"}]
    }
  },
  "name2": [[1, 2], [3,
  4]]
}"""


@pytest.mark.parametrize(
    ("keys", "line"),
    [
        (("name",), 2),
        (("prompts",), 3),
        (("prompts", "main", "name"), 4),
        (("prompts", "main", "tools", 0), 4),
        (("prompts", "main", "tools", 1), 5),
        (("prompts", 'odd "key"'), 6),
        (("prompts", 'odd "key"', "name"), 7),
        (("prompts", 'odd "key"', "variables", 2, "name"), 8),
        (("name2", 1, 1), 12),
        (("prompts", "absent"), None),
    ],
)
def test_json_lines(keys: tuple[Any, ...], line: int | None) -> None:
    assert json_key_line(JSON, keys) == line


def test_a_missing_key_is_named_at_its_table() -> None:
    problems = Problems("p.json", JSON, "json")
    problems.add(("prompts", "main", "id"), "is required")
    assert problems.messages == ["p.json:4: prompts.main.id: is required"]


# --- JSON Schema, against jsonschema --------------------------------------------------------------

SCHEMAS: list[tuple[Any, list[Any]]] = [
    (True, [1, None, {}]),
    (False, [1, None]),
    ({"type": "integer"}, [1, 2.0, 1.5, True, "1", None]),
    ({"type": ["string", "null"]}, ["a", None, 0]),
    ({"type": "number", "minimum": 0, "exclusiveMaximum": 10}, [0, -0.1, 9.99, 10, "5"]),
    ({"maximum": 3, "exclusiveMinimum": 1}, [1, 2, 3, 4, "any string"]),
    ({"type": "string", "minLength": 2, "maxLength": 3}, ["a", "ab", "abc", "abcd", "éé"]),
    ({"type": "string", "pattern": "^[a-z]+$"}, ["abc", "aBc", ""]),
    ({"pattern": "b"}, ["abc", "xyz", 12]),
    ({"enum": ["a", 1, None, [1, 2]]}, ["a", 1, 1.0, True, None, [1, 2], [2, 1], "b"]),
    ({"const": {"a": [1, True]}}, [{"a": [1, True]}, {"a": [1, 1]}, {"a": [1.0, True]}]),
    ({"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 2}, [[], [1], [1, 2], [1, 2, 3], [1, "x"]]),
    (
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"], "additionalProperties": False},
        [{"a": "x"}, {}, {"a": 1}, {"a": "x", "b": 1}, [], "a"],
    ),
    (
        {"type": "object", "properties": {"a": {}}, "additionalProperties": {"type": "integer"}},
        [{"a": "x", "b": 1}, {"b": "x"}, {}],
    ),
    ({"required": ["a"]}, [{"a": 1}, {}, "not an object"]),
    ({"properties": {"a": False}}, [{}, {"a": 1}]),
    ({"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 5}]}, ["x", 5, 4, None]),
    ({"oneOf": [{"type": "integer"}, {"minimum": 10}]}, [3, 12, 10.5, "x"]),
    ({"allOf": [{"minimum": 1}, {"maximum": 3}]}, [0, 2, 4]),
    ({"not": {"type": "string"}}, ["x", 1]),
    (
        {
            "type": "object",
            "properties": {
                "files": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"name": {"type": "string", "minLength": 1}, "mode": {"enum": ["r", "w"]}},
                        "required": ["name"],
                    },
                }
            },
        },
        [{"files": [{"name": "a"}, {"name": "b", "mode": "w"}]}, {"files": [{"name": ""}]}, {"files": [{"mode": "x"}]}],
    ),
    ({"description": "d", "title": "t", "default": 1, "format": "email", "x-extra": 1}, ["not an email", 3]),
]
CROSS = [(schema, value) for schema, values in SCHEMAS for value in values]


@pytest.mark.parametrize(("schema", "value"), CROSS, ids=[f"{i}" for i in range(len(CROSS))])
def test_the_compiler_agrees_with_jsonschema(schema: Any, value: Any) -> None:
    expected = jsonschema.Draft202012Validator(schema).is_valid(value)
    problems = Problems(root="$")
    check_value(value, rules_from_json_schema(schema), (), problems)
    assert (not problems) == expected, problems.messages


def test_both_sides_of_the_cross_check_are_exercised() -> None:
    verdicts = {jsonschema.Draft202012Validator(schema).is_valid(value) for schema, value in CROSS}
    assert verdicts == {True, False}


def test_schema_problems_have_the_shape_of_every_other_problem() -> None:
    schema = SCHEMAS[-2][0]
    problems = Problems(root="$")
    check_value({"files": [{"name": "", "mode": "x"}, {}]}, rules_from_json_schema(schema), (), problems)
    assert problems.messages == [
        "$.files[0].name: must have at least 1 character, not 0",
        '$.files[0].mode: must be one of "r", "w", not "x"',
        "$.files[1].name: is required",
    ]


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "array", "uniqueItems": True},
        {"$ref": "#/$defs/a"},
        {"type": "object", "properties": {"a": {"patternProperties": {"x": {}}}}},
        {"type": "number", "minimum": "1"},
        {"type": "strings"},
        {"pattern": "("},
        {"items": [{"type": "string"}]},
        "not a schema",
    ],
)
def test_constraints_that_are_not_checked_refuse_the_schema(schema: Any) -> None:
    with pytest.raises(UnsupportedSchema):
        rules_from_json_schema(schema)
