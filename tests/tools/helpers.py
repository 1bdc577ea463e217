"""Test doubles for the tool loop: a provider that plays a script per model call, and approvers."""

from __future__ import annotations

import asyncio
import json
from typing import Callable

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
from tui_chat.tools import ApprovalRequest, Decision


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
