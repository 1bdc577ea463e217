"""`tui-chat mcp list [--json]` (the arguments are parsed, and the config read, in `cli.py`).

It starts every configured server, waits until each runs or has failed, prints each with its
state (running, failed and why, disabled), its tools and its prompts (with their arguments, a
required one marked `*`), and ends them all. Header and env values
are never printed; tool names and descriptions from servers are shown with control characters
escaped.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, Mapping

from ...safe_text import escape_controls
from .config import McpServerConfig
from .manager import McpManager
from .server import McpServer


def print_listing(servers: Mapping[str, McpServerConfig], path: Path, *, as_json: bool) -> int:
    """Start `servers`, print each with its state and tools (as JSON with `as_json`); the exit code."""
    listing = asyncio.run(_listing(McpManager(servers)))
    if as_json:
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
        "prompts": [
            {
                "name": escape_controls(prompt.name),
                "title": prompt.title,
                "description": prompt.description,
                "arguments": [
                    {"name": escape_controls(argument.name), "description": argument.description, "required": argument.required}
                    for argument in prompt.arguments
                ],
            }
            for prompt in server.prompts
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
        for prompt in server["prompts"]:
            arguments = " ".join(argument["name"] + ("*" if argument["required"] else "") for argument in prompt["arguments"])
            lines.append(f"  prompt {prompt['name']}" + (f" ({arguments})" if arguments else ""))
    return lines
