"""Configs for the fake MCP server of tests/fakes/mcp_servers.py, over stdio and over streamable HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

from tui_chat.tools.mcp.config import McpServerConfig

ROOT = Path(__file__).resolve().parents[3]
FAKE = ["-m", "tests.fakes.mcp_servers"]


def stdio_config(name: str = "fake", *extra: str, **settings: Any) -> McpServerConfig:
    """The fake server as a stdio subprocess, run from this worktree."""
    return McpServerConfig(
        name=name, command=sys.executable, args=(*FAKE, "stdio", *extra), env={"PYTHONPATH": str(ROOT)}, cwd=str(ROOT), **settings
    )


def stdio_toml(name: str = "fake", *extra: str) -> str:
    """The same server as a config file's table."""
    args = ", ".join(f'"{arg}"' for arg in (*FAKE, "stdio", *extra))
    return (
        f'[mcp.servers.{name}]\ncommand = "{sys.executable}"\nargs = [{args}]\n'
        f'cwd = "{ROOT}"\nenv = {{ PYTHONPATH = "{ROOT}" }}\n'
    )


def http_server(token: str) -> Iterator[str]:
    """Run the fake over streamable HTTP on 127.0.0.1, requiring `token`; yields its URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FAKE_MCP_TOKEN": token}
    process = subprocess.Popen(
        [sys.executable, *FAKE, "http"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # the server prints its port once it listens
        assert line.startswith("PORT "), line
        yield f"http://127.0.0.1:{int(line.split()[1])}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=30)
