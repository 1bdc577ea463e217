"""Opening the chat database: where it lives, its pragmas, its schema, and what happens when it cannot be used.

The file lives in the user data directory (folder 0700, file 0600: chats are private). It is
opened in WAL mode with foreign keys on and a busy timeout, so two tui-chat processes can share
it: readers never wait, writers wait their turn for short transactions. `synchronous=NORMAL` in
WAL mode keeps every committed transaction through a killed process (only a power cut can lose
the last ones).

What goes wrong is met at this one place:
- a corrupt or unreadable file (not a database, malformed pages) is moved aside, never deleted,
  and a fresh one is started; `Opened.notice` says where the old one went;
- a file from a newer tui-chat, an unwritable folder or a full disk give an in-memory database
  instead (`Opened.saved` is False) and one clear `notice`; the chat goes on, unsaved.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..safe_text import clean
from .schema import StoreError, migrate

if TYPE_CHECKING:
    from .word_bits import WordBits

BUSY_TIMEOUT = 5.0
"""Seconds a writer waits for another process's transaction before giving up."""

_CORRUPT = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
UNWRITABLE = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}
"""Result codes (primary) meaning the file cannot be written now: go on in memory."""


class CorruptDatabase(sqlite3.DatabaseError):
    """`PRAGMA quick_check` found damage that no query has tripped over yet."""


class Connection(sqlite3.Connection):
    """sqlite3's connection, with room for what the searches on it keep in memory between them."""

    word_bits: WordBits | None = None
    """Which messages hold the commonest words searched for (made by the first search that needs it)."""


HEADER = 100
"""Bytes of the SQLite file header (https://sqlite.org/fileformat.html#the_database_header)."""


def default_path() -> Path:
    """The chat database in the user data directory (`~/.local/share/tui-chat/chats.db` on Linux)."""
    import platformdirs  # first use only: keeps start-up light

    return Path(platformdirs.user_data_dir("tui-chat", appauthor=False)) / "chats.db"


@dataclass(frozen=True, slots=True)
class Opened:
    """A ready connection (autocommit mode, schema current), and how it came to be."""

    conn: sqlite3.Connection
    path: Path | None
    """The file, or None for an in-memory database."""
    saved: bool
    notice: str | None = None
    """One sentence for the person: a file moved aside, or why nothing is saved."""


def error_code(error: sqlite3.Error) -> int:
    """The primary SQLite result code of `error` (0 when there is none)."""
    return (getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF


def open_database(path: Path) -> Opened:
    """Open (creating, migrating or replacing as needed) the database at `path`; never raises for the file's state."""
    try:
        return Opened(_connect_file(path), path, saved=True)
    except StoreError as error:
        return in_memory(f"{error}; chats are not saved this time")
    except sqlite3.DatabaseError as error:
        if not isinstance(error, CorruptDatabase) and error_code(error) not in _CORRUPT:
            return in_memory(_unwritable(path, error))
        damage = str(error)
    except OSError as error:
        return in_memory(_unwritable(path, error))
    try:
        aside = move_aside(path)
        notice = f"The chat database {path} could not be read ({damage}); it was kept as {aside} and a new one started."
        return Opened(_connect_file(path), path, saved=True, notice=notice)
    except (sqlite3.Error, OSError, StoreError) as again:
        return in_memory(_unwritable(path, again))


def in_memory(notice: str | None = None) -> Opened:
    """A fresh in-memory database with the current schema: the chat goes on, unsaved."""
    conn = _configure(sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False, factory=Connection))
    migrate(conn, ":memory:")
    return Opened(conn, None, saved=False, notice=notice)


