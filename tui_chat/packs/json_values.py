"""Decoded JSON values in messages: type names, short forms, key paths and suggestions."""

from __future__ import annotations

import json
import re
from typing import Any

_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def reject_constant(name: str) -> None:
    """For `json.loads(parse_constant=...)`: NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not a JSON value")


def is_type(value: Any, kind: str) -> bool:
    """Whether `value` (decoded JSON) has the JSON Schema type `kind`."""
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    return isinstance(
        value,
        {
            "string": str,
            "object": dict,
            "array": list,
            "boolean": bool,
            "integer": int,
            "number": (int, float),
        }[kind],
    )


def json_type(value: Any) -> str:
    """The JSON type name of a decoded value, for messages."""
    if value is None:
        return "null"
    for kind in ("boolean", "integer", "number", "string", "array", "object"):
        if is_type(value, kind):
            return kind
    return type(value).__name__


def article(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def join_key(path: str, key: str) -> str:
    """`path.key`, or `path['key']` when the key is not a plain name (it is shown escaped)."""
    if _SIMPLE_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def did_you_mean(name: str, choices: Any) -> str:
    """ "; did you mean 'x'?" for the closest of `choices`, or "" if none is close."""
    import difflib  # only when a name was wrong

    close = difflib.get_close_matches(name, [str(choice) for choice in choices], n=3, cutoff=0.6)
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""
