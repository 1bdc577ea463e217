"""One way to act on voice events: a handler with a method per kind of event, and `dispatch`.

A front end (the chat screen's controller, the headless printer) subclasses `VoiceEventHandler`,
overrides the methods for the events it cares about (the others do nothing) and hands each event
of `VoiceSession.run()` to `dispatch(event, handler)`. The methods are named after the events'
JSON names (`events.EVENT_NAMES`): `on_level`, `on_turn_started`, ... The model's own chunks
(`ProviderChunk`) are split by what they say: the user's words, the reply's words, an error, the
reply being done, and anything else.
"""

from __future__ import annotations

from ..chunks import Chunk, Done, ErrorChunk, Role, TextDelta, TranscriptChunk
from .events import (
    EVENT_NAMES,
    BargeIn,
    InputWarning,
    LevelReading,
    ProviderChunk,
    ReplyEnded,
    ReplyStarted,
    SessionEnded,
    SessionError,
    TurnEnded,
    TurnStarted,
    VoiceEvent,
)

_METHODS: dict[type, str] = {kind: f"on_{name}" for kind, name in EVENT_NAMES.items()} | {ProviderChunk: "on_provider_chunk"}


def dispatch(event: VoiceEvent, handler: VoiceEventHandler) -> None:
    """Call `handler`'s method for `event`'s kind."""
    getattr(handler, _METHODS[type(event)])(event)


class VoiceEventHandler:
    """What to do with each kind of voice event; here, nothing (see the module text)."""

    def on_level(self, event: LevelReading) -> None:
        """The input level of one frame (only with `VoiceOptions.levels`)."""

    def on_turn_started(self, event: TurnStarted) -> None:
        """The user began speaking."""

    def on_turn_ended(self, event: TurnEnded) -> None:
        """The user stopped speaking."""

    def on_barge_in(self, event: BargeIn) -> None:
        """A reply was cut."""

    def on_reply_started(self, event: ReplyStarted) -> None:
        """The model began a reply."""

    def on_reply_ended(self, event: ReplyEnded) -> None:
        """A reply ended, heard out (`complete`) or not: its final status."""

    def on_warning(self, event: InputWarning) -> None:
        """Something is off with the input; the session goes on."""

    def on_error(self, event: SessionError) -> None:
        """The session failed and ends."""

    def on_session_ended(self, event: SessionEnded) -> None:
        """The last event of a session."""

    def on_provider_chunk(self, event: ProviderChunk) -> None:
        """A chunk from the model: handed on to the method for what it says."""
        chunk = event.chunk
        if isinstance(chunk, TranscriptChunk):
            if chunk.role is Role.USER:
                self.on_user_words(event.at, chunk)
            else:
                self.on_reply_words(event.at, chunk)
        elif isinstance(chunk, TextDelta):
            self.on_reply_words(event.at, chunk)
        elif isinstance(chunk, ErrorChunk):
            self.on_provider_error(event.at, chunk)
        elif isinstance(chunk, Done):
            self.on_reply_done(event.at)
        else:
            self.on_other_chunk(event.at, chunk)

    def on_user_words(self, at: float, chunk: TranscriptChunk) -> None:
        """What the user said, as the provider transcribed it (partial, or `final`)."""

    def on_reply_words(self, at: float, chunk: TranscriptChunk | TextDelta) -> None:
        """Words of the reply in progress: a piece of text or transcript, or a `final` transcript (the whole)."""

    def on_provider_error(self, at: float, chunk: ErrorChunk) -> None:
        """An error from the model that does not end the session."""

    def on_reply_done(self, at: float) -> None:
        """All the words of the reply in progress have come (its audio may still be playing)."""

    def on_other_chunk(self, at: float, chunk: Chunk) -> None:
        """Any other chunk: `Interrupted`, a tool call, usage."""
