"""Read a tool call's argument text, and show it to a person exactly and safely.

The model sends arguments as JSON text. That text is untrusted: it may be cut off, not JSON at
all, another JSON type than an object, or an object with a key given twice (where the value a
reader sees first is not the one that would run). Each of these is refused with a message the
model can act on. For display, the text is shown with control and bidi characters escaped, so
what a person approves is what will run.
"""

from __future__ import annotations

import json
from typing import Any

from ..safe_text import escape_controls

MAX_ARGUMENT_CHARS = 1_000_000
"""Argument text longer than this is refused before it is decoded."""


class ArgumentError(ValueError):
    """The argument text cannot be used. `str()` says why, for the model and for the screen."""


def parse_arguments(text: str) -> dict[str, Any]:
    """The arguments object in `text`; blank text is an empty object (some models send "").

    Raises `ArgumentError` for text that is too long, not JSON, cut off, not an object, or that
    gives a key twice.
    """
    if len(text) > MAX_ARGUMENT_CHARS:
        raise ArgumentError(f"the arguments are {len(text):,} characters; at most {MAX_ARGUMENT_CHARS:,} are accepted")
    if not text.strip():
        return {}
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        if error.pos >= len(text.rstrip()) or error.msg.startswith("Unterminated string"):
            raise ArgumentError(
                f"the arguments end before the JSON is complete (cut off at character {error.pos}?): {error.msg}"
            ) from None
        raise ArgumentError(
            f"the arguments are not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}"
        ) from None
    except ArgumentError:
        raise
    except RecursionError:
        raise ArgumentError("the arguments are nested too deeply") from None
    except ValueError as error:  # an integer too long to read
        raise ArgumentError(f"the arguments are not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ArgumentError(f"the arguments must be a JSON object, not {_kind(value)}")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ArgumentError(f"the arguments give the key {json.dumps(key)} more than once")
        result[key] = value
    return result


def _no_constant(name: str) -> None:
    raise ArgumentError(f"the arguments are not valid JSON: {name} is not a JSON value")


def _kind(value: Any) -> str:
    from ..checking.json_rules import json_type

    kind = json_type(value)
    return ("an " if kind[0] in "aeiou" else "a ") + kind


def pretty_arguments(text: str) -> str:
    """The arguments as indented JSON with control and bidi characters shown escaped.

    Text that cannot be decoded is shown as it is, escaped the same way.
    """
    try:
        value = parse_arguments(text)
    except ArgumentError:
        return escape_controls(text)
    return escape_controls(json.dumps(value, indent=2, ensure_ascii=False))


def shown_arguments(text: str) -> str:
    """The exact argument text, with control and bidi characters shown escaped."""
    return escape_controls(text)
