"""Opening the file: private modes, and what a corrupt, newer, unwritable or full database does."""

from __future__ import annotations

import sqlite3
import stat
import sys
from pathlib import Path

import pytest

from tui_chat.chunks import ReplyStatus, Role
from tui_chat.store.database import open_database
from tui_chat.store.history import Store, open_store
from tui_chat.store.schema import VERSION


async def _one_chat(store: Store, text: str = "hello") -> str:
    chat = store.new_chat()
    store.add_message(chat, Role.USER, text)
    await store.flush()
    return chat


async def test_the_database_is_private_and_in_wal_mode_with_foreign_keys(store: Store, db: Path) -> None:
    await _one_chat(store)
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    pragmas = await store.query(
        lambda conn: [conn.execute(f"PRAGMA {name}").fetchone()[0] for name in ("journal_mode", "foreign_keys", "user_version")]
    )  # type: ignore[arg-type]
    assert pragmas == ["wal", 1, VERSION]


async def test_the_default_file_is_in_the_user_data_folder(tmp_path: Path) -> None:
    store = open_store()  # XDG_DATA_HOME points into a temporary home (tests/conftest.py)
    store.close()
    assert store.path is not None and store.path.name == "chats.db" and store.path.parent.name == "tui-chat"
    assert store.path.exists()


async def _opens_fresh_keeping_the_old_file(db: Path, old_bytes: bytes) -> None:
    store = open_store(db)
    try:
        assert store.saved
        assert store.notice is not None and str(db) in store.notice
        aside = [p for p in db.parent.iterdir() if ".corrupt-" in p.name and not p.name.endswith(("-wal", "-shm"))]
        assert len(aside) == 1 and str(aside[0]) in store.notice
        assert aside[0].read_bytes() == old_bytes, "the old file is kept as it was"
        assert await store.list_chats() == []
        chat = await _one_chat(store, "a fresh start")
        assert (await store.load_chat(chat)).messages[0].text == "a fresh start"
    finally:
        store.close()


async def test_a_garbage_file_is_moved_aside_and_a_fresh_one_started(db: Path) -> None:
    db.parent.mkdir(parents=True)
    garbage = b"this is not a database at all\n" * 300
    db.write_bytes(garbage)
    await _opens_fresh_keeping_the_old_file(db, garbage)


async def test_a_truncated_file_is_moved_aside_and_a_fresh_one_started(db: Path) -> None:
    store = open_store(db)
    for i in range(300):
        await _one_chat(store, f"message {i} " + "words " * 50)
    store.close()
    truncated = db.read_bytes()[: db.stat().st_size // 2]
    db.write_bytes(truncated)
    await _opens_fresh_keeping_the_old_file(db, truncated)


def _bytes_read() -> int:
    """What this process has read through system calls so far (cached or not)."""
    line = next(line for line in Path("/proc/self/io").read_text().splitlines() if line.startswith("rchar:"))
    return int(line.split()[1])


def _fill(conn: sqlite3.Connection, chats: int) -> None:
    for n in range(chats):
        conn.execute("INSERT INTO chats (id, title, created_at, updated_at) VALUES (?, 'chat', 't', 't')", (f"c{n}",))
        conn.executemany(
            "INSERT INTO messages (id, chat_id, role, text, created_at) VALUES (?, ?, 'user', ?, 't')",
            [(f"c{n}m{i}", f"c{n}", f"message {i} " + "words " * 150) for i in range(20)],
        )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts the bytes read in /proc/self/io")
async def test_opening_a_large_healthy_file_reads_only_a_little_of_it(db: Path) -> None:
    store = open_store(db)
    await store.query(_fill, 500)
    store.close()
    size = db.stat().st_size
    assert size > 5_000_000
    before = _bytes_read()
    opened = open_database(db)
    read = _bytes_read() - before
    opened.conn.close()
    assert opened.saved and opened.notice is None
    assert read < size / 20, f"opening read {read:,} bytes of a {size:,}-byte file"


async def test_a_file_missing_only_its_last_pages_is_moved_aside(db: Path) -> None:
    store = open_store(db)
    for i in range(300):
        await _one_chat(store, f"message {i} " + "words " * 50)
    store.close()
    truncated = db.read_bytes()[: db.stat().st_size - 3 * 4096]
    db.write_bytes(truncated)
    await _opens_fresh_keeping_the_old_file(db, truncated)


async def test_a_file_with_a_damaged_schema_is_moved_aside(db: Path) -> None:
    store = open_store(db)
    await _one_chat(store, "hello")
    store.close()
    damaged = bytearray(db.read_bytes())
    damaged[100:4096] = b"\xff" * (4096 - 100)  # page 1 after the header: the schema's table
    db.write_bytes(bytes(damaged))
    await _opens_fresh_keeping_the_old_file(db, bytes(damaged))


async def test_a_file_from_a_newer_tui_chat_is_left_alone_and_the_chat_goes_on_unsaved(db: Path) -> None:
    open_store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {VERSION + 1}")
    before = db.read_bytes()
    store = open_store(db)
    try:
        assert not store.saved
        assert store.notice is not None and str(db) in store.notice and "newer tui-chat" in store.notice
        chat = await _one_chat(store, "kept in memory")
        assert (await store.load_chat(chat)).messages[0].text == "kept in memory"
    finally:
        store.close()
    assert db.read_bytes() == before


async def test_a_data_folder_that_cannot_be_made_gives_one_notice_and_an_unsaved_store(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    store = open_store(blocker / "chats.db")
    try:
        assert not store.saved
        assert store.notice is not None and str(blocker / "chats.db") in store.notice
        chat = await _one_chat(store, "still works")
        assert [c.id for c in await store.list_chats()] == [chat]
    finally:
        store.close()


async def test_a_full_disk_mid_chat_moves_to_memory_with_one_notice_and_loses_nothing(store: Store) -> None:
    notices: list[str] = []
    store.on_notice = notices.append
    chat = await _one_chat(store, "before the disk filled")
    pages = await store.query(lambda conn: conn.execute("PRAGMA page_count").fetchone()[0])  # type: ignore[arg-type]
    await store.query(lambda conn: conn.execute(f"PRAGMA max_page_count = {pages}"))  # type: ignore[arg-type]
    reply = store.start_reply(chat)
    store.append_text(reply, "a reply " * 5000)  # needs pages the "disk" does not have
    store.finish_message(reply, ReplyStatus.COMPLETE)
    store.add_message(chat, Role.USER, "after")
    await store.flush()
    assert not store.saved
    assert len(notices) == 1 and "full" in notices[0] and str(store.path) in notices[0]
    record = await store.load_chat(chat)
    assert [(m.text, m.status) for m in record.messages] == [
        ("before the disk filled", ReplyStatus.COMPLETE),
        ("a reply " * 5000, ReplyStatus.COMPLETE),
        ("after", ReplyStatus.COMPLETE),
    ]