def move_aside(path: Path) -> Path:
    """Rename `path` (and its -wal and -shm files) to `<name>.corrupt-<time>`; returns the new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        n += 1
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(aside.with_name(aside.name + suffix))
    path.rename(aside)
    return aside


def _unwritable(path: Path, error: BaseException) -> str:
    return f"the chat database {path} cannot be used ({error}); chats are not saved this time"


def _connect_file(path: Path) -> sqlite3.Connection:
    """Create the private folder and file if needed, connect, check, migrate."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False, factory=Connection
    )
    try:
        _configure(conn)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        _check(conn, path)
        migrate(conn, path)
    except BaseException:
        conn.close()
        raise
    return conn


def _check(conn: sqlite3.Connection, path: Path) -> None:
    """Raise `CorruptDatabase` (or SQLite's own error) for a damaged file, without reading all of it.

    `PRAGMA quick_check` reads every page (about 0.7 s at 100,000 messages), so it runs only when
    a cheap look finds the file shorter than its header says. What is still caught at once:
    - garbage, or a file cut inside its first page: SQLite refuses the header (`journal_mode`
      above raises "file is not a database");
    - a file cut anywhere after: its header records how many pages it has, and the file is
      shorter (checked here; quick_check then confirms it on a consistent snapshot, so a
      checkpoint of another process that is writing the header first is not taken for damage);
    - a damaged schema page: the schema is read here (every statement needs it).
    Damage inside a data page of a whole-length file is found when a query reads that page: a read
    fails with SQLite's "malformed" error, a write is reported as not saved (see `writer.py`).
    """
    conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()
    if not _shorter_than_its_header(path):
        return
    problems = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
    if problems != ["ok"]:
        raise CorruptDatabase("; ".join(problems))


def _shorter_than_its_header(path: Path) -> bool:
    """Whether the file holds fewer bytes than the pages its header counts (when that count is valid)."""
    with path.open("rb") as file:
        header = file.read(HEADER)
        size = file.seek(0, os.SEEK_END)
    if len(header) < HEADER:
        return False  # new and empty (or refused by SQLite as not a database)
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    count_is_valid = header[24:28] == header[92:96]  # (written by a SQLite that keeps the count)
    return count_is_valid and pages * page_size > size


def _configure(conn: sqlite3.Connection) -> sqlite3.Connection:
    conn.text_factory = _untrusted_text  # text enters from the file here: cleaned once, for every reader
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}")
    return conn


_ASCII_REMOVED = bytes(code for code in range(0x80) if clean(chr(code)) != chr(code))
"""The ASCII bytes `clean` removes, found by asking it."""


def _untrusted_text(data: bytes) -> str:
    """A TEXT value read from the database: the file may hold anything (an old version, another
    program), so it is decoded leniently and cleaned of terminal controls (`safe_text.clean`).

    Every TEXT value read passes here (a search's 50 hits are 300 values), so ASCII, the common
    case, takes a path about four times quicker than `clean` that gives the same text: deleting
    bytes where nothing else can be wrong."""
    if data.isascii():
        return data.translate(None, _ASCII_REMOVED).decode("ascii")
    return clean(data.decode("utf-8", "replace"))



def untrusted_rows(rows: list[tuple[bytes, ...]]) -> list[tuple[str, ...]]:
    """Rows of TEXT values a query read as BLOBs (`CAST(x AS BLOB)`, which the text factory leaves
    alone), each value cleaned exactly as `_untrusted_text` cleans it.

    For a query that reads many values (a search's 50 hits are 300): when all of them are ASCII
    with nothing to remove, the common case, one look at their bytes joined by NULs tells so (the
    only bytes removed are the NULs), and one decode and split gives them all, instead of a call
    to the text factory per value (about a third of a search's time per hit). Otherwise each
    value goes through `_untrusted_text`."""
    values = [value for row in rows for value in row]
    joined = b"\0".join(values)
    if rows and joined.isascii() and len(joined) - len(joined.translate(None, _ASCII_REMOVED)) == len(values) - 1:
        texts = iter(joined.decode("ascii").split("\0"))
        return list(zip(*[texts] * len(rows[0]), strict=True))
    return [tuple(map(_untrusted_text, row)) for row in rows]