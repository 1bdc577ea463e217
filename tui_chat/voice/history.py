"""A voice session's exchanges as chat messages, in the order they happened, each reply as it ended.

`VoiceHistory(record)` is told what the user said or typed and when replies start and end, and
hands `record` (the chat's `Conversation.append`) the messages in conversation order, each once
and final. A reply keeps its place from when it started but goes in only when it has ended: its
status (`complete`, `interrupted`...) is decided by the session from what was heard of it, which
may be well after its words all came, and after other things were said. What follows a reply
still playing waits for it, so the history never has to be revised.

The user's words may come after the reply to them has begun (transcription runs beside the
reply): a reply with nothing of the user's before it keeps a place for them. If no transcript
comes before the next reply, typed text or the end of voice, a stand-in fills that place, so the
history still alternates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..chunks import Message, ReplyStatus, Role

UNTRANSCRIBED = "(said aloud; no transcript)"
"""The user message recorded for a voice turn the provider gave no transcript of."""


@dataclass(slots=True)
class _Place:
    """A message's place in the history; `message` is None until it is known."""

    message: Message | None = None
    reply: int | None = None
    """For a reply's place: the reply's number (None: the user's place)."""


class VoiceHistory:
    """Puts one voice session's exchanges into the conversation (see the module text)."""

    def __init__(self, record: Callable[[Message], None]) -> None:
        self._record = record
        self._places: list[_Place] = []
        self._user_since_reply = False  # the user said or typed something since the last reply began

    def typed(self, text: str) -> None:
        """The user typed `text` to the session."""
        self._stand_in()
        self._places.append(_Place(Message(Role.USER, text)))
        self._user_since_reply = True
        self._flush()

    def heard(self, text: str) -> None:
        """The final transcript of what the user said: in the place kept for it, else next."""
        waiting = next((place for place in self._places if place.reply is None and place.message is None), None)
        if waiting is None:
            self._places.append(waiting := _Place())
            self._user_since_reply = True
        waiting.message = Message(Role.USER, text)
        self._flush()

    def reply_started(self, reply: int) -> None:
        self._stand_in()  # the transcripts of earlier turns are not coming now
        if not self._user_since_reply:
            self._places.append(_Place())  # the transcript of this reply's turn may come after it began
        self._places.append(_Place(reply=reply))
        self._user_since_reply = False

    def reply_ended(self, reply: int, text: str, status: str) -> None:
        """Reply `reply` ended with `status`; one that is not complete keeps its partial text, marked."""
        try:
            ended = ReplyStatus(status)
        except ValueError:
            ended = ReplyStatus.ERROR
        index = next((i for i, place in enumerate(self._places) if place.reply == reply), None)
        if index is None:  # (it began before this history did)
            return
        if not text and ended is ReplyStatus.COMPLETE:  # nothing said: nothing to remember (as the text chat does)
            del self._places[index]
            if index and self._places[index - 1].message is None and self._places[index - 1].reply is None:
                del self._places[index - 1]  # nor a place for the words it answered: they go in as they come
                self._user_since_reply = False
        else:
            self._places[index].message = Message(Role.ASSISTANT, text, status=ended)
        self._flush()

    def close(self, status: str) -> None:
        """Voice stopped: what still waits goes in (a reply not ended, empty, with `status`; a
        transcript not come, as a stand-in), so nothing recorded after it is held back."""
        for place in self._places:
            if place.reply is not None and place.message is None:
                place.message = Message(Role.ASSISTANT, "", status=ReplyStatus(status))
        self._stand_in()

    def _stand_in(self) -> None:
        """The transcripts still awaited are not coming: stand-ins take their places."""
        for place in self._places:
            if place.reply is None and place.message is None:
                place.message = Message(Role.USER, UNTRANSCRIBED)
        self._flush()

    def _flush(self) -> None:
        """Record the known messages at the front, up to the first place still waiting."""
        while self._places and self._places[0].message is not None:
            message = self._places.pop(0).message
            assert message is not None
            self._record(message)
