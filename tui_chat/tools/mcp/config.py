"""The `[mcp.servers.NAME]` tables of the config file: which MCP servers to run and how.

```toml
[mcp.servers.files]                     # a local server, spoken to over stdin/stdout
command = "npx"
args = ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes"]
env = { LOG_LEVEL = "info" }
cwd = "/home/me"

[mcp.servers.github]                    # a remote server, over streamable HTTP
url = "https://api.githubcopilot.com/mcp/"
headers = { Authorization = "Bearer ${GITHUB_TOKEN}" }
approval = "ask"                        # ask | auto | deny: the default for its tools
tools = { get_issue = "auto" }          # per-tool overrides, by the server's own tool name
timeout = 60                            # seconds a call may take (default 60)
enabled = true
```

Secrets stay out of the file: in a `headers` or `env` value, `${NAME}` stands for the environment
variable NAME, read when the server starts (a missing one makes the server fail to start, naming
the variable, never a value). Only `${NAME}` is expanded: a lone `$` is kept as written. The values
of `headers` and `env` are never shown (`mcp list`, errors, logs name only their keys).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from ...checking import Problems, Rule, Wrong, check_table, non_empty_string, toml_type
from ..registry import Approval
from ..settings import RULES as TOOL_RULES

DEFAULT_CALL_TIMEOUT = 60.0
"""Seconds an MCP tool call may take when its server sets no `timeout`."""

_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SERVER_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class MissingVariable(LookupError):
    """A `${NAME}` in a header or env value names an environment variable that is not set."""


@dataclass(frozen=True, slots=True)
class McpServerConfig:
    """One `[mcp.servers.NAME]` table, checked: a stdio server (`command`) or an HTTP one (`url`)."""

    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    cwd: str | None = None
    url: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    """Never shown: values may hold secrets (or `${NAME}` references to them)."""
    enabled: bool = True
    approval: Approval = Approval.ASK
    tools: Mapping[str, Approval] = field(default_factory=dict)
    timeout: float = DEFAULT_CALL_TIMEOUT

    @property
    def transport(self) -> str:
        """"stdio" or "http"."""
        return "stdio" if self.command else "http"

    @property
    def where(self) -> str:
        """What the server is, for a listing: its program or its URL (never a header or env value)."""
        return self.command if self.command else self.url or ""

    def approval_for(self, tool: str) -> Approval:
        """How the server's tool `tool` (its own name) is approved: its override, else the server's default."""
        return self.tools.get(tool, self.approval)


def names_a_variable(value: str) -> bool:
    """Whether `value` takes something from the environment (has a `${NAME}`), rather than holding it all."""
    return _REFERENCE.search(value) is not None


def expand(values: Mapping[str, str]) -> dict[str, str]:
    """`values` with every `${NAME}` replaced by the environment variable NAME.

    Raises `MissingVariable` naming the key and the variable (never a value) when one is unset.
    """
    expanded: dict[str, str] = {}
    for key, value in values.items():
        def lookup(match: re.Match[str], key: str = key) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise MissingVariable(f"{key}: the environment variable {name} is not set")
            return os.environ[name]

        expanded[key] = _REFERENCE.sub(lookup, value)
    return expanded


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise Wrong(f"expected an array of strings, got {toml_type(value)}")


def _string_table(value: Any) -> dict[str, str]:
    if isinstance(value, dict) and all(isinstance(item, str) for item in value.values()):
        return dict(value)
    raise Wrong("expected a table of strings (use \"${NAME}\" for an environment variable)")


def _url(value: Any) -> str:
    text = non_empty_string(value)
    if not text.startswith(("http://", "https://")):
        raise Wrong("expected an http:// or https:// URL")
    return text


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise Wrong(f"expected true or false, got {toml_type(value)}")


def _tool_approvals(value: Any) -> dict[str, Approval]:
    if not isinstance(value, dict):
        raise Wrong(f"expected a table of tool = \"ask\" | \"auto\" | \"deny\", got {toml_type(value)}")
    inside: list[tuple[tuple[str | int, ...], str]] = []
    kept: dict[str, Approval] = {}
    for tool, mode in value.items():
        try:
            kept[tool] = TOOL_RULES["approval"](mode)
        except Wrong as error:
            inside.append(((tool,), str(error)))
    if inside:
        raise Wrong(inside=inside, kept=kept)
    return kept


SERVER: dict[str, Rule] = {
    "command": non_empty_string,
    "args": _strings,
    "env": _string_table,
    "cwd": non_empty_string,
    "url": _url,
    "headers": _string_table,
    "enabled": _boolean,
    "approval": TOOL_RULES["approval"],
    "tools": _tool_approvals,
    "timeout": TOOL_RULES["timeout"],
}
"""Each key of a `[mcp.servers.NAME]` table and its rule."""


def check_mcp_table(value: Any, problems: Problems) -> dict[str, McpServerConfig]:
    """The `[mcp]` table's servers by name; a server without exactly one of `command` and `url` is dropped."""
    top = check_table(value, {"servers": lambda v: v}, ("mcp",), problems)
    servers = top.get("servers", {})
    if not isinstance(servers, dict):
        problems.add(("mcp", "servers"), f"expected a table, got {toml_type(servers)}; ignored")
        return {}
    checked: dict[str, McpServerConfig] = {}
    for name, own in servers.items():
        keys = ("mcp", "servers", name)
        if not _SERVER_NAME.match(name) or "__" in name:
            problems.add(keys, "a server name is 1 to 64 letters, digits, _ or - (no \"__\"); ignored")
            continue
        good = check_table(own, SERVER, keys, problems)
        if isinstance(own, dict) and ("command" in good) == ("url" in good):
            problems.add(keys, "needs one of command (stdio) or url (HTTP); ignored")
            continue
        if isinstance(own, dict):
            checked[name] = McpServerConfig(name=name, **good)
    return checked
