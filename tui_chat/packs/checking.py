"""Checking a decoded PromptPack against what tui-chat uses: types, names, ranges, references, each problem with its key path.

Not the whole JSON Schema (the tests check the bundled packs against it): what tui-chat reads.
Text from the pack that reaches a person (names, descriptions, prompt keys, problems) is cleaned
of terminal controls here, once, where it enters.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..chunks import ToolSpec
from ..safe_text import clean
from .json_values import article, did_you_mean, is_type, join_key, json_type
from .model import Pack, PackPrompt, Variable
from .template import PLACEHOLDER, Invalid, fill, undefined_fragment, value_text

_PACK_ID = re.compile(r"[a-z][a-z0-9-]*")
_PROMPT_ID = re.compile(r"[a-z][a-z0-9_-]*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SEMVER = re.compile(
    r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)

# The keys the schema allows; the ones tui-chat does not use are only checked for their JSON type.
_PACK_KEYS = {
    "$schema": "string", "id": "string", "name": "string", "version": "string", "description": "string",
    "template_engine": "object", "prompts": "object", "fragments": "object", "tools": "object",
    "metadata": "object", "compilation": "object", "evals": "array", "workflow": "object",
    "agents": "object", "skills": "array", "compositions": "object",
}  # fmt: skip
_PROMPT_KEYS = {
    "id": "string", "name": "string", "description": "string", "version": "string",
    "system_template": "string", "variables": "array", "tools": "array", "tool_policy": "object",
    "pipeline": "object", "parameters": "object", "validators": "array", "evals": "array",
    "tested_models": "array", "model_overrides": "object", "media": "object",
}  # fmt: skip
_VARIABLE_KEYS = {
    "name": "string", "type": "string", "required": "boolean", "default": "any",
    "description": "string", "example": "any", "validation": "object",
}  # fmt: skip
_TOOL_KEYS = {"name": "string", "description": "string", "parameters": "object"}
_ENGINE_KEYS = {"version": "string", "syntax": "string", "features": "array"}
_VARIABLE_TYPES = ("string", "number", "boolean", "object", "array")
_SUPPORTED_FEATURES = ("basic_substitution", "fragments")
# name -> (JSON type, minimum, maximum); None means no bound.
_VALIDATION_RULES: dict[str, tuple[str, float | None, float | None]] = {
    "pattern": ("string", None, None),
    "min_length": ("integer", 0, None),
    "max_length": ("integer", 1, None),
    "minimum": ("number", None, None),
    "maximum": ("number", None, None),
    "enum": ("array", None, None),
}
_PARAMETERS: dict[str, tuple[str, float | None, float | None]] = {
    "temperature": ("number", 0, 2),
    "max_tokens": ("integer", 1, None),
    "top_p": ("number", 0, 1),
    "top_k": ("integer", 1, None),  # or null: no limit
    "frequency_penalty": ("number", -2, 2),
    "presence_penalty": ("number", -2, 2),
}
_TOOL_POLICY: dict[str, tuple[str, float | None, float | None]] = {
    "tool_choice": ("string", None, None),
    "max_rounds": ("integer", 1, None),
    "max_tool_calls_per_turn": ("integer", 1, None),
    "blocklist": ("array", None, None),
}
_TOOL_CHOICES = ("auto", "required", "none")


class Checker:
    """Builds a `Pack` from decoded JSON, recording each problem with its key path."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(clean(f"{path}: {message}" if path else message))

    def object(self, data: Any, path: str, allowed: Mapping[str, str], required: Sequence[str] = ()) -> dict[str, Any]:
        """`data` with keys of the wrong JSON type left out; unknown and missing keys are problems."""
        if not isinstance(data, dict):
            self.problem(path, f"must be an object, not {json_type(data)}")
            return {}
        checked: dict[str, Any] = {}
        for key, value in data.items():
            here = join_key(path, key)
            if key not in allowed:
                self.problem(here, "is not a known key" + did_you_mean(key, allowed))
            elif allowed[key] != "any" and not is_type(value, allowed[key]):
                self.problem(here, f"must be {article(allowed[key])}, not {json_type(value)}")
            else:
                checked[key] = value
        for key in required:
            if key not in data:
                self.problem(join_key(path, key), "is required")
        return checked

    def matches(self, value: Any, path: str, pattern: re.Pattern[str], what: str) -> None:
        if isinstance(value, str) and not pattern.fullmatch(value):
            self.problem(path, f"{value!r} is not {what}")

    def ranges(self, data: Any, path: str, table: Mapping[str, tuple[str, float | None, float | None]]) -> dict[str, Any]:
        """An object of typed, bounded values, as `table` describes them."""
        checked = self.object(data, path, {key: "any" for key in table})
        for key, value in list(checked.items()):
            kind, low, high = table[key]
            here = join_key(path, key)
            if value is None and key == "top_k":
                continue
            if not is_type(value, kind):
                self.problem(here, f"must be {article(kind)}, not {json_type(value)}")
                del checked[key]
            elif (low is not None and value < low) or (high is not None and value > high):
                bounds = f"at least {low}" if high is None else f"between {low} and {high}"
                self.problem(here, f"{value} is out of range: it must be {bounds}")
                del checked[key]
        return checked

    def pack(self, data: Any, path: Path) -> Pack | None:
        top = self.object(data, "", _PACK_KEYS, required=("id", "name", "version", "template_engine", "prompts"))
        self.matches(top.get("id"), "id", _PACK_ID, "a pack id (lowercase letters, digits and -)")
        self.matches(top.get("version"), "version", _SEMVER, "a semantic version like 1.0.0")
        if top.get("name") == "":
            self.problem("name", "must not be empty")
        if "template_engine" in top:
            self.template_engine(top["template_engine"])
        fragments = self.object(top.get("fragments", {}), "fragments", {key: "string" for key in top.get("fragments", {})})
        tools = {key: spec for key, raw in top.get("tools", {}).items() if (spec := self.tool(raw, join_key("tools", key)))}
        names: dict[str, str] = {}
        for key, spec in tools.items():
            if spec.name in names:
                self.problem(join_key(join_key("tools", key), "name"), f"{spec.name!r} is also the name of {join_key('tools', names[spec.name])}")
            names.setdefault(spec.name, key)
        if "prompts" in top and not top["prompts"]:
            self.problem("prompts", "must hold at least one prompt")
        prompts = {
            clean(key): prompt
            for key, raw in top.get("prompts", {}).items()
            if (prompt := self.prompt(raw, join_key("prompts", key), tools, fragments))
        }
        for name, text in fragments.items():  # loops show up where a prompt uses the fragment
            for match in PLACEHOLDER.finditer(text):
                if match["fragment"] is not None and match["fragment"] not in fragments:
                    self.problem(join_key("fragments", name), undefined_fragment(match["fragment"], fragments))
        if self.problems:
            return None
        return Pack(
            id=top["id"],
            name=clean(top["name"]),
            version=top["version"],
            description=clean(top.get("description", "")),
            path=path,
            prompts=prompts,
            tools=tools,
            fragments=fragments,
        )

    def template_engine(self, data: Any) -> None:
        engine = self.object(data, "template_engine", _ENGINE_KEYS, required=("version", "syntax"))
        syntax = engine.get("syntax")
        if syntax is not None and re.sub(r"\s", "", syntax) != "{{variable}}":
            self.problem("template_engine.syntax", f"{syntax!r} is not supported; tui-chat reads {{{{variable}}}}")
        for index, feature in enumerate(engine.get("features", [])):
            if feature not in _SUPPORTED_FEATURES:
                supported = " and ".join(_SUPPORTED_FEATURES)
                self.problem(f"template_engine.features[{index}]", f"{feature!r} is not supported; tui-chat supports {supported}")

    def tool(self, data: Any, path: str) -> ToolSpec | None:
        tool = self.object(data, path, _TOOL_KEYS, required=("name", "description"))
        self.matches(tool.get("name"), join_key(path, "name"), _IDENTIFIER, "a tool name (letters, digits and _)")
        if tool.get("description") == "":
            self.problem(join_key(path, "description"), "must not be empty")
        parameters = tool.get("parameters")
        if parameters is not None:
            here = join_key(path, "parameters")
            if parameters.get("type") != "object":
                self.problem(join_key(here, "type"), 'must be "object"')
            if not isinstance(parameters.get("properties"), dict):
                self.problem(join_key(here, "properties"), "must be an object of parameter schemas")
            required = parameters.get("required", [])
            if not (isinstance(required, list) and all(isinstance(name, str) for name in required)):
                self.problem(join_key(here, "required"), "must be a list of parameter names")
        if "name" not in tool or "description" not in tool:
            return None
        if parameters is None:
            return ToolSpec(tool["name"], tool["description"])
        return ToolSpec(tool["name"], tool["description"], parameters)

    def prompt(self, data: Any, path: str, tools: Mapping[str, ToolSpec], fragments: Mapping[str, str]) -> PackPrompt | None:
        prompt = self.object(data, path, _PROMPT_KEYS, required=("id", "name", "version", "system_template"))
        self.matches(prompt.get("id"), join_key(path, "id"), _PROMPT_ID, "a prompt id (lowercase letters, digits, _ and -)")
        self.matches(prompt.get("version"), join_key(path, "version"), _SEMVER, "a semantic version like 1.0.0")
        for key in ("name", "system_template"):  # the schema's minLength: 1
            if prompt.get(key) == "":
                self.problem(join_key(path, key), "must not be empty")
        variables = [
            variable
            for index, raw in enumerate(prompt.get("variables", []))
            if (variable := self.variable(raw, f"{join_key(path, 'variables')}[{index}]"))
        ]
        seen: set[str] = set()
        for index, variable in enumerate(variables):
            if variable.name in seen:
                self.problem(f"{join_key(path, 'variables')}[{index}].name", f"{variable.name!r} is declared twice")
            seen.add(variable.name)
        for index, name in enumerate(prompt.get("tools", [])):
            if not isinstance(name, str) or name not in tools:
                defined = ", ".join(tools) or "none"
                self.problem(f"{join_key(path, 'tools')}[{index}]", f"{name!r} is not in the pack's tools (defined: {defined})")
        parameters = self.ranges(prompt.get("parameters", {}), join_key(path, "parameters"), _PARAMETERS)
        policy = None
        if "tool_policy" in prompt:
            policy = self.ranges(prompt["tool_policy"], join_key(path, "tool_policy"), _TOOL_POLICY)
            if policy.get("tool_choice", "auto") not in _TOOL_CHOICES:
                self.problem(f"{path}.tool_policy.tool_choice", "must be one of " + ", ".join(_TOOL_CHOICES))
            if not all(isinstance(name, str) for name in policy.get("blocklist", [])):
                self.problem(f"{path}.tool_policy.blocklist", "must be a list of tool names")
        if "system_template" in prompt:
            self.template(prompt["system_template"], join_key(path, "system_template"), fragments)
        if any(key not in prompt for key in ("id", "name", "version", "system_template")):
            return None
        return PackPrompt(
            id=prompt["id"],
            name=clean(prompt["name"]),
            description=clean(prompt.get("description", "")),
            version=prompt["version"],
            system_template=prompt["system_template"],
            variables=tuple(variables),
            parameters=parameters,
            tools=tuple(name for name in prompt.get("tools", []) if isinstance(name, str)),
            tool_policy=policy,
        )

    def variable(self, data: Any, path: str) -> Variable | None:
        raw = self.object(data, path, _VARIABLE_KEYS, required=("name", "type", "required"))
        self.matches(raw.get("name"), join_key(path, "name"), _IDENTIFIER, "a variable name (letters, digits and _)")
        if raw.get("type", "string") not in _VARIABLE_TYPES:
            self.problem(join_key(path, "type"), "must be one of " + ", ".join(_VARIABLE_TYPES))
            return None
        rules = self.ranges(raw.get("validation", {}), join_key(path, "validation"), _VALIDATION_RULES)
        for rule in ("minimum", "maximum"):
            if rule in rules and raw.get("type") != "number":
                self.problem(f"{path}.validation.{rule}", "applies only to variables of type number")
                del rules[rule]
        if "pattern" in rules:
            try:
                re.compile(rules["pattern"])
            except re.error as error:
                self.problem(f"{path}.validation.pattern", f"is not a valid regular expression: {error}")
                del rules["pattern"]
        if any(key not in raw for key in ("name", "type", "required")):
            return None
        variable = Variable(
            name=raw["name"],
            type=raw["type"],
            required=raw["required"],
            default=raw.get("default"),
            description=clean(raw.get("description", "")),
            example=raw.get("example"),
            validation=rules,
        )
        if variable.default is not None:
            try:
                value_text(variable, variable.default)
            except Invalid as error:
                self.problem(join_key(path, "default"), str(error))
        return variable

    def template(self, text: str, path: str, fragments: Mapping[str, str]) -> None:
        """Check that a prompt's template expands: its fragments exist, without a loop or a blow-up."""
        try:
            fill(text, fragments, {})
        except Invalid as error:
            self.problem(path, str(error))
