"""A PromptPack file described by rule tables, as the official schema says, plus the cross-checks tui-chat needs.

The tables follow `promptpack.schema.json`: the keys tui-chat reads are checked in full (types,
names, ranges), the ones it does not use only for their JSON type. Then what one table cannot
see: references between parts (a prompt's tools, fragments), names given twice, templates that
expand, tool parameters the checker can check. Each problem is named
`file:line: key.path: what is wrong`. Every string value of the pack reaches here already cleaned
of terminal controls (`loading.py`, where the file is read); prompt keys, which are shown as the
prompts' ids, are cleaned here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from ..checking import Problems, Rule, Wrong
from ..checking.json_rules import (
    all_of,
    any_value,
    array_of,
    in_range,
    matching,
    non_empty,
    object_of,
    one_of,
    typed,
    when,
)
from ..checking.json_schema import UnsupportedSchema, rules_from_json_schema
from ..checking.paths import key_path
from ..checking.tables import check_value
from ..chunks import ToolSpec
from ..safe_text import clean
from .model import Pack, PackPrompt, Variable
from .template import PLACEHOLDER, Invalid, fill, undefined_fragment, value_text

_SEMVER = (
    r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_IDENTIFIER = r"[A-Za-z_][A-Za-z0-9_]*"
_VERSION = matching(_SEMVER, "a semantic version like 1.0.0")
_VARIABLE_TYPES = ("string", "number", "boolean", "object", "array")
_SUPPORTED_FEATURES = ("basic_substitution", "fragments")


def _or_null(rule: Rule) -> Rule:
    """`rule`, or null."""
    return lambda value: value if value is None else rule(value)


def _checkable_schema(value: dict[str, Any]) -> dict[str, Any]:
    """Tool parameters the one checker can check the model's arguments against."""
    try:
        rules_from_json_schema(value)
    except UnsupportedSchema as error:
        raise Wrong(f"tui-chat cannot check arguments against this schema: {error}") from None
    return value


def _tool_spec(tool: dict[str, Any]) -> ToolSpec:
    if "parameters" in tool:
        return ToolSpec(tool["name"], tool["description"], tool["parameters"])
    return ToolSpec(tool["name"], tool["description"])


_TOOL = all_of(
    object_of(
        {
            "name": matching(_IDENTIFIER, "a tool name (letters, digits and _)"),
            "description": non_empty,
            "parameters": all_of(
                object_of(
                    {
                        "type": when(lambda value: value == "object", 'must be "object"'),
                        "properties": all_of(typed("object"), object_of({}, other=typed("object"))),
                        "required": array_of(typed("string")),
                    },
                    required=("type", "properties"),
                    other=any_value,
                ),
                _checkable_schema,
            ),
        },
        required=("name", "description"),
    ),
    _tool_spec,
)

_VALIDATION = object_of({
    "pattern": typed("string"),
    "min_length": in_range("integer", 0),
    "max_length": in_range("integer", 1),
    "minimum": typed("number"),
    "maximum": typed("number"),
    "enum": typed("array"),
})  # fmt: skip


def _variable(raw: dict[str, Any]) -> Variable:
    """A `Variable` from its checked keys; its validation rules must suit its type and its default them."""
    rules = dict(raw.get("validation", {}))
    inside: list[tuple[tuple[str | int, ...], str]] = []
    for rule in ("minimum", "maximum"):
        if rule in rules and raw["type"] != "number":
            inside.append((("validation", rule), "applies only to variables of type number"))
            del rules[rule]
    if "pattern" in rules:
        try:
            re.compile(rules["pattern"])
        except re.error as error:
            inside.append((("validation", "pattern"), f"is not a valid regular expression: {error}"))
            del rules["pattern"]
    variable = Variable(
        name=raw["name"],
        type=raw["type"],
        required=raw["required"],
        default=raw.get("default"),
        description=raw.get("description", ""),
        example=raw.get("example"),
        validation=rules,
    )
    if variable.default is not None:
        try:
            value_text(variable, variable.default)
        except Invalid as error:
            inside.append((("default",), str(error)))
    if inside:
        raise Wrong(inside=inside, kept=variable)
    return variable


_VARIABLE = all_of(
    object_of(
        {
            "name": matching(_IDENTIFIER, "a variable name (letters, digits and _)"),
            "type": all_of(typed("string"), one_of(_VARIABLE_TYPES)),
            "required": typed("boolean"),
            "default": any_value,
            "description": typed("string"),
            "example": any_value,
            "validation": _VALIDATION,
        },
        required=("name", "type", "required"),
    ),
    _variable,
)

_PARAMETERS = object_of({
    "temperature": in_range("number", 0, 2),
    "max_tokens": in_range("integer", 1),
    "top_p": in_range("number", 0, 1),
    "top_k": _or_null(in_range("integer", 1)),  # null: no limit
    "frequency_penalty": in_range("number", -2, 2),
    "presence_penalty": in_range("number", -2, 2),
})  # fmt: skip

_TOOL_POLICY = object_of({
    "tool_choice": all_of(typed("string"), one_of(("auto", "required", "none"))),
    "max_rounds": in_range("integer", 1),
    "max_tool_calls_per_turn": in_range("integer", 1),
    "blocklist": array_of(typed("string")),
})  # fmt: skip

