"""`Store`: everything a chat shows, saved as it happens, without the event loop ever waiting on SQLite.

Every write method returns at once: it queues an operation for the writer thread (see
`writer.py`). Ids are made here, so a caller has a message's id before its row exists and can
stream into it straight away:

    store = open_store()
    chat = store.new_chat(provider="openai", model="gpt-4o")
    store.add_message(chat, Role.USER, "hello")
    reply = store.start_reply(chat, provider="openai", model="gpt-4o")
    store.append_text(reply, "Hi")            # per chunk: a list append, nothing more
    store.finish_message(reply, ReplyStatus.COMPLETE, usage=Usage(3, 1))
    chats = await store.list_chats()          # reads run on the writer thread too

API keys, tokens and header values are never handed to the store: no method takes them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import json
import os
import socket
import sqlite3
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from ..chunks import OpaqueBlock, ReplyStatus, Role, ToolCall, Usage
from . import reads
from .database import default_path, open_database
from .records import ChatInfo, ChatRecord, SearchHit, ToolDecision
from .writer import Stream, Writer

T = TypeVar("T")

FLUSH_INTERVAL = 0.5
"""Seconds within which streamed text reaches the file: what a killed process can lose at most."""


def new_id() -> str:
    """A fresh random id for a chat or a message."""
    return uuid.uuid4().hex


def now() -> str:
    """The current time as ISO 8601 UTC with microseconds (sorts as text)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def title_from(text: str) -> str:
    """A chat title from its first message: the first non-blank line, at most 60 characters."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= 60 else line[:59].rstrip() + "…"


def open_store(path: Path | None = None, *, flush_interval: float = FLUSH_INTERVAL) -> Store:
    """The store at `path` (default: the user data directory). Never fails: when the file cannot be
    used the store is in memory, `saved` is False and `notice` says why.

    It reads a few pages (the header, the schema, the replies left streaming; the whole file only
    when it looks damaged, see `database._check`), but it is file I/O all the same, so a front end
    calls it off its event loop: `await asyncio.to_thread(open_store)`.
    """
    opened = open_database(path or default_path())
    return Store(opened.conn, path=opened.path, notice=opened.notice, flush_interval=flush_interval)


class Store:
    """Saved chats. See the module docstring; `saved` is False when nothing reaches a file."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        path: Path | None,
        notice: str | None = None,
        flush_interval: float = FLUSH_INTERVAL,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        self.path = path
        self.saved = path is not None
        self.notice = notice
        """The latest thing the person should be told (a file moved aside, saving stopped)."""
        self.on_notice = on_notice
        """Called on the writer thread with each new notice (a UI hands it to its loop)."""
        self._writer_mark = f"{socket.gethostname()}/{os.getpid()}/{new_id()[:8]}"
        """Marks the replies this store is streaming, so another process can tell them from dead ones."""
        if self.saved:
            _mark_dead_replies_interrupted(conn)
        self._writer = Writer(
            conn, flush_interval=flush_interval, on_problem=self._tell, on_unwritable=self._unwritable
        )
        self._streams: dict[str, Stream] = {}
        """The messages being streamed into, by id (until `finish_message`)."""

    # --- chats --------------------------------------------------------------------------------

    def new_chat(
        self,
        *,
        title: str = "",
        provider: str | None = None,
        model: str | None = None,
        pack: str | None = None,
        prompt: str | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> str:
        """Start a chat with the settings in force; returns its id."""
        chat_id, stamp = new_id(), now()
        self._put(
            "INSERT INTO chats (id, title, created_at, updated_at, provider, model, pack, prompt, variables)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (chat_id, title, stamp, stamp, provider, model, pack, prompt, json.dumps(dict(variables or {}))),
        )
        return chat_id

    def update_chat(self, chat_id: str, **settings: Any) -> None:
        """Change a chat's title or the settings in force (provider, model, pack, prompt, variables)."""
        allowed = {"title", "provider", "model", "pack", "prompt", "variables"}
        if not settings or not settings.keys() <= allowed:
            raise ValueError(f"update_chat takes {sorted(allowed)}, not {sorted(settings)}")
        if "variables" in settings:
            settings["variables"] = json.dumps(dict(settings["variables"] or {}))
        names = sorted(settings)
        assignments = ", ".join(f"{name} = ?" for name in names)
        self._put(f"UPDATE chats SET {assignments} WHERE id = ?", (*(settings[n] for n in names), chat_id))

    def delete_chat(self, chat_id: str) -> None:
        """Remove a chat and everything in it (blobs no other message uses go too)."""
        self._writer.put(lambda conn: _delete_chat(conn, chat_id))

    # --- messages -----------------------------------------------------------------------------

    def add_message(
        self,
        chat_id: str,
        role: Role,
        text: str = "",
        *,
        status: ReplyStatus = ReplyStatus.COMPLETE,
        parent_id: str | None = None,
        provider: str | None = None,
        model: str | None = None,
        pack: str | None = None,
        prompt: str | None = None,
        variables: Mapping[str, str] | None = None,
        tool_call_id: str | None = None,
        message_id: str | None = None,
        created_at: str | None = None,
    ) -> str:
        """Save a message; returns its id. Its parent is `parent_id`, or else the chat's latest message.
        A user message names the settings in force (`provider` .. `variables`): the chat's own change later.

        The first user message of an untitled chat gives the chat its title.
        """
        message_id = message_id or new_id()
        stamp = created_at or now()
        writer = self._writer_mark if status is ReplyStatus.STREAMING else None
        title = title_from(text) if role is Role.USER else ""
        saved_variables = None if variables is None else json.dumps(dict(variables))

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO messages (id, chat_id, parent_id, role, text, status, created_at, provider, model, pack,"
                " prompt, variables, tool_call_id, writer) VALUES (?, ?, coalesce(?, (SELECT id FROM messages"
                " WHERE chat_id = ? ORDER BY seq DESC LIMIT 1)), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (message_id, chat_id, parent_id, chat_id, role.value, text, status.value, stamp, provider, model,
                 pack, prompt, saved_variables, tool_call_id, writer),
            )
            conn.execute(
                "UPDATE chats SET updated_at = ?, title = CASE WHEN title = '' THEN ? ELSE title END WHERE id = ?",
                (stamp, title, chat_id),
            )

        self._writer.put(insert)
        return message_id

    def start_reply(
        self,
        chat_id: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        pack: str | None = None,
        parent_id: str | None = None,
    ) -> str:
        """Save an empty assistant reply that is streaming; returns its id for `append_text`."""
        return self.add_message(
            chat_id, Role.ASSISTANT, status=ReplyStatus.STREAMING, parent_id=parent_id,
            provider=provider, model=model, pack=pack,
        )

    def append_text(self, message_id: str, delta: str) -> None:
        """Add streamed text to a message. Cheap: a list append; it reaches the file within the flush interval."""
        self.stream_text(message_id).append(delta)

    def stream_text(self, message_id: str) -> list[str]:
        """The list of `message_id`'s streamed text, for a caller that appends every chunk to it
        directly (the cheapest way: nothing else happens per chunk). The writer thread writes what is
        new every flush interval; `finish_message` writes the rest."""
        stream = self._streams.get(message_id)
        if stream is None:
            stream = self._streams[message_id] = self._writer.stream(message_id)
        return stream.parts

    def finish_message(
        self,
        message_id: str,
        status: ReplyStatus,
        *,
        error: str | None = None,
        usage: Usage | None = None,
        cost_usd: float | None = None,
        opaque: Sequence[OpaqueBlock] = (),
        chunks: Sequence[tuple[int, int]] | Callable[[], str] = (),
        text: str | None = None,
    ) -> None:
        """Record how a reply ended (with the error text, usage, cost, provider blocks, and how it
        streamed: `chunks` as (milliseconds since the reply started, characters), for replay).
        `text`, when given, replaces what streamed (a cut voice reply keeps the words that were heard).

        `chunks` may instead be a function giving them as their JSON text (`[[ms, characters], ...]`):
        it is called on the writer thread, so a long reply's tens of thousands of timings cost the
        event loop nothing when it ends (see `recorder._timings_json`).
        """
        stream = self._streams.pop(message_id, None)
        if stream is not None:
            self._writer.end_stream(stream)

        def finish(conn: sqlite3.Connection) -> None:
            timings = chunks() if callable(chunks) else json.dumps([list(chunk) for chunk in chunks])
            conn.execute(
                "UPDATE messages SET status = ?, error = ?, input_tokens = ?, output_tokens = ?, cost_usd = ?,"
                " opaque = ?, chunks = ?, text = coalesce(?, text), writer = NULL WHERE id = ?",
                (status.value, error, usage and usage.input_tokens, usage and usage.output_tokens, cost_usd,
                 json.dumps([{"provider": b.provider, "kind": b.kind, "data": b.data} for b in opaque]),
                 timings, text, message_id),
            )  # fmt: skip

        self._writer.put(finish)

    # --- tools, voice, attachments --------------------------------------------------------------

    def add_tool_call(self, message_id: str, call: ToolCall) -> None:
        """Save a tool call the model made in reply `message_id` (arguments exactly as sent)."""
        self._put(
            "INSERT INTO tool_calls (message_id, call_id, name, arguments) VALUES (?, ?, ?, ?)",
            (message_id, call.id, call.name, call.arguments),
        )

    def decide_tool_call(
        self,
        message_id: str,
        call_id: str,
        decision: ToolDecision,
        *,
        edited_arguments: str | None = None,
        reason: str | None = None,
    ) -> None:
        """Record the person's decision on a tool call: approved, approved with edited arguments, or denied."""
        self._put(
            "UPDATE tool_calls SET decision = ?, edited_arguments = ?, reason = ? WHERE message_id = ? AND call_id = ?",
            (decision.value, edited_arguments, reason, message_id, call_id),
        )

    def set_tool_result(self, message_id: str, call_id: str, result: str, *, is_error: bool = False) -> None:
        """Record what a tool returned for a call."""
        self._put(
            "UPDATE tool_calls SET result = ?, result_is_error = ? WHERE message_id = ? AND call_id = ?",
            (result, int(is_error), message_id, call_id),
        )

    def mark_voice(
        self, message_id: str, *, started_ms: int | None = None, ended_ms: int | None = None, barge_in: bool = False
    ) -> None:
        """Mark a message as a spoken turn (its text is the transcript): audio times, barge-in."""
        self._put(
            "INSERT OR REPLACE INTO voice_turns (message_id, started_ms, ended_ms, barge_in) VALUES (?, ?, ?, ?)",
            (message_id, started_ms, ended_ms, int(barge_in)),
        )

    def attach(self, message_id: str, data: bytes, *, name: str, mime: str) -> str:
        """Attach a file to a message; the bytes are stored once under their sha256, which is returned."""
        sha = hashlib.sha256(data).hexdigest()

        def insert(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT OR IGNORE INTO attachments (sha256, mime, size, data) VALUES (?, ?, ?, ?)",
                (sha, mime, len(data), data),
            )
            conn.execute(
                "INSERT INTO message_attachments (message_id, position, sha256, name) VALUES"
                " (?, (SELECT count(*) FROM message_attachments WHERE message_id = ?), ?, ?)",
                (message_id, message_id, sha, name),
            )

        self._writer.put(insert)
        return sha

    # --- reads (off the loop) -----------------------------------------------------------------

    def run(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """Run `fn(connection, *args)` on the writer thread, after every write made before; for
        `reads` functions and for callers without an event loop (the history command)."""
        return self._writer.call(fn, *args)

    async def query(self, fn: Callable[..., T], *args: Any) -> T:
        """`run`, awaited: the event loop goes on while `fn` runs on the writer thread."""
        return await asyncio.wrap_future(self.run(fn, *args))

    async def list_chats(self, limit: int | None = None) -> list[ChatInfo]:
        """Chats, most recently updated first."""
        return await self.query(reads.list_chats, limit)

    async def load_chat(self, chat_id: str) -> ChatRecord:
        """A whole chat, to show it again and give the model its history."""
        return await self.query(reads.load_chat, chat_id)

    async def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Messages holding every word of `text`, newest first, with their matching lines."""
        return await self.query(reads.search, text, limit)

    async def flush(self) -> None:
        """Wait until everything written so far is committed."""
        await self.query(_nothing)

    def close(self) -> None:
        """Commit what is queued, mark this process's unfinished replies interrupted, and close."""
        self._put(
            "UPDATE messages SET status = 'interrupted', writer = NULL WHERE status = 'streaming' AND writer = ?",
            (self._writer_mark,),
        )
        self._writer.close()

    # --- inside -------------------------------------------------------------------------------

    def _put(self, sql: str, params: Sequence[Any]) -> None:
        """Queue one statement for the next transaction."""

        def execute(conn: sqlite3.Connection) -> None:
            conn.execute(sql, params)

        self._writer.put(execute)

    def _tell(self, notice: str) -> None:
        self.notice = notice
        if self.on_notice is not None:
            self.on_notice(notice)

    def _unwritable(self, error: sqlite3.Error) -> None:
        self.saved = False
        self._tell(f"Saving chats to {self.path} failed ({error}); this chat goes on in memory and is not saved.")


def _nothing(conn: sqlite3.Connection) -> None:
    """A read that reads nothing: waiting for it waits for every earlier write."""


def _delete_chat(conn: sqlite3.Connection, chat_id: str) -> None:
    conn.execute("DELETE FROM chats WHERE id = ?", (chat_id,))
    conn.execute(
        "DELETE FROM attachments WHERE NOT EXISTS"
        " (SELECT 1 FROM message_attachments m WHERE m.sha256 = attachments.sha256)"
    )


def _mark_dead_replies_interrupted(conn: sqlite3.Connection) -> None:
    """Replies left streaming by a process of this host that is gone (killed, crashed) are interrupted.

    Replies of a live process, or of another host sharing the file, are left alone.
    """
    host = socket.gethostname()
    dead = []
    for message_id, writer in conn.execute("SELECT id, writer FROM messages WHERE status = 'streaming'"):
        owner_host, pid, _store = (writer or "//").split("/", 2)
        if writer is None or (owner_host == host and pid.isdigit() and not _alive(int(pid))):
            dead.append((message_id,))
    if dead:
        conn.executemany("UPDATE messages SET status = 'interrupted', writer = NULL WHERE id = ?", dead)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
