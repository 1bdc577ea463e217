"""`tui-chat mcp list [--json]` and `tui-chat mcp import FILE` (the arguments are parsed in `cli.py`).

`list` starts every configured server, waits until each runs or has failed, prints each with its
state (running, failed and why, disabled) and its tools, and ends them all. Header and env values
are never printed; tool names and descriptions from servers are shown with control characters
escaped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from ...safe_text import escape_controls
from .manager import McpManager
from .server import McpServer


def run(args: argparse.Namespace) -> int:
    """Run `tui-chat mcp ACTION`; the exit code."""
    from ...config import default_config_path, load_config

    path: Path = getattr(args, "config", None) or default_config_path()
    if args.mcp_command == "import":
        from .importing import import_servers

        for line in import_servers(args.file, path):
            print(line)
        return 0
    loaded = load_config(path)
    for warning in loaded.warnings:
        print(f"tui-chat: warning: {warning}", file=sys.stderr)
    listing = asyncio.run(_listing(McpManager(loaded.config.mcp)))
    if args.json:
        print(json.dumps(listing, ensure_ascii=False, indent=2))
    elif not listing:
        print(f"no MCP servers in {path} (add [mcp.servers.NAME] tables, or `tui-chat mcp import FILE`)")
    else:
        print("\n".join(_lines(listing)))
    return 0


async def _listing(manager: McpManager) -> list[dict[str, Any]]:
    async with manager:
        manager.end_on_sigterm()
        await manager.started()
        return [_describe(server) for server in manager.servers.values()]


def _describe(server: McpServer) -> dict[str, Any]:
    return {
        "name": server.name,
        "transport": server.config.transport,
        "where": escape_controls(server.config.where),
        "state": server.state.value,
        "reason": server.reason,
        "tools": [
            {
                "name": tool.registry_name,
                "server_name": escape_controls(tool.name),
                "description": escape_controls(tool.description),
                "available": not tool.problem,
                "problem": tool.problem,
            }
            for tool in server.tools
        ],
    }


def _lines(listing: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for server in listing:
        state = server["state"] + (f": {server['reason']}" if server["reason"] else "")
        lines.append(f"{server['name']}  ({server['transport']}: {server['where']})  {state}")
        for tool in server["tools"]:
            note = f"  [unavailable: {tool['problem']}]" if tool["problem"] else ""
            lines.append(f"  {tool['name']}{note}")
    return lines
