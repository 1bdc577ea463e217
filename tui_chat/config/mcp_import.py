"""`tui-chat mcp import FILE`: the `mcpServers` JSON other clients use, added to the config.

Claude Desktop, Cursor, VS Code and others describe servers as
`{"mcpServers": {"NAME": {"command": ..., "args": [...], "env": {...}}}}` or with `"url"` and
`"headers"` for remote ones (`"servers"` is accepted too, as VS Code writes it). Each server becomes
a `[mcp.servers.NAME]` table, written with tomlkit so the rest of the file keeps its comments and
layout. A server already in the config is left as it is; one that cannot be used is skipped,
saying why. The result is checked by the same rules as the config file itself.

Other clients' files often hold secrets as they are (`"Authorization": "Bearer ghp_..."`). Such a
header or env value (one without a `${NAME}`) is still copied, so the server works, but each is
warned of by server and key, never its value, with the `${NAME}` to write instead.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ..checking import Problems
from ..errors import ConfigError
from ..safe_text import escape_controls
from ..tools.mcp.config import check_mcp_table, names_a_variable
from ..tools.registry import Approval
from .editing import atomic_write_secret
from .loading import read_toml

_KEPT = ("command", "args", "env", "cwd", "url", "headers")


def read_servers(path: Path) -> dict[str, dict[str, Any]]:
    """The servers of an `mcpServers` JSON file, by name; ConfigError naming the file if it has none."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{path}: not JSON: {error}") from None
    servers = data.get("mcpServers", data.get("servers")) if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise ConfigError(f"{path}: no \"mcpServers\" object", hint="the file other MCP clients use has one")
    return servers


def as_table(entry: Any) -> dict[str, Any]:
    """One server entry of the JSON file as a `[mcp.servers.NAME]` table (`disabled` becomes `enabled`)."""
    if not isinstance(entry, dict):
        return {}
    table = {key: entry[key] for key in _KEPT if key in entry}
    if entry.get("disabled") is True:
        table["enabled"] = False
    return table


def literal_values(name: str, table: dict[str, Any]) -> list[str]:
    """A warning for each header or env value of server `name` written as it is (no `${NAME}` in it)."""
    warnings: list[str] = []
    for key, label in (("headers", "header"), ("env", "env")):
        for field, value in table.get(key, {}).items():
            if isinstance(value, str) and not names_a_variable(value):
                variable = re.sub(r"[^A-Z0-9_]|^(?=[0-9])", "_", (f"{name}_{field}" if key == "headers" else field).upper())
                warnings.append(
                    f"warning: {label} {escape_controls(field)} is written into the config as it is; if it is a secret,"
                    f" write \"${{{variable}}}\" there and set that variable in the environment"
                )
    return warnings


def import_servers(source: Path, config_path: Path) -> list[str]:
    """Add the servers of `source` to the config at `config_path`; one line per server saying what was done."""
    import tomlkit  # only when writing: it costs ~25 ms to import

    servers = read_servers(source)
    text = read_toml(config_path)[0] if config_path.exists() else ""
    document = tomlkit.parse(text)
    existing = document.get("mcp", {}).get("servers", {})
    report: list[str] = []
    added = 0
    for name, entry in servers.items():
        shown = escape_controls(str(name))
        if name in existing:
            report.append(f"{shown}: already in the config; left as it is")
            continue
        problems = Problems(str(source))
        table = as_table(entry)
        checked = check_mcp_table({"servers": {name: table}}, problems)
        if name not in checked:
            report.append(f"{shown}: skipped: {'; '.join(problems.messages) or 'not a server entry'}")
            continue
        document.setdefault("mcp", tomlkit.table(is_super_table=True))
        document["mcp"].setdefault("servers", tomlkit.table(is_super_table=True))
        server = tomlkit.table()
        for key, value in table.items():
            if isinstance(value, dict):  # env and headers, written on one line like the JSON had them
                inline = tomlkit.inline_table()
                inline.update(value)
                value = inline
            server[key] = value
        server["approval"] = Approval.ASK.value
        document["mcp"]["servers"][name] = server
        added += 1
        notes = [*problems.messages, *literal_values(name, table)]
        report.append(f"{shown}: added ({checked[name].transport})" + "".join(f"; {note}" for note in notes))
    if added:
        atomic_write_secret(config_path, tomlkit.dumps(document))
    return report
