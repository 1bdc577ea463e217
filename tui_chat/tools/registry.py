"""The tools of a chat: for each, what the model is told (a `ToolSpec`) and what runs (a handler).

A call is checked before anything runs: the tool must be one of this registry's, its argument
text must be a JSON object, and the object must conform to the tool's schema. A call that fails
any check never runs; its problem goes back to the model as an error result. A handler that
raises, or does not finish within its time limit, gives an error result too.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass, field, replace
from typing import Any, Awaitable, Callable, Iterable, Iterator, Mapping

from ..chunks import ToolCall, ToolSpec
from ..safe_text import clean, escape_controls
from .arguments import ArgumentError, parse_arguments
from .result import ToolResult, bytes_result, error_result, text_result
from .schema import validate
from .workspace import Workspace, WorkspaceError

DEFAULT_TIMEOUT = 30.0
"""Seconds a handler may take, unless its tool says otherwise."""

_MAX_PROBLEMS_SHOWN = 5


class Approval(str, enum.Enum):
    """What happens when the model calls a tool: ask the person, run it, or refuse it."""

    ASK = "ask"
    AUTO = "auto"
    DENY = "deny"


class ToolError(Exception):
    """A handler's expected failure (a file not found, a bad expression); `str()` goes to the model."""


class ToolInputError(ValueError):
    """A call that must not run: an unknown tool or unusable arguments; `str()` goes to the model."""


@dataclass(frozen=True, slots=True)
class ToolContext:
    """What a handler may use besides its arguments: the workspace and the call being run."""

    workspace: Workspace
    call: ToolCall


Handler = Callable[[dict[str, Any], ToolContext], Awaitable["str | bytes | ToolResult"]]
"""Runs a tool with its checked arguments; returns text, raw output bytes or a `ToolResult`."""


@dataclass(frozen=True, slots=True)
class Tool:
    """A tool: its spec, its handler, and how carefully it must be treated.

    `handler` None makes a client tool, whose result a person supplies. `default_approval` applies
    when no setting says otherwise; `always_ask` tools (run_shell, write_file) ask every time,
    whatever the settings, `--yes` or earlier "always allow" answers. `uses_workspace` marks tools
    that touch files, so approval requests show the workspace. `read_only` tools change nothing, so
    several calls of them may run at the same time. `handler_schema`, when set, is the
    schema the handler itself needs, checked as well as the spec's (a pack may describe a built-in
    tool in its own words). `timeout` None means no time limit beyond the handler's own.
    """

    spec: ToolSpec
    handler: Handler | None = None
    default_approval: Approval = Approval.ASK
    always_ask: bool = False
    uses_workspace: bool = False
    read_only: bool = False
    timeout: float | None = DEFAULT_TIMEOUT
    handler_schema: Mapping[str, Any] | None = None
    kind: str = "builtin"
    """Where the handler comes from: "builtin", "command" (bound in the config), "client" or "mcp"."""
    server: str | None = None
    """For an MCP tool, the name of the server that runs it (shown when the call asks for approval)."""

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def is_client(self) -> bool:
        """Whether a person answers this tool instead of a handler."""
        return self.handler is None


@dataclass(frozen=True, slots=True)
class CheckedCall:
    """A call that passed every check: its tool, the exact argument text and the decoded object."""

    call: ToolCall
    tool: Tool
    text: str
    arguments: dict[str, Any] = field(default_factory=dict)


class ToolRegistry:
    """The tools offered in a chat, by name, and the file workspace they work in."""

    def __init__(self, tools: Iterable[Tool] = (), *, workspace: Workspace | None = None) -> None:
        self.workspace = workspace or Workspace()
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool) -> None:
        """Add `tool`, replacing any tool of the same name."""
        self._tools[tool.name] = tool

    def remove(self, name: str) -> None:
        self._tools.pop(name, None)

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        return list(self._tools)

    def specs(self) -> tuple[ToolSpec, ...]:
        """What the model is offered, in registration order."""
        return tuple(tool.spec for tool in self._tools.values())

    def check(self, call: ToolCall, arguments: str | None = None) -> CheckedCall:
        """Check `call` (with `arguments` instead of its own text, for edited arguments).

        Raises `ToolInputError` for an unknown tool, argument text that is not a JSON object, or
        arguments that break the tool's schema.
        """
        text = call.arguments if arguments is None else arguments
        tool = self._tools.get(call.name)
        if tool is None:
            offered = ", ".join(self._tools) or "none"
            name = escape_controls(call.name[:100])
            raise ToolInputError(f"unknown tool '{name}'; the tools you can call are: {offered}")
        try:
            decoded = parse_arguments(text)
        except ArgumentError as error:
            raise ToolInputError(f"invalid arguments for {tool.name}: {error}") from None
        problems = validate(decoded, tool.spec.parameters)
        if tool.handler_schema is not None:
            problems += [p for p in validate(decoded, tool.handler_schema) if p not in problems]
        if problems:
            shown = "; ".join(escape_controls(p) for p in problems[:_MAX_PROBLEMS_SHOWN])
            more = len(problems) - _MAX_PROBLEMS_SHOWN
            raise ToolInputError(
                f"invalid arguments for {tool.name}: {shown}" + (f" (and {more} more)" if more > 0 else "")
            )
        return CheckedCall(call, tool, text, decoded)

    def problems(self, call: ToolCall, arguments: str | None = None) -> str | None:
        """Why `call` (or `arguments` for it) cannot run, or None: for an edit box to check as one types."""
        try:
            self.check(call, arguments)
        except ToolInputError as error:
            return str(error)
        return None

    async def run(self, checked: CheckedCall) -> ToolResult:
        """Run a checked call's handler within its time limit; every failure becomes an error result.

        Cancelling the calling task cancels the handler (a running command is killed).
        """
        tool = checked.tool
        if tool.handler is None:
            return error_result(f"{tool.name} is answered by a person and cannot run here")
        context = ToolContext(self.workspace, checked.call)
        timer = asyncio.timeout(tool.timeout)
        try:
            async with timer:
                output = await tool.handler(dict(checked.arguments), context)
        except TimeoutError:
            if timer.expired():
                return error_result(f"{tool.name} did not finish within {tool.timeout:g} s and was stopped")
            return error_result(f"{tool.name} failed: it timed out")
        except (ToolError, WorkspaceError) as error:
            return error_result(f"{tool.name}: {error}")
        except Exception as error:  # noqa: BLE001 - a broken tool must not end the chat
            return error_result(f"{tool.name} failed: {type(error).__name__}: {error}")
        return as_result(output)


def as_result(output: str | bytes | ToolResult | Any) -> ToolResult:
    """A handler's return value as a cleaned, capped `ToolResult`."""
    if isinstance(output, ToolResult):
        return replace(output, content=clean(output.content), full_output=clean(output.full_output or output.content))
    if isinstance(output, (bytes, bytearray, memoryview)):
        return bytes_result(bytes(output))
    if output is None:
        return text_result("")
    return text_result(output if isinstance(output, str) else str(output))
