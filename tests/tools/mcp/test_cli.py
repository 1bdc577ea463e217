"""`tui-chat ask` with an MCP tool approved at a real terminal (a pty), `mcp list`, and SIGTERM leaving no server behind."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.scripted import ScriptedProvider
from tests.tools.helpers import calls
from tui_chat import cli
from tui_chat.chunks import Done, FinishReason, TextDelta
from tui_chat.config import Config
from tui_chat.conversation import Conversation
from tui_chat.providers.base import ChatRequest
from tui_chat.session import Session
from tui_chat.tools.mcp.manager import McpManager

from .servers import ROOT, stdio_config, stdio_toml


def echo_tool_result(request: ChatRequest) -> list:
    """The model's second reply: the tool result it was given, said back."""
    return [TextDelta(f"the tool said {request.messages[-1].content}"), Done(FinishReason.STOP)]


async def test_ask_runs_an_mcp_tool_approved_at_the_terminal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    provider = ScriptedProvider(calls(("mcp__fake__echo", '{"text": "from ask"}')), echo_tool_result)
    session = Session(
        config=Config(), config_path=tmp_path / "config.toml", provider_name="scripted",
        conversation=Conversation(provider), pack=None, rendered=None, warnings=[],
        mcp=McpManager({"fake": stdio_config()}, log_dir=tmp_path),
    )
    leader, follower = os.openpty()  # a real terminal, so the approver asks
    os.write(leader, b"y\n")
    with os.fdopen(follower, encoding="utf-8") as answers:
        code = await cli._ask(session, "use the tool", as_json=False, answers=answers)
    os.close(leader)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "tool call 1 of 1: mcp__fake__echo" in err and "MCP server: fake" in err
    assert '"text": "from ask"' in err
    assert out == 'the tool said {"echoed": "from ask"}\n'
    assert all(server.state.value == "stopped" for server in session.mcp.servers.values())


async def test_ask_with_a_failed_server_warns_once_and_answers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    session = Session(
        config=Config(), config_path=tmp_path / "config.toml", provider_name="scripted",
        conversation=Conversation(ScriptedProvider([TextDelta("hello"), Done(FinishReason.STOP)])), pack=None,
        rendered=None, warnings=[], mcp=McpManager({"gone": stdio_config("gone").__class__(name="gone", command="/no/such/mcp")}, log_dir=tmp_path),
    )
    code = await cli._ask(session, "hi", as_json=False, answers=io.StringIO())
    out, err = capsys.readouterr()
    assert (code, out) == (0, "hello\n")
    assert err.count("MCP server gone failed: cannot start") == 1


def test_mcp_list_shows_running_failed_and_disabled_servers(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        stdio_toml("fake") + '[mcp.servers.broken]\ncommand = "/no/such/mcp"\n'
        '[mcp.servers.off]\ncommand = "x"\nenabled = false\n'
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "tui_chat", "mcp", "--config", str(config), "list", "--json"],
        env=env, capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    )
    assert done.returncode == 0, done.stderr
    listing = {server["name"]: server for server in json.loads(done.stdout)}
    assert listing["fake"]["state"] == "running"
    tools = {tool["name"]: tool for tool in listing["fake"]["tools"]}
    assert tools["mcp__fake__echo"]["available"] and not tools["mcp__fake__odd_schema"]["available"]
    assert all("\x1b" not in tool["server_name"] for tool in tools.values())
    assert listing["broken"]["state"] == "failed" and "/no/such/mcp" in listing["broken"]["reason"]
    assert (listing["off"]["state"], listing["off"]["reason"]) == ("disabled", "disabled in the config")
    text = subprocess.run(
        [sys.executable, "-m", "tui_chat", "mcp", "--config", str(config), "list"],
        env=env, capture_output=True, text=True, timeout=60, cwd=ROOT, check=False,
    ).stdout
    assert "  mcp__fake__odd_schema  [unavailable: its input schema cannot be checked" in text
    assert "  prompt review\n  prompt greet (name* tone)\n" in text
    prompts = {prompt["name"]: prompt for prompt in listing["fake"]["prompts"]}
    assert prompts["review"]["title"] == "Code review" and prompts["review"]["description"] == "Review code [1mtersely[0m"
    assert prompts["greet"]["arguments"] == [
        {"name": "name", "description": "who to greet", "required": True},
        {"name": "tone", "description": "how", "required": False},
    ]
    assert listing["broken"]["prompts"] == []
    assert "\x1b" not in text and "fake mcp server: starting" not in text


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="finds the server process through /proc")
def test_sigterm_during_ask_ends_every_server_process(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(stdio_toml("fake", "--linger"))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_STATE_HOME": str(tmp_path)}
    ask = subprocess.Popen(
        [sys.executable, "-m", "tui_chat", "--config", str(config), "ask", "--provider", "demo", "--speed", "1", "--json", "hi"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    try:
        assert ask.stdout is not None
        assert ask.stdout.readline()  # the first chunk: the servers have started before the turn
        children = [
            int(pid)
            for task in Path(f"/proc/{ask.pid}/task").iterdir()
            for pid in (task / "children").read_text().split()
        ]
        assert children, "the MCP server runs as a child of tui-chat"
        ask.send_signal(signal.SIGTERM)
        ask.wait(timeout=30)
    finally:
        if ask.poll() is None:
            ask.kill()
            ask.wait()
    alive = [pid for pid in children if _alive(pid)]
    for pid in alive:  # do not leave an orphan behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert alive == []
    assert "Traceback" not in ask.stderr.read()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
