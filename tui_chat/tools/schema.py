"""Check decoded JSON against the subset of JSON Schema that tool parameters use.

Supported keywords: `type` (a name or a list of names), `enum`, `const`, `properties`, `required`,
`additionalProperties` (a boolean or a schema), `items` (one schema for every item), `minItems`,
`maxItems`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `minLength` and
`maxLength` (counted in code points). Other keywords (`description`, `default`, `title`, ...) are
ignored, as are keywords this subset does not cover (`pattern`, `anyOf`, ...): they are never
a reason to refuse a call. `true` is not an integer here, as in JSON Schema; `2.0` is.

Each problem is reported with the path of the value it is about: `$` is the whole arguments
object, `$.files[2].name` a value inside it.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Mapping

_SIMPLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_SHOWN = 60


def validate(value: Any, schema: Mapping[str, Any] | bool) -> list[str]:
    """Every way `value` breaks `schema`, each as "<path>: <what is wrong>"; [] when it conforms."""
    problems: list[str] = []
    _check(value, schema, "$", problems)
    return problems


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


def _is_type(value: Any, name: str) -> bool:
    kind = json_type(value)
    if name == "number":
        return kind in ("integer", "number")
    if name == "integer":
        return kind == "integer" or (kind == "number" and math.isfinite(value) and float(value).is_integer())
    return kind == name


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if _SIMPLE_NAME.fullmatch(key) else f"{path}[{json.dumps(key, ensure_ascii=True)}]"


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _number(schema: Mapping[str, Any], key: str) -> float | None:
    bound = schema.get(key)
    return bound if _is_type(bound, "number") else None


def _check(value: Any, schema: Mapping[str, Any] | bool, path: str, problems: list[str]) -> None:
    if schema is False:
        problems.append(f"{path}: is not allowed")
        return
    if not isinstance(schema, Mapping):
        return
    expected = schema.get("type")
    if expected is not None:
        names = [expected] if isinstance(expected, str) else [n for n in expected if isinstance(n, str)]
        if names and not any(_is_type(value, name) for name in names):
            wanted = " or ".join(names)
            problems.append(f"{path}: must be {_article(wanted)}, not {json_type(value)}")
            return
    if "const" in schema and not _equal(value, schema["const"]):
        problems.append(f"{path}: must be {_shown(schema['const'])}")
    enum = schema.get("enum")
    if isinstance(enum, list) and not any(_equal(value, option) for option in enum):
        options = ", ".join(_shown(option) for option in enum[:10]) + (", ..." if len(enum) > 10 else "")
        problems.append(f"{path}: must be one of {options}, not {_shown(value)}")
    kind = json_type(value)
    if kind in ("integer", "number"):
        _check_number(value, schema, path, problems)
    elif kind == "string":
        _check_length(len(value), schema, "minLength", "maxLength", "character", path, problems)
    elif kind == "array":
        _check_length(len(value), schema, "minItems", "maxItems", "item", path, problems)
        items = schema.get("items")
        if isinstance(items, (Mapping, bool)):
            for index, item in enumerate(value):
                _check(item, items, f"{path}[{index}]", problems)
    elif kind == "object":
        _check_object(value, schema, path, problems)


def _check_number(value: float, schema: Mapping[str, Any], path: str, problems: list[str]) -> None:
    if (bound := _number(schema, "minimum")) is not None and value < bound:
        problems.append(f"{path}: must be at least {bound}, not {_shown(value)}")
    if (bound := _number(schema, "maximum")) is not None and value > bound:
        problems.append(f"{path}: must be at most {bound}, not {_shown(value)}")
    if (bound := _number(schema, "exclusiveMinimum")) is not None and value <= bound:
        problems.append(f"{path}: must be more than {bound}, not {_shown(value)}")
    if (bound := _number(schema, "exclusiveMaximum")) is not None and value >= bound:
        problems.append(f"{path}: must be less than {bound}, not {_shown(value)}")


def _check_length(
    size: int, schema: Mapping[str, Any], low: str, high: str, unit: str, path: str, problems: list[str]
) -> None:
    if (bound := _number(schema, low)) is not None and size < bound:
        problems.append(f"{path}: must have at least {_count(bound, unit)}, not {size}")
    if (bound := _number(schema, high)) is not None and size > bound:
        problems.append(f"{path}: must have at most {_count(bound, unit)}, not {size}")


def _check_object(value: dict[str, Any], schema: Mapping[str, Any], path: str, problems: list[str]) -> None:
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = schema.get("required")
    for name in required if isinstance(required, list) else ():
        if isinstance(name, str) and name not in value:
            problems.append(f"{_child(path, name)}: is required")
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        if key in properties:
            _check(item, properties[key], _child(path, key), problems)
        elif extra is False:
            known = ", ".join(properties) or "none"
            problems.append(f"{_child(path, key)}: is not a known property (known: {known})")
        elif isinstance(extra, Mapping):
            _check(item, extra, _child(path, key), problems)


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but true != 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b or (_is_type(a, "number") and _is_type(b, "number") and a == b)


def _article(name: str) -> str:
    return ("an " if name[:1] in "aeiou" else "a ") + name


def _count(bound: float, unit: str) -> str:
    amount = int(bound) if float(bound).is_integer() else bound
    return f"{amount} {unit}{'' if amount == 1 else 's'}"
