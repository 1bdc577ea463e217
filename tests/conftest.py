"""Shared test set-up: every test runs with no real config, no provider keys and no clipboard."""

from __future__ import annotations

import gc
import inspect
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot

from tui_chat.providers.registry import PROVIDERS

_KEY_VARS = {var for spec in PROVIDERS.values() for var in spec.key_env} | {
    "OPENAI_BASE_URL",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_AD_TOKEN",
    "OPENAI_API_VERSION",
    "OLLAMA_HOST",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "TUI_CHAT_CONFIG",
}


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the config dir at an empty temporary folder and remove every provider key."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    for var in _KEY_VARS:
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def no_full_collection() -> Iterator[None]:
    """Keep the garbage collector's full passes out of a test that times a server against a wall-clock
    window (an idle timeout of 0.25 s, with the fake server on the test's own loop).

    The suite's process holds every module, fixture and fake the earlier tests made; a full
    collection walks all of it and, on a loaded machine, paused the loop for over half a second
    (measured: a generation-2 pass of 0.55 s inside a 0.25 s window, the request never reaching the
    fake server). Collected first, the heap is frozen for the test (`gc.freeze`: its passes walk
    only what the test makes) and thawed after.
    """
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


SETTLE_ROUNDS = 50
"""The most pauses `settled` waits through (a screen with a ticking clock or meter never stays quiet)."""


async def settled(pilot: Pilot[Any]) -> None:
    """Wait until the screen has drawn every change asked for, with every layout they asked for (a
    layout's resizes may ask for another): two frames in a row after which nothing is pending, or
    SETTLE_ROUNDS frames, whichever comes first."""
    quiet = 0
    for _ in range(SETTLE_ROUNDS):
        await pilot.pause()
        screen = pilot.app.screen
        await screen.wait_for_refresh()
        pending = screen._layout_required or screen._repaint_required or bool(screen._dirty_widgets)
        quiet = 0 if pending else quiet + 1
        if quiet == 2:
            return


@pytest.fixture
def snap_compare(snap_compare: Callable[..., bool]) -> Callable[..., bool]:
    """pytest-textual-snapshot's `snap_compare`, taking its picture only once the screen has settled
    after `run_before` (`settled`): the suite runs on every core, and a loaded machine must not catch
    a layout half done (the plugin's own pauses are a fixed few)."""

    def compare(
        app: App[Any],
        press: Iterable[str] = (),
        terminal_size: tuple[int, int] = (80, 24),
        run_before: Callable[[Pilot[Any]], Awaitable[None] | None] | None = None,
    ) -> bool:
        async def run_then_settle(pilot: Pilot[Any]) -> None:
            if run_before is not None:
                result = run_before(pilot)
                if inspect.isawaitable(result):
                    await result
            await settled(pilot)

        return snap_compare(app, press, terminal_size, run_then_settle)

    return compare
