"""Whether a tool call runs at once, waits for a person, or is refused.

Each tool has a mode: `auto`, `ask` or `deny`. The first rule that applies decides:

1. `deny` in the config or for the pack: refused.
2. write_file and run_shell (tools with `always_ask`) ask, whatever else is set.
3. A client tool asks: only a person can give its result.
4. "Always allow this tool for this chat", answered earlier: auto.
5. `--yes`: auto.
6. The config's `[tools.<name>] approval`.
7. The pack's setting for the tool.
8. The tool's default: auto for calculator and current_time, ask for everything else; for an MCP
   tool, its server's `approval` in the config (ask unless set). An MCP tool is never said to be
   free of side effects: its server's `readOnlyHint` is told as a claim, and it still asks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .mcp.tool import McpTool
from .registry import Approval, Tool
from .settings import ToolConfig


@dataclass(frozen=True, slots=True)
class Rule:
    """The mode that applies to a tool, and why, in words for the approval dialog."""

    mode: Approval
    reason: str


@dataclass
class ApprovalPolicy:
    """The approval settings of one chat; `allowed` grows as the person answers "always allow"."""

    config: Mapping[str, Approval] = field(default_factory=dict)
    pack: Mapping[str, Approval] = field(default_factory=dict)
    yes: bool = False
    allowed: set[str] = field(default_factory=set)

    @classmethod
    def from_settings(
        cls, tools: Mapping[str, ToolConfig], *, pack: Mapping[str, Approval | str] | None = None, yes: bool = False
    ) -> ApprovalPolicy:
        """A policy from the config's `[tools]` settings, the pack's modes and the `--yes` flag."""
        return cls(
            config={name: own.approval for name, own in tools.items() if own.approval is not None},
            pack={name: Approval(mode) for name, mode in (pack or {}).items()},
            yes=yes,
        )

    def rule(self, tool: Tool) -> Rule:
        """The mode for `tool` and the reason it applies."""
        name = tool.name
        if self.config.get(name) is Approval.DENY:
            return Rule(Approval.DENY, f"{name} is set to \"deny\" in the config")
        if self.pack.get(name) is Approval.DENY:
            return Rule(Approval.DENY, f"{name} is set to \"deny\" for this prompt pack")
        if tool.always_ask:
            return Rule(Approval.ASK, f"{name} always asks before it runs")
        if tool.is_client:
            return Rule(Approval.ASK, f"{name} has no handler here: you give its result")
        if name in self.allowed:
            return Rule(Approval.AUTO, f"{name} is allowed for this chat")
        if self.yes:
            return Rule(Approval.AUTO, "--yes allows tools without asking")
        if name in self.config:
            return Rule(self.config[name], f"{name} is set to \"{self.config[name].value}\" in the config")
        if name in self.pack:
            return Rule(self.pack[name], f"{name} is set to \"{self.pack[name].value}\" for this prompt pack")
        if isinstance(tool, McpTool):
            return _mcp_default(tool)
        if tool.default_approval is Approval.AUTO:
            return Rule(Approval.AUTO, f"{name} has no side effects")
        what = "runs a command" if tool.kind == "command" else "reads your files" if tool.uses_workspace else "may have side effects"
        return Rule(tool.default_approval, f"{name} {what}, so it asks by default")

    def can_always_allow(self, tool: Tool) -> bool:
        """Whether "always allow for this chat" may be offered for `tool`."""
        return not tool.always_ask and not tool.is_client

    def allow_for_chat(self, tool: Tool) -> None:
        """Remember "always allow" for `tool` (ignored for tools that always ask)."""
        if self.can_always_allow(tool):
            self.allowed.add(tool.name)


def _mcp_default(tool: McpTool) -> Rule:
    """The rule from an MCP tool's default: its server's setting; what the server claims is only told."""
    mode = tool.default_approval
    if mode is not Approval.ASK:
        return Rule(mode, f"{tool.name} is set to \"{mode.value}\" for MCP server {tool.server} in the config")
    what = "says it only reads (readOnlyHint), which cannot be checked" if tool.read_only_hint else "may have side effects"
    return Rule(mode, f"{tool.name} of MCP server {tool.server} {what}, so it asks by default")
