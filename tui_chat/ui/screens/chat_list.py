"""The chat list (F2): every saved chat, newest first, and search across all of them.

Each row says the chat's title, when it was last written to, its provider/model and its size.
Enter opens the highlighted chat; typing in the box at the top searches every message (the
store's FTS5 index), and the rows become the matching lines: Enter on one opens its chat at that
message. Ctrl+R renames the highlighted chat, Ctrl+D deletes it at once and Ctrl+Z brings it back
whole (its export, taken just before, is imported again: messages, tool calls, title, times; the
deleted chats are kept for undo as long as the app runs, so one slip never loses a chat). Every read runs on
the store's thread, so the list never holds the event loop, and it loads only when the screen
opens, never on the way to the first screen.

Titles, matching lines and model ids are data (from the model and the person): cleaned once here,
where they enter, and shown literally.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from ...safe_text import clean
from ...store.records import ChatInfo, SearchHit
from ...store.schema import StoreError
from ..wording import counted

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from ...store.history import Store

KEYS = "Enter opens · type to search · Ctrl+R renames · Ctrl+D deletes · Ctrl+Z undoes · Esc/F2 closes"


@dataclass(frozen=True, slots=True)
class ChatChoice:
    """A chat to open, and the message to show highlighted in it (None: just the chat)."""

    chat_id: str
    message_id: str | None = None


def when(stamp: str, now: datetime) -> str:
    """A stored ISO 8601 UTC time, said relative to `now` ("just now", "5 min ago", "3 days ago")."""
    try:
        then = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return ""
    seconds = int((now - then).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day"), (3600, "hour"), (60, "min")):
        if seconds >= size:
            return f"{counted(seconds // size, unit)} ago" if unit != "min" else f"{seconds // 60} min ago"
    return ""


def chat_row(chat: ChatInfo, now: datetime) -> Content:
    """One chat as a row: title, when, provider/model, size."""
    title = clean(chat.title) or "(untitled)"
    where = "/".join(clean(part) for part in (chat.provider, chat.model) if part)
    details = " · ".join(part for part in (when(chat.updated_at, now), where, counted(chat.message_count, "message")) if part)
    return Content.assemble((title, "bold"), "\n", (details, "dim"))


def hit_row(hit: SearchHit, now: datetime) -> Content:
    """One search result as a row: the chat's title and when, then the matching lines."""
    title = clean(hit.chat_title) or "(untitled)"
    lines = "\n".join(f"  {hit.role.value}: {clean(line)}" for line in hit.lines[:3])
    return Content.assemble((title, "bold"), " ", (when(hit.created_at, now), "dim"), "\n", lines)


def chat_of(row: ChatInfo | SearchHit) -> tuple[str, str]:
    """The id and title of the chat a row is about."""
    return (row.chat_id, row.chat_title) if isinstance(row, SearchHit) else (row.id, row.title)


