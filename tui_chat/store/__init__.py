"""The conversation store: saved chats in SQLite, written off the event loop, searchable, exportable.

`open_store()` gives a `Store` (in memory, with a `notice`, when the file cannot be used);
`records` holds the values it gives back; `exchange` the JSON and Markdown exports.
"""

from __future__ import annotations

from .records import ChatInfo, ChatRecord, Decision, MessageRecord, SearchHit, ToolCallRecord, VoiceTurn
from .schema import StoreError
from .store import Store, open_store

__all__ = [
    "ChatInfo",
    "ChatRecord",
    "Decision",
    "MessageRecord",
    "SearchHit",
    "Store",
    "StoreError",
    "ToolCallRecord",
    "VoiceTurn",
    "open_store",
]
