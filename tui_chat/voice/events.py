"""What a voice session reports, for a UI or the headless runner. Plain values, no numpy.

Every event has `at`: the audio time (seconds of input since the session started) when it happened.
The model's own chunks (transcripts, text, tool calls, errors, `Interrupted`, `Done`) come wrapped
in `ProviderChunk`; reply audio itself goes to the speaker, not to the events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from ..chunks import Chunk, chunk_to_dict


@dataclass(frozen=True, slots=True)
class LevelReading:
    """The input level of one frame, for a meter."""

    at: float
    rms_db: float
    peak_db: float
    hold_db: float
    clipped: bool
    speaking: bool
    """The VAD thinks someone is speaking (starting, speaking or stopping)."""


@dataclass(frozen=True, slots=True)
class TurnStarted:
    at: float
    """When the user's speech began."""
    detected_at: float


@dataclass(frozen=True, slots=True)
class TurnEnded:
    at: float
    """When the user's speech stopped."""
    start: float
    detected_at: float
    """When the end was decided (`at` + the VAD's stop time, for `silence`)."""
    reason: str
    """`silence`, `max_length` or `input_end`."""
    sent: bool
    """The end of the turn was sent to the model (auto-complete, or input end)."""

    @property
    def duration(self) -> float:
        return self.at - self.start


@dataclass(frozen=True, slots=True)
class BargeIn:
    """The reply was cut: playback was flushed (`immediate`) or will be (`deferred`).

    `cause` says who cut it: `speech` (the local detector heard the user speak over it), `server`
    (the provider's own voice detection did) or `stop` (the front end asked: `VoiceSession.interrupt`).
    """

    at: float
    strategy: str
    reply: int | None
    """The reply that was cut: the one playing, else the one in progress (None: neither)."""
    flushed_s: float
    """Seconds of queued reply audio dropped."""
    played_s: float
    """Seconds of the cut reply that had been heard."""
    cause: str = "speech"


@dataclass(frozen=True, slots=True)
class ReplyStarted:
    at: float
    reply: int
    """The number of the reply in this session, from 1."""


@dataclass(frozen=True, slots=True)
class ReplyEnded:
    """A reply is over, as it was heard: `complete` once all of it has come and its audio has been
    heard out; `interrupted` when it was cut, while it came or while its audio still played (then
    this comes after the `BargeIn`, or the provider's `Interrupted`); `error` when the session
    failed during it. A front end that stops the session early ends the rest (`VoiceSession.unended`)."""

    at: float
    reply: int
    status: str
    """`complete`, `interrupted` or `error` (`cancelled` too, from `VoiceSession.unended`)."""
    audio_s: float
    """Seconds of reply audio received."""
    played_s: float
    """Seconds of it heard."""
    text: str
    """The words of it that were heard: all of them when `complete`; otherwise those that came with
    the audio heard (`played_s`), to a word (`realtime.heard.SpokenWords`: chunk-granular). This is
    what the chat shows and the conversation's history keeps."""
    full_text: str = ""
    """Every word of it that came, heard or not (the provider's whole transcript, once it came)."""


@dataclass(frozen=True, slots=True)
class ProviderChunk:
    """A chunk from the model (not audio): transcript, text, tool call, error, Interrupted, Done."""

    at: float
    chunk: Chunk


@dataclass(frozen=True, slots=True)
class InputWarning:
    """Something is off with the input (silent microphone, clipping, a file problem); the session goes on."""

    at: float
    message: str


@dataclass(frozen=True, slots=True)
class SessionError:
    """The session failed and ends: device lost, connection dropped, bad input."""

    at: float
    message: str
    hint: str = ""


@dataclass(frozen=True, slots=True)
class SessionEnded:
    at: float
    turns: int
    replies: int
    error: str | None


VoiceEvent: TypeAlias = (
    LevelReading
    | TurnStarted
    | TurnEnded
    | BargeIn
    | ReplyStarted
    | ReplyEnded
    | ProviderChunk
    | InputWarning
    | SessionError
    | SessionEnded
)

EVENT_NAMES: dict[type, str] = {
    LevelReading: "level",
    TurnStarted: "turn_started",
    TurnEnded: "turn_ended",
    BargeIn: "barge_in",
    ReplyStarted: "reply_started",
    ReplyEnded: "reply_ended",
    InputWarning: "warning",
    SessionError: "error",
    SessionEnded: "session_ended",
}
"""Each event's name: its `type` in JSON, and its handler's `on_<name>` (`voice.dispatch`)."""


def _r(value: Any) -> Any:
    return round(value, 3) if isinstance(value, float) else value


def event_to_dict(event: VoiceEvent) -> dict[str, Any]:
    """A JSON-ready dict with a `type` field; times rounded to the millisecond."""
    if isinstance(event, ProviderChunk):
        out = chunk_to_dict(event.chunk)
        out["at"] = _r(event.at)
        if out["type"] == "error":
            out["fatal"] = False
        return out
    out = {"type": EVENT_NAMES[type(event)]}
    for name in event.__slots__:
        out[name] = _r(getattr(event, name))
    if isinstance(event, TurnEnded):
        out["duration"] = _r(event.duration)
    if isinstance(event, SessionError):
        out["fatal"] = True
    return out
