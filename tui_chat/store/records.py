"""What the store gives back: plain immutable values, one per saved thing (no SQLite rows leak out)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from ..chunks import OpaqueBlock, ReplyStatus, Role, Usage


class ToolDecision(str, enum.Enum):
    """What the person decided about a tool call, as it is kept (the approval flow's own
    `tools.approval.DecisionKind` maps onto it: approve and approve-always are APPROVED)."""

    APPROVED = "approved"
    EDITED = "edited"
    """Approved with arguments the person changed (`ToolCallRecord.edited_arguments`)."""
    DENIED = "denied"
    """Refused (`ToolCallRecord.reason` says why, when a reason was given)."""


@dataclass(frozen=True, slots=True)
class ChatInfo:
    """A chat as the chat list shows it."""

    id: str
    title: str
    created_at: str
    updated_at: str
    provider: str | None = None
    model: str | None = None
    pack: str | None = None
    prompt: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    message_count: int = 0


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """A tool call the model made, what the person decided, and what the tool returned."""

    call_id: str
    name: str
    arguments: str
    decision: ToolDecision | None = None
    edited_arguments: str | None = None
    reason: str | None = None
    result: str | None = None
    result_is_error: bool = False


@dataclass(frozen=True, slots=True)
class VoiceTurn:
    """The spoken side of a message: where in the audio it was, and whether it was a barge-in."""

    started_ms: int | None = None
    ended_ms: int | None = None
    barge_in: bool = False


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """A file on a message: its content is the blob stored once under `sha256`."""

    sha256: str
    name: str
    mime: str
    size: int


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One saved message. `parent_id` is the message it follows (its siblings are other versions)."""

    id: str
    chat_id: str
    parent_id: str | None
    role: Role
    text: str
    status: ReplyStatus
    created_at: str
    error: str | None = None
    provider: str | None = None
    model: str | None = None
    pack: str | None = None
    prompt: str | None = None
    """On a user message: the prompt in force when it was sent (None before schema 5 kept it)."""
    variables: Mapping[str, str] | None = None
    """On a user message: the pack variables in force when it was sent."""
    usage: Usage | None = None
    cost_usd: float | None = None
    tool_call_id: str | None = None
    opaque: tuple[OpaqueBlock, ...] = ()
    tool_calls: tuple[ToolCallRecord, ...] = ()
    voice: VoiceTurn | None = None
    attachments: tuple[AttachmentRef, ...] = ()
    chunks: tuple[tuple[int, int], ...] = ()
    """How the text streamed: (milliseconds since the reply started, characters) per chunk."""


@dataclass(frozen=True, slots=True)
class ChatRecord:
    """A whole chat: its settings and its messages in the order they were written."""

    info: ChatInfo
    messages: tuple[MessageRecord, ...]


class SearchHit(NamedTuple):
    """A message that matched a search, with the lines of it that matched.

    A named tuple rather than a frozen dataclass like the others: a search makes 50 of them, and
    a tuple is built in a third of the time (an immutable value all the same)."""

    chat_id: str
    chat_title: str
    message_id: str
    role: Role
    created_at: str
    lines: tuple[str, ...]
