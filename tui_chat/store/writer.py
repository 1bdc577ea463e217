"""The one writer: a thread that owns the connection and turns queued operations into short transactions.

The event loop never touches SQLite. It puts operations on a queue (a `SimpleQueue.put`, about a
microsecond) and goes on. The thread collects what has arrived and commits it in one
transaction: at once when the queue runs dry and something other than streamed text is waiting,
and within `flush_interval` of the first uncommitted piece of streamed text, so a killed process
loses at most that much of a reply. Consecutive text for the same message becomes one UPDATE.

Reads are queued too (`call`): they run on the same thread after what was queued before them is
committed, so a read sees every write made before it.

Each operation runs in its own savepoint: one that fails (a bug, a bad id) is reported and
dropped without taking the rest of the batch with it. When the file cannot be written at all
(disk full, read-only, I/O error) the database is copied into memory, the batch replayed there,
and `on_unwritable` told once: the chat goes on, unsaved.
"""

from __future__ import annotations

import concurrent.futures
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .database import UNWRITABLE, error_code

Op = Callable[[sqlite3.Connection], None]
T = TypeVar("T")

_STOP = object()


class _Text:
    """Streamed text waiting for the next commit, for one message."""

    __slots__ = ("message_id", "parts")

    def __init__(self, message_id: str, delta: str) -> None:
        self.message_id = message_id
        self.parts = [delta]

    def __call__(self, conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE messages SET text = text || ? WHERE id = ?", ("".join(self.parts), self.message_id))


class _Call:
    """A read (or any function of the connection) whose result goes back through a future."""

    __slots__ = ("args", "fn", "future")

    def __init__(self, future: concurrent.futures.Future[Any], fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.future, self.fn, self.args = future, fn, args

    def run(self, conn: sqlite3.Connection) -> None:
        if not self.future.set_running_or_notify_cancel():
            return
        try:
            self.future.set_result(self.fn(conn, *self.args))
        except BaseException as error:  # handed to the caller, who raises it where it asked
            self.future.set_exception(error)


class Writer:
    """Owns `conn` on its own thread; see the module docstring."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        flush_interval: float,
        on_problem: Callable[[str], None],
        on_unwritable: Callable[[sqlite3.Error], None],
    ) -> None:
        self._conn = conn
        self._flush_interval = flush_interval
        self._on_problem = on_problem
        self._on_unwritable = on_unwritable
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="tui-chat store writer", daemon=True)
        self._thread.start()

    def put(self, op: Op) -> None:
        """Queue `op` for the next transaction."""
        self._queue.put(op)

    def append(self, message_id: str, delta: str) -> None:
        """Queue streamed text for `message_id` (committed within the flush interval)."""
        self._queue.put((message_id, delta))

    def call(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """Run `fn(conn, *args)` on the writer thread after every write queued before it is committed."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put(_Call(future, fn, args))
        return future

    def close(self) -> None:
        """Commit what is queued, stop the thread and close the connection."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join()

    # --- the thread ---------------------------------------------------------------------------

    def _run(self) -> None:
        pending: list[Op] = []
        text_since: float | None = None  # when the oldest uncommitted text arrived
        structural = False  # something other than text is waiting
        while True:
            if structural:
                timeout: float | None = 0.0
            elif text_since is not None:
                timeout = max(0.0, text_since + self._flush_interval - time.monotonic())
            else:
                timeout = None
            try:
                if timeout is None:
                    item = self._queue.get()
                elif timeout <= 0:
                    item = self._queue.get_nowait()
                else:
                    item = self._queue.get(timeout=timeout)
            except queue.Empty:
                if self._commit(pending):
                    text_since, structural = None, False
                continue  # on a busy file: try again straight away (each try waits up to the busy timeout)
            if item is _STOP:
                while not self._commit(pending):
                    pass
                self._conn.close()
                return
            if isinstance(item, tuple):
                message_id, delta = item
                last = pending[-1] if pending else None
                if isinstance(last, _Text) and last.message_id == message_id:
                    last.parts.append(delta)
                else:
                    pending.append(_Text(message_id, delta))
                if text_since is None:
                    text_since = time.monotonic()
            elif isinstance(item, _Call):
                while not self._commit(pending):
                    pass
                text_since, structural = None, False
                item.run(self._conn)
            else:
                pending.append(item)
                structural = True

    def _commit(self, pending: list[Op]) -> bool:
        """Run `pending` in one transaction (each op in a savepoint) and empty it.

        Returns False, keeping `pending`, when another process held the file past the busy
        timeout: the caller tries again, so nothing is dropped for being late.
        """
        if not pending:
            return True
        try:
            self._transaction(pending)
        except sqlite3.Error as error:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            if error_code(error) == sqlite3.SQLITE_BUSY:
                return False
            if error_code(error) not in UNWRITABLE:
                self._on_problem(f"saving the chat failed ({error})")
            else:
                self._conn = self._to_memory()
                self._on_unwritable(error)
                self._transaction(pending)
        pending.clear()
        return True

    def _transaction(self, pending: list[Op]) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        for op in pending:
            conn.execute("SAVEPOINT op")
            try:
                op(conn)
            except sqlite3.Error as error:
                if error_code(error) in UNWRITABLE:
                    raise
                conn.execute("ROLLBACK TO op")
                self._on_problem(f"one change to the chat could not be saved ({error})")
            conn.execute("RELEASE op")
        conn.execute("COMMIT")

    def _to_memory(self) -> sqlite3.Connection:
        """Copy the database into memory and carry on there."""
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._conn.backup(memory)
        self._conn.close()
        memory.execute("PRAGMA foreign_keys = ON")
        return memory
