"""The small immutable values that every model stream is made of.

A provider turns its wire format into an async iterator of `Chunk`s; the conversation engine
transforms them; the UI and the `ask` command only consume them. Nothing here knows about
HTTP, audio devices or Textual.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, Mapping, TypeAlias


class Role(str, enum.Enum):
    """Who said a message."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"


class FinishReason(str, enum.Enum):
    """Why a model stopped, normalised across providers."""

    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"
    ERROR = "error"
    CANCELLED = "cancelled"


class ReplyStatus(str, enum.Enum):
    """What became of a reply. A reply that is not complete still keeps its partial text."""

    STREAMING = "streaming"
    COMPLETE = "complete"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A request by the model to run a tool.

    `arguments` holds the exact JSON text the model sent: approval is tied to these bytes.
    """

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts for one model call, as the provider reported them."""

    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input_tokens + other.input_tokens,
            self.output_tokens + other.output_tokens,
        )


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool offered to the model: name, description and JSON-Schema parameters."""

    name: str
    description: str = ""
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass(frozen=True, slots=True)
class Message:
    """One entry of a conversation's history."""

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    is_error: bool = False
    status: ReplyStatus = ReplyStatus.COMPLETE


# --- chunks ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the model's reply text."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallChunk:
    """A whole tool call, assembled from whatever deltas the wire format sent."""

    call: ToolCall


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """Signed 16-bit little-endian mono PCM at `rate` Hz."""

    pcm: bytes
    rate: int


@dataclass(frozen=True, slots=True)
class TranscriptChunk:
    """Text of what was said aloud, by the user or the assistant."""

    text: str
    role: Role
    final: bool = False


@dataclass(frozen=True, slots=True)
class UsageChunk:
    """Token usage reported by the provider."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class RetryNotice:
    """The provider is waiting `delay` seconds before trying the request again.

    Nothing has reached the user yet. `attempt` is the number of the attempt that will follow the
    wait (2 for the first retry), out of `attempts` in all.
    """

    delay: float
    attempt: int
    attempts: int
    reason: str


@dataclass(frozen=True, slots=True)
class Done:
    """The model finished normally; always the last chunk of a successful stream."""

    finish_reason: FinishReason = FinishReason.STOP


@dataclass(frozen=True, slots=True)
class ErrorChunk:
    """The stream failed. `hint` tells the person what to do about it."""

    message: str
    hint: str = ""
    retryable: bool = False


@dataclass(frozen=True, slots=True)
class Interrupted:
    """The stream was cut off (connection dropped, user barge-in) before it finished."""

    reason: str


Chunk: TypeAlias = (
    TextDelta
    | ToolCallChunk
    | AudioChunk
    | TranscriptChunk
    | UsageChunk
    | RetryNotice
    | Done
    | ErrorChunk
    | Interrupted
)


_CHUNK_TYPES: dict[type, str] = {
    TextDelta: "text",
    ToolCallChunk: "tool_call",
    AudioChunk: "audio",
    TranscriptChunk: "transcript",
    UsageChunk: "usage",
    RetryNotice: "retry",
    Done: "done",
    ErrorChunk: "error",
    Interrupted: "interrupted",
}


def chunk_to_dict(chunk: Chunk) -> dict[str, Any]:
    """A JSON-ready dict of `chunk` with a `type` field, for `--json` output.

    Audio is given as its byte count and rate, not its samples.
    """
    out: dict[str, Any] = {"type": _CHUNK_TYPES[type(chunk)]}
    if isinstance(chunk, ToolCallChunk):
        out.update(id=chunk.call.id, name=chunk.call.name, arguments=chunk.call.arguments)
    elif isinstance(chunk, AudioChunk):
        out.update(bytes=len(chunk.pcm), rate=chunk.rate)
    elif isinstance(chunk, UsageChunk):
        out.update(input_tokens=chunk.usage.input_tokens, output_tokens=chunk.usage.output_tokens)
    elif isinstance(chunk, TranscriptChunk):
        out.update(text=chunk.text, role=chunk.role.value, final=chunk.final)
    else:
        for name in chunk.__slots__:  # type: ignore[union-attr]
            value = getattr(chunk, name)
            out[name] = value.value if isinstance(value, enum.Enum) else value
    return out
