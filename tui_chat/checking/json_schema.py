"""`rules_from_json_schema`: the JSON Schema that tool parameters use, compiled into the checker's rules.

Tool parameters (from packs, the built-in tools and MCP servers) are JSON Schema and stay JSON
Schema; this turns a schema into one `Rule`, so a model's arguments are checked by the same
`check_table` machinery as every file, and each problem is named by its key path
(`$.files[2].name: is required`).

Checked: `type` (a name or a list), `enum`, `const`, `properties`, `required`,
`additionalProperties` (a boolean or a schema), `items` (one schema for every item), `minItems`,
`maxItems`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `minLength` and
`maxLength` (in code points), `pattern` (Python `re`, searched as JSON Schema says), `anyOf`,
`oneOf`, `allOf` and `not`. `true` is not an integer, `2.0` is.

Annotations (`description`, `title`, `default`, `examples`, `format`, ...) and keywords JSON
Schema itself does not define are ignored, as JSON Schema says. A keyword that constrains values
but is not checked here (`$ref`, `patternProperties`, `uniqueItems`, ...), or a keyword with a
value of the wrong kind, raises `UnsupportedSchema` when the schema is compiled: a tool whose
arguments cannot be checked faithfully is refused, never run with part of its schema ignored.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from .json_rules import (
    any_value,
    array_of,
    article,
    is_type,
    json_equal,
    json_type,
    object_of,
    shown,
    when,
)
from .rules import Keys, Rule, Wrong

_UNCHECKED = frozenset({
    "$ref", "$dynamicRef", "patternProperties", "propertyNames", "unevaluatedProperties", "unevaluatedItems",
    "prefixItems", "contains", "minContains", "maxContains", "uniqueItems", "multipleOf", "minProperties",
    "maxProperties", "dependentRequired", "dependentSchemas", "dependencies", "if", "then", "else",
    "additionalItems",
})  # fmt: skip
"""Keywords that constrain a value but that this compiler does not check."""


class UnsupportedSchema(ValueError):
    """A schema that cannot be checked faithfully here; the message names the keyword and where it is."""


def rules_from_json_schema(schema: Mapping[str, Any] | bool) -> Rule:
    """One rule that checks a decoded value against `schema`; `Wrong` lists every problem with its key path."""
    return _compile(schema, "#")


def _compile(schema: Any, where: str) -> Rule:
    if schema is True:
        return any_value
    if schema is False:
        return _refuse
    if not isinstance(schema, Mapping):
        raise UnsupportedSchema(f"{where}: a schema must be an object or a boolean, not {json_type(schema)}")
    for keyword in schema:
        if keyword in _UNCHECKED:
            raise UnsupportedSchema(f"{where}: {keyword!r} is not supported")
    kinds = _type_names(schema, where)
    checks = [
        *_value_checks(schema, where),
        *_number_checks(schema, where),
        *_size_checks(schema, where, "minLength", "maxLength", "character", "string"),
        *_size_checks(schema, where, "minItems", "maxItems", "item", "array"),
        *_pattern_checks(schema, where),
        *_object_checks(schema, where),
        *_array_checks(schema, where),
        *_combined_checks(schema, where),
    ]
    wanted = article(" or ".join(kinds))
    rest = _all_of(checks)

    def check(value: Any) -> Any:
        if kinds and not any(is_type(value, kind) for kind in kinds):
            raise Wrong(f"must be {wanted}, not {json_type(value)}")
        return rest(value)

    return check


def _refuse(value: Any) -> Any:
    raise Wrong("is not allowed")


def _type_names(schema: Mapping[str, Any], where: str) -> list[str]:
    kinds = schema.get("type")
    if kinds is None:
        return []
    names = [kinds] if isinstance(kinds, str) else kinds
    known = ("null", "boolean", "integer", "number", "string", "array", "object")
    if not isinstance(names, list) or not all(name in known for name in names):
        raise UnsupportedSchema(f"{where}/type: must be a JSON type name or a list of them")
    return names


def _number(schema: Mapping[str, Any], keyword: str, where: str) -> float | None:
    bound = schema.get(keyword)
    if bound is not None and not is_type(bound, "number"):
        raise UnsupportedSchema(f"{where}/{keyword}: must be a number, not {json_type(bound)}")
    return bound


def _value_checks(schema: Mapping[str, Any], where: str) -> list[Rule]:
    checks = []
    if "const" in schema:
        const = schema["const"]
        checks.append(when(lambda value: json_equal(value, const), f"must be {shown(const)}"))
    if "enum" in schema:
        options = schema["enum"]
        if not isinstance(options, list):
            raise UnsupportedSchema(f"{where}/enum: must be an array")
        listed = ", ".join(shown(option) for option in options[:10]) + (", ..." if len(options) > 10 else "")
        checks.append(when(lambda value: any(json_equal(value, o) for o in options), lambda value: f"must be one of {listed}, not {shown(value)}"))
    return checks


def _number_checks(schema: Mapping[str, Any], where: str) -> list[Rule]:
    checks = []
    for keyword, test, words in (
        ("minimum", lambda v, b: v >= b, "at least"),
        ("maximum", lambda v, b: v <= b, "at most"),
        ("exclusiveMinimum", lambda v, b: v > b, "more than"),
        ("exclusiveMaximum", lambda v, b: v < b, "less than"),
    ):
        if (bound := _number(schema, keyword, where)) is not None:
            rule = when(lambda v, t=test, b=bound: t(v, b), lambda v, w=words, b=bound: f"must be {w} {b}, not {shown(v)}")
            checks.append(_for_type("number", rule))
    return checks


def _size_checks(schema: Mapping[str, Any], where: str, low: str, high: str, unit: str, kind: str) -> list[Rule]:
    checks = []
    if (bound := _number(schema, low, where)) is not None:
        least = f"must have at least {_count(bound, unit)}"
        checks.append(_for_type(kind, when(lambda v, b=bound: len(v) >= b, lambda v, m=least: f"{m}, not {len(v)}")))
    if (bound := _number(schema, high, where)) is not None:
        most = f"must have at most {_count(bound, unit)}"
        checks.append(_for_type(kind, when(lambda v, b=bound: len(v) <= b, lambda v, m=most: f"{m}, not {len(v)}")))
    return checks


def _pattern_checks(schema: Mapping[str, Any], where: str) -> list[Rule]:
    if "pattern" not in schema:
        return []
    try:
        pattern = re.compile(schema["pattern"])
    except (re.error, TypeError) as error:
        raise UnsupportedSchema(f"{where}/pattern: not a regular expression Python reads: {error}") from None
    return [_for_type("string", when(lambda v: pattern.search(v) is not None, f"must match the pattern {shown(pattern.pattern)}"))]


def _object_checks(schema: Mapping[str, Any], where: str) -> list[Rule]:
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    extra = schema.get("additionalProperties", True)
    if not isinstance(properties, Mapping):
        raise UnsupportedSchema(f"{where}/properties: must be an object")
    if not (isinstance(required, list) and all(isinstance(name, str) for name in required)):
        raise UnsupportedSchema(f"{where}/required: must be an array of names")
    if not (properties or required or "additionalProperties" in schema):
        return []
    rules = {name: _compile(sub, f"{where}/properties/{name}") for name, sub in properties.items()}
    known = ", ".join(properties) or "none"
    whole = object_of(
        rules,
        required=required,
        other=None if extra is False else _compile(extra, f"{where}/additionalProperties"),
        unknown=lambda _key: f"is not a known property (known: {known})",
    )
    return [_for_type("object", whole)]


def _array_checks(schema: Mapping[str, Any], where: str) -> list[Rule]:
    if "items" not in schema:
        return []
    if isinstance(schema["items"], list):
        raise UnsupportedSchema(f"{where}/items: an array of schemas is not supported")
    return [_for_type("array", array_of(_compile(schema["items"], f"{where}/items")))]


def _combined_checks(schema: Mapping[str, Any], where: str) -> list[Rule]:
    checks = []
    for keyword in ("anyOf", "oneOf", "allOf"):
        if keyword not in schema:
            continue
        parts = schema[keyword]
        if not (isinstance(parts, list) and parts):
            raise UnsupportedSchema(f"{where}/{keyword}: must be a non-empty array of schemas")
        rules = [_compile(part, f"{where}/{keyword}/{index}") for index, part in enumerate(parts)]
        checks.append(_COMBINERS[keyword](rules))
    if "not" in schema:
        refused = _compile(schema["not"], f"{where}/not")
        checks.append(when(lambda value: not _passes(refused, value), "must not match the schema under 'not'"))
    return checks


def _any_of(rules: list[Rule]) -> Rule:
    return when(lambda value: any(_passes(rule, value) for rule in rules), f"must match at least one of {len(rules)} allowed forms (anyOf)")


def _one_of(rules: list[Rule]) -> Rule:
    def check(value: Any) -> Any:
        matched = sum(_passes(rule, value) for rule in rules)
        if matched != 1:
            raise Wrong(f"must match exactly one of {len(rules)} allowed forms (oneOf), matches {matched}")
        return value

    return check


def _all_of(rules: list[Rule]) -> Rule:
    def check(value: Any) -> Any:
        inside: list[tuple[Keys, str]] = []
        for rule in rules:
            try:
                rule(value)
            except Wrong as error:
                inside += error.inside
        if inside:
            raise Wrong(inside=inside, kept=value)
        return value

    return check


_COMBINERS = {"anyOf": _any_of, "oneOf": _one_of, "allOf": _all_of}


def _for_type(kind: str, rule: Rule) -> Rule:
    """`rule` for values of JSON type `kind`; other values pass (their type is `type`'s business)."""

    def check(value: Any) -> Any:
        return rule(value) if is_type(value, kind) else value

    return check


def _passes(rule: Rule, value: Any) -> bool:
    try:
        rule(value)
    except Wrong:
        return False
    return True


def _count(bound: float, unit: str) -> str:
    amount = int(bound) if float(bound).is_integer() else bound
    return f"{amount} {unit}{'' if amount == 1 else 's'}"
