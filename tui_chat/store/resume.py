"""A saved chat back into a conversation: which chat (the last, or one by id), and its history as messages.

A chat's messages form a tree (a retried reply is another version of the same turn, a child of
the same user message). The history the model gets is the current branch: from the newest
message back to the first along `parent_id`. Tool results are kept on the assistant message's
tool calls and become the `Role.TOOL` messages a provider expects after them.
"""

from __future__ import annotations

import concurrent.futures
import sqlite3
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from ..chunks import Message, ReplyStatus, Role, ToolCall
from .reads import load_chat, resolve_chat_id
from .records import ChatRecord, MessageRecord
from .schema import StoreError

T = TypeVar("T")


class ReadingStore:
    """Saved chats opened only to be read, by a command that reads and ends (`history list`, `-c`
    with saving off): `run` has `Store.run`'s form but runs at once on the caller's thread, there
    being no writes to wait for; nothing is ever written, not even on `close`."""

    def __init__(self, conn: sqlite3.Connection, notice: str | None) -> None:
        self._conn = conn
        self.notice = notice
        """Said once by the command: the file is read-only, new chats are not saved."""

    def run(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """`fn(connection, *args)`, its result (or error) in a future that is already done."""
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        try:
            future.set_result(fn(self._conn, *args))
        except Exception as error:  # noqa: BLE001 - raised where the caller asks for the result, as with `Store.run`
            future.set_exception(error)
        return future

    def close(self) -> None:
        self._conn.close()


def reading_store(path: Path | None = None, *, saving_off: str | None = None) -> ReadingStore:
    """The chats at `path` (default: the user data directory) to read only: opened read-only, never
    created or written (`database.open_for_reading`); `saving_off` says why nothing is saved.
    Raises `StoreError` for a file that cannot be read."""
    from .database import default_path, open_for_reading

    opened = open_for_reading(path or default_path(), saving_off=saving_off)
    return ReadingStore(opened.conn, opened.notice)


def chat_to_resume(conn: sqlite3.Connection, given: str | None) -> str:
    """The full id of chat `given` (any unique prefix), or of the most recently updated chat when None.

    With none saved, the error says why when the database knows (a file that could not be used,
    saving turned off: `database.ChatConnection.no_chat_because`)."""
    if given is not None:
        return resolve_chat_id(conn, given)
    row = conn.execute("SELECT id FROM chats ORDER BY updated_at DESC, rowid DESC LIMIT 1").fetchone()
    if row is None:
        if because := getattr(conn, "no_chat_because", None):
            raise StoreError(because)
        raise StoreError("there is no saved chat to continue", hint="start one: every chat is saved")
    chat_id: str = row[0]
    return chat_id


def chat_to_go_on_with(conn: sqlite3.Connection, given: str | None) -> ChatRecord:
    """The whole saved chat `chat_to_resume` picks (one call on the store's thread: `Store.run`)."""
    return load_chat(conn, chat_to_resume(conn, given))


def current_branch(record: ChatRecord) -> list[MessageRecord]:
    """The messages from the first to the newest along `parent_id` (older versions left out)."""
    by_id = {message.id: message for message in record.messages}
    branch: list[MessageRecord] = []
    message = record.messages[-1] if record.messages else None
    while message is not None and len(branch) <= len(by_id):
        branch.append(message)
        message = by_id.get(message.parent_id) if message.parent_id else None
    branch.reverse()
    return branch


def history_messages(record: ChatRecord) -> list[Message]:
    """The conversation history a saved chat stands for (what the model gets when the chat goes on)."""
    return [message for _, message in _history(record)]


def chat_cost(record: ChatRecord) -> Decimal | None:
    """What the saved chat's replies cost together; None when one that used tokens has no known price."""
    total = Decimal(0)
    for message in record.messages:
        if message.usage is None or not (message.usage.input_tokens or message.usage.output_tokens):
            continue
        if message.cost_usd is None:
            return None
        total += Decimal(str(message.cost_usd))
    return total


def history_position(record: ChatRecord, message_id: str | None) -> int | None:
    """Where saved message `message_id` is in `history_messages(record)` (None: not on the current branch)."""
    return next((i for i, (saved, _) in enumerate(_history(record)) if saved == message_id), None)


def _history(record: ChatRecord) -> list[tuple[str, Message]]:
    """Each history message with the id of the saved message it comes from (a tool result: its call's)."""
    history: list[tuple[str, Message]] = []
    for m in current_branch(record):
        if m.role is Role.TOOL:
            continue  # a tool result comes from its call, below
        status = ReplyStatus.INTERRUPTED if m.status is ReplyStatus.STREAMING else m.status
        calls = tuple(ToolCall(c.call_id, c.name, c.arguments) for c in m.tool_calls)
        history.append((m.id, Message(m.role, m.text, calls, status=status, opaque=m.opaque, spoken=m.voice is not None)))
        for c in m.tool_calls:
            if c.result is not None:
                result = Message(Role.TOOL, c.result, tool_call_id=c.call_id, name=c.name, is_error=c.result_is_error)
                history.append((m.id, result))
    return history
