"""The `Rule` of a key, `Wrong` when a value breaks it, and the rules shared by the TOML file kinds.

A rule returns the value to keep (converted where needed) or raises `Wrong` saying what it
expected and, where a value may be shown, what it got. These messages use TOML's words ("a
table", "a float") and never show a value of the wrong type (it might be an API key).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Callable, Iterable, Sequence

Rule = Callable[[Any], Any]
"""Checks one value: returns what to keep (maybe converted), or raises `Wrong`."""


Keys = tuple[str | int, ...]
"""A key path: table keys and array indexes from the top of a file or value."""

_NOTHING_KEPT: Any = object()


class Wrong(ValueError):
    """A value breaks its rule; the message says what was expected (and got, where it may be shown).

    A rule for a nested table or array raises it with `inside`: each problem with its key path
    below the value, and with `kept`: the part of the value that kept its rules, so the checking
    goes on with it (every problem of a file is found in one pass).
    """

    def __init__(self, message: str = "", *, inside: Sequence[tuple[Keys, str]] = (), kept: Any = _NOTHING_KEPT) -> None:
        super().__init__(message or "; ".join(text for _keys, text in inside))
        self.inside: list[tuple[Keys, str]] = list(inside) or [((), message)]
        self.kept = kept

    @property
    def keeps_part(self) -> bool:
        """Whether part of the value is still good (`kept`)."""
        return self.kept is not _NOTHING_KEPT


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
