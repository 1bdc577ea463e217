"""The replay provider: plays a saved chat's assistant replies back, one per model call.

`tui-chat --provider replay --from CHAT.json` (a `history export --format json` file) or
`--from ID` (a chat in the history, any unique prefix of its id). Each model call gets the next
recorded reply of the chat's current branch: its text in the chunks it streamed in, its tool
calls as the model made them (they still go through approval: the tool loop cannot tell them
from a live model's), its usage, and its ending (complete, error; a cut-off or cancelled reply
ends interrupted). A recorded chat so becomes a reproducible bug report and a test fixture.

Options:
- `recording`: the replies to play, as `RecordedReply` values (required). The session loads them
  from `--from` (`store.recording`): the provider sits below the store and never opens it;
- `speed`: 0 or unset plays as fast as the consumer takes it; N > 0 keeps the recorded timing,
  N times faster (1 = as it was recorded): each chunk comes when its recorded time, divided by N,
  has passed since the reply started, so time the consumer takes counts toward the next gap;
- `clock` and `sleep`: the time seam (default `time.monotonic` and `asyncio.sleep`), so a test
  can play a recording on virtual time.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from ..chunks import (
    Chunk,
    Done,
    ErrorChunk,
    FinishReason,
    Interrupted,
    ReplyStatus,
    TextDelta,
    ToolCall,
    ToolCallChunk,
    Usage,
    UsageChunk,
)
from ..errors import ConfigError
from .base import Capabilities, ChatRequest, ModelInfo
from .registry import ProviderSettings


@dataclass(frozen=True, slots=True)
class RecordedReply:
    """One assistant reply as it was recorded: how it streamed, what it called, how it ended."""

    text: str
    chunks: tuple[tuple[int, int], ...] = ()
    """(milliseconds since the reply started, characters) per chunk; empty: the text in one piece."""
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage | None = None
    status: ReplyStatus = ReplyStatus.COMPLETE
    error: str | None = None


class ReplayProvider:
    """Plays the recorded replies of one chat in order; see the module docstring."""

    name = "replay"

    def __init__(self, settings: ProviderSettings) -> None:
        recording = settings.options.get("recording")
        if recording is None:
            raise ConfigError(
                "the replay provider needs a recorded chat", hint="--from CHAT.json, or --from ID of a saved chat"
            )
        self.replies: list[RecordedReply] = list(recording)
        self.model = settings.model or str(settings.options.get("recorded_model") or "recorded")
        speed = settings.options.get("speed") or 0
        self.speed = float(speed) if isinstance(speed, (int, float)) and speed > 0 else 0.0
        self._clock: Callable[[], float] = settings.options.get("clock", time.monotonic)
        self._sleep: Callable[[float], Awaitable[None]] = settings.options.get("sleep", asyncio.sleep)
        self.played = 0

    def info(self) -> ModelInfo:
        return ModelInfo(self.name, self.model, Capabilities(tools=True))

    async def list_models(self) -> list[ModelInfo]:
        return [self.info()]

    async def aclose(self) -> None:
        return None

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        if self.played >= len(self.replies):
            yield ErrorChunk(f"the recording has no more replies (it holds {len(self.replies)})")
            return
        reply = self.replies[self.played]
        self.played += 1
        started = self._clock()
        offset = 0
        for at_ms, size in reply.chunks or ((0, len(reply.text)),):
            if self.speed:
                await self._sleep(max(0.0, started + at_ms / 1000 / self.speed - self._clock()))
            else:
                await self._sleep(0)  # one chunk per turn of the loop, as a network stream comes
            if text := reply.text[offset : offset + size]:
                yield TextDelta(text)
            offset += size
        if rest := reply.text[offset:]:
            yield TextDelta(rest)
        for call in reply.tool_calls:
            yield ToolCallChunk(call)
        if reply.usage is not None:
            yield UsageChunk(reply.usage)
        if reply.status is ReplyStatus.COMPLETE:
            yield Done(FinishReason.TOOL_CALLS if reply.tool_calls else FinishReason.STOP)
        elif reply.status is ReplyStatus.ERROR:
            yield ErrorChunk(reply.error or "error")
        else:
            yield Interrupted(reply.error or reply.status.value)

