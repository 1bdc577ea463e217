"""What the person is told when the chat cannot be saved, on real SQLite files (issue 14, points 2 and 4).

The store opens on a thread after the first screen, and writes on its writer thread: a notice
from either reaches the screen as soon as it is made (one notice, not one per failed write), the
chat is marked unsaved where the incognito chat is (the status bar, the screen's sub-title), and
it goes on. A message sent while the store is still opening neither waits for it nor is lost.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tui_chat.chunks import ReplyStatus, Role
from tui_chat.store import history
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.chat import INCOGNITO, NOT_SAVED
from tui_chat.ui.widgets.chat_log import ChatLog
from tui_chat.ui.widgets.prompt_input import PromptInput
from tui_chat.ui.widgets.status_bar import UNSAVED_MARK, StatusBar

from .chat_list_data import history_app, save_chats
from .conftest import SIZE
from .test_chat_screen import type_and_send, wait_for


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The history database of this test (empty: nothing is in it yet)."""
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    return data / "tui-chat" / "chats.db"


@pytest.fixture
def held_opening(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The real store opens only once the test sets the event it gets (bounded: a test that blocks
    the loop while it waits fails instead of hanging)."""
    release = threading.Event()
    opening = history.open_store

    def held(*args, **kwargs) -> history.Store:
        if not release.wait(timeout=10):
            raise AssertionError("the store was never let open")
        return opening(*args, **kwargs)

    monkeypatch.setattr(history, "open_store", held)
    yield release
    release.set()


def notices(app: TuiChatApp, *words: str) -> list[str]:
    return [n.message for n in app._notifications if all(word in n.message for word in words)]


def warnings_shown(app: TuiChatApp) -> list[str]:
    return [n.message for n in app._notifications if n.title == "Warning"]


def marked_unsaved(app: TuiChatApp) -> bool:
    """The status bar shows the unsaved mark (drawn, not only kept) and the sub-title says why."""
    return UNSAVED_MARK in app.screen.query_one(StatusBar).render().plain and app.screen.sub_title in (
        NOT_SAVED, INCOGNITO
    )  # fmt: skip


def sent(app: TuiChatApp) -> list[str]:
    """What the person sent in this chat (the model has it all, whatever was saved)."""
    return [m.content for m in app.session.conversation.history if m.role is Role.USER]


async def replies_done(pilot: Pilot, count: int) -> None:
    log = pilot.app.screen.query_one(ChatLog)
    await wait_for(pilot, lambda: not pilot.app.screen.streaming and len(log.replies) == count)
    await pilot.app.workers.wait_for_complete()


async def store_opened(pilot: Pilot) -> history.Store:
    return await pilot.app.session.recorder.opened()


async def test_a_message_sent_while_the_store_opens_neither_waits_for_it_nor_is_lost(db, held_opening) -> None:
    app = history_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await type_and_send(pilot, "sent while the store opens")
        await replies_done(pilot, 1)  # the reply streamed in too
        await pilot.press("x")
        prompt = app.screen.query_one(PromptInput)
        await wait_for(pilot, lambda: prompt.text == "x")  # the loop goes on handling keys
        assert not held_opening.is_set()
        reply = app.screen.query_one(ChatLog).replies[0].text
        held_opening.set()
        store = await store_opened(pilot)
        [chat] = await store.list_chats()
        record = await store.load_chat(chat.id)
        assert chat.id == app.session.recorder.chat_id and chat.title == "sent while the store opens"
        assert [(m.role, m.text, m.status) for m in record.messages] == [
            (Role.USER, "sent while the store opens", ReplyStatus.COMPLETE),
            (Role.ASSISTANT, reply, ReplyStatus.COMPLETE),
        ]
        await type_and_send(pilot, "and after it opened")  # what follows joins the same chat
        await replies_done(pilot, 2)
        assert len((await store.load_chat(chat.id)).messages) == 4
        assert not marked_unsaved(app)
    app.session.close_history()


async def test_a_corrupt_file_moved_aside_at_start_is_told_at_once_and_the_chat_is_saved_afresh(db, held_opening) -> None:
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not a database at all\n" * 300)
    app = history_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await type_and_send(pilot, "sent at once")  # the audit's repro: a message before the store has opened
        held_opening.set()
        await wait_for(pilot, lambda: bool(notices(app, "could not be read", "kept as")))
        await replies_done(pilot, 1)
        await type_and_send(pilot, "and another")
        await replies_done(pilot, 2)
        assert len(notices(app, "could not be read")) == 1 and not app.session.warnings
        assert not marked_unsaved(app)  # a fresh file was started: this chat is saved in it
        assert [chat.title for chat in await (await store_opened(pilot)).list_chats()] == ["sent at once"]
    app.session.close_history()
    assert list(db.parent.glob("chats.db.corrupt-*"))


async def test_a_data_folder_that_cannot_be_used_is_told_at_once_and_the_chat_goes_on_marked_unsaved(db, held_opening) -> None:
    db.parent.parent.mkdir(parents=True)
    db.parent.write_text("a file where the data folder should be")
    app = history_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        assert not marked_unsaved(app)  # not known yet
        held_opening.set()
        await wait_for(pilot, lambda: bool(notices(app, str(db), "not saved")))  # with no message sent
        await wait_for(pilot, lambda: marked_unsaved(app))
        assert app.screen.sub_title == NOT_SAVED
        await type_and_send(pilot, "goes on in memory")
        await replies_done(pilot, 1)
        assert len(warnings_shown(app)) == 1 and sent(app)[-1] == "goes on in memory"
    app.session.close_history()


def fill_and_cap(store: history.Store) -> None:
    """Let the file grow no more (a full disk, as SQLite meets one)."""
    pages = store.run(lambda conn: conn.execute("PRAGMA page_count").fetchone()[0]).result()
    store.run(lambda conn: conn.execute(f"PRAGMA max_page_count = {pages}")).result()


async def test_a_full_disk_mid_chat_is_told_once_and_the_chat_goes_on_marked_unsaved(db) -> None:
    app = history_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await type_and_send(pilot, "saved")
        await replies_done(pilot, 1)
        store = await store_opened(pilot)
        fill_and_cap(store)
        for turn, text in enumerate(("x" * 20_000, "y" * 20_000, "still here"), start=2):
            await type_and_send(pilot, text)
            await replies_done(pilot, turn)
        await store.flush()
        await wait_for(pilot, lambda: marked_unsaved(app))
        told = warnings_shown(app)
        assert len(told) == 1 and "Saving chats to" in told[0] and "full" in told[0] and "not saved" in told[0]
        assert not store.saved and app.screen.sub_title == NOT_SAVED
        assert sent(app)[-1] == "still here"
    app.session.close_history()
    with sqlite3.connect(db) as conn:  # what reached the file before it filled up is there
        assert [row[0] for row in conn.execute("SELECT text FROM messages WHERE role = 'user'")][:1] == ["saved"]


def damage(db: Path, table: str) -> None:
    """Overwrite the root page of `table` (a whole-length file whose header and schema are intact)."""
    with sqlite3.connect(db) as conn:
        page = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with db.open("r+b") as file:
        file.seek((page - 1) * size)
        file.write(b"\xde\xad\xbe\xef" * (size // 4))


async def test_a_damaged_file_that_fails_every_write_is_told_once_and_the_chat_is_marked_unsaved(db) -> None:
    save_chats(db)
    damage(db, "chats")
    app = history_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        for turn, text in enumerate(("first", "second"), start=1):
            await type_and_send(pilot, text)
            await replies_done(pilot, turn)
        await (await store_opened(pilot)).flush()
        await wait_for(pilot, lambda: marked_unsaved(app))
        told = warnings_shown(app)
        assert len(told) == 1 and "malformed" in told[0]
        assert sent(app) == ["first", "second"]
    app.session.close_history()


async def test_an_incognito_chat_is_marked_unsaved_in_the_status_bar(db) -> None:
    app = history_app(no_history=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert marked_unsaved(app) and app.screen.sub_title == INCOGNITO

