"""A key path as text (`prompts.main.variables[0].name`, `$["a b"]`), and the line of a key path in TOML or JSON text.

The lines are found by a scan of the text that is good enough for messages: the file has already
been parsed, so the scan may assume it is well formed.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring

from .rules import Keys

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def key_path(keys: Keys, root: str = "") -> str:
    """`keys` as text after `root`: plain names joined by dots, indexes and other names in brackets (JSON-quoted)."""
    text = root
    for key in keys:
        if isinstance(key, int):
            text += f"[{key}]"
        elif _PLAIN_NAME.fullmatch(key):
            text += f".{key}" if text else key
        else:
            text += f"[{json.dumps(key, ensure_ascii=True)}]"
    return text


# --- TOML -----------------------------------------------------------------------------------------

_KEY_PART = r"""(?:"[^"\n]*"|'[^'\n]*'|[A-Za-z0-9_-]+)"""
_DOTTED_KEY = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"^\s*(\[\[?)\s*({_DOTTED_KEY})\s*\]")
_ASSIGNMENT = re.compile(rf"^(\s*)({_DOTTED_KEY})\s*=")


def _key_parts(dotted: str) -> tuple[str, ...]:
    """`a."b.c".d` -> ("a", "b.c", "d"); escapes in quoted keys are not decoded."""
    return tuple(part[1:-1] if part[0] in "\"'" else part for part in re.findall(_KEY_PART, dotted))


def toml_key_line(text: str, keys: Keys) -> int | None:
    """The line of TOML `text` where `keys` is defined; an array of tables counts its tables (`a`, 0, `b`)."""
    current: Keys = ()
    tables_in: dict[tuple[str, ...], int] = {}  # array of tables -> how many seen so far

    def expand(parts: tuple[str, ...]) -> Keys:
        path: Keys = ()
        for end in range(1, len(parts) + 1):
            path += (parts[end - 1],)
            if parts[:end] in tables_in:
                path += (tables_in[parts[:end]] - 1,)
        return path

    for number, line in enumerate(text.splitlines(), start=1):
        if match := _HEADER.match(line):
            parts = _key_parts(match.group(2))
            if match.group(1) == "[[":
                tables_in[parts] = tables_in.get(parts, 0) + 1
            current = expand(parts)
            if current == keys or (match.group(1) == "[[" and current[:-1] == keys):
                return number
        elif (match := _ASSIGNMENT.match(line)) and current + _key_parts(match.group(2)) == keys:
            return number
    return None


# --- JSON -----------------------------------------------------------------------------------------

_SCALAR = re.compile(r"[^\s,\]}]+")


def json_key_line(text: str, keys: Keys) -> int | None:
    """The line of JSON `text` where the key (or the array item) at `keys` is, or None."""
    open_: list[list[str | int | None]] = []  # per open object or array: its opener and current key or index
    expecting_key = False
    at = 0
    while at < len(text):
        char = text[at]
        if char in " \t\r\n:":
            at += 1
            continue
        if char == ",":
            if open_[-1][0] == "[":
                open_[-1][1] += 1  # type: ignore[operator]
            else:
                expecting_key = True
            at += 1
            continue
        if char in "}]":
            open_.pop()
            at += 1
            continue
        if char == '"' and expecting_key:
            open_[-1][1], end = scanstring(text, at + 1)
            expecting_key = False
            if tuple(entry[1] for entry in open_) == keys:
                return text.count("\n", 0, at) + 1
            at = end
            continue
        if open_ and open_[-1][0] == "[" and tuple(entry[1] for entry in open_) == keys:
            return text.count("\n", 0, at) + 1
        if char in "{[":
            open_.append([char, None if char == "{" else 0])
            expecting_key = char == "{"
            at += 1
        elif char == '"':
            at = scanstring(text, at + 1)[1]
        else:
            at = _SCALAR.match(text, at).end()  # type: ignore[union-attr]
    return None
