"""Shared test set-up: every test runs with no real config, no provider keys and no clipboard."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

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
