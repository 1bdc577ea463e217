"""Start-up imports only what the first screen needs (the measured time is in bench/startup.py)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).resolve().parents[1] / "bench" / "startup_probe.py"


def test_first_screen_loads_no_audio_network_or_unused_provider_modules_and_collects_again() -> None:
    out = subprocess.run(
        [sys.executable, str(PROBE), "tui-chat"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    report = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    modules = set(report["modules"])
    assert "tui_chat.ui.app" in modules  # the probe really started the app
    assert report["collector_on"], "the app did not turn the garbage collector on again after start-up"
    for heavy in ("numpy", "sounddevice", "websockets", "httpx"):
        assert heavy not in modules, f"{heavy} was imported at start"
    providers = {m for m in modules if m.startswith("tui_chat.providers.")}
    assert providers == {"tui_chat.providers.base", "tui_chat.providers.registry", "tui_chat.providers.demo"}
    # The empty first screen needs no Markdown parser and no voice UI (they load with their first use).
    for later in ("markdown_it", "tui_chat.ui.widgets.message", "tui_chat.ui.voice", "soxr"):
        assert later not in modules, f"{later} was imported at start"


def test_a_configured_mcp_server_does_not_load_the_sdk_before_the_first_screen(tmp_path: Path) -> None:
    from tests.tools.mcp.servers import stdio_toml

    (tmp_path / "tui-chat").mkdir()
    (tmp_path / "tui-chat" / "config.toml").write_text(stdio_toml("fake"))
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")}
    out = subprocess.run(
        [sys.executable, str(PROBE), "tui-chat"], capture_output=True, text=True, check=True, timeout=120, env=env
    ).stdout
    modules = set(json.loads(next(line for line in out.splitlines() if line.startswith("{")))["modules"])
    assert "tui_chat.tools.mcp.manager" in modules  # the server was read from the config
    assert not {m for m in modules if m == "mcp" or m.startswith(("mcp.", "mcp_types"))}, "the MCP SDK loaded before the first screen"
    assert "httpx" not in modules


async def test_a_new_chat_opens_its_store_once_the_app_has_settled(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.chat_list_data import history_app
    from tests.ui.conftest import SIZE
    from tests.ui.test_chat_screen import wait_for

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    app = history_app()
    session = app.session
    assert not session.history_may_open.is_set()  # the opener waits: nothing to take from the first screen
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, session.history_may_open.is_set)  # the app said so, unasked
            assert session.recorder is not None and (await session.recorder.opened()).saved
    finally:
        session.close_history()


async def test_the_first_use_of_the_recorder_opens_the_store_at_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.chat_list_data import history_app

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    session = history_app().session  # no app: nothing else would let the opener start
    assert session.recorder is not None and not session.history_may_open.is_set()
    opening = asyncio.ensure_future(session.recorder.opened())
    await asyncio.sleep(0)  # one step of it, no time
    assert session.history_may_open.is_set()
    store = await opening
    assert store.saved
    session.close_history()


def test_history_started_for_a_first_screen_that_never_came_still_closes(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.chat_list_data import history_app

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    session = history_app().session  # the app is never run
    assert not session.history_may_open.is_set()
    session.close_history()  # opens, commits nothing, closes: no hang waiting for a screen
    assert session.history_may_open.is_set()
    assert (tmp_path / "data" / "tui-chat" / "chats.db").is_file()
