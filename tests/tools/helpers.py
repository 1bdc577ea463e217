"""Test doubles for the tool loop: a provider that plays a script per model call, and approvers."""

from __future__ import annotations

import asyncio
import json
from typing import AsyncIterator, Callable, Sequence

from tui_chat.chunks import (
    Chunk,
    Done,
    FinishReason,
    Message,
    Role,
    TextDelta,
    ToolCall,
    ToolCallChunk,
)
from tui_chat.conversation import Conversation
from tui_chat.providers.base import ChatRequest, ModelInfo
from tui_chat.tools import ApprovalRequest, Decision

Step = Sequence[Chunk] | Callable[[ChatRequest], Sequence[Chunk]]


def calls(*items: tuple[str, str] | tuple[str, str, str], text: str = "") -> list[Chunk]:
    """A model reply that makes the given tool calls: (name, arguments) or (id, name, arguments)."""
    chunks: list[Chunk] = [TextDelta(text)] if text else []
    for number, item in enumerate(items, start=1):
        call_id, name, arguments = item if len(item) == 3 else (f"call-{number}", *item)
        chunks.append(ToolCallChunk(ToolCall(call_id, name, arguments)))
    chunks.append(Done(FinishReason.TOOL_CALLS))
    return chunks


def answer(text: str = "done") -> list[Chunk]:
    return [TextDelta(text), Done(FinishReason.STOP)]


class ScriptedProvider:
    """Plays one step per model call (the last step repeats), recording every request."""

    name = "scripted"
    model = "script-1"

    def __init__(self, *steps: Step) -> None:
        self.steps = steps
        self.requests: list[ChatRequest] = []

    def info(self) -> ModelInfo:
        return ModelInfo(self.name, self.model)

    async def list_models(self) -> list[ModelInfo]:
        return [self.info()]

    async def aclose(self) -> None:
        return None

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        for chunk in step(request) if callable(step) else step:
            await asyncio.sleep(0)
            yield chunk


class ScriptedApprover:
    """Answers each request with the next answer (a function of the request); records the requests.

    With no answers left it approves.
    """

    def __init__(self, *answers: Callable[[ApprovalRequest], Decision]) -> None:
        self.answers = list(answers)
        self.requests: list[ApprovalRequest] = []

    async def decide(self, request: ApprovalRequest) -> Decision:
        self.requests.append(request)
        if self.answers:
            return self.answers.pop(0)(request)
        return Decision.approve(request)


class GatedApprover:
    """Signals `asked` and then waits until `release` is set (or it is cancelled)."""

    def __init__(self) -> None:
        self.asked = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = False
        self.requests: list[ApprovalRequest] = []

    async def decide(self, request: ApprovalRequest) -> Decision:
        self.requests.append(request)
        self.asked.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        return Decision.approve(request)


def tool_messages(conversation: Conversation) -> list[Message]:
    return [m for m in conversation.history if m.role is Role.TOOL]


def args(**values: object) -> str:
    return json.dumps(values)