class ChatListScreen(ModalScreen["ChatChoice | None"]):
    """The saved chats of `store`; dismisses with the chat (and message) to open, or None."""

    DEFAULT_CSS = """
    ChatListScreen { align: center middle; }
    ChatListScreen > Vertical {
        width: 90;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    ChatListScreen .title { text-style: bold; }
    ChatListScreen .note { color: $text-muted; }
    ChatListScreen OptionList { height: 1fr; }
    """

    BINDINGS = [
        Binding("escape,f2", "dismiss(None)", "Close"),
        Binding("ctrl+r", "rename", "Rename", priority=True),
        Binding("ctrl+d", "delete", "Delete", priority=True),
        Binding("ctrl+z", "undelete", "Undo delete", priority=True),
        Binding("down", "to_list", "List", show=False),
    ]

    def __init__(
        self,
        store: Store,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_deleted: Callable[[str], None] = lambda chat_id: None,
        on_restored: Callable[[str], None] = lambda chat_id: None,
        deleted: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.now = now
        self.on_deleted = on_deleted
        """Told the id of each chat deleted here (the chat screen stops saving into it)."""
        self.on_restored = on_restored
        """Told the id of each chat brought back by Ctrl+Z."""
        self.deleted = [] if deleted is None else deleted
        """The exports of the chats deleted, newest last: what Ctrl+Z imports again (kept by the caller)."""
        self.rows: Sequence[ChatInfo | SearchHit] = ()
        """What the list shows, row by row: chats, or search hits."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Chats", classes="title")
            yield Input(placeholder="Search all chats", id="search")
            yield OptionList(id="chats")
            yield Static(KEYS, classes="note")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self.show(self.query_one(Input).value)

    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.show(event.value)

    @work(group="chat-list", exclusive=True)
    async def show(self, text: str) -> None:
        """Fill the list: every chat when `text` is blank, else the messages that match it."""
        rows: Sequence[ChatInfo | SearchHit] = ()
        labels: list[Content] = []
        try:
            if text.strip():
                rows = await self.store.search(text)
                labels = [hit_row(hit, self.now()) for hit in rows]
                empty = f"No message holds {text.strip()!r}."
            else:
                rows = await self.store.list_chats()
                labels = [chat_row(chat, self.now()) for chat in rows]
                empty = "No saved chats yet."
        except (StoreError, sqlite3.Error) as error:  # an unreadable file: said in the list, no traceback
            empty = f"The saved chats cannot be read: {error}"
        self.rows = rows
        chats = self.query_one(OptionList)
        chats.clear_options()
        chats.add_options([Option(label) for label in labels] or [Option(Content(clean(empty)), disabled=True)])
        if rows:
            chats.highlighted = 0

    def _highlighted(self) -> ChatInfo | SearchHit | None:
        index = self.query_one(OptionList).highlighted
        return self.rows[index] if index is not None and index < len(self.rows) else None

    @on(Input.Submitted, "#search")
    def _open_highlighted(self) -> None:
        if (row := self._highlighted()) is not None:
            self._open(row)

    @on(OptionList.OptionSelected)
    def _open_selected(self, event: OptionList.OptionSelected) -> None:
        self._open(self.rows[event.option_index])

    def _open(self, row: ChatInfo | SearchHit) -> None:
        if isinstance(row, SearchHit):
            self.dismiss(ChatChoice(row.chat_id, row.message_id))
        else:
            self.dismiss(ChatChoice(row.id))

    def action_to_list(self) -> None:
        self.query_one(OptionList).focus()

    def action_rename(self) -> None:
        row = self._highlighted()
        if row is None:
            return
        chat_id, current = chat_of(row)

        def rename(title: str | None) -> None:
            if title is not None and (title := clean(title).strip()):
                self.store.update_chat(chat_id, title=title)
                self.show(self.query_one(Input).value)

        self.app.push_screen(RenameScreen(clean(current)), rename)

    def action_delete(self) -> None:
        """Ctrl+D: delete the highlighted chat now, keeping its export for Ctrl+Z."""
        if (row := self._highlighted()) is not None:
            self._delete(*chat_of(row))

    @work(group="chat-delete", exclusive=False)
    async def _delete(self, chat_id: str, title: str) -> None:
        from ...store.exchange import export_chat

        try:
            self.deleted.append(await self.store.query(export_chat, chat_id))
        except (StoreError, sqlite3.Error) as error:  # gone already (another process), an unreadable file
            self._say(f"The chat was not deleted: {error}", severity="error")
            return
        self.store.delete_chat(chat_id)
        self.on_deleted(chat_id)
        self._say(f"Deleted “{clean(title) or '(untitled)'}” · Ctrl+Z brings it back")
        self.show(self.query_one(Input).value)

    @work(group="chat-delete", exclusive=False)
    async def action_undelete(self) -> None:
        """Ctrl+Z: bring back the chat deleted last, as it was."""
        import json

        from ...store.exchange import chat_from_json, import_chat

        if not self.deleted:
            self._say("There is no deleted chat to bring back.", severity="warning")
            return
        record, blobs = chat_from_json(json.dumps(self.deleted[-1]), "the deleted chat")
        try:
            await self.store.query(import_chat, record, blobs)
        except (StoreError, sqlite3.Error) as error:
            self._say(f"The chat was not brought back: {error}", severity="error")
            return
        self.deleted.pop()
        self.on_restored(record.info.id)
        self._say(f"Brought back “{clean(record.info.title) or '(untitled)'}”")
        self.show(self.query_one(Input).value)

    def _say(self, message: str, *, severity: SeverityLevel = "information") -> None:
        """A notice about the list (its text holds a title: data, so never markup)."""
        self.app.notify(clean(message), title="Chats", severity=severity, markup=False)


class RenameScreen(ModalScreen["str | None"]):
    """A chat's new title: Enter keeps what is in the box, Esc leaves the title as it was."""

    DEFAULT_CSS = """
    RenameScreen { align: center middle; }
    RenameScreen > Vertical { width: 70; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel")]

    def __init__(self, title: str) -> None:
        super().__init__()
        self.current = title

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Rename the chat")
            yield Input(self.current, id="title")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)
