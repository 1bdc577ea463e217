"""A database written by an earlier schema migrates. Each old file is made here by the SQL of its
version as released, written out below (not from `schema.MIGRATIONS`: an edit there must not
change what "an old file" is; `test_an_old_file_migrated_has_the_schema_of_a_new_one` catches one)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tui_chat.chunks import ReplyStatus, Role, ToolCall, Usage
from tui_chat.store.history import open_store
from tui_chat.store.records import ToolDecision
from tui_chat.store.schema import VERSION

VERSION_1_SCHEMA = """
CREATE TABLE chats (id TEXT PRIMARY KEY, title TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL, provider TEXT, model TEXT, pack TEXT, prompt TEXT, variables TEXT NOT NULL DEFAULT '{}');
CREATE INDEX chats_by_update ON chats(updated_at);
CREATE TABLE messages (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    parent_id TEXT REFERENCES messages(id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')), text TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'complete'
        CHECK (status IN ('streaming', 'complete', 'cancelled', 'interrupted', 'error')),
    error TEXT, created_at TEXT NOT NULL, provider TEXT, model TEXT, pack TEXT);
CREATE INDEX messages_by_chat ON messages(chat_id, seq);
CREATE INDEX messages_by_parent ON messages(parent_id);
CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='seq');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text); END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text); END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
    INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text); END;
"""
"""Version 1's tables, indexes and triggers."""

VERSION_1 = VERSION_1_SCHEMA + """
INSERT INTO chats VALUES ('chat1', 'Old chat', '2025-01-01T10:00:00.000000Z', '2025-01-01T10:01:00.000000Z',
    'openai', 'gpt-4o', NULL, NULL, '{"name": "Ada"}');
INSERT INTO messages (id, chat_id, parent_id, role, text, status, created_at) VALUES
    ('m1', 'chat1', NULL, 'user', 'what is a teapot', 'complete', '2025-01-01T10:00:00.000000Z');
INSERT INTO messages (id, chat_id, parent_id, role, text, status, error, created_at, provider, model) VALUES
    ('m2', 'chat1', 'm1', 'assistant', 'A vessel for tea', 'error', 'connection reset', '2025-01-01T10:01:00.000000Z',
     'openai', 'gpt-4o');
PRAGMA user_version = 1;
"""

RELEASED: dict[int, str] = {
    2: """
ALTER TABLE messages ADD COLUMN input_tokens INTEGER;
ALTER TABLE messages ADD COLUMN output_tokens INTEGER;
ALTER TABLE messages ADD COLUMN cost_usd REAL;
ALTER TABLE messages ADD COLUMN tool_call_id TEXT;
ALTER TABLE messages ADD COLUMN opaque TEXT NOT NULL DEFAULT '[]';
ALTER TABLE messages ADD COLUMN writer TEXT;
CREATE TABLE tool_calls (
    seq INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    call_id TEXT NOT NULL,
    name TEXT NOT NULL,
    arguments TEXT NOT NULL,
    decision TEXT CHECK (decision IN ('approved', 'edited', 'denied')),
    edited_arguments TEXT,
    reason TEXT,
    result TEXT,
    result_is_error INTEGER NOT NULL DEFAULT 0,
    UNIQUE (message_id, call_id)
);
CREATE TABLE voice_turns (
    message_id TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    started_ms INTEGER,
    ended_ms INTEGER,
    barge_in INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE attachments (
    sha256 TEXT PRIMARY KEY,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE message_attachments (
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    sha256 TEXT NOT NULL REFERENCES attachments(sha256),
    name TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (message_id, position)
);
CREATE INDEX message_attachments_by_blob ON message_attachments(sha256);
""",
    3: """
ALTER TABLE messages ADD COLUMN chunks TEXT NOT NULL DEFAULT '[]';
""",
    4: """
INSERT INTO messages_fts(messages_fts, rowid, text) SELECT 'delete', seq, text FROM messages WHERE status = 'streaming';
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_delete;
DROP TRIGGER messages_fts_update;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.status != 'streaming' BEGIN
    INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.status != 'streaming' BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
    WHEN old.status != 'streaming' AND new.status != 'streaming' BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
    INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER messages_fts_stream_ended AFTER UPDATE OF status ON messages
    WHEN old.status = 'streaming' AND new.status != 'streaming' BEGIN
    INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text);
END;
CREATE TRIGGER messages_fts_stream_restarted AFTER UPDATE OF status ON messages
    WHEN old.status != 'streaming' AND new.status = 'streaming' BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
END;
CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming';
""",
    5: """
ALTER TABLE messages ADD COLUMN prompt TEXT;
ALTER TABLE messages ADD COLUMN variables TEXT;
""",
}
"""What each later version added, as released (the entries of `schema.MIGRATIONS` then)."""


