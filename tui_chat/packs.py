"""Prompt packs: load a PromptPack file, check it, and render one of its prompts.

A pack (PromptKit's PromptPack JSON format, https://promptpack.org) holds one or more prompts. Each
is a system template with declared variables, generation parameters and the tools it may use; the
pack also holds shared text fragments and the tool definitions. Rendering a prompt gives the
`PromptSettings` a conversation runs with.

Templates use `{{variable}}` (spaces inside the braces are allowed) and `{{fragment:name}}`.
Fragments are expanded recursively and may contain variables; variable values are inserted
literally and never expanded again. A placeholder with no value is left as it is, with a warning.

Pack text is data. It is checked here for what tui-chat uses (types, names, ranges, references,
with the key path of each problem), not against the whole JSON Schema: the tests do that.
"""

from __future__ import annotations

import json
import math
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from .chunks import ToolSpec
from .errors import PackError
from .resources import bundled_dir

if TYPE_CHECKING:
    from .conversation import PromptSettings

MAX_PACK_BYTES = 5 * 1024 * 1024
"""A pack file larger than this is refused before it is read."""

DEFAULT_PACK_ID = "assistant"
"""The bundled general-assistant pack, used when nothing else is chosen."""

PACK_SUFFIX = ".pack.json"

_MAX_RENDERED_CHARS = 1_000_000  # fragments that expand to each other many times over are refused
_MAX_PLACEHOLDERS = 10_000  # ... or that use a very great many placeholders
_MAX_FRAGMENT_DEPTH = 32
_MAX_PROBLEMS_SHOWN = 3

