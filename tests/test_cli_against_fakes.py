"""`tui-chat ask --json` and `tui-chat models`, end to end: the real command in a subprocess, each provider's fake.

The fake server (tests/fakes/server.py, asyncio) runs in this process on 127.0.0.1, on its own event
loop in a background thread (tests/fakes/live.py); the test waits on a readiness event, never on a sleep. The command is
`python -m tui_chat ...` with the key in the provider's environment variable (a config file for the
providers that have none) and `--base-url` pointing at the fake, so everything the person would
run is exercised: argument parsing, config and key lookup, session set-up, the provider over a real
socket, the JSON-lines output, stderr and the exit code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.fakes.gemini_wire import VertexWire
from tests.fakes.live import LiveFake
from tests.fakes.openai_wire import OpenAIWire
from tests.fakes.server import json_response, stream
from tests.fakes.wire import Wire
from tests.fakes.wires import KEY, WIRES
from tui_chat.chunks import Usage
from tui_chat.models import default_catalog, default_model
from tui_chat.models.usage import usage_figures
from tui_chat.providers.registry import PROVIDERS

ROOT = Path(__file__).resolve().parents[1]
COMMAND_TIMEOUT = 60.0
"""Seconds after which a hung command fails the test instead of hanging it."""
PROMPT = "Say hello"
TEXTS = ["Hel", "lo, ", "wörld"]
USAGE = (11, 29)  # Anthropic's fake reports 11 input tokens in message_start whatever is asked


@pytest.fixture(params=WIRES, ids=[wire.provider for wire in WIRES])
def wire(request: pytest.FixtureRequest) -> Wire:
    return request.param()


@pytest.fixture
def fake(wire: Wire) -> Iterator[LiveFake]:
    with LiveFake(wire) as live:
        yield live


def key_setup(wire: Wire, tmp_path: Path) -> tuple[dict[str, str], list[str]]:
    """Environment and extra arguments that give the command this provider's key (and Vertex its project).

    The key goes into the provider's environment variable; providers that read none (Ollama, any
    OpenAI-compatible server) get it from a config file's `[providers.NAME]` table instead.
    """
    env: dict[str, str] = {}
    args: list[str] = []
    if wire.key_env:
        env[wire.key_env] = KEY
    else:
        config = tmp_path / "config.toml"
        config.write_text(f'[providers.{wire.provider}]\napi_key = "{KEY}"\n', encoding="utf-8")
        config.chmod(0o600)
        args = ["--config", str(config)]
    if wire.provider == "vertex":
        env.update(GOOGLE_CLOUD_PROJECT="p1", GOOGLE_CLOUD_LOCATION="us-central1")
    return env, args


def tui_chat(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run `python -m tui_chat ARGS` with the test's (isolated) environment plus `env`."""
    full_env = {
        **os.environ,  # HOME and the XDG dirs point at an empty folder, no provider keys (tests/conftest.py)
        "PYTHONIOENCODING": "utf-8",
        "NO_PROXY": "127.0.0.1,localhost",  # a proxy set in the environment must not stand between us and the fake
        "no_proxy": "127.0.0.1,localhost",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "tui_chat", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=COMMAND_TIMEOUT,
        check=False,
    )


