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
  instead (`Opened.saved` is False) and one clear `notice`; the chat goes on, unsaved (a file that
  can still be read is copied into that memory, so its chats are there to see and continue);
- reading commands open the file read-only (`open_for_reading`): they work on a read-only folder
  and never create a file (history turned off makes none);
- damage found later, when a query reads a damaged page of a file that opened fine, is raised by
  the connection itself as `DamagedDatabase`: one sentence naming the file and what to do, for
  every reader and writer of the store alike (`ChatConnection`).
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..safe_text import clean
from .schema import VERSION, StoreError, file_version, migrate

if TYPE_CHECKING:
    from .word_bits import WordBits

BUSY_TIMEOUT = 5.0
"""Seconds a writer waits for another process's transaction before giving up."""

_CORRUPT = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}
UNWRITABLE = {sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN}
"""Result codes (primary) meaning the file cannot be written now: go on in memory."""


class CorruptDatabase(sqlite3.DatabaseError):
    """`PRAGMA quick_check` found damage that no query has tripped over yet."""


class DamagedDatabase(StoreError, sqlite3.DatabaseError):
    """A query met a damaged page of a file that opened fine. A `StoreError` (one sentence for the
    person, naming the file and the remedy) and still a `sqlite3.DatabaseError` with SQLite's result
    code, so the writer treats it as the failed statement it is."""

    def __init__(self, path: Path | None, error: sqlite3.DatabaseError) -> None:
        super().__init__(
            f"the chat database {path} is damaged ({error})",
            hint=f"move it away and tui-chat starts a new one; `sqlite3 {path} .recover` may rescue its chats",
        )
        self.damage = str(error)
        """SQLite's own words ("database disk image is malformed")."""
        self.sqlite_errorcode = getattr(error, "sqlite_errorcode", sqlite3.SQLITE_CORRUPT)
        self.sqlite_errorname = getattr(error, "sqlite_errorname", "SQLITE_CORRUPT")


class ChatCursor(sqlite3.Cursor):
    """A cursor whose every step that reads the file turns SQLite's damage errors into
    `DamagedDatabase` (`ChatConnection.named`). A plain try per call: free when nothing fails,
    which matters for `__next__`, called once per row read."""

    connection: ChatConnection

    def execute(self, sql: str, parameters: Any = (), /) -> ChatCursor:
        try:
            return super().execute(sql, parameters)
        except sqlite3.DatabaseError as error:
            raise self.connection.named(error) from None

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> ChatCursor:
        try:
            return super().executemany(sql, seq_of_parameters)
        except sqlite3.DatabaseError as error:
            raise self.connection.named(error) from None

    def fetchone(self) -> Any:
        try:
            return super().fetchone()
        except sqlite3.DatabaseError as error:
            raise self.connection.named(error) from None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        try:
            return super().fetchmany(self.arraysize if size is None else size)
        except sqlite3.DatabaseError as error:
            raise self.connection.named(error) from None

    def fetchall(self) -> list[Any]:
        try:
            return super().fetchall()
        except sqlite3.DatabaseError as error:
            raise self.connection.named(error) from None

    def __next__(self) -> Any:
        try:
            return super().__next__()
        except sqlite3.DatabaseError as error:
            raise self.connection.named(error) from None


class ChatConnection(sqlite3.Connection):
    """The store's connection: every query runs through `ChatCursor`, so damage met anywhere (a
    list, a search, an export, a resume, a write) is said the same way."""

    path: Path | None = None
    """The file (None in memory)."""
    no_chat_because: str | None = None
    """Why this database may hold none of the person's chats (a file that could not be used, saving
    turned off): what `resume.chat_to_resume` says when it finds none."""
    word_bits: WordBits | None = None
    """Which messages hold the commonest words searched for (made by the first search that needs it)."""

    def cursor(self, factory: Any = None) -> ChatCursor:  # type: ignore[override]
        return super().cursor(factory or ChatCursor)  # type: ignore[no-any-return]

    def execute(self, sql: str, parameters: Any = (), /) -> ChatCursor:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> ChatCursor:
        return self.cursor().executemany(sql, seq_of_parameters)

    def named(self, error: sqlite3.DatabaseError) -> sqlite3.DatabaseError:
        """`error` to raise: SQLite's "malformed" and "not a database" as `DamagedDatabase`, naming
        the file and the remedy; any other as it is."""
        if isinstance(error, DamagedDatabase) or error_code(error) not in _CORRUPT:
            return error
        return DamagedDatabase(self.path, error)


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
    """Open (creating, migrating or replacing as needed) the database at `path`; never raises for the file's state.

    The user data folder is ours: it is made, or tightened, to 0700. A folder the person chose
    (`--db`) is left as it is; the file is 0600 wherever it is."""
    if path.parent == default_path().parent:
        _make_private(path.parent)
    try:
        return Opened(_connect_file(path), path, saved=True)
    except sqlite3.DatabaseError as error:  # (before StoreError: a `DamagedDatabase` is both)
        if not isinstance(error, CorruptDatabase) and error_code(error) not in _CORRUPT:
            return _unsaved(path, error)
        damage = error.damage if isinstance(error, DamagedDatabase) else str(error)
    except StoreError as error:
        return in_memory(f"{error}; chats are not saved this time")
    except OSError as error:
        return _unsaved(path, error)
    try:
        aside = move_aside(path)
        notice = f"The chat database {path} could not be read ({damage}); it was kept as {aside} and a new one started."
        return Opened(_connect_file(path), path, saved=True, notice=notice)
    except (sqlite3.Error, OSError, StoreError) as again:
        return in_memory(_unwritable(path, again))