_PACK_ID = re.compile(r"[a-z][a-z0-9-]*")
_PROMPT_ID = re.compile(r"[a-z][a-z0-9_-]*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_SEMVER = re.compile(
    r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?"
)
_PLACEHOLDER = re.compile(
    r"\{\{\s*(?:fragment\s*:\s*(?P<fragment>[A-Za-z0-9_.-]+)|(?P<variable>[A-Za-z_][A-Za-z0-9_]*))\s*\}\}"
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


@dataclass(frozen=True)
class Variable:
    """A declared template variable: its JSON type, whether it must be given, and its rules.

    `validation` holds the schema's rules: pattern, min_length, max_length (on the text),
    minimum, maximum (numbers only) and enum.
    """

    name: str
    type: str = "string"
    required: bool = False
    default: Any = None
    description: str = ""
    example: Any = None
    validation: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PackPrompt:
    """One prompt of a pack, as written in the file. `tools` are keys of the pack's `tools`."""

    id: str
    name: str
    description: str
    version: str
    system_template: str
    variables: tuple[Variable, ...] = ()
    parameters: Mapping[str, Any] = field(default_factory=dict)
    tools: tuple[str, ...] = ()
    tool_policy: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt with its variables filled in: what a conversation needs, and where it came from.

    `tools` already leave out the tool policy's blocklist; applying `tool_choice` and the round
    limits is left to the conversation. `warnings` name placeholders left without a value and
    given variables the prompt does not use.
    """

    pack_id: str
    pack_name: str
    prompt_id: str
    prompt_name: str
    system: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    tools: tuple[ToolSpec, ...] = ()
    tool_policy: Mapping[str, Any] | None = None
    warnings: tuple[str, ...] = ()

    def settings(self) -> PromptSettings:
        """The conversation settings for this prompt, labelled "<pack name> / <prompt name>"."""
        # Imported here so that the conversation module may import this one without a cycle.
        from .conversation import PromptSettings

        return PromptSettings(
            system=self.system,
            parameters=dict(self.parameters),
            tools=self.tools,
            tool_policy=self.tool_policy,
            label=f"{self.pack_name} / {self.prompt_name}",
        )


_NO_VARIABLES: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Pack:
    """A loaded, checked pack. `prompts` are keyed as in the file; `tools` likewise."""

    id: str
    name: str
    version: str
    description: str
    path: Path | None
    prompts: dict[str, PackPrompt]
    tools: dict[str, ToolSpec] = field(default_factory=dict)
    fragments: dict[str, str] = field(default_factory=dict)

    @property
    def source(self) -> str:
        """The file the pack came from, for messages (its id when it has no file)."""
        return str(self.path) if self.path is not None else f"pack {self.id!r}"

    def prompt(self, name: str | None = None) -> PackPrompt:
        """The prompt with key (or id) `name`; None gives the default prompt.

        The default is the prompt called "default" or "assistant" if there is one, else the first.
        """
        if name is None:
            for candidate in ("default", "assistant"):
                if candidate in self.prompts:
                    return self.prompts[candidate]
            return next(iter(self.prompts.values()))
        if name in self.prompts:
            return self.prompts[name]
        for prompt in self.prompts.values():
            if prompt.id == name:
                return prompt
        raise PackError(
            f"{self.source}: pack {self.id!r} has no prompt {name!r}{_did_you_mean(name, self.prompts)}",
            hint="its prompts are " + ", ".join(self.prompts),
        )

    def render(self, prompt_name: str | None = None, variables: Mapping[str, Any] = _NO_VARIABLES) -> RenderedPrompt:
        """Fill in prompt `prompt_name` (None: the default) with `variables` and the declared defaults.

        Values are usually text (from `--var`); other JSON values (from a config file) are taken
        as they are. Raises `PackError` for an unknown prompt, a required variable with no value,
        or a value that breaks its variable's type or validation rules.
        """
        prompt = self.prompt(prompt_name)
        try:
            return self._render(prompt, variables)
        except _Invalid as error:
            raise PackError(f"{self.source}: prompt {prompt.id!r}: {error}", hint=error.hint) from None

    def _render(self, prompt: PackPrompt, variables: Mapping[str, Any]) -> RenderedPrompt:
        values: dict[str, str] = {}
        for variable in prompt.variables:
            if variable.name in variables:
                values[variable.name] = _value_text(variable, variables[variable.name])
            elif variable.default is not None:
                values[variable.name] = _value_text(variable, variable.default)
            elif variable.required:
                about = f" ({variable.description})" if variable.description else ""
                raise _Invalid(
                    f"variable {variable.name!r} is required and has no value{about}",
                    hint=f"give it one: --var {variable.name}=VALUE",
                )
            else:
                values[variable.name] = ""
        declared = set(values)
        values.update((k, v if isinstance(v, str) else _json_text(v)) for k, v in variables.items() if k not in declared)
        system, used, missing = _fill(prompt.system_template, self.fragments, values)
        warnings = [f"{{{{{name}}}}} has no value and is left as it is" for name in sorted(missing)]
        warnings += [
            f"variable {name!r} is not used by prompt {prompt.id!r}; ignored"
            for name in variables
            if name not in declared and name not in used
        ]
        blocked = set((prompt.tool_policy or {}).get("blocklist", ()))
        tools = tuple(
            self.tools[key] for key in prompt.tools if key not in blocked and self.tools[key].name not in blocked
        )
        return RenderedPrompt(
            pack_id=self.id,
            pack_name=self.name,
            prompt_id=prompt.id,
            prompt_name=prompt.name,
            system=system,
            parameters={k: v for k, v in prompt.parameters.items() if v is not None},
            tools=tools,
            tool_policy=prompt.tool_policy,
            warnings=tuple(warnings),
        )


# --- loading ------------------------------------------------------------------------------------


def load_pack(path: str | Path) -> Pack:
    """Read and check the pack file at `path`. Raises `PackError` naming the file and key path."""
    pack, problems = _read(Path(path))
    if pack is None:
        shown = "; ".join(problems[:_MAX_PROBLEMS_SHOWN])
        more = len(problems) - _MAX_PROBLEMS_SHOWN
        raise PackError(
            f"{path}: {shown}" + (f" (and {more} more)" if more > 0 else ""),
            hint="see them all with: tui-chat packs validate FILE" if more > 0 else "",
        )
    return pack


def validate_pack(path: str | Path) -> list[str]:
    """Every problem found in the pack at `path` ([] if none), each as "key.path: what is wrong".

    Beyond loading, each prompt is rendered with its defaults; a prompt that needs a variable
    with no default is not a problem of the pack, and is only checked as far as loading goes.
    """
    pack, problems = _read(Path(path))
    if pack is None:
        return problems
    for key, prompt in pack.prompts.items():
        if any(v.required and v.default is None for v in prompt.variables):
            continue
        try:
            pack._render(prompt, {})
        except _Invalid as error:
            problems.append(f"{_join('prompts', key)}: {error}")
    return problems


def _read(path: Path) -> tuple[Pack | None, list[str]]:
    """The pack at `path`, or None and the problems that stop it loading."""
    try:
        info = path.stat()
    except OSError as error:
        return None, [f"cannot read the pack: {error.strerror or error}"]
    if not stat.S_ISREG(info.st_mode):
        return None, ["is not a regular file"]
    if info.st_size > MAX_PACK_BYTES:
        return None, [f"is {info.st_size:,} bytes; a pack may be at most {MAX_PACK_BYTES:,} bytes"]
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_PACK_BYTES + 1)  # the file may have grown since stat()
    except OSError as error:
        return None, [f"cannot read the pack: {error.strerror or error}"]
    if len(raw) > MAX_PACK_BYTES:
        return None, [f"is more than {MAX_PACK_BYTES:,} bytes, the most a pack may be"]
    try:
        data = json.loads(raw.decode("utf-8-sig"), parse_constant=_reject_constant)
    except UnicodeDecodeError as error:
        return None, [f"is not UTF-8 text (byte {error.start})"]
    except json.JSONDecodeError as error:
        return None, [f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"]
    except ValueError as error:  # NaN or Infinity, or an integer too long to read
        return None, [f"invalid JSON: {error}"]
    except RecursionError:
        return None, ["invalid JSON: nested too deeply"]
    checker = _Checker()
    pack = checker.pack(data, path)
    return (pack, []) if not checker.problems else (None, checker.problems)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON value")


class _Checker:
    """Builds a `Pack` from decoded JSON, recording each problem with its key path."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}" if path else message)

    def object(self, data: Any, path: str, allowed: Mapping[str, str], required: Sequence[str] = ()) -> dict[str, Any]:
        """`data` with keys of the wrong JSON type left out; unknown and missing keys are problems."""
        if not isinstance(data, dict):
            self.problem(path, f"must be an object, not {_json_type(data)}")
            return {}
        checked: dict[str, Any] = {}
        for key, value in data.items():
            here = _join(path, key)
            if key not in allowed:
                self.problem(here, "is not a known key" + _did_you_mean(key, allowed))
            elif allowed[key] != "any" and not _is(value, allowed[key]):
                self.problem(here, f"must be {_a(allowed[key])}, not {_json_type(value)}")
            else:
                checked[key] = value
        for key in required:
            if key not in data:
                self.problem(_join(path, key), "is required")
        return checked

    def matches(self, value: Any, path: str, pattern: re.Pattern[str], what: str) -> None:
        if isinstance(value, str) and not pattern.fullmatch(value):
            self.problem(path, f"{value!r} is not {what}")

    def ranges(self, data: Any, path: str, table: Mapping[str, tuple[str, float | None, float | None]]) -> dict[str, Any]:
        """An object of typed, bounded values, as `table` describes them."""
        checked = self.object(data, path, {key: "any" for key in table})
        for key, value in list(checked.items()):
            kind, low, high = table[key]
            here = _join(path, key)
            if value is None and key == "top_k":
                continue
            if not _is(value, kind):
                self.problem(here, f"must be {_a(kind)}, not {_json_type(value)}")
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
        tools = {key: spec for key, raw in top.get("tools", {}).items() if (spec := self.tool(raw, _join("tools", key)))}
        names: dict[str, str] = {}
        for key, spec in tools.items():
            if spec.name in names:
                self.problem(_join(_join("tools", key), "name"), f"{spec.name!r} is also the name of {_join('tools', names[spec.name])}")
            names.setdefault(spec.name, key)
        if "prompts" in top and not top["prompts"]:
            self.problem("prompts", "must hold at least one prompt")
        prompts = {
            key: prompt
            for key, raw in top.get("prompts", {}).items()
            if (prompt := self.prompt(raw, _join("prompts", key), tools, fragments))
        }
        for name, text in fragments.items():  # loops show up where a prompt uses the fragment
            for match in _PLACEHOLDER.finditer(text):
                if match["fragment"] is not None and match["fragment"] not in fragments:
                    self.problem(_join("fragments", name), _undefined_fragment(match["fragment"], fragments))
        if self.problems:
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
        self.matches(tool.get("name"), _join(path, "name"), _IDENTIFIER, "a tool name (letters, digits and _)")
        if tool.get("description") == "":
            self.problem(_join(path, "description"), "must not be empty")
        parameters = tool.get("parameters")
        if parameters is not None:
            here = _join(path, "parameters")
            if parameters.get("type") != "object":
                self.problem(_join(here, "type"), 'must be "object"')
            if not isinstance(parameters.get("properties"), dict):
                self.problem(_join(here, "properties"), "must be an object of parameter schemas")
            required = parameters.get("required", [])
            if not (isinstance(required, list) and all(isinstance(name, str) for name in required)):
                self.problem(_join(here, "required"), "must be a list of parameter names")
        if "name" not in tool or "description" not in tool:
            return None
        if parameters is None:
            return ToolSpec(tool["name"], tool["description"])
        return ToolSpec(tool["name"], tool["description"], parameters)

    def prompt(self, data: Any, path: str, tools: Mapping[str, ToolSpec], fragments: Mapping[str, str]) -> PackPrompt | None:
        prompt = self.object(data, path, _PROMPT_KEYS, required=("id", "name", "version", "system_template"))
        self.matches(prompt.get("id"), _join(path, "id"), _PROMPT_ID, "a prompt id (lowercase letters, digits, _ and -)")
        self.matches(prompt.get("version"), _join(path, "version"), _SEMVER, "a semantic version like 1.0.0")
        for key in ("name", "system_template"):  # the schema's minLength: 1
            if prompt.get(key) == "":
                self.problem(_join(path, key), "must not be empty")
        variables = [
            variable
            for index, raw in enumerate(prompt.get("variables", []))
            if (variable := self.variable(raw, f"{_join(path, 'variables')}[{index}]"))
        ]
        seen: set[str] = set()
        for index, variable in enumerate(variables):
            if variable.name in seen:
                self.problem(f"{_join(path, 'variables')}[{index}].name", f"{variable.name!r} is declared twice")
            seen.add(variable.name)
        for index, name in enumerate(prompt.get("tools", [])):
            if not isinstance(name, str) or name not in tools:
                defined = ", ".join(tools) or "none"
                self.problem(f"{_join(path, 'tools')}[{index}]", f"{name!r} is not in the pack's tools (defined: {defined})")
        parameters = self.ranges(prompt.get("parameters", {}), _join(path, "parameters"), _PARAMETERS)
        policy = None
        if "tool_policy" in prompt:
            policy = self.ranges(prompt["tool_policy"], _join(path, "tool_policy"), _TOOL_POLICY)
            if policy.get("tool_choice", "auto") not in _TOOL_CHOICES:
                self.problem(f"{path}.tool_policy.tool_choice", "must be one of " + ", ".join(_TOOL_CHOICES))
            if not all(isinstance(name, str) for name in policy.get("blocklist", [])):
                self.problem(f"{path}.tool_policy.blocklist", "must be a list of tool names")
        if "system_template" in prompt:
            self.template(prompt["system_template"], _join(path, "system_template"), fragments)
        if any(key not in prompt for key in ("id", "name", "version", "system_template")):
            return None
        return PackPrompt(
            id=prompt["id"],
            name=prompt["name"],
            description=prompt.get("description", ""),
            version=prompt["version"],
            system_template=prompt["system_template"],
            variables=tuple(variables),
            parameters=parameters,
            tools=tuple(name for name in prompt.get("tools", []) if isinstance(name, str)),
            tool_policy=policy,
        )

    def variable(self, data: Any, path: str) -> Variable | None:
        raw = self.object(data, path, _VARIABLE_KEYS, required=("name", "type", "required"))
        self.matches(raw.get("name"), _join(path, "name"), _IDENTIFIER, "a variable name (letters, digits and _)")
        if raw.get("type", "string") not in _VARIABLE_TYPES:
            self.problem(_join(path, "type"), "must be one of " + ", ".join(_VARIABLE_TYPES))
            return None
        rules = self.ranges(raw.get("validation", {}), _join(path, "validation"), _VALIDATION_RULES)
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
            description=raw.get("description", ""),
            example=raw.get("example"),
            validation=rules,
        )
        if variable.default is not None:
            try:
                _value_text(variable, variable.default)
            except _Invalid as error:
                self.problem(_join(path, "default"), str(error))
        return variable

    def template(self, text: str, path: str, fragments: Mapping[str, str]) -> None:
        """Check that a prompt's template expands: its fragments exist, without a loop or a blow-up."""
        try:
            _fill(text, fragments, {})
        except _Invalid as error:
            self.problem(path, str(error))


