"""The `{{variable}}` template engine: fragments expanded, variables filled in and checked against their rules.

Fragments are expanded recursively and may contain variables; variable values are inserted
literally and never expanded again. A placeholder with no value is left as it is. Expansion is
bounded (size, placeholders, depth), so a hostile pack cannot blow up.
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any, Mapping

from ..checking.json_rules import article, did_you_mean, is_type
from .json_values import json_text, reject_constant, shorten

if TYPE_CHECKING:
    from .model import Variable

MAX_RENDERED_CHARS = 1_000_000  # fragments that expand to each other many times over are refused
MAX_PLACEHOLDERS = 10_000  # ... or that use a very great many placeholders
MAX_FRAGMENT_DEPTH = 32
PLACEHOLDER = re.compile(
    r"\{\{\s*(?:fragment\s*:\s*(?P<fragment>[A-Za-z0-9_.-]+)|(?P<variable>[A-Za-z_][A-Za-z0-9_]*))\s*\}\}"
)


class Invalid(Exception):
    """A value or template is wrong; the message says how, the caller says where."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def fill(template: str, fragments: Mapping[str, str], values: Mapping[str, str]) -> tuple[str, set[str], set[str]]:
    """Expand fragments and substitute `values` in `template`, in one pass.

    Returns the text, the variable names it uses, and those with no value (left as written).
    Values are inserted as they are: text that looks like a placeholder inside a value stays.
    """
    parts: list[str] = []
    size = steps = 0
    used: set[str] = set()
    missing: set[str] = set()

    def emit(text: str) -> None:
        nonlocal size
        size += len(text)
        if size > MAX_RENDERED_CHARS:
            raise Invalid(f"expands to more than {MAX_RENDERED_CHARS:,} characters")
        parts.append(text)

    def walk(text: str, chain: tuple[str, ...]) -> None:
        nonlocal steps
        position = 0
        for match in PLACEHOLDER.finditer(text):
            steps += 1
            if steps > MAX_PLACEHOLDERS:
                raise Invalid(f"uses more than {MAX_PLACEHOLDERS:,} placeholders once fragments are expanded")
            emit(text[position : match.start()])
            position = match.end()
            fragment, variable = match["fragment"], match["variable"]
            if fragment is not None:
                if fragment in chain:
                    raise Invalid("fragments refer to each other in a loop: " + " -> ".join((*chain, fragment)))
                if fragment not in fragments:
                    raise Invalid(undefined_fragment(fragment, fragments))
                if len(chain) >= MAX_FRAGMENT_DEPTH:
                    raise Invalid(f"fragments are nested more than {MAX_FRAGMENT_DEPTH} deep")
                walk(fragments[fragment], (*chain, fragment))
            else:
                used.add(variable)
                if variable in values:
                    emit(values[variable])
                else:
                    missing.add(variable)
                    emit(match[0])
        emit(text[position:])

    walk(template, ())
    return "".join(parts), used, missing


def undefined_fragment(name: str, fragments: Mapping[str, str]) -> str:
    return f"refers to fragment {name!r}, which the pack does not define{did_you_mean(name, fragments)}"


def value_text(variable: Variable, value: Any) -> str:
    """`value` as it goes into the template, once checked against the variable's type and rules.

    Text is read as the variable's type ("3" for a number, "true" for a boolean, JSON for an
    object or array) and inserted as written; other JSON values are checked by type and written
    out (true, 3, {"a": 1}). Raises `Invalid` naming the variable, the value and the rule.
    """
    shown = repr(shorten(value)) if isinstance(value, str) else shorten(json_text(value))
    subject = f"variable {variable.name!r} = {shown}"
    typed = _typed(variable.type, value)
    if typed is None:
        raise Invalid(f"{subject} is not {article(variable.type)}")
    text = value if isinstance(value, str) else json_text(typed)
    for rule, limit in variable.validation.items():
        broken = _breaks(rule, limit, typed, text)
        if broken:
            raise Invalid(f"{subject} {broken} (validation.{rule})")
    return text


def _typed(kind: str, value: Any) -> Any:
    """`value` as a JSON value of type `kind`, reading text where needed; None if it is not one."""
    if isinstance(value, str) and kind == "boolean":
        return {"true": True, "false": False}.get(value.strip().lower())
    if isinstance(value, str) and kind != "string":
        try:
            value = json.loads(value, parse_constant=reject_constant)
        except (ValueError, RecursionError):
            return None
    if isinstance(value, float) and not math.isfinite(value):  # 1e999 reads as infinity
        return None
    return value if is_type(value, kind) else None


def _breaks(rule: str, limit: Any, typed: Any, text: str) -> str:
    """How `typed` (written as `text`) breaks validation `rule`, or "" if it keeps it."""
    if rule == "pattern" and not re.search(limit, text):
        return f"does not match the pattern {limit!r}"
    if rule == "min_length" and len(text) < limit:
        return f"is shorter than {limit} characters"
    if rule == "max_length" and len(text) > limit:
        return f"is longer than {limit} characters"
    if rule == "minimum" and typed < limit:
        return f"is less than the minimum, {limit}"
    if rule == "maximum" and typed > limit:
        return f"is more than the maximum, {limit}"
    if rule == "enum" and not any(_same(typed, allowed) for allowed in limit):
        return "is not one of the allowed values: " + ", ".join(json_text(allowed) for allowed in limit)
    return ""


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)
