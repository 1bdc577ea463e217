"""The small immutable values that every model stream is made of.

A provider turns its wire format into an async iterator of `Chunk`s; the conversation engine
transforms them; the UI and the `ask` command only consume them. Nothing here knows about
HTTP, audio devices or Textual.
"""

from __future__ import annotations

import enum
from dataclasses import FrozenInstanceError, dataclass, field
from typing import Any, Callable, Mapping, TypeAlias


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
class OpaqueBlock:
    """Part of an assistant turn that only the provider that produced it understands, kept to be sent back.

    Anthropic's signed thinking blocks are the case in point: when a turn used tools, the next
    request must carry them, unchanged, before the tool calls. `provider` names the wire format
    that produced the block ("anthropic"); every other provider leaves it out of its requests.
    `kind` says what it is ("thinking", "redacted_thinking"); `data` is the block itself as JSON
    text, exactly as it is to be sent back (text rather than a dict, so that it stays immutable).
    """

    provider: str
    kind: str
    data: str


@dataclass(frozen=True, slots=True)
class Message:
    """One entry of a conversation's history.

    `opaque` holds an assistant turn's provider-specific blocks (see `OpaqueBlock`), in the order
    they came.
    """

    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None
    is_error: bool = False
    status: ReplyStatus = ReplyStatus.COMPLETE
    opaque: tuple[OpaqueBlock, ...] = ()
    spoken: bool = False
    """Said aloud in a voice session (its content is the transcript, or the words of a reply heard)."""


# --- chunks ---------------------------------------------------------------------------------


class _FrozenSlots:
    """Base of a chunk class that is made once per streamed event, where construction time counts.

    It behaves as a frozen slots dataclass does (assignment and deletion raise
    `FrozenInstanceError`; equality, hash and repr come from the fields in `__slots__` order;
    pickling and copying work) but leaves `__init__` to the subclass, which stores its fields with
    the slots' own setters (`_slot_setter`). A frozen dataclass's `__init__` goes through
    `object.__setattr__(self, name, value)` for each field, which looks the field up by name every
    time; a slot's setter goes straight to it, which makes a `TextDelta` about a quarter cheaper to
    build. Subclasses set `__slots__` and `__match_args__`.
    """

    __slots__ = ()

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setattr__(self, name: str, value: Any) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is self.__class__:
            return self._fields() == other._fields()  # type: ignore[attr-defined]
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__qualname__}({values})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._fields())


def _slot_setter(cls: type, name: str) -> Callable[[Any, Any], None]:
    """The setter of slot `name` of `cls`: `setter(instance, value)` stores the value, past `__setattr__`."""
    setter: Callable[[Any, Any], None] = cls.__dict__[name].__set__
    return setter


class TextDelta(_FrozenSlots):
    """A piece of the model's reply text."""

    __slots__ = ("text",)
    __match_args__ = ("text",)
    text: str

    def __init__(self, text: str) -> None:
        _set_text(self, text)


_set_text = _slot_setter(TextDelta, "text")


@dataclass(frozen=True, slots=True)
class ToolCallChunk:
    """A whole tool call, assembled from whatever deltas the wire format sent."""

    call: ToolCall


@dataclass(frozen=True, slots=True)
class OpaqueChunk:
    """A provider-specific block of the reply, to be kept with it in the history, not shown."""

    block: OpaqueBlock


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
class Notice:
    """Something the person should know about the request before the reply: said once, not part of it.

    The request was changed to fit the model (parameters it does not take were dropped, and why),
    or a parameter the service refused by name was dropped and the request sent again.
    """

    message: str


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
    | OpaqueChunk
    | AudioChunk
    | TranscriptChunk
    | UsageChunk
    | RetryNotice
    | Notice
    | Done
    | ErrorChunk
    | Interrupted
)


_CHUNK_TYPES: dict[type, str] = {
    TextDelta: "text",
    ToolCallChunk: "tool_call",
    OpaqueChunk: "opaque",
    AudioChunk: "audio",
    TranscriptChunk: "transcript",
    UsageChunk: "usage",
    RetryNotice: "retry",
    Notice: "notice",
    Done: "done",
    ErrorChunk: "error",
    Interrupted: "interrupted",
}


def chunk_to_dict(chunk: Chunk) -> dict[str, Any]:
    """A JSON-ready dict of `chunk` with a `type` field, for `--json` output.

    Audio is given as its byte count and rate, not its samples; an opaque block as its provider,
    kind and size, not its data.
    """
    out: dict[str, Any] = {"type": _CHUNK_TYPES[type(chunk)]}
    if isinstance(chunk, ToolCallChunk):
        out.update(id=chunk.call.id, name=chunk.call.name, arguments=chunk.call.arguments)
    elif isinstance(chunk, AudioChunk):
        out.update(bytes=len(chunk.pcm), rate=chunk.rate)
    elif isinstance(chunk, OpaqueChunk):
        out.update(provider=chunk.block.provider, kind=chunk.block.kind, bytes=len(chunk.block.data.encode("utf-8")))
    elif isinstance(chunk, UsageChunk):
        out.update(input_tokens=chunk.usage.input_tokens, output_tokens=chunk.usage.output_tokens)
    elif isinstance(chunk, TranscriptChunk):
        out.update(text=chunk.text, role=chunk.role.value, final=chunk.final)
    else:
        for name in chunk.__slots__:  # type: ignore[union-attr]
            value = getattr(chunk, name)
            out[name] = value.value if isinstance(value, enum.Enum) else value
    return out
