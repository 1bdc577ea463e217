"""JSON type names and the JSON-worded rules, shared by the PromptPack tables and the JSON Schema compiler.

Messages here say "must be a string, not integer", in JSON's words; they may show a value (JSON
files hold no secrets), shortened.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Callable, Iterable, Mapping

from .problems import Problems
from .rules import Keys, Rule, Wrong
from .tables import check_table

_MAX_SHOWN = 60


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value: null, boolean, integer, number, string, array, object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def is_type(value: Any, kind: str) -> bool:
    """Whether `value` has JSON Schema type `kind`: `true` is not an integer, `2.0` is."""
    actual = json_type(value)
    if kind == "number":
        return actual in ("integer", "number")
    if kind == "integer":
        return actual == "integer" or (actual == "number" and math.isfinite(value) and float(value).is_integer())
    return actual == kind


def article(kind: str) -> str:
    """"an object", "a string"."""
    return f"an {kind}" if kind[:1] in "aeiou" else f"a {kind}"


def shown(value: Any) -> str:
    """A value as JSON, shortened for a message."""
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if is_type(a, "number") and is_type(b, "number"):
        return bool(a == b)
    return type(a) is type(b) and a == b


def did_you_mean(name: str, choices: Iterable[Any]) -> str:
    """ "; did you mean 'x'?" for the closest (up to three) of `choices`, or ""."""
    import difflib  # only when a name was wrong

    close = difflib.get_close_matches(name, [str(choice) for choice in choices], n=3, cutoff=0.6)
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""


# --- rules ----------------------------------------------------------------------------------------


def any_value(value: Any) -> Any:
    """Anything, kept as it is."""
    return value


def typed(*kinds: str) -> Rule:
    """A value of one of the JSON types `kinds`."""
    wanted = article(" or ".join(kinds))

    def check(value: Any) -> Any:
        if not any(is_type(value, kind) for kind in kinds):
            raise Wrong(f"must be {wanted}, not {json_type(value)}")
        return value

    return check


def all_of(*rules: Rule) -> Rule:
    """Each of `rules` in turn, each given what the one before kept; stops at the first that fails."""

    def check(value: Any) -> Any:
        for rule in rules:
            value = rule(value)
        return value

    return check


def when(test: Callable[[Any], bool], problem: str | Callable[[Any], str]) -> Rule:
    """A value for which `test` holds; else `problem`, or what `problem(value)` says about it."""

    def check(value: Any) -> Any:
        if not test(value):
            raise Wrong(problem if isinstance(problem, str) else problem(value))
        return value

    return check


def matching(pattern: str, what: str) -> Rule:
    """A string that matches `pattern` in full; else "'x' is not `what`"."""
    compiled = re.compile(pattern)
    return all_of(typed("string"), when(lambda value: bool(compiled.fullmatch(value)), lambda value: f"{value!r} is not {what}"))


non_empty: Rule = all_of(typed("string"), when(bool, "must not be empty"))
"""A string with something in it."""


def one_of(choices: Iterable[str]) -> Rule:
    """A string among `choices`."""
    listed = tuple(choices)
    return when(lambda value: value in listed, "must be one of " + ", ".join(listed))


def in_range(kind: str, low: float | None = None, high: float | None = None) -> Rule:
    """A number of JSON type `kind` from `low` to `high` (None: no bound)."""
    bounds = f"at least {low}" if high is None else f"between {low} and {high}"
    return all_of(
        typed(kind),
        when(
            lambda value: (low is None or value >= low) and (high is None or value <= high),
            lambda value: f"{value} is out of range: it must be {bounds}",
        ),
    )


def object_of(
    rules: Mapping[str, Rule],
    *,
    required: Iterable[str] = (),
    other: Rule | None = None,
    unknown: Callable[[str], str] | None = None,
) -> Rule:
    """A JSON object checked by `check_table`: its good part is kept, each problem is named at its key."""
    name_unknown = unknown or (lambda key: "is not a known key" + did_you_mean(key, rules))
    needed = tuple(required)

    def check(value: Any) -> dict[str, Any]:
        typed("object")(value)
        problems = Problems()
        good = check_table(value, rules, (), problems, wrong="", unknown=name_unknown, unknown_outcome="", other=other, required=needed)
        if problems:
            raise Wrong(inside=problems.found, kept=good)
        return good

    return check


def array_of(rule: Rule) -> Rule:
    """A JSON array whose items each keep `rule`; the good items are kept."""

    def check(value: Any) -> list[Any]:
        typed("array")(value)
        inside: list[tuple[Keys, str]] = []
        good: list[Any] = []
        for index, item in enumerate(value):
            try:
                good.append(rule(item))
            except Wrong as error:
                inside += [((index, *keys), message) for keys, message in error.inside]
                if error.keeps_part:
                    good.append(error.kept)
        if inside:
            raise Wrong(inside=inside, kept=good)
        return good

    return check
