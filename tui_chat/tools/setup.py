"""Put a chat's tools together: the prompt's tools, bound to handlers, under the chat's policy.

Each tool a prompt (pack) offers gets its handler from, in order: a command bound to its name in
the config (`[tools.<name>] command = [...]`); the built-in tool of that name (the pack's
description and schema are what the model sees; the built-in's schema is checked too); else
nothing, which makes it a client tool that a person answers.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from ..chunks import ToolSpec
from ..conversation import Conversation
from .approval import Approver
from .builtin import builtin_tools
from .loop import LoopLimits, ToolLoop
from .policy import ApprovalPolicy
from .registry import Approval, Tool, ToolRegistry
from .settings import ToolConfig, parse_tool_settings
from .shell import COMMAND_TIMEOUT, SHELL_TIMEOUT, command_tool
from .workspace import Workspace

if TYPE_CHECKING:
    from .mcp.manager import McpManager


def _settings(settings: Mapping[str, Any] | None, warnings: list[str]) -> dict[str, ToolConfig]:
    """`settings` as `ToolConfig`s: already checked ones kept, raw config tables checked."""
    checked: dict[str, ToolConfig] = {}
    raw: dict[str, Any] = {}
    for name, value in (settings or {}).items():
        if isinstance(value, ToolConfig):
            checked[name] = value
        else:
            raw[name] = value
    parsed, problems = parse_tool_settings(raw)
    warnings.extend(problems)
    return {**parsed, **checked}


def tools_for_prompt(
    specs: Iterable[ToolSpec],
    *,
    workspace: Workspace | str | os.PathLike[str] | None = None,
    settings: Mapping[str, Any] | None = None,
    builtins: Mapping[str, Tool] | None = None,
) -> ToolRegistry:
    """A registry of the tools in `specs`, each bound to a command, a built-in, or a person.

    `settings` is the config's `[tools]` table, raw (a mapping of mappings) or as `ToolConfig`s.
    """
    own = _settings(settings, [])
    if builtins is None:
        shell = own.get("run_shell")
        builtins = builtin_tools(shell_timeout=shell.timeout if shell and shell.timeout else SHELL_TIMEOUT)
    root = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    registry = ToolRegistry(workspace=root)
    for spec in specs:
        registry.add(_bind(spec, own.get(spec.name), builtins))
    return registry


def _bind(spec: ToolSpec, own: ToolConfig | None, builtins: Mapping[str, Tool]) -> Tool:
    if own is not None and own.command:
        return command_tool(spec, own.command, timeout=own.timeout or COMMAND_TIMEOUT)
    builtin = builtins.get(spec.name)
    if builtin is not None:
        if own is not None and own.timeout and spec.name != "run_shell":
            builtin = replace(builtin, timeout=own.timeout)
        return replace(builtin, spec=spec, handler_schema=builtin.spec.parameters)
    return Tool(spec, None, default_approval=Approval.ASK, timeout=None, kind="client")


def build_tool_loop(
    conversation: Conversation,
    *,
    tools: Iterable[ToolSpec] | None = None,
    tool_policy: Mapping[str, Any] | None = None,
    settings: Mapping[str, Any] | None = None,
    workspace: Workspace | str | os.PathLike[str] | None = None,
    approver: Approver | None = None,
    yes: bool = False,
    pack_approvals: Mapping[str, str] | None = None,
    always_allowed: set[str] | None = None,
    mcp: McpManager | None = None,
) -> tuple[ToolLoop, list[str]]:
    """A tool loop over `conversation`, and warnings about the settings.

    `tools` defaults to the conversation's prompt tools; `tool_policy` is the pack prompt's
    (`RenderedPrompt.tool_policy`); `settings` the config's `[tools]` table; `workspace` the
    folder file tools are confined to (default: the current folder); `yes` the `--yes` flag;
    `pack_approvals` per-tool modes for this pack; `always_allowed` the set of tools the person
    allowed "for this chat" (pass the old loop's `policy.allowed` when rebuilding the loop for
    another pack in the same chat; the set is shared, not copied); `mcp` the MCP servers whose
    tools join the registry (and follow it as servers start, fail or change their tools).
    """
    warnings: list[str] = []
    own = _settings(settings, warnings)
    registry = tools_for_prompt(
        conversation.prompt.tools if tools is None else tools, workspace=workspace, settings=own
    )
    approvals: dict[str, Approval] = {}
    for name, mode in (pack_approvals or {}).items():
        try:
            approvals[name] = Approval(mode)
        except ValueError:
            warnings.append(f"tool {name!r}: approval {mode!r} is not ask, auto or deny; ignored")
    if mcp is not None:
        mcp.attach(registry)
    policy = ApprovalPolicy.from_settings(own, pack=approvals, yes=yes)
    if always_allowed is not None:
        policy.allowed = always_allowed
    loop = ToolLoop(conversation, registry, policy, approver, limits=LoopLimits.from_tool_policy(tool_policy))
    return loop, warnings
