"""A provider that plays a script: one step per model call, for tests of what consumes a stream.

It speaks no wire protocol (the loopback fakes beside it do that for the real providers); it
stands where a provider stands, so the conversation, the tool loop and the UI can be tested on
exact chunk sequences, failures included. A test whose script is really a chat a model had plays
a recorded one instead (`tests.fixtures.replayed`, the replay provider).
"""

from __future__ import annotations

import asyncio
from typing import AsyncIterator, Callable, Sequence

from tui_chat.chunks import Chunk
from tui_chat.providers.base import ChatRequest, ModelInfo

Item = Chunk | BaseException
"""A chunk to yield, or an exception to raise at that point of the stream."""
Step = Sequence[Item] | Callable[[ChatRequest], Sequence[Item]]
"""What one model call plays: the items, or a function of the request that gives them."""


class ScriptedProvider:
    """Plays one step per model call (the last step repeats; no step: an empty stream), recording every request.

    `gate`, when given, is waited on before the second item of each step, so a test can act while
    a reply is part way. `closed_streams` counts the streams that ended, however they ended.
    """

    name = "scripted"
    model = "script-1"

    def __init__(self, *steps: Step, gate: asyncio.Event | None = None) -> None:
        self.steps = steps or ((),)
        self.gate = gate
        self.requests: list[ChatRequest] = []
        self.closed_streams = 0

    def info(self) -> ModelInfo:
        return ModelInfo(self.name, self.model)

    async def list_models(self) -> list[ModelInfo]:
        return [self.info()]

    async def aclose(self) -> None:
        return None

    async def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        self.requests.append(request)
        step = self.steps[min(len(self.requests), len(self.steps)) - 1]
        try:
            for index, item in enumerate(step(request) if callable(step) else step):
                await asyncio.sleep(0)
                if self.gate is not None and index == 1:
                    await self.gate.wait()
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.closed_streams += 1
