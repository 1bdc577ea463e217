"""MCP over streamable HTTP on 127.0.0.1: a secret header taken from the environment, used and never printed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from tui_chat.chunks import ToolCall
from tui_chat.tools.mcp.config import McpServerConfig
from tui_chat.tools.mcp.manager import McpManager
from tui_chat.tools.mcp.server import ServerState
from tui_chat.tools.registry import ToolRegistry

from .servers import ROOT, http_server

TOKEN = "s3cret-token-4242"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    yield from http_server(TOKEN)


def http_config(url: str) -> McpServerConfig:
    return McpServerConfig(name="remote", url=url, headers={"Authorization": "Bearer ${FAKE_TEST_TOKEN}"})


async def test_the_header_comes_from_the_environment_and_tools_work(url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FAKE_TEST_TOKEN", TOKEN)
    async with McpManager({"remote": http_config(url)}, log_dir=tmp_path) as manager:
        await manager.started()
        assert manager.servers["remote"].state is ServerState.RUNNING
        registry = ToolRegistry()
        manager.attach(registry)
        checked = registry.check(ToolCall("c1", "mcp__remote__echo", '{"text": "over http"}'))
        assert json.loads((await registry.run(checked)).content) == {"echoed": "over http"}


async def test_a_missing_variable_is_named_and_its_server_fails(url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("FAKE_TEST_TOKEN", raising=False)
    async with McpManager({"remote": http_config(url)}, log_dir=tmp_path) as manager:
        await manager.started()
        server = manager.servers["remote"]
        assert server.state is ServerState.FAILED
        assert "FAKE_TEST_TOKEN is not set" in server.reason
        assert manager.notices == [f"MCP server remote failed: {server.reason}; its tools are unavailable until it starts again (on their next call)"]


async def test_a_refused_token_is_never_shown(url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FAKE_TEST_TOKEN", "wrong-" + TOKEN)
    async with McpManager({"remote": http_config(url)}, log_dir=tmp_path) as manager:
        await manager.started()
        server = manager.servers["remote"]
        assert server.state is ServerState.FAILED
        assert server.reason.endswith(f"(HTTP 401 from {url})")
        assert TOKEN not in server.reason and TOKEN not in " ".join(manager.notices)
        assert TOKEN not in repr(server.config)


def test_mcp_list_shows_the_server_and_never_the_secret(url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[mcp.servers.remote]\nurl = "{url}"\nheaders = {{ Authorization = "Bearer ${{FAKE_TEST_TOKEN}}" }}\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT), "FAKE_TEST_TOKEN": TOKEN, "XDG_STATE_HOME": str(tmp_path)}
    for extra in ([], ["--json"]):
        done = subprocess.run(
            [sys.executable, "-m", "tui_chat", "mcp", "--config", str(config), "list", *extra],
            env=env, capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
        )
        assert done.returncode == 0, done.stderr
        assert TOKEN not in done.stdout + done.stderr
        assert "mcp__remote__echo" in done.stdout
    listing = json.loads(done.stdout)
    assert listing[0]["state"] == "running" and listing[0]["transport"] == "http"