_PROMPT = object_of(
    {
        "id": matching(r"[a-z][a-z0-9_-]*", "a prompt id (lowercase letters, digits, _ and -)"),
        "name": non_empty,
        "description": typed("string"),
        "version": _VERSION,
        "system_template": non_empty,  # the schema's minLength: 1
        "variables": array_of(_VARIABLE),
        "tools": array_of(typed("string")),
        "tool_policy": _TOOL_POLICY,
        "pipeline": typed("object"),
        "parameters": _PARAMETERS,
        "validators": typed("array"),
        "evals": typed("array"),
        "tested_models": typed("array"),
        "model_overrides": typed("object"),
        "media": typed("object"),
    },
    required=("id", "name", "version", "system_template"),
)

_TEMPLATE_ENGINE = object_of(
    {
        "version": typed("string"),
        "syntax": all_of(
            typed("string"),
            when(
                lambda syntax: re.sub(r"\s", "", syntax) == "{{variable}}",
                lambda syntax: f"{syntax!r} is not supported; tui-chat reads {{{{variable}}}}",
            ),
        ),
        "features": array_of(
            when(
                lambda feature: feature in _SUPPORTED_FEATURES,
                lambda feature: f"{feature!r} is not supported; tui-chat supports " + " and ".join(_SUPPORTED_FEATURES),
            )
        ),
    },
    required=("version", "syntax"),
)

PACK: Rule = object_of(
    {
        "$schema": typed("string"),
        "id": matching(r"[a-z][a-z0-9-]*", "a pack id (lowercase letters, digits and -)"),
        "name": non_empty,
        "version": _VERSION,
        "description": typed("string"),
        "template_engine": _TEMPLATE_ENGINE,
        "prompts": all_of(typed("object"), when(bool, "must hold at least one prompt"), object_of({}, other=_PROMPT)),
        "fragments": object_of({}, other=typed("string")),
        "tools": object_of({}, other=_TOOL),
        "metadata": typed("object"),
        "compilation": typed("object"),
        "evals": typed("array"),
        "workflow": typed("object"),
        "agents": typed("object"),
        "skills": typed("array"),
        "compositions": typed("object"),
    },
    required=("id", "name", "version", "template_engine", "prompts"),
)
"""A PromptPack file: what `check_value` keeps of it has `ToolSpec` tools and `Variable` variables."""


def check_pack(data: Any, path: Path, problems: Problems) -> Pack | None:
    """The `Pack` in decoded `data`, or None; every problem is added to `problems`."""
    top = check_value(data, PACK, (), problems)
    top = top if isinstance(top, dict) else {}
    tools = {key: spec for key, spec in top.get("tools", {}).items() if isinstance(spec, ToolSpec)}
    fragments = top.get("fragments", {})
    first_named: dict[str, str] = {}
    for key, spec in tools.items():
        if spec.name in first_named:
            problems.add(("tools", key, "name"), f"{spec.name!r} is also the name of {key_path(('tools', first_named[spec.name]))}")
        first_named.setdefault(spec.name, key)
    prompts = {
        clean(key): prompt
        for key, raw in top.get("prompts", {}).items()
        if (prompt := _prompt(raw, ("prompts", key), tools, fragments, problems))
    }
    for name, text in fragments.items():  # loops show up where a prompt uses the fragment
        for match in PLACEHOLDER.finditer(text):
            if match["fragment"] is not None and match["fragment"] not in fragments:
                problems.add(("fragments", name), undefined_fragment(match["fragment"], fragments))
    if problems:
        return None
    return Pack(
        id=top["id"],
        name=top["name"],
        version=top["version"],
        description=top.get("description", ""),
        path=path,
        prompts=prompts,
        tools=tools,
        fragments=fragments,
    )


def _prompt(
    prompt: dict[str, Any], keys: tuple[str, ...], tools: Mapping[str, ToolSpec], fragments: Mapping[str, str], problems: Problems
) -> PackPrompt | None:
    """The checked keys of one prompt as a `PackPrompt`, after the checks that need the rest of the pack."""
    variables = [variable for variable in prompt.get("variables", []) if isinstance(variable, Variable)]
    seen: set[str] = set()
    for index, variable in enumerate(variables):
        if variable.name in seen:
            problems.add((*keys, "variables", index, "name"), f"{variable.name!r} is declared twice")
        seen.add(variable.name)
    for index, name in enumerate(prompt.get("tools", [])):
        if name not in tools:
            problems.add((*keys, "tools", index), f"{name!r} is not in the pack's tools (defined: {', '.join(tools) or 'none'})")
    if "system_template" in prompt:
        try:
            fill(prompt["system_template"], fragments, {})
        except Invalid as error:
            problems.add((*keys, "system_template"), str(error))
    if any(key not in prompt for key in ("id", "name", "version", "system_template")):
        return None
    return PackPrompt(
        id=prompt["id"],
        name=prompt["name"],
        description=prompt.get("description", ""),
        version=prompt["version"],
        system_template=prompt["system_template"],
        variables=tuple(variables),
        parameters=prompt.get("parameters", {}),
        tools=tuple(prompt.get("tools", [])),
        tool_policy=prompt.get("tool_policy"),
    )
