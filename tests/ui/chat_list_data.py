"""Saved chats for the chat list tests: a real SQLite file with fixed times, and the app on it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui_chat.chunks import ReplyStatus, Role, ToolCall
from tui_chat.session import Choices, build_session, start_history
from tui_chat.store.history import open_store
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.chat import ChatScreen

from .conftest import fixed_clock

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
"""The wall clock of these tests: the chats below were written minutes, hours and days before."""


def at(stamp: str) -> str:
    return f"2026-03-{stamp}.000000Z"


def save_chats(db: Path) -> dict[str, str]:
    """Three chats (the newest has a tool call and its result); returns their ids by a short name."""
    store = open_store(db)
    old = store.new_chat(provider="openai", model="gpt-4o")
    store.add_message(old, Role.USER, "Plan a trip to Lisbon\nin May", created_at=at("01T09:00:00"))
    store.add_message(old, Role.ASSISTANT, "Day one: Alfama and the castle.", created_at=at("01T09:00:05"))
    mid = store.new_chat(provider="anthropic", model="claude-sonnet-4")
    store.add_message(mid, Role.USER, "Why is the sky blue?", created_at=at("02T09:00:00"))
    sky = store.add_message(
        mid, Role.ASSISTANT, "Rayleigh scattering.\nShort wavelengths scatter more.", created_at=at("02T09:00:03")
    )
    tools = store.new_chat(provider="demo", model="demo-1")
    store.add_message(tools, Role.USER, "what is 2+2", created_at=at("02T11:55:00"))
    reply = store.add_message(tools, Role.ASSISTANT, "Let me work it out.", created_at=at("02T11:55:01"))
    store.add_tool_call(reply, ToolCall("c1", "calculator", '{"expression": "2+2"}'))
    store.set_tool_result(reply, "c1", "4")
    store.add_message(
        tools, Role.ASSISTANT, "It is fou", status=ReplyStatus.INTERRUPTED, created_at=at("02T11:55:02")
    )
    store.close()
    return {"lisbon": old, "sky": mid, "sky-reply": sky, "tools": tools}


@pytest.fixture
def chats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The chats above in the history database of this test (XDG_DATA_HOME points into tmp_path)."""
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    return save_chats(data / "tui-chat" / "chats.db")


def history_app(*, no_history: bool = False) -> TuiChatApp:
    """The app on the demo provider with history as the command line would start it."""
    choices = Choices(provider="demo", provider_options={"speed": 0}, no_history=no_history)
    session = build_session(choices)
    start_history(session, choices, wait=False)
    return TuiChatApp(session, clock=fixed_clock, save_settings=False, approval_arm_delay=0, tune_collector=False)


def fix_wall_clock(app: TuiChatApp) -> None:
    screen = app.screen
    assert isinstance(screen, ChatScreen)
    screen.now = lambda: NOW
