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

The config module hands the raw table over; this module checks it. A wrong value is dropped with
a warning naming the key, as everywhere else in the config, and the rest still applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .registry import Approval


@dataclass(frozen=True, slots=True)
class ToolConfig:
    """One `[tools.<name>]` table, checked. None means "not set"."""

    approval: Approval | None = None
    command: tuple[str, ...] | None = None
    timeout: float | None = None


_KEYS = ("approval", "command", "timeout")


def parse_tool_settings(table: Any, source: str = "config") -> tuple[dict[str, ToolConfig], list[str]]:
    """The `[tools]` table as `ToolConfig`s by tool name, and a warning for each value dropped.

    `source` names the file in the warnings.
    """
    warnings: list[str] = []
    if table is None:
        return {}, warnings
    if not isinstance(table, Mapping):
        return {}, [f"{source}: tools: expected a table; ignored"]
    settings: dict[str, ToolConfig] = {}
    for name, own in table.items():
        where = f"{source}: tools.{name}"
        if not isinstance(own, Mapping):
            warnings.append(f"{where}: expected a table; ignored")
            continue
        approval = command = timeout = None
        for key, value in own.items():
            if key == "approval":
                try:
                    approval = Approval(value)
                except ValueError:
                    warnings.append(f"{where}.approval: expected \"ask\", \"auto\" or \"deny\"; ignored")
            elif key == "command":
                if isinstance(value, list) and value and all(isinstance(part, str) and part for part in value):
                    command = tuple(value)
                else:
                    warnings.append(f"{where}.command: expected a list of strings, the program first; ignored")
            elif key == "timeout":
                if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                    timeout = float(value)
                else:
                    warnings.append(f"{where}.timeout: expected a number of seconds > 0; ignored")
            else:
                warnings.append(f"{where}.{key}: unknown setting (known: {', '.join(_KEYS)}); ignored")
        settings[str(name)] = ToolConfig(approval, command, timeout)
    return settings, warnings
