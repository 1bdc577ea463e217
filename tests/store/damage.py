"""A chat database with one damaged data page: it opens (its header and schema are whole), and the
first query that reads the page fails. The page is found by asking SQLite where the table starts."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def damage_table(db: Path, table: str = "chats") -> None:
    """Overwrite the first page of `table` in the (closed, checkpointed) file `db` with garbage."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        [root] = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?", (table,)).fetchone()
    finally:
        conn.close()
    with db.open("r+b") as file:
        file.seek((root - 1) * page_size)
        file.write(b"\xde\xad\xbe\xef" * (page_size // 4))
