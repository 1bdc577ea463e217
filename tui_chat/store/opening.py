"""`StoreOpening`: what the recorder tells the store while the store is still opening, kept in
order and told to it once it has opened (see `recorder.Recorder`).

The TUI opens the store on a thread after its first screen, and an old big file's migration can
take seconds: a message sent meanwhile must neither wait for it on the event loop nor be lost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..chunks import ReplyStatus, Role

if TYPE_CHECKING:
    from .history import Store


class StoreOpening:
    """Stands in for the store while it opens (see `Recorder`): takes what the recorder tells the
    store, in order, and tells the store all of it once it has opened (`hand_over`). It makes the
    ids the store would make, so the recorder goes on as if the store were there; a new chat's id
    becomes the store's own at the hand-over (`chat`)."""

    def __init__(self) -> None:
        self._told: list[Callable[[Store], object]] = []
        self._chats: dict[str, str] = {}
        """The ids of the chats started here, to the store's ids for them (once handed over)."""

    def hand_over(self, store: Store) -> None:
        """Tell `store` everything told here, in order (a quick run of queue puts: see `history.Store`)."""
        for tell in self._told:
            tell(store)
        self._told.clear()

    def chat(self, chat_id: str) -> str:
        """The store's id for chat `chat_id` (which may be one made here)."""
        return self._chats.get(chat_id, chat_id)

    def new_chat(self, **settings: Any) -> str:
        chat_id = _new_id()
        self._told.append(lambda store: self._chats.__setitem__(chat_id, store.new_chat(**settings)))
        return chat_id

    def update_chat(self, chat_id: str, **settings: Any) -> None:
        self._told.append(lambda store: store.update_chat(self.chat(chat_id), **settings))

    def add_message(self, chat_id: str, role: Role, text: str = "", *, message_id: str | None = None, **fields: Any) -> str:
        made = message_id or _new_id()
        self._told.append(lambda store: store.add_message(self.chat(chat_id), role, text, message_id=made, **fields))
        return made

    def start_reply(self, chat_id: str, **fields: Any) -> str:
        return self.add_message(chat_id, Role.ASSISTANT, status=ReplyStatus.STREAMING, **fields)

    def stream_text(self, message_id: str) -> list[str]:
        """A list to append the reply's text to: what it holds at the hand-over goes to the store's."""
        parts: list[str] = []
        self._told.append(lambda store: store.stream_text(message_id).extend(parts))
        return parts

    def finish_message(self, *args: Any, **kwargs: Any) -> None:
        self._told.append(lambda store: store.finish_message(*args, **kwargs))

    def add_tool_call(self, *args: Any) -> None:
        self._told.append(lambda store: store.add_tool_call(*args))

    def decide_tool_call(self, *args: Any, **kwargs: Any) -> None:
        self._told.append(lambda store: store.decide_tool_call(*args, **kwargs))

    def set_tool_result(self, *args: Any, **kwargs: Any) -> None:
        self._told.append(lambda store: store.set_tool_result(*args, **kwargs))

    def mark_voice(self, *args: Any, **kwargs: Any) -> None:
        self._told.append(lambda store: store.mark_voice(*args, **kwargs))


def _new_id() -> str:
    from .history import (
        new_id,  # (the store's module loads with the first message, not at start-up)
    )

    return new_id()


def call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], object]) -> None:
    """Run `callback` on `loop` (from another thread), unless the loop has closed."""
    try:
        loop.call_soon_threadsafe(callback)
    except RuntimeError:
        pass  # the loop has ended (the recorder's closing hands over what waits; the app shows nothing more)
