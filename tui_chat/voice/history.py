"""A voice session's exchanges as chat messages, in the order they happened, each reply as it ended.

`VoiceHistory(record)` is handed the session's events (it is a `VoiceEventHandler`: `dispatch`
each event to it) and what the user typed, and hands `record` the messages in conversation order,
each once and final, with where each spoken one sat in the audio (`store.records.VoiceTurn`: its
start and end in milliseconds of the session's audio time, and for the user's words whether they
cut a reply; None for typed text). Front ends pass a `record` that appends to the chat's
`Conversation` and saves to the history (`store.recorder.Recorder.spoken`), so the chat, the
model's next context and the saved chat hold the same messages: a cut reply with the words that
were heard of it (`ReplyEnded.text`).

A reply keeps its place from when it started but goes in only when it has ended: its status
(`complete`, `interrupted`...) is decided by the session from what was heard of it, which may be
well after its words all came, and after other things were said. What follows a reply still
playing waits for it, so the history never has to be revised.

Given a `ReplyStream` as well (the saved chat's: `store.recorder.Recorder.spoken_replies`), a
reply's words go to it as they come, from the moment the reply is next in line (everything
before it handed to `record`): so a process killed mid-reply keeps what had come of it. When the
reply ends, `record` gets it as ever, with the words heard, and the stream's owner finishes the
streamed message with them. The tool calls a reply makes (`tool_event`) go to the stream too, with
their decisions and results, once the reply is streaming (held until then).

The user's words may come after the reply to them has begun (transcription runs beside the
reply): a reply with nothing of the user's before it keeps a place for them. If no transcript
comes before the next reply, typed text or the end of voice, a stand-in fills that place, so the
history still alternates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ..chunks import Message, ReplyStatus, Role, TextDelta, TranscriptChunk
from ..store.records import VoiceTurn
from ..tools.loop import ToolEvent
from .dispatch import VoiceEventHandler
from .events import BargeIn, ReplyEnded, ReplyStarted, TurnEnded, TurnStarted

UNTRANSCRIBED = "(said aloud; no transcript)"
"""The user message recorded for a voice turn the provider gave no transcript of."""


@dataclass(slots=True)
class _Place:
    """A message's place in the history; `message` is None until it is known."""

    message: Message | None = None
    reply: int | None = None
    """For a reply's place: the reply's number (None: the user's place)."""
    spoken: VoiceTurn | None = None
    """Where it sat in the audio (None: typed)."""
    came: list[str | ToolEvent] = field(default_factory=list)
    """For a reply's place: its words and its tool calls' events so far, in the order they came."""
    streaming: bool = False
    """For a reply's place: what comes of it goes to the `ReplyStream` at once."""


class ReplyStream(Protocol):
    """Where the words of the reply next in line go while it streams (see the module text)."""

    def began(self) -> None:
        """A reply begins streaming; the `record` of the next reply finishes it."""

    def words(self, text: str) -> None:
        """More words of the reply that began."""

    def tool_event(self, event: ToolEvent) -> None:
        """A tool call of the reply that began changed status."""


def _ms(seconds: float | None) -> int | None:
    return None if seconds is None else round(seconds * 1000)


