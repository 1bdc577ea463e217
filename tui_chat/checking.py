"""One way to describe and check a settings file: a rule per key, each problem named by file, line and key path.

A file kind (the config and its `[voice]`, `[providers.*]` and `[tools.*]` tables, a theme file)
is described as a mapping of key -> `Rule`; `check_table` checks a parsed table against it and
returns the good values, ready for the typed model (a dataclass) of that file kind. A rule returns
the value to keep (converted where needed) or raises `Wrong` saying what it expected and, where a
value may be shown, what it got. `Problems` writes each problem as
`file:line: key.path: what is wrong; what was done`, e.g.
`config.toml:12: voice.vad_start: expected a number above 0 up to 5 s, got a string; using the default`.

Untrusted text from a file (a key, a value) is cleaned once here, where it enters a message.

Why in-house: it is stdlib only and costs nothing at start-up, where the config is read before the
first screen. pydantic adds about 150 ms to a process that defines one model, jsonschema about
90 ms, msgspec about 26 ms; and none of them gives the messages the tests define (the TOML type
without the value for keys, suggestions for misspelt keys, "using the default").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Callable, Iterable, Mapping

from .safe_text import clean

Rule = Callable[[Any], Any]
"""Checks one value: returns what to keep (maybe converted), or raises `Wrong`."""


class Wrong(ValueError):
    """A value breaks its rule; the message says what was expected (and got, where it may be shown)."""


def toml_type(value: Any) -> str:
    """The TOML name of a parsed value's type, for messages that must not show the value."""
    for kind, name in (
        (bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"),
        (dict, "a table"), (list, "an array"), (datetime, "a date-time"), (date, "a date"), (time, "a time"),
    ):  # fmt: skip
        if isinstance(value, kind):
            return name
    return type(value).__name__


def is_number(value: Any) -> bool:
    """An int or a float, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def suggest(word: str, choices: Iterable[Any]) -> str:
    """ " (did you mean 'x'?)" for the closest of `choices`, or ""."""
    import difflib  # only when a name was wrong

    close = difflib.get_close_matches(word, [str(choice) for choice in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- rules ----------------------------------------------------------------------------------------


def string(value: Any) -> str:
    """Any string."""
    if not isinstance(value, str):
        raise Wrong(f"expected a string, got {toml_type(value)}")
    return value


def non_empty_string(value: Any) -> str:
    """A string with something in it besides spaces."""
    if not isinstance(value, str) or not value.strip():
        raise Wrong(f"expected a non-empty string, got {'an empty one' if isinstance(value, str) else toml_type(value)}")
    return value


def table(value: Any) -> dict[str, Any]:
    """A TOML table, taken as it is."""
    if not isinstance(value, dict):
        raise Wrong(f"expected a table, got {toml_type(value)}")
    return value


def choice(choices: tuple[str, ...]) -> Rule:
    """One of `choices`, with a suggestion for a near miss."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise Wrong(f"expected one of {', '.join(choices)}, got {toml_type(value)}")
        if value not in choices:
            raise Wrong(f"expected one of {', '.join(choices)}, got {value!r}{suggest(value, choices)}")
        return value

    return check


def number(low: float, high: float | None = None, *, low_open: bool = False, unit: str = "", whole: bool = False) -> Rule:
    """A number from `low` (or above it, if `low_open`) up to `high`; floats unless `whole`."""
    kind = "a whole number" if whole else "a number"
    if high is None:
        bound = f"{'>' if low_open else '>='} {low:g}"
    else:
        bound = f"{'above' if low_open else 'from'} {low:g} {'up ' if low_open else ''}to {high:g}{unit}"

    def check(value: Any) -> float | int:
        if not is_number(value) or (whole and not isinstance(value, int)):
            raise Wrong(f"expected {kind} {bound}, got {toml_type(value)}")
        if not (value > low if low_open else value >= low) or (high is not None and value > high):
            raise Wrong(f"expected {kind} {bound}, got {value:g}")
        return value if whole else float(value)

    return check


def keep_type(rule: Rule) -> Rule:
    """`rule`, keeping the value as written (an int stays an int)."""

    def check(value: Any) -> Any:
        rule(value)
        return value

    return check


# --- problems -------------------------------------------------------------------------------------

_KEY_PART = r"""(?:"[^"\n]*"|'[^'\n]*'|[A-Za-z0-9_-]+)"""
_DOTTED_KEY = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_DOTTED_KEY})\s*\]")
_ASSIGNMENT = re.compile(rf"^(\s*)({_DOTTED_KEY})\s*=")


def _key_parts(dotted: str) -> tuple[str, ...]:
    """`a."b.c".d` -> ("a", "b.c", "d"); escapes in quoted keys are not decoded."""
    return tuple(part[1:-1] if part[0] in "\"'" else part for part in re.findall(_KEY_PART, dotted))


def toml_key_line(text: str, keys: tuple[str, ...]) -> int | None:
    """The line of TOML `text` where `keys` is defined, found by a line scan good enough for messages."""
    current: tuple[str, ...] = ()
    for number_, line in enumerate(text.splitlines(), start=1):
        if match := _HEADER.match(line):
            current = _key_parts(match.group(1))
            if current == keys:
                return number_
        elif (match := _ASSIGNMENT.match(line)) and current + _key_parts(match.group(2)) == keys:
            return number_
    return None


@dataclass
class Problems:
    """The problems found in one file, each as "file[:line]: key.path: message".

    `text` is the file's TOML, used to find the line of a key; without it no line is given.
    """

    source: str
    text: str | None = None
    messages: list[str] = field(default_factory=list)

    def add(self, keys: tuple[str, ...], message: str) -> None:
        line = toml_key_line(self.text, keys) if self.text is not None else None
        where = f"{self.source}:{line}" if line else self.source
        self.messages.append(clean(f"{where}: {'.'.join(keys)}: {message}"))

    def __bool__(self) -> bool:
        return bool(self.messages)


def check_table(
    value: Any,
    rules: Mapping[str, Rule],
    keys: tuple[str, ...],
    problems: Problems,
    *,
    wrong: str = "ignored",
    unknown: Callable[[str], str] | None = None,
    unknown_outcome: str = "ignored",
) -> dict[str, Any]:
    """The values of table `value` that keep their rules; every other key is a problem.

    A wrong value is named with what it should be and `wrong` (what is done instead: "ignored",
    "using the default"); an unknown key with `unknown(key)`, by default a suggestion, and
    `unknown_outcome`. An empty outcome adds nothing (the caller says what happens).
    """
    if not isinstance(value, dict):
        problems.add(keys, f"expected a table, got {toml_type(value)}; ignored")
        return {}
    good: dict[str, Any] = {}
    for key, item in value.items():
        rule = rules.get(key)
        if rule is None:
            about = unknown(key) if unknown else f"unknown setting{suggest(key, rules)}"
            problems.add((*keys, key), f"{about}; {unknown_outcome}" if unknown_outcome else about)
            continue
        try:
            good[key] = rule(item)
        except Wrong as error:
            problems.add((*keys, key), f"{error}; {wrong}" if wrong else str(error))
    return good
