"""Per-tool settings from the config file's `[tools.<name>]` tables.

```toml
[tools.list_directory]
approval = "auto"          # ask | auto | deny

[tools.lookup_order]       # a pack tool bound to a command: arguments arrive as JSON on stdin
command = ["python3", "/home/me/bin/lookup_order.py"]
timeout = 30               # seconds (default 60)

[tools.run_shell]
timeout = 120              # the default time limit of a command, in seconds
```

The config loader checks these tables with the rules here (so a problem names the file, line and
key); a wrong value is dropped with a warning, as everywhere else in the config, and the rest still
applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..checking import Problems, Rule, Wrong, check_table, is_number
from .registry import Approval


@dataclass(frozen=True, slots=True)
class ToolConfig:
    """One `[tools.<name>]` table, checked. None means "not set"."""

    approval: Approval | None = None
    command: tuple[str, ...] | None = None
    timeout: float | None = None

    def as_table(self) -> dict[str, Any]:
        """The settings that are set, as they are written in the config file."""
        table: dict[str, Any] = {}
        if self.approval is not None:
            table["approval"] = self.approval.value
        if self.command is not None:
            table["command"] = list(self.command)
        if self.timeout is not None:
            table["timeout"] = self.timeout
        return table


def _approval(value: Any) -> Approval:
    try:
        return Approval(value)
    except ValueError:
        raise Wrong('expected "ask", "auto" or "deny"') from None


def _command(value: Any) -> tuple[str, ...]:
    if isinstance(value, list) and value and all(isinstance(part, str) and part for part in value):
        return tuple(value)
    raise Wrong("expected a list of strings, the program first")


def _timeout(value: Any) -> float:
    if is_number(value) and value > 0:
        return float(value)
    raise Wrong("expected a number of seconds > 0")


RULES: dict[str, Rule] = {"approval": _approval, "command": _command, "timeout": _timeout}
"""Each key of a `[tools.<name>]` table and its rule."""


def check_tool_settings(table: Mapping[str, Any], problems: Problems) -> dict[str, ToolConfig]:
    """The `[tools]` table as `ToolConfig`s by tool name; each value dropped is recorded in `problems`."""
    settings: dict[str, ToolConfig] = {}
    for name, own in table.items():
        if not isinstance(own, Mapping):
            problems.add(("tools", name), "expected a table; ignored")
            continue
        known = f"unknown setting (known: {', '.join(RULES)})"
        good = check_table(dict(own), RULES, ("tools", str(name)), problems, unknown=lambda _key: known)
        settings[str(name)] = ToolConfig(**good)
    return settings


def parse_tool_settings(table: Any, source: str = "config") -> tuple[dict[str, ToolConfig], list[str]]:
    """The `[tools]` table as `ToolConfig`s by tool name, and a warning for each value dropped.

    `source` names the file in the warnings.
    """
    problems = Problems(source)
    if table is None:
        return {}, []
    if not isinstance(table, Mapping):
        problems.add(("tools",), "expected a table; ignored")
        return {}, problems.messages
    return check_tool_settings(table, problems), problems.messages