def ask(fake: LiveFake, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env, args = key_setup(fake.wire, tmp_path)
    return tui_chat(
        "ask", "--provider", fake.wire.provider, "--base-url", fake.base_url, "--model", fake.wire.model,
        *args, "--json", PROMPT, env=env,
    )  # fmt: skip


def json_lines(out: str) -> list[dict[str, Any]]:
    assert out.endswith("\n"), out
    return [json.loads(line) for line in out.splitlines()]


def test_every_http_provider_has_a_fake() -> None:
    assert sorted(wire.provider for wire in WIRES) == sorted(set(PROVIDERS) - {"demo", "replay"})  # offline both


def test_ask_json_streams_the_reply(wire: Wire, fake: LiveFake, tmp_path: Path) -> None:
    # "length" shows the provider's own finish reason reaching the output; Replicate reports none.
    reason = "stop" if wire.provider == "replicate" else "length"
    events = wire.start()
    for text in TEXTS:
        events += wire.text(text)
    fake.enqueue(stream(events + wire.finish(usage=USAGE, reason=reason)))

    result = ask(fake, tmp_path)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = json_lines(result.stdout)
    # What the bundled assistant pack asks for and the model cannot take is dropped, and said so:
    # its temperature on Anthropic (2026-10-21 takes none on any model), its tools on Replicate.
    notices = [line["message"] for line in lines if line["type"] == "notice"]
    expected = {"anthropic": ["temperature"], "replicate": ["cannot use tools"]}.get(wire.provider, [])
    assert len(notices) == len(expected) and all(want in notice for want, notice in zip(expected, notices)), notices
    lines = [line for line in lines if line["type"] != "notice"]
    assert {line["type"] for line in lines} == {"text", "usage", "done"}
    assert "".join(line["text"] for line in lines if line["type"] == "text") == "".join(TEXTS)
    card = default_catalog().lookup(wire.provider, wire.model)
    figures = usage_figures(card, Usage(*USAGE))  # checked against hand-computed figures in tests/models/test_usage.py
    assert [line for line in lines if line["type"] == "usage"] == [
        {"type": "usage", **figures, "input_tokens": USAGE[0], "output_tokens": USAGE[1], "context_used": sum(USAGE)}
    ]
    if wire.provider == "openai":  # gpt-4o-mini at $0.15 / $0.60 per million: 11 * 0.15e-6 + 29 * 0.6e-6
        assert USAGE == (11, 29) and figures["cost_usd"] == pytest.approx(1.905e-05)
    assert lines[-1] == {"type": "done", "finish_reason": reason}
    [request] = fake.stream_requests()
    wire.check_request(request, KEY)  # the key from the environment (or config), in the provider's header
    assert PROMPT in request.body.decode("utf-8")


def test_ask_unauthorized_is_one_line_naming_the_key_setting(wire: Wire, fake: LiveFake, tmp_path: Path) -> None:
    fake.enqueue(json_response(wire.error_body(401, f"Incorrect API key provided: {KEY}."), 401))

    result = ask(fake, tmp_path)

    assert result.returncode == 1
    stderr_lines = result.stderr.splitlines()
    assert len(stderr_lines) == 1, result.stderr
    [line] = stderr_lines
    assert line.startswith("tui-chat: error: ") and "401" in line and "Incorrect API key provided" in line
    assert (wire.key_env or f"[providers.{wire.provider}]") in line
    assert KEY not in result.stderr and KEY not in result.stdout
    [error] = [line for line in json_lines(result.stdout) if line["type"] != "notice"]
    assert error["type"] == "error" and "401" in error["message"] and error["retryable"] is False
    assert len(fake.stream_requests()) == 1  # not retried


@pytest.mark.parametrize("wire", [OpenAIWire, VertexWire], indirect=True, ids=["openai", "vertex"])
def test_models_lists_the_fakes_model_ids(wire: Wire, fake: LiveFake, tmp_path: Path) -> None:
    fake.enqueue(json_response(wire.models_body))
    env, args = key_setup(wire, tmp_path)

    result = tui_chat("models", "--provider", wire.provider, "--base-url", fake.base_url, *args, env=env)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    header, *rows = result.stdout.splitlines()
    assert header.split()[:2] == ["model", "context"]
    served = [row.split()[0] for row in rows]
    assert served[: len(wire.models_expected)] == wire.models_expected  # what the service lists, then what the catalog knows
    assert default_model(wire.provider) in served
    [request] = fake.call(lambda: list(fake.server.requests))
    assert (request.method, request.path) == ("GET", wire.models_path)
    assert request.headers["authorization"] == f"Bearer {KEY}"


# --- what a hostile server says reaches the terminal as plain text ----------------------------

HOSTILE = "\x1b]0;pwned\x07 \x1b]52;c;ZXZpbA==\x07 \x1b[2J\x9b31m \u202eevil\u202c [red]x[/red] [link=https://evil.example]y[/link]"
"""Terminal title (OSC 0), clipboard write (OSC 52), CSI (7- and 8-bit), a bidi override and Rich markup."""
CONTROLS = ("\x1b", "\x07", "\x9b", "\u202e", "\u202c")


def assert_plain(text: str) -> None:
    assert not any(control in text for control in CONTROLS), repr(text)


@pytest.mark.parametrize("wire", [OpenAIWire], indirect=True, ids=["openai"])
def test_models_prints_hostile_model_ids_plain(wire: Wire, fake: LiveFake, tmp_path: Path) -> None:
    fake.enqueue(json_response({"object": "list", "data": [{"id": "gpt-4o" + HOSTILE, "object": "model"}]}))
    env, args = key_setup(wire, tmp_path)

    result = tui_chat("models", "--provider", wire.provider, "--base-url", fake.base_url, *args, env=env)

    assert result.returncode == 0, result.stderr
    assert_plain(result.stdout)
    assert "pwned" in result.stdout and "[red]x[/red]" in result.stdout  # shown, as text


@pytest.mark.parametrize("wire", [OpenAIWire], indirect=True, ids=["openai"])
def test_ask_prints_hostile_error_bodies_and_retry_lines_plain(wire: Wire, fake: LiveFake, tmp_path: Path) -> None:
    fake.enqueue(
        json_response(wire.error_body(503, HOSTILE), 503, {"retry-after": "0"}),
        json_response(wire.error_body(400, f"{HOSTILE} key {KEY}"), 400),
    )
    env, args = key_setup(wire, tmp_path)

    result = tui_chat("ask", "--provider", wire.provider, "--base-url", fake.base_url, *args, PROMPT, env=env)

    assert result.returncode == 1
    notice, *lines = result.stderr.splitlines()
    assert notice == "tui-chat: gpt-5-mini takes only the default temperature"  # the default model, the assistant pack
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("tui-chat: retrying") and "pwned" in lines[0]
    assert lines[1].startswith("tui-chat: error: ") and "pwned" in lines[1] and "[red]x[/red]" in lines[1]
    assert_plain(result.stderr)
    assert_plain(result.stdout)
    assert KEY not in result.stderr and KEY not in result.stdout