# --- rendering ----------------------------------------------------------------------------------


class _Invalid(Exception):
    """A value or template is wrong; the message says how, the caller says where."""

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


def _fill(template: str, fragments: Mapping[str, str], values: Mapping[str, str]) -> tuple[str, set[str], set[str]]:
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
        if size > _MAX_RENDERED_CHARS:
            raise _Invalid(f"expands to more than {_MAX_RENDERED_CHARS:,} characters")
        parts.append(text)

    def walk(text: str, chain: tuple[str, ...]) -> None:
        nonlocal steps
        position = 0
        for match in _PLACEHOLDER.finditer(text):
            steps += 1
            if steps > _MAX_PLACEHOLDERS:
                raise _Invalid(f"uses more than {_MAX_PLACEHOLDERS:,} placeholders once fragments are expanded")
            emit(text[position : match.start()])
            position = match.end()
            fragment, variable = match["fragment"], match["variable"]
            if fragment is not None:
                if fragment in chain:
                    raise _Invalid("fragments refer to each other in a loop: " + " -> ".join((*chain, fragment)))
                if fragment not in fragments:
                    raise _Invalid(_undefined_fragment(fragment, fragments))
                if len(chain) >= _MAX_FRAGMENT_DEPTH:
                    raise _Invalid(f"fragments are nested more than {_MAX_FRAGMENT_DEPTH} deep")
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


