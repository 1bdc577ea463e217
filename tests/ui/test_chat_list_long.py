"""Long saved chats (a real SQLite file): only a window near the view is mounted, the rest as it is scrolled to."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui_chat.chunks import Role
from tui_chat.session import Choices, build_session, start_history
from tui_chat.store.history import open_store
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.chat_list import ChatListScreen
from tui_chat.ui.widgets.chat_log import ChatLog

from .conftest import SIZE, fixed_clock, screen_text
from .test_chat_screen import type_and_send, wait_for

MESSAGES = "UserMessage, AssistantMessage"
BOUND = 40
"""At most this many message widgets for two screens of 32 lines (each message takes 3 or more)."""


def save_long_chat(db: Path, messages: int) -> tuple[str, list[str]]:
    """A chat of `messages` messages, question and answer in turn; its id and its messages' ids."""
    store = open_store(db)
    chat = store.new_chat(provider="demo", model="demo-1")
    ids = []
    for n in range(messages // 2):
        ids.append(store.add_message(chat, Role.USER, f"question {n}" + (" about walruses" if n == 5 else "")))
        ids.append(store.add_message(chat, Role.ASSISTANT, f"answer {n}\n\n```python\nprint({n})\n```"))
    store.close()
    return chat, ids


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    return tmp_path / "tui-chat" / "chats.db"


def app_on(chat_id: str | None = None) -> TuiChatApp:
    choices = Choices(provider="demo", provider_options={"speed": 0}, chat=chat_id)
    session = build_session(choices)
    start_history(session, choices, wait=False)
    return TuiChatApp(session, clock=fixed_clock, save_settings=False, approval_arm_delay=0, tune_collector=False)


def texts(log: ChatLog) -> list[str]:
    return [widget.text for widget in log.query(MESSAGES)]  # type: ignore[attr-defined]


def in_view(log: ChatLog, widget) -> bool:  # type: ignore[no-untyped-def]
    return widget.region.height > 0 and log.region.contains_region(widget.region)


async def test_a_2000_message_chat_opens_with_a_bounded_window_at_its_newest_message(data: Path) -> None:
    chat, _ = save_long_chat(data, 2000)
    app = app_on(chat)
    async with app.run_test(size=SIZE) as pilot:
        log = app.screen.query_one(ChatLog)
        await wait_for(pilot, lambda: "answer 999" in screen_text(app))
        await pilot.app.workers.wait_for_complete()
        shown = texts(log)
        assert 4 <= len(shown) <= BOUND and shown[-1].startswith("answer 999")
        assert log.unmounted == 2000 - len(shown)
        assert f"↑ {2000 - len(shown):,} earlier messages" in str(log.query_one(".earlier").render())
        assert len(app.session.conversation.history) == 2000  # the model gets all of it
    app.session.close_history()


async def test_scrolling_to_the_top_mounts_the_rest_and_keeps_what_is_read_in_its_place(data: Path) -> None:
    chat, _ = save_long_chat(data, 100)
    app = app_on(chat)
    async with app.run_test(size=SIZE) as pilot:
        log = app.screen.query_one(ChatLog)
        await wait_for(pilot, lambda: "answer 49" in screen_text(app))
        await pilot.app.workers.wait_for_complete()
        assert len(log.query(MESSAGES)) <= BOUND

        # Scrolled to the marker above: a batch comes in there, and the message that was first
        # stays on the row it was scrolled to (the view moves down by what was added).
        shown = next(w for w in log.query(MESSAGES) if in_view(log, w))
        offset = shown.region.y - (shown.virtual_region.y - round(log.scroll_y))  # the screen row of virtual row 0
        first = log.query(MESSAGES).first()
        scrolled_to = offset + first.virtual_region.y  # its row once the view is at the top
        before = log.unmounted
        log.scroll_to(y=0, animate=False, immediate=True)
        await wait_for(pilot, lambda: log.unmounted < before)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert log.scroll_y > 0 and first.region.y == scrolled_to

        while log.unmounted:  # PageUp, again and again, brings in the rest
            await pilot.press("pageup")
            await pilot.app.workers.wait_for_complete()
        assert texts(log)[:3] == ["question 0", "answer 0\n\n```python\nprint(0)\n```", "question 1"]
        assert len(texts(log)) == 100 and texts(log)[-1].startswith("answer 49")
        while log.scroll_y > 0:
            await pilot.press("pageup")
        await wait_for(pilot, lambda: "question 0" in screen_text(app))
    app.session.close_history()


async def test_home_and_end_jump_to_the_first_and_the_newest_message(data: Path) -> None:
    chat, _ = save_long_chat(data, 2000)
    app = app_on(chat)
    async with app.run_test(size=SIZE) as pilot:
        log = app.screen.query_one(ChatLog)
        await wait_for(pilot, lambda: "answer 999" in screen_text(app))
        log.focus()
        await pilot.press("home")
        await wait_for(pilot, lambda: "question 0" in screen_text(app) and log.scroll_y == 0)
        await pilot.app.workers.wait_for_complete()
        assert len(log.query(MESSAGES)) <= BOUND and texts(log)[0] == "question 0"
        assert log.query_one(".later").has_class("-shown") and log.unmounted == 2000 - len(log.query(MESSAGES))
        await pilot.press("end")
        await wait_for(pilot, lambda: "answer 999" in screen_text(app))
        assert len(log.query(MESSAGES)) <= BOUND
    app.session.close_history()


async def test_a_search_hit_in_an_old_message_opens_there_highlighted_and_sending_goes_on_at_the_end(
    data: Path,
) -> None:
    chat, ids = save_long_chat(data, 600)  # within the demo model's context window, to go on with it
    app = app_on()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatListScreen) and app.screen.rows != ())
        await pilot.press(*"walruses")
        await wait_for(pilot, lambda: [getattr(r, "message_id", None) for r in app.screen.rows] == [ids[10]])
        await pilot.press("enter")
        log = app.screen.query_one(ChatLog)
        await wait_for(pilot, lambda: len(log.query(".-found")) == 1)
        await pilot.app.workers.wait_for_complete()
        found = log.query_one(".-found")
        assert found.text == "question 5 about walruses"
        await wait_for(pilot, lambda: in_view(log, found) and "question 5 about walruses" in screen_text(app))
        assert len(log.query(MESSAGES)) <= BOUND

        await type_and_send(pilot, "and now?")
        await wait_for(pilot, lambda: not app.screen.streaming and texts(log)[-2:-1] == ["and now?"])
        shown = texts(log)
        assert shown[-3].startswith("answer 299") and len(shown) <= BOUND + 2  # the newest window, then the turn
        assert len(app.session.conversation.history) == 602
    app.session.close_history()
