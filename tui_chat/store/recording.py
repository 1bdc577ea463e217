"""A saved chat as a recording for the replay provider: `--from CHAT.json` (an export) or `--from ID`."""

from __future__ import annotations

from pathlib import Path

from ..chunks import Role, ToolCall
from ..providers.replay import RecordedReply
from .records import ChatRecord
from .resume import current_branch
from .schema import StoreError


def load_recording(source: str) -> tuple[str | None, list[RecordedReply]]:
    """The model the chat was recorded with and its assistant replies (current branch, in order)."""
    record = _load(source)
    replies = [
        RecordedReply(
            text=m.text,
            chunks=m.chunks,
            tool_calls=tuple(ToolCall(c.call_id, c.name, c.arguments) for c in m.tool_calls),
            usage=m.usage,
            status=m.status,
            error=m.error,
        )
        for m in current_branch(record)
        if m.role is Role.ASSISTANT
    ]
    return record.info.model, replies


def _load(source: str) -> ChatRecord:
    """The chat from an export file (a `.json` name or an existing file), else from the history by id."""
    path = Path(source).expanduser()
    if path.suffix == ".json" or path.is_file():
        from .exchange import chat_from_json

        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise StoreError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None
        return chat_from_json(text, str(path))[0]
    from .reads import load_chat, resolve_chat_id
    from .resume import reading_store

    store = reading_store()  # read only: playing a chat back never creates or changes the history
    try:
        return store.run(load_chat, store.run(resolve_chat_id, source).result()).result()
    finally:
        store.close()
