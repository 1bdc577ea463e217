"""Snapshots of the chat list, its search results and a reopened chat with a tool item (fixed size,
wall clock and data; no blinking cursor).

Update them with `python -m pytest tests/ui/test_chat_list_snapshots.py --snapshot-update` after
checking the report that a failing run writes.
"""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input

from tui_chat.ui.screens.chat_list import ChatListScreen
from tui_chat.ui.widgets.chat_log import ChatLog
from tui_chat.ui.widgets.prompt_input import PromptInput

from .chat_list_data import chats, fix_wall_clock, history_app  # noqa: F401  (a fixture)
from .conftest import SIZE, screen_text
from .test_chat_screen import wait_for


def no_blinking(pilot: Pilot) -> None:
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False
    for screen in pilot.app.screen_stack:
        for prompt in screen.query(PromptInput):
            prompt.cursor_blink = False


async def list_open(pilot: Pilot) -> None:
    no_blinking(pilot)
    fix_wall_clock(pilot.app)
    await pilot.press("f2")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ChatListScreen) and len(pilot.app.screen.rows) == 3)
    no_blinking(pilot)
    await wait_for(pilot, lambda: "Plan a trip to Lisbon" in screen_text(pilot.app))


async def searched(pilot: Pilot) -> None:
    await list_open(pilot)
    await pilot.press(*"sky")
    await wait_for(pilot, lambda: "user: Why is the sky blue?" in screen_text(pilot.app))


async def reopened(pilot: Pilot) -> None:
    await list_open(pilot)
    await pilot.press("enter")
    await wait_for(pilot, lambda: len(pilot.app.screen.query_one(ChatLog).query("ToolItem")) == 1)
    await pilot.app.workers.wait_for_complete()
    await wait_for(pilot, lambda: "It is fou" in screen_text(pilot.app))


def test_the_chat_list(snap_compare, chats) -> None:
    app = history_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=list_open)
    app.session.close_history()


def test_search_results(snap_compare, chats) -> None:
    app = history_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=searched)
    app.session.close_history()


def test_a_reopened_chat_with_a_tool_item(snap_compare, chats) -> None:
    app = history_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=reopened)
    app.session.close_history()


async def deleted(pilot: Pilot) -> None:
    await list_open(pilot)
    await pilot.press("ctrl+d")
    await wait_for(pilot, lambda: len(pilot.app.screen.rows) == 2)
    await wait_for(pilot, lambda: "Ctrl+Z brings it back" in screen_text(pilot.app) and "Lisbon" in screen_text(pilot.app))


def test_a_deleted_chat_and_how_to_bring_it_back(snap_compare, chats) -> None:
    app = history_app()
    assert snap_compare(app, terminal_size=SIZE, run_before=deleted)
    app.session.close_history()