def _undefined_fragment(name: str, fragments: Mapping[str, str]) -> str:
    return f"refers to fragment {name!r}, which the pack does not define{_did_you_mean(name, fragments)}"


def _value_text(variable: Variable, value: Any) -> str:
    """`value` as it goes into the template, once checked against the variable's type and rules.

    Text is read as the variable's type ("3" for a number, "true" for a boolean, JSON for an
    object or array) and inserted as written; other JSON values are checked by type and written
    out (true, 3, {"a": 1}). Raises `_Invalid` naming the variable, the value and the rule.
    """
    shown = repr(_shorten(value)) if isinstance(value, str) else _shorten(_json_text(value))
    subject = f"variable {variable.name!r} = {shown}"
    typed = _typed(variable.type, value)
    if typed is None:
        raise _Invalid(f"{subject} is not {_a(variable.type)}")
    text = value if isinstance(value, str) else _json_text(typed)
    for rule, limit in variable.validation.items():
        broken = _breaks(rule, limit, typed, text)
        if broken:
            raise _Invalid(f"{subject} {broken} (validation.{rule})")
    return text


def _typed(kind: str, value: Any) -> Any:
    """`value` as a JSON value of type `kind`, reading text where needed; None if it is not one."""
    if isinstance(value, str) and kind == "boolean":
        return {"true": True, "false": False}.get(value.strip().lower())
    if isinstance(value, str) and kind != "string":
        try:
            value = json.loads(value, parse_constant=_reject_constant)
        except (ValueError, RecursionError):
            return None
    if isinstance(value, float) and not math.isfinite(value):  # 1e999 reads as infinity
        return None
    return value if _is(value, kind) else None


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
        return "is not one of the allowed values: " + ", ".join(_json_text(allowed) for allowed in limit)
    return ""


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1."""
    return a == b and isinstance(a, bool) == isinstance(b, bool)


# --- finding packs and reading --var --------------------------------------------------------------


def bundled_pack_paths() -> list[Path]:
    """The bundled `*.pack.json` files, sorted by name."""
    return sorted(bundled_dir("packs").glob(f"*{PACK_SUFFIX}"))


def find_pack(name_or_path: str) -> Path:
    """The pack file meant by `name_or_path`: an existing file, or a bundled pack's id or file stem."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    by_stem = bundled_dir("packs") / f"{name_or_path}{PACK_SUFFIX}"
    if path.name == name_or_path and by_stem.is_file():  # the usual case: no need to read every pack
        return by_stem
    names: dict[str, Path] = {}
    for bundled in bundled_pack_paths():
        names.setdefault(bundled.name.removesuffix(PACK_SUFFIX), bundled)
        try:
            names.setdefault(load_pack(bundled).id, bundled)
        except PackError:
            pass  # a broken bundled pack can still be found by its file name, and fail on load
    if name_or_path in names:
        return names[name_or_path]
    if path.suffix == ".json" or path.name != name_or_path:  # it was meant as a path
        raise PackError(f"no pack file at {name_or_path}", hint="check the path")
    raise PackError(
        f"no pack named {name_or_path!r}{_did_you_mean(name_or_path, names)}",
        hint="bundled packs: " + (", ".join(sorted(names)) or "none") + "; or give the path of a .pack.json file",
    )


def parse_var_assignments(items: Sequence[str]) -> dict[str, str]:
    """`["key=value", ...]` (from `--var`) as a dict; the value is everything after the first "="."""
    variables: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PackError(f"--var {item!r} is not of the form name=value", hint="write --var name=value")
        variables[key.strip()] = value
    return variables


# --- small helpers ------------------------------------------------------------------------------


def _is(value: Any, kind: str) -> bool:
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


def _json_type(value: Any) -> str:
    """The JSON type name of a decoded value, for messages."""
    if value is None:
        return "null"
    for kind in ("boolean", "integer", "number", "string", "array", "object"):
        if _is(value, kind):
            return kind
    return type(value).__name__


def _a(kind: str) -> str:
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _join(path: str, key: str) -> str:
    """`path.key`, or `path['key']` when the key is not a plain name (it is shown escaped)."""
    if _SIMPLE_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{key!r}]"


def _did_you_mean(name: str, choices: Any) -> str:
    """ "; did you mean 'x'?" for the closest of `choices`, or "" if none is close."""
    import difflib  # only when a name was wrong

    close = difflib.get_close_matches(name, [str(choice) for choice in choices], n=3, cutoff=0.6)
    return "; did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""
