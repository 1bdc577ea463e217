"""The database schema as a list of forward migrations, applied in order (`PRAGMA user_version`).

Migration *n* (counting from 1) takes a file from version n-1 to version n. A migration is a
tuple of SQL statements run inside the one transaction that also sets `user_version`, so a file
is always at exactly one version, and two processes opening an old file at once migrate it once.
A new change is one more entry at the end; an entry, once released, is never edited.

Ids are text made by the caller (so a message id is known before its row is written), ordering
is by `seq` (an INTEGER PRIMARY KEY, which `VACUUM` keeps). A message's `parent_id` is the
message it follows; several children of one parent are its versions (a retried reply today,
edited messages and branches later), with no change of table. Attachments are blobs stored once under
their sha256 and referenced by messages through `message_attachments`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import TuiChatError

V1 = (
    """CREATE TABLE chats (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        provider TEXT,
        model TEXT,
        pack TEXT,
        prompt TEXT,
        variables TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX chats_by_update ON chats(updated_at)",
    """CREATE TABLE messages (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        parent_id TEXT REFERENCES messages(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant', 'tool')),
        text TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'complete'
            CHECK (status IN ('streaming', 'complete', 'cancelled', 'interrupted', 'error')),
        error TEXT,
        created_at TEXT NOT NULL,
        provider TEXT,
        model TEXT,
        pack TEXT
    )""",
    "CREATE INDEX messages_by_chat ON messages(chat_id, seq)",
    "CREATE INDEX messages_by_parent ON messages(parent_id)",
    "CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='seq')",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text);
    END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
    END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
        INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text);
    END""",
)
"""Chats, messages (with parent ids and statuses) and full-text search over message text."""

V2 = (
    "ALTER TABLE messages ADD COLUMN input_tokens INTEGER",
    "ALTER TABLE messages ADD COLUMN output_tokens INTEGER",
    "ALTER TABLE messages ADD COLUMN cost_usd REAL",
    "ALTER TABLE messages ADD COLUMN tool_call_id TEXT",
    "ALTER TABLE messages ADD COLUMN opaque TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE messages ADD COLUMN writer TEXT",
    """CREATE TABLE tool_calls (
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
    )""",
    """CREATE TABLE voice_turns (
        message_id TEXT PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        started_ms INTEGER,
        ended_ms INTEGER,
        barge_in INTEGER NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE attachments (
        sha256 TEXT PRIMARY KEY,
        mime TEXT NOT NULL,
        size INTEGER NOT NULL,
        data BLOB NOT NULL
    )""",
    """CREATE TABLE message_attachments (
        message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        sha256 TEXT NOT NULL REFERENCES attachments(sha256),
        name TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (message_id, position)
    )""",
    "CREATE INDEX message_attachments_by_blob ON message_attachments(sha256)",
)
"""Usage and cost, tool calls with their approval and result, voice turns, attachments, and the
`writer` of a streaming reply (whose death marks the reply interrupted)."""

V3 = ("ALTER TABLE messages ADD COLUMN chunks TEXT NOT NULL DEFAULT '[]'",)
"""How a reply streamed: its chunk boundaries and times, `[[ms since the reply started, characters], ...]`,
so a replay gives the text back as it came (empty for messages written before, or not streamed)."""

V4 = (
    (
        "INSERT INTO messages_fts(messages_fts, rowid, text) SELECT 'delete', seq, text FROM messages"
        " WHERE status = 'streaming'"
    ),
    "DROP TRIGGER messages_fts_insert",
    "DROP TRIGGER messages_fts_delete",
    "DROP TRIGGER messages_fts_update",
    """CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.status != 'streaming' BEGIN
        INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text);
    END""",
    """CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.status != 'streaming' BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
    END""",
    """CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
        WHEN old.status != 'streaming' AND new.status != 'streaming' BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
        INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text);
    END""",
    """CREATE TRIGGER messages_fts_stream_ended AFTER UPDATE OF status ON messages
        WHEN old.status = 'streaming' AND new.status != 'streaming' BEGIN
        INSERT INTO messages_fts(rowid, text) VALUES (new.seq, new.text);
    END""",
    """CREATE TRIGGER messages_fts_stream_restarted AFTER UPDATE OF status ON messages
        WHEN old.status != 'streaming' AND new.status = 'streaming' BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.seq, old.text);
    END""",
    "CREATE INDEX messages_streaming ON messages(status) WHERE status = 'streaming'",
)
"""A reply joins the search index when it stops streaming, not at every streamed piece (which
re-indexed its whole text twice a second: the writer's main cost while a long reply streams);
and the replies still streaming, which every start looks for (`history._mark_dead_replies_interrupted`),
have an index of their own instead of a scan of every message."""

V5 = (
    "ALTER TABLE messages ADD COLUMN prompt TEXT",
    "ALTER TABLE messages ADD COLUMN variables TEXT",
)
"""The prompt and the pack variables (JSON) in force when a user message was sent: a chat's own
`prompt` and `variables` say only what it uses now. NULL on other messages and on user messages
written before."""

FTS_ADDED_KEPT = 1000
"""How many of the newest `fts_added` entries the file keeps."""

_LOG_FTS_ADDED = f"""INSERT INTO fts_added (seq) VALUES (new.seq);
        DELETE FROM fts_added WHERE id <= (SELECT max(id) FROM fts_added) - {FTS_ADDED_KEPT};"""

V6 = (
    "CREATE TABLE fts_added (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL)",
    f"""CREATE TRIGGER fts_added_insert AFTER INSERT ON messages WHEN new.status != 'streaming' BEGIN
        {_LOG_FTS_ADDED}
    END""",
    f"""CREATE TRIGGER fts_added_update AFTER UPDATE OF text, status ON messages WHEN new.status != 'streaming' BEGIN
        {_LOG_FTS_ADDED}
    END""",
)
"""`fts_added`: the messages (by `seq`) whose text entered the search index, newest last, in
every process that writes the file (the triggers fire as the index's own do: on an insert, a
stream's end, a change of text; and on a change of a finished message's status, which does no
harm). A search keeps in memory which messages hold its commonest words (`word_bits`) and reads
what was added since it last looked, so it stays true while others write. Only the newest
`FTS_ADDED_KEPT` are kept (each entry removes the oldest): a reader that missed some starts over."""

MIGRATIONS: tuple[tuple[str, ...], ...] = (V1, V2, V3, V4, V5, V6)
VERSION = len(MIGRATIONS)
"""The schema version this tui-chat writes and understands."""


class StoreError(TuiChatError):
    """The chat database cannot be used: newer than we understand, unwritable, or unreadable."""


def file_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the open file (0 for a new, empty one)."""
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version


def migrate(conn: sqlite3.Connection, path: Path | str) -> None:
    """Bring the database on `conn` (in autocommit mode) up to `VERSION`, in one transaction.

    Raises `StoreError` naming `path` when the file is newer than this tui-chat understands.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = file_version(conn)
        if version > VERSION:
            raise StoreError(
                f"the chat database {path} was written by a newer tui-chat (schema version {version};"
                f" this one understands up to {VERSION})",
                hint="upgrade tui-chat, or move the file away to start a fresh history",
            )
        for statements in MIGRATIONS[version:]:
            for statement in statements:
                conn.execute(statement)
        if version < VERSION:
            conn.execute(f"PRAGMA user_version = {VERSION}")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
