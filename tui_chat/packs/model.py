"""A loaded prompt pack: its prompts, their variables, and a prompt rendered for a conversation.

A pack (PromptKit's PromptPack JSON format, https://promptpack.org) holds one or more prompts. Each
is a system template with declared variables, generation parameters and the tools it may use; the
pack also holds shared text fragments and the tool definitions. Rendering a prompt gives the
`PromptSettings` a conversation runs with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping

from ..checking.json_rules import did_you_mean
from ..chunks import ToolSpec
from ..errors import PackError
from .json_values import json_text
from .template import Invalid, fill, value_text

if TYPE_CHECKING:
    from ..conversation import PromptSettings

DEFAULT_PACK_ID = "assistant"
"""The bundled general-assistant pack, used when nothing else is chosen."""

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
        from ..conversation import PromptSettings

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
            f"{self.source}: pack {self.id!r} has no prompt {name!r}{did_you_mean(name, self.prompts)}",
            hint=_prompts_hint(self),
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
        except Invalid as error:
            raise PackError(f"{self.source}: prompt {prompt.id!r}: {error}", hint=error.hint) from None

    def _render(self, prompt: PackPrompt, variables: Mapping[str, Any]) -> RenderedPrompt:
        values: dict[str, str] = {}
        for variable in prompt.variables:
            if variable.name in variables:
                values[variable.name] = value_text(variable, variables[variable.name])
            elif variable.default is not None:
                values[variable.name] = value_text(variable, variable.default)
            elif variable.required:
                about = f" ({variable.description})" if variable.description else ""
                raise Invalid(
                    f"variable {variable.name!r} is required and has no value{about}",
                    hint=f"give it one: --var {variable.name}=VALUE",
                )
            else:
                values[variable.name] = ""
        declared = set(values)
        values.update((k, v if isinstance(v, str) else json_text(v)) for k, v in variables.items() if k not in declared)
        system, used, missing = fill(prompt.system_template, self.fragments, values)
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


_PROMPTS_LISTED = 10
"""A pack with more prompts than this is not listed in a message: its count is given instead."""


def _prompts_hint(pack: Pack) -> str:
    """What prompts `pack` has, for a message: all of them if few, else how many and where to see them."""
    if len(pack.prompts) <= _PROMPTS_LISTED:
        return "its prompts are " + ", ".join(pack.prompts)
    return f"it has {len(pack.prompts):,} prompts; see them with: tui-chat packs show {pack.source}"