def open_for_reading(path: Path, *, saving_off: str | None = None) -> Opened:
    """The database at `path` opened read-only (`saved` False): nothing is created, written, migrated
    or moved, so it works on a read-only folder. `saving_off` says why nothing is saved this run
    (`--no-history`), for `chat_to_resume`. A missing file is an empty history.

    Raises `StoreError` (naming the file) for a file that cannot be read: damaged, newer than this
    tui-chat, or not readable at all.
    """
    no_chat = f"there is no saved chat to continue (saving is off: {saving_off})" if saving_off else None
    try:
        path.stat()
        conn = _connect_read_only(path)
    except FileNotFoundError:
        return in_memory(no_chat_because=no_chat)
    except OSError as error:  # (a folder on the way that is a file, no permission)
        raise StoreError(f"the chat database {path} cannot be read ({error.strerror or error})") from None
    except sqlite3.DatabaseError as error:
        if isinstance(error, StoreError):
            raise
        if error_code(error) in _CORRUPT:
            raise DamagedDatabase(path, error) from None
        raise StoreError(f"the chat database {path} cannot be read ({error})") from None
    conn.no_chat_because = no_chat
    notice = None if saving_off or _writable(path) else (
        f"the chat database {path} is read-only: its chats can be read, new ones are not saved"
    )
    return Opened(conn, None, saved=False, notice=notice)


def in_memory(notice: str | None = None, *, no_chat_because: str | None = None) -> Opened:
    """A fresh in-memory database with the current schema: the chat goes on, unsaved."""
    conn = _configure(sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False, factory=ChatConnection))
    conn.no_chat_because = no_chat_because or (notice and f"cannot continue a saved chat: {notice}")
    migrate(conn, ":memory:")
    return Opened(conn, None, saved=False, notice=notice)


def _unsaved(path: Path, error: BaseException) -> Opened:
    """The database for a file that cannot be written: its chats copied into memory when it can be
    read (so they can be seen and continued), else an empty one; either way one notice."""
    reason = f"the chat database {path} cannot be written ({error})"
    try:
        memory = _copy_into_memory(_connect_read_only(path), path)
    except (sqlite3.Error, OSError, StoreError):  # (the copy reads every page: a damaged one shows here)
        return in_memory(f"{reason}; chats are not saved this time")
    return Opened(memory, None, saved=False, notice=f"{reason}: its chats can be read, but new ones are not saved this time")


def _connect_read_only(path: Path) -> ChatConnection:
    """`path` opened read-only and checked, its schema current (an older file is copied into memory
    and migrated there). A read-only folder cannot hold the log's index (-shm) that a read-only
    connection to a WAL file needs: the file is then read as immutable (nothing can change it)."""
    uri = path.absolute().as_uri() + "?mode=ro"
    try:
        conn = _connect(uri, path)
    except sqlite3.OperationalError:
        if _writable(path):
            raise
        conn = _connect(uri + "&immutable=1", path)
    try:
        _check(conn, path)
        if file_version(conn) == VERSION:
            return conn
        return _copy_into_memory(conn, path)
    except BaseException:
        conn.close()
        raise


def _connect(uri: str, path: Path) -> ChatConnection:
    conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, factory=ChatConnection)
    conn.path = path
    try:
        _configure(conn)
        conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()  # (opening is lazy: this reads the file)
    except BaseException:
        conn.close()
        raise
    return conn  # type: ignore[no-any-return]


def _copy_into_memory(conn: ChatConnection, path: Path) -> ChatConnection:
    """The database on `conn` (read-only) copied into memory and migrated there; `conn` is closed."""
    memory = in_memory().conn
    try:
        conn.backup(memory)
        migrate(memory, path)
    except BaseException:
        memory.close()
        raise
    finally:
        conn.close()
    return memory  # type: ignore[return-value]


def _writable(path: Path) -> bool:
    """Whether this process may write the file and make files beside it (the log, its index)."""
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)


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


def _make_private(folder: Path) -> None:
    """Make `folder` (and missing parents) 0700, tightening it if it exists with a wider mode."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder.stat().st_mode & 0o077:
            folder.chmod(0o700)
    except OSError:
        pass  # (the opening that follows meets the same problem, and says it)


def _connect_file(path: Path) -> sqlite3.Connection:
    """Create the private folder and file if needed, connect, check, migrate."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False, factory=ChatConnection
    )
    conn.path = path
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


def untrusted_values(conn: sqlite3.Connection, sql: str, parameters: Sequence[Any]) -> list[str]:
    """The values of the rows `sql` reads, one after the other, each cleaned exactly as
    `_untrusted_text` cleans it. Every value `sql` reads must be TEXT: `CAST(x AS TEXT)`.

    For a query that reads many values (a search's 50 hits are 300): through the text factory each
    would cost a Python call; here SQLite's module decodes them in C (the factory set to `str` for
    the query), and when all of them are ASCII with nothing to remove, the common case, one look
    at them joined tells so, and they are the answer as read. Otherwise each value is cleaned; and when a text is not UTF-8 (written by
    another program), which cannot be read so, the query is read again through the factory."""
    factory = conn.text_factory
    conn.text_factory = str
    try:
        rows: list[tuple[str, ...]] | None = conn.execute(sql, parameters).fetchall()
    except sqlite3.OperationalError:  # ("Could not decode to UTF-8")
        rows = None
    finally:
        conn.text_factory = factory
    if rows is None:
        return list(chain.from_iterable(conn.execute(sql, parameters).fetchall()))
    values = list(chain.from_iterable(rows))
    joined = "".join(values)
    if joined.isascii():
        data = joined.encode("ascii")
        if len(data.translate(None, _ASCII_REMOVED)) == len(data):
            return values
    return [_untrusted_text(value.encode()) for value in values]
