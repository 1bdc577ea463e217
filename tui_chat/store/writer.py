"""The one writer: a thread that owns the connection and turns queued operations into short transactions.

The event loop never touches SQLite. It puts operations on a queue (a `SimpleQueue.put`, about a
microsecond) and goes on; the thread commits what has arrived in one transaction as soon as the
queue runs dry.

Streamed text does not go through the queue piece by piece: a streaming message has a list of
text (`stream`) that the caller appends to, and the thread, every `flush_interval` while any
such list is open, writes what was added since its last look as one UPDATE per message. So a
streamed chunk costs the loop one `list.append`, the thread wakes twice a second however fast the
stream is, and a killed process loses at most `flush_interval` of a reply. `end_stream` writes
the rest, in order with what is queued after it.

Reads are queued too (`call`): they run on the same thread after what was queued before them,
and all text streamed so far, is committed, so a read sees every write made before it.

Each operation runs in its own savepoint: one that fails (a bad id, or a bug: any exception) is
reported and dropped without taking the rest of the batch, or the thread, with it. When the file
cannot be written at all (disk full, read-only, I/O error) the database is copied into memory,
the batch replayed there, and `on_unwritable` told once: the chat goes on, unsaved.
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
    """Text streamed into one message since the thread last wrote it: one UPDATE."""

    __slots__ = ("delta", "message_id")

    def __init__(self, message_id: str, delta: str) -> None:
        self.message_id, self.delta = message_id, delta

    def __call__(self, conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE messages SET text = text || ? WHERE id = ?", (self.delta, self.message_id))


class Stream:
    """A streaming message's text (see the module docstring): `parts` is appended to by the caller (on its thread), read by
    the writer thread, which remembers how many parts it has written (appending to and slicing a
    list are each atomic, so the two threads need no lock)."""

    __slots__ = ("message_id", "parts", "written")

    def __init__(self, message_id: str) -> None:
        self.message_id = message_id
        self.parts: list[str] = []
        self.written = 0

    def unwritten(self) -> _Text | None:
        """The text added since the last call, as an operation (None when there is none)."""
        count = len(self.parts)
        if count == self.written:
            return None
        delta = "".join(self.parts[self.written : count])
        self.written = count
        return _Text(self.message_id, delta)


class _EndStream:
    """The caller will add no more to this stream: write the rest and forget it."""

    __slots__ = ("stream",)

    def __init__(self, stream: Stream) -> None:
        self.stream = stream


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

    def stream(self, message_id: str) -> Stream:
        """A stream whose `parts` the caller appends `message_id`'s text to: what is appended reaches
        the file within the flush interval, until `end_stream`. Queue the message's row before this."""
        stream = Stream(message_id)
        self._queue.put(stream)
        return stream

    def end_stream(self, stream: Stream) -> None:
        """No more text comes for `stream`: the rest is written before what is queued after this."""
        self._queue.put(_EndStream(stream))

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
        streams: dict[str, Stream] = {}
        due: float | None = None  # when the open streams' new text is next written
        while True:
            if pending:
                timeout: float | None = 0.0
            elif due is not None:
                timeout = max(0.0, due - time.monotonic())
            else:
                timeout = None
            try:
                item = self._queue.get() if timeout is None else self._queue.get(timeout=timeout)
            except queue.Empty:
                now = time.monotonic()
                if due is not None and now >= due:
                    pending.extend(op for s in streams.values() if (op := s.unwritten()) is not None)
                    due = now + self._flush_interval if streams else None
                self._commit(pending)  # (on a busy file it keeps `pending`: tried again straight away)
                continue
            if isinstance(item, Stream):
                streams[item.message_id] = item
                if due is None:
                    due = time.monotonic() + self._flush_interval
            elif isinstance(item, _EndStream):
                if (op := item.stream.unwritten()) is not None:
                    pending.append(op)
                streams.pop(item.stream.message_id, None)
            elif isinstance(item, _Call) or item is _STOP:
                pending.extend(op for s in streams.values() if (op := s.unwritten()) is not None)
                while not self._commit(pending):
                    pass
                if item is _STOP:
                    self._conn.close()
                    return
                item.run(self._conn)
            else:
                pending.append(item)

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
            except Exception as error:  # (a bug in one change must not end the saving of the rest)
                if isinstance(error, sqlite3.Error) and error_code(error) in UNWRITABLE:
                    raise
                conn.execute("ROLLBACK TO op")
                self._on_problem(f"one change to the chat could not be saved ({type(error).__name__}: {error})")
            conn.execute("RELEASE op")
        conn.execute("COMMIT")

    def _to_memory(self) -> sqlite3.Connection:
        """Copy the database into memory and carry on there."""
        memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        self._conn.backup(memory)
        self._conn.close()
        memory.execute("PRAGMA foreign_keys = ON")
        return memory