async def test_a_version_1_database_migrates_keeping_its_chats_and_gains_the_new_tables(tmp_path: Path) -> None:
    db = tmp_path / "chats.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(VERSION_1)
    store = open_store(db)
    try:
        assert store.saved and store.notice is None
        assert await store.query(lambda conn: conn.execute("PRAGMA user_version").fetchone()[0]) == VERSION
        record = await store.load_chat("chat1")
        assert record.info.title == "Old chat" and dict(record.info.variables) == {"name": "Ada"}
        assert [(m.id, m.parent_id, m.role, m.text, m.status, m.error, m.usage, m.tool_calls) for m in record.messages] == [
            ("m1", None, Role.USER, "what is a teapot", ReplyStatus.COMPLETE, None, None, ()),
            ("m2", "m1", Role.ASSISTANT, "A vessel for tea", ReplyStatus.ERROR, "connection reset", None, ()),
        ]
        assert [hit.message_id for hit in await store.search("teapot")] == ["m1"], "the old search index still works"
        # what version 2 added works on the migrated file
        reply = store.start_reply("chat1")
        store.append_text(reply, "a teapot, again")
        store.add_tool_call(reply, ToolCall("call1", "lookup", '{"q": "teapot"}'))
        store.decide_tool_call(reply, "call1", ToolDecision.APPROVED)
        store.finish_message(reply, ReplyStatus.COMPLETE, usage=Usage(5, 3), cost_usd=0.25)
        again = (await store.load_chat("chat1")).messages[-1]
        assert (again.parent_id, again.usage, again.cost_usd, again.tool_calls[0].decision) == (
            "m2", Usage(5, 3), 0.25, ToolDecision.APPROVED,
        )
        assert [hit.message_id for hit in await store.search("teapot")] == [reply, "m1"]
    finally:
        store.close()


async def test_opening_twice_migrates_once(tmp_path: Path) -> None:
    db = tmp_path / "chats.db"
    with sqlite3.connect(db) as conn:
        conn.executescript(VERSION_1)
    open_store(db).close()
    store = open_store(db)
    try:
        assert store.notice is None
        assert len((await store.load_chat("chat1")).messages) == 2
    finally:
        store.close()


def _schema_of_version(conn: sqlite3.Connection, version: int) -> None:
    """Make an empty file what `version` made of it (its SQL as released, its user_version), with one chat, 'chat1'."""
    conn.executescript(VERSION_1_SCHEMA + "".join(RELEASED[n] for n in range(2, version + 1)))
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("INSERT INTO chats (id, title, created_at, updated_at) VALUES ('chat1', 'Tea', 't', 't')")


