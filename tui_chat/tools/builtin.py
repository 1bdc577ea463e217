"""The built-in tools: calculator, current_time, read_file, list_directory, search_files, write_file
and run_shell.

`builtin_tools()` gives them by name. Only calculator and current_time run without asking by
default; the file readers ask; write_file and run_shell ask every time, whatever the settings.
The argument names match the bundled tools-demo pack: calculator(expression),
current_time(timezone?), list_directory(path?, show_hidden?).
"""

from __future__ import annotations

from datetime import datetime, timezone as dt_timezone, tzinfo
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..chunks import ToolSpec
from . import files
from .calculator import CalculatorError, evaluate, format_number
from .registry import Approval, Tool, ToolContext, ToolError
from .shell import MAX_SHELL_TIMEOUT, SHELL_TIMEOUT, TIMEOUT_GRACE, make_run_shell

Clock = Callable[[], datetime]
"""Gives the current time as an aware datetime (injectable for tests)."""


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required or [], "additionalProperties": False}


_PATH = {"type": "string", "description": "A path relative to the workspace folder (\".\" is the folder itself)"}

SPECS: dict[str, ToolSpec] = {
    "calculator": ToolSpec(
        "calculator",
        "Evaluate an arithmetic expression (numbers, + - * / // % ** and parentheses; sqrt, log, sin, "
        "cos, tan, exp, abs, round, floor, ceil, factorial; pi, e, tau) and return the result.",
        _object(
            {"expression": {"type": "string", "description": "The expression, e.g. \"(3.5 + 2) * 4 ** 2\"",
                            "minLength": 1, "maxLength": 1000}},
            ["expression"],
        ),
    ),
    "current_time": ToolSpec(
        "current_time",
        "Get the current date and time, in the local time zone or in a named IANA time zone.",
        _object({"timezone": {"type": "string", "description": "An IANA time zone such as \"Europe/Paris\"; "
                              "omit it for the local time zone", "maxLength": 100}}),
    ),
    "read_file": ToolSpec(
        "read_file",
        "Read a text file in the workspace folder.",
        _object({"path": {**_PATH, "minLength": 1}}, ["path"]),
    ),
    "list_directory": ToolSpec(
        "list_directory",
        "List the entries of a directory in the workspace folder: names, kinds and file sizes.",
        _object({
            "path": {**_PATH, "description": "The directory to list; \".\" (the workspace folder) when omitted"},
            "show_hidden": {"type": "boolean", "description": "Include names that start with a dot", "default": False},
        }),
    ),
    "search_files": ToolSpec(
        "search_files",
        "Search the text files under a directory of the workspace for lines containing some text.",
        _object(
            {
                "text": {"type": "string", "description": "The text to look for", "minLength": 1, "maxLength": 1000},
                "path": {**_PATH, "description": "The directory to search; the workspace folder when omitted"},
                "glob": {"type": "string", "description": "Only files whose names match, e.g. \"*.py\"", "maxLength": 200},
                "ignore_case": {"type": "boolean", "default": False},
            },
            ["text"],
        ),
    ),
    "write_file": ToolSpec(
        "write_file",
        "Write text to a file in the workspace folder, creating it (and its folders) or replacing it.",
        _object(
            {
                "path": {**_PATH, "minLength": 1},
                "content": {"type": "string", "description": "The whole new content of the file"},
                "append": {"type": "boolean", "description": "Add to the end instead of replacing", "default": False},
            },
            ["path", "content"],
        ),
    ),
    "run_shell": ToolSpec(
        "run_shell",
        "Run a shell command in the workspace folder and return its output (stdout and stderr) and exit status.",
        _object(
            {
                "command": {"type": "string", "description": "The command line", "minLength": 1, "maxLength": 20000},
                "timeout": {"type": "number", "description": f"Seconds to allow (default {SHELL_TIMEOUT:g})",
                            "exclusiveMinimum": 0, "maximum": MAX_SHELL_TIMEOUT},
            },
            ["command"],
        ),
    ),
}

AUTO_BY_DEFAULT = frozenset({"calculator", "current_time"})
ALWAYS_ASK = frozenset({"run_shell", "write_file"})
READ_ONLY = frozenset({"calculator", "current_time", "read_file", "list_directory", "search_files"})


async def _calculator(arguments: dict[str, Any], context: ToolContext) -> str:
    try:
        return format_number(evaluate(str(arguments["expression"])))
    except CalculatorError as error:
        raise ToolError(str(error)) from None


def make_current_time(clock: Clock | None = None) -> Any:
    """The current_time handler; `clock` gives "now" (default: the system clock, in UTC)."""

    async def current_time(arguments: dict[str, Any], context: ToolContext) -> str:
        now = clock() if clock is not None else datetime.now(dt_timezone.utc)
        name = arguments.get("timezone")
        zone: tzinfo | None
        if name:
            try:
                zone = ZoneInfo(str(name))
            except (ZoneInfoNotFoundError, ValueError, OSError):
                raise ToolError(f"unknown time zone {name!r}; use an IANA name such as \"Europe/Paris\"") from None
            local = now.astimezone(zone)
            label = str(name)
        else:
            local = now.astimezone()
            label = "local time"
        offset = local.strftime("%z")
        offset = f"UTC{offset[:3]}:{offset[3:]}" if offset else "UTC"
        return f"{local:%A %Y-%m-%d %H:%M:%S} {local.tzname() or ''} ({label}, {offset})".replace("  ", " ")

    return current_time


def builtin_tools(*, clock: Clock | None = None, shell_timeout: float = SHELL_TIMEOUT) -> dict[str, Tool]:
    """Every built-in tool by name, each with its default approval."""
    handlers = {
        "calculator": _calculator,
        "current_time": make_current_time(clock),
        "read_file": files.read_file,
        "list_directory": files.list_directory,
        "search_files": files.search_files,
        "write_file": files.write_file,
        "run_shell": make_run_shell(shell_timeout),
    }
    tools: dict[str, Tool] = {}
    for name, spec in SPECS.items():
        tools[name] = Tool(
            spec,
            handlers[name],
            default_approval=Approval.AUTO if name in AUTO_BY_DEFAULT else Approval.ASK,
            always_ask=name in ALWAYS_ASK,
            read_only=name in READ_ONLY,
            uses_workspace=name in {"read_file", "list_directory", "search_files", "write_file", "run_shell"},
            timeout=MAX_SHELL_TIMEOUT + TIMEOUT_GRACE if name == "run_shell" else 30.0,
        )
    return tools
