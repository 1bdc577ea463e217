"""Tools that run commands: the built-in run_shell, and pack tools bound to a command in the config.

run_shell runs its command with `/bin/sh -c` in the workspace root. A bound command gets the call's
arguments as JSON on its standard input. Either way the run has a time limit (the process group
is killed when it passes, or when the turn is cancelled), and the output kept is bounded; the
model receives its head and tail and the exit status.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Sequence

from ..chunks import ToolSpec
from .process import run_process
from .registry import Approval, Handler, Tool, ToolContext, ToolError
from .result import ToolResult, bytes_result

SHELL_TIMEOUT = 60.0
"""Seconds a run_shell command may take unless the call asks for less (or more, up to the maximum)."""

MAX_SHELL_TIMEOUT = 600.0
COMMAND_TIMEOUT = 60.0
"""Seconds a command bound to a pack tool may take unless its config says otherwise."""

TIMEOUT_GRACE = 5.0
"""Seconds the outer time limit of a command tool allows beyond the command's own."""


def shell_argv(command: str) -> list[str]:
    """How a shell command line is run on this platform."""
    if sys.platform == "win32":
        return [os.environ.get("COMSPEC", "cmd.exe"), "/c", command]
    return ["/bin/sh", "-c", command]


def make_run_shell(default_timeout: float = SHELL_TIMEOUT) -> Handler:
    """The run_shell handler, with `default_timeout` seconds when the call gives none."""

    async def run_shell(arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        command = str(arguments.get("command", ""))
        if not command.strip():
            raise ToolError("command must not be empty")
        timeout = float(arguments.get("timeout") or default_timeout)
        timeout = min(max(timeout, 0.001), MAX_SHELL_TIMEOUT)
        try:
            done = await run_process(shell_argv(command), cwd=context.workspace.root, timeout=timeout)
        except OSError as error:
            raise ToolError(f"the shell could not be started: {error.strerror or error}") from None
        failed = done.timed_out or done.exit_code != 0
        return bytes_result(done.output, is_error=failed, total=done.total_bytes, note=done.status_note(timeout))

    return run_shell


def command_tool(spec: ToolSpec, argv: Sequence[str], *, timeout: float = COMMAND_TIMEOUT, approval: Approval = Approval.ASK) -> Tool:
    """A pack tool that runs `argv` in the workspace with the call's arguments as JSON on stdin."""
    argv = [str(part) for part in argv]
    if not argv:
        raise ValueError("a tool command needs at least the program to run")

    async def run_command(arguments: dict[str, Any], context: ToolContext) -> ToolResult:
        payload = json.dumps(arguments, ensure_ascii=False).encode("utf-8")
        try:
            done = await run_process(argv, cwd=context.workspace.root, timeout=timeout, stdin=payload)
        except OSError as error:
            raise ToolError(f"the command {argv[0]!r} could not be started: {error.strerror or error}") from None
        failed = done.timed_out or done.exit_code != 0
        note = done.status_note(timeout) if failed else ""
        return bytes_result(done.output, is_error=failed, total=done.total_bytes, note=note)

    return Tool(
        spec,
        run_command,
        default_approval=approval,
        uses_workspace=True,
        timeout=timeout + TIMEOUT_GRACE,
        kind="command",
    )