def _schema(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    """What a file's schema is, whatever the spacing of the SQL that made it."""
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name").fetchall()
    return [(kind, name, re.sub(r"\s*([(),])\s*", r"\1", " ".join(sql.split()))) for kind, name, sql in rows]


@pytest.mark.parametrize("version", range(1, VERSION))
def test_an_old_file_migrated_has_the_schema_of_a_new_one(tmp_path: Path, version: int) -> None:
    """A file of each earlier version, made by its released SQL, once opened is the same as a new
    file: the frozen SQL above is what those versions were, and no released migration was edited."""
    old, new = tmp_path / "old.db", tmp_path / "new.db"
    with sqlite3.connect(old, isolation_level=None) as conn:
        _schema_of_version(conn, version)
    conn.close()
    open_store(old).close()
    open_store(new).close()
    schemas = []
    for db in (old, new):
        conn = sqlite3.connect(db)
        schemas.append((_schema(conn), conn.execute("PRAGMA user_version").fetchone()[0]))
        conn.close()
    assert schemas[0] == schemas[1]
    assert schemas[0][1] == VERSION


def _version_3_file(db: Path) -> None:
    """A file as version 3 left it: a finished reply, and a reply of a killed process still streaming
    (whose text version 3 kept in the search index, as it indexed every streamed piece)."""
    with sqlite3.connect(db, isolation_level=None) as conn:
        _schema_of_version(conn, 3)
        conn.execute(
            "INSERT INTO messages (id, chat_id, role, text, status, created_at) VALUES"
            " ('m1', 'chat1', 'user', 'brew green tea', 'complete', 't'),"
            " ('m2', 'chat1', 'assistant', 'Steep it', 'streaming', 't')"
        )
        conn.execute("UPDATE messages SET text = text || ' for two minutes' WHERE id = 'm2'")


def _fts_consistent(conn: sqlite3.Connection) -> bool:
    conn.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
    return True


async def test_a_version_3_database_migrates_its_streaming_replies_out_of_the_index_and_finds_them_by_index(
    tmp_path: Path,
) -> None:
    db = tmp_path / "chats.db"
    _version_3_file(db)
    store = open_store(db)
    try:
        assert store.notice is None
        assert await store.query(lambda conn: conn.execute("PRAGMA user_version").fetchone()[0]) == VERSION
        messages = (await store.load_chat("chat1")).messages
        assert [(m.text, m.status) for m in messages] == [
            ("brew green tea", ReplyStatus.COMPLETE), ("Steep it for two minutes", ReplyStatus.INTERRUPTED),
        ]  # fmt: skip
        assert [hit.message_id for hit in await store.search("minutes")] == ["m2"], "indexed once it stopped streaming"
        assert await store.query(_fts_consistent)
        plan = await store.query(
            lambda conn: conn.execute("EXPLAIN QUERY PLAN SELECT id FROM messages WHERE status = 'streaming'").fetchall()
        )
        assert "messages_streaming" in str(plan), f"streaming replies are found by their index, not a scan: {plan}"
    finally:
        store.close()


async def test_a_streaming_reply_joins_the_search_index_when_it_ends_and_the_index_stays_consistent(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path / "chats.db")
    try:
        chat = store.new_chat()
        reply = store.start_reply(chat)
        store.append_text(reply, "the kettle ")
        await store.flush()
        assert await store.search("kettle") == [], "text still streaming is not indexed piece by piece"
        store.append_text(reply, "whistles")
        store.finish_message(reply, ReplyStatus.CANCELLED)
        assert [hit.message_id for hit in await store.search("kettle whistles")] == [reply]
        store.update_chat(chat, title="renamed")
        store.delete_chat(chat)
        assert await store.search("kettle") == []
        assert await store.query(_fts_consistent)
    finally:
        store.close()


async def test_a_version_4_database_migrates_and_its_user_messages_gain_a_place_for_their_prompt(tmp_path: Path) -> None:
    db = tmp_path / "chats.db"
    with sqlite3.connect(db, isolation_level=None) as conn:
        _schema_of_version(conn, 4)
        conn.execute("UPDATE chats SET prompt = 'main', variables = '{\"name\": \"Ada\"}' WHERE id = 'chat1'")
        conn.execute(
            "INSERT INTO messages (id, chat_id, role, text, created_at) VALUES ('m1', 'chat1', 'user', 'brew tea', 't')"
        )
    store = open_store(db)
    try:
        assert store.notice is None
        store.add_message("chat1", Role.USER, "and cake", prompt="main", variables={"name": "Ada"})
        old, new = (await store.load_chat("chat1")).messages
        assert (old.text, old.prompt, old.variables) == ("brew tea", None, None), "not known then: not made up"
        assert (new.text, new.prompt, new.variables) == ("and cake", "main", {"name": "Ada"})
        assert [hit.message_id for hit in await store.search("tea")] == ["m1"]
    finally:
        store.close()


async def test_a_version_5_database_migrates_and_its_common_words_are_found_through_bits_as_messages_come(
    tmp_path: Path,
) -> None:
    """Version 6 adds the log of messages entering the search index (`fts_added`): a version 5 file
    with data has none for its old messages, and its searches still find everything, old and new."""
    db = tmp_path / "chats.db"
    with sqlite3.connect(db, isolation_level=None) as conn:
        _schema_of_version(conn, 5)
        conn.executemany(  # two common words (past the probe's cap) that meet in every sixth message
            "INSERT INTO messages (id, chat_id, role, text, created_at) VALUES (?, 'chat1', 'user', ?, 't')",
            [(f"m{n}", " ".join(("green" if n % 2 else "black", "tea" if n % 3 == 0 else "leaf"))) for n in range(900)],
        )
    conn.close()
    store = open_store(db)
    try:
        assert await store.query(lambda conn: conn.execute("PRAGMA user_version").fetchone()[0]) == VERSION == 6
        assert await store.query(lambda conn: conn.execute("SELECT count(*) FROM fts_added").fetchone()[0]) == 0
        expected = [f"m{n}" for n in range(899, -1, -1) if n % 2 and n % 3 == 0]
        assert [hit.message_id for hit in await store.search("green tea", 1000)] == expected
        assert set(await store.query(lambda conn: conn.word_bits.words)) == {b"green", b"tea"}, "through bits"
        added = store.add_message("chat1", Role.USER, "tea, green")
        await store.flush()  # (written before the other program's message)
        other = sqlite3.connect(db, isolation_level=None)
        other.execute("INSERT INTO messages (id, chat_id, role, text, created_at) VALUES ('x', 'chat1', 'user', 'Green TEA', 't')")
        other.close()
        assert [hit.message_id for hit in await store.search("green tea", 1000)] == ["x", added, *expected]
        assert await store.query(lambda conn: conn.execute("SELECT count(*) FROM fts_added").fetchone()[0]) == 2
    finally:
        store.close()