class VoiceHistory(VoiceEventHandler):
    """Puts one voice session's exchanges into the conversation (see the module text)."""

    def __init__(self, record: Callable[[Message, VoiceTurn | None], None], stream: ReplyStream | None = None) -> None:
        self._record = record
        self._stream = stream
        self._current: int | None = None  # the reply whose words are coming
        self._places: list[_Place] = []
        self._user_since_reply = False  # the user said or typed something since the last reply began
        self._speech: tuple[float, float | None] | None = None  # (start, end) of the speech not yet transcribed
        self._barged_in = False  # that speech cut a reply
        self._replies: dict[int, float] = {}  # reply -> when it began

    # --- the session's events (`dispatch` them here) -----------------------------------------------

    def on_turn_started(self, event: TurnStarted) -> None:
        if self._speech is None:  # (speech since the last transcript is one message: it spans it all)
            self._speech = (event.at, None)

    def on_turn_ended(self, event: TurnEnded) -> None:
        start = self._speech[0] if self._speech is not None else event.start
        self._speech = (start, event.at)

    def on_barge_in(self, event: BargeIn) -> None:
        if event.cause in ("speech", "server"):  # the person spoke over the reply (Esc is not speech)
            self._barged_in = True

    def on_reply_started(self, event: ReplyStarted) -> None:
        self.reply_started(event.reply, at=event.at)

    def on_reply_ended(self, event: ReplyEnded) -> None:
        self.reply_ended(event.reply, event.text, event.status, at=event.at)

    def on_reply_words(self, at: float, chunk: TranscriptChunk | TextDelta) -> None:
        if not getattr(chunk, "final", False):  # (a final transcript is the whole again)
            self.reply_words(chunk.text)

    def on_user_words(self, at: float, chunk: TranscriptChunk) -> None:
        if chunk.final and chunk.text.strip():  # (an empty one: the transcription failed)
            self.heard(chunk.text)

    # --- what happened, told directly ----------------------------------------------------------------

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
        waiting.message = Message(Role.USER, text, spoken=True)
        waiting.spoken = self._speech_heard()
        self._flush()

    def _speech_heard(self) -> VoiceTurn:
        """The speech since the last transcript, now transcribed (or given up on): where it was."""
        start, end = self._speech or (None, None)
        spoken = VoiceTurn(_ms(start), _ms(end), self._barged_in)
        self._speech, self._barged_in = None, False
        return spoken

    def reply_started(self, reply: int, *, at: float | None = None) -> None:
        self._stand_in()  # the transcripts of earlier turns are not coming now
        if not self._user_since_reply:
            self._places.append(_Place())  # the transcript of this reply's turn may come after it began
        self._places.append(_Place(reply=reply))
        self._user_since_reply = False
        self._current = reply
        if at is not None:
            self._replies[reply] = at

    def reply_words(self, text: str) -> None:
        """Words of the reply in progress (the latest to start), as they come."""
        if text:
            self._to_reply(text)

    def tool_event(self, event: ToolEvent) -> None:
        """A tool call of the reply in progress changed status (asked, approved, denied, run)."""
        self._to_reply(event)

    def _to_reply(self, item: str | ToolEvent) -> None:
        """Words or a tool event of the reply in progress: kept with it, and streamed when it is next in line."""
        place = next((p for p in reversed(self._places) if p.reply == self._current and p.message is None), None)
        if place is None:
            return
        place.came.append(item)
        if place.streaming:
            self._tell(item)
        else:
            self._stream_front()

    def _tell(self, item: str | ToolEvent) -> None:
        assert self._stream is not None
        if isinstance(item, str):
            self._stream.words(item)
        else:
            self._stream.tool_event(item)

    def reply_ended(self, reply: int, text: str, status: str, *, at: float | None = None) -> None:
        """Reply `reply` ended with `status`; one that is not complete keeps the text heard of it, marked."""
        try:
            ended = ReplyStatus(status)
        except ValueError:
            ended = ReplyStatus.ERROR
        index = next((i for i, place in enumerate(self._places) if place.reply == reply), None)
        began = self._replies.pop(reply, None)
        if index is None:  # (it began before this history did)
            return
        if not text and ended is ReplyStatus.COMPLETE and not self._places[index].streaming:
            # nothing said: nothing to remember (as the text chat does; a reply whose words were saved stays)
            del self._places[index]
            if index and self._places[index - 1].message is None and self._places[index - 1].reply is None:
                del self._places[index - 1]  # nor a place for the words it answered: they go in as they come
                self._user_since_reply = False
        else:
            self._places[index].message = Message(Role.ASSISTANT, text, status=ended, spoken=True)
            self._places[index].spoken = VoiceTurn(_ms(began), _ms(at))
        self._flush()

    def close(self, status: str) -> None:
        """Voice stopped: what still waits goes in (a reply the session never ended, with the words
        that came of it and `status`; a transcript not come, as a stand-in), so nothing recorded
        after it is held back and no word that came is lost."""
        for place in self._places:
            if place.reply is not None and place.message is None:
                words = "".join(item for item in place.came if isinstance(item, str))
                place.message = Message(Role.ASSISTANT, words, status=ReplyStatus(status), spoken=True)
        self._stand_in()

    def _stand_in(self) -> None:
        """The transcripts still awaited are not coming: stand-ins take their places."""
        for place in self._places:
            if place.reply is None and place.message is None:
                place.message = Message(Role.USER, UNTRANSCRIBED, spoken=True)
                place.spoken = self._speech_heard()  # (said aloud all the same)
        self._flush()

    def _flush(self) -> None:
        """Record the known messages at the front, up to the first place still waiting."""
        while self._places:
            self._stream_front()
            place = self._places[0]
            if place.message is None:
                return
            self._places.pop(0)
            self._record(place.message, place.spoken)

    def _stream_front(self) -> None:
        """The reply next in line, once words or tool calls of it have come, streams them to the `ReplyStream`."""
        front = self._places[0] if self._places else None
        if self._stream is None or front is None or front.streaming or front.reply is None or not front.came:
            return
        front.streaming = True
        self._stream.began()
        for item in front.came:
            self._tell(item)
