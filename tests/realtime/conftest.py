"""Shared helpers for the WebSocket voice providers' tests: fake servers, settings, collecting output."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Callable

import numpy as np
import pytest

from tests.fakes.clock import Sleeps
from tests.fakes.realtime_gemini import FakeGeminiLive
from tests.fakes.realtime_openai import FakeOpenAIRealtime
from tui_chat.chunks import AudioChunk, Done, Interrupted
from tui_chat.providers.registry import ProviderSettings
from tui_chat.realtime.base import BidiSession


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def openai_server() -> AsyncIterator[FakeOpenAIRealtime]:
    async with FakeOpenAIRealtime() as server:
        yield server


@pytest.fixture
async def gemini_server() -> AsyncIterator[FakeGeminiLive]:
    async with FakeGeminiLive() as server:
        yield server


def settings_for(server: Any, sleeps: Sleeps | None = None, *, key: str | None = "test-key", **options: Any) -> ProviderSettings:
    opts: dict[str, Any] = {"random": lambda: 0.0, "sleep": sleeps or Sleeps(), **options}
    return ProviderSettings(model=None, base_url=server.url, api_key=(lambda: key), options=opts)


async def until(session: BidiSession, stop: Callable[[Any], bool] | None = None, timeout: float = 10.0) -> list[Any]:
    """Output chunks up to and including the first one `stop` accepts (default: Done or Interrupted)."""
    stop = stop or (lambda c: isinstance(c, (Done, Interrupted)))
    out: list[Any] = []
    async with asyncio.timeout(timeout):
        async for chunk in session.output():
            out.append(chunk)
            if stop(chunk):
                break
    return out


async def settled(condition: Callable[[], Any], timeout: float = 10.0) -> None:
    """Wait until `condition` holds, for state a session changes on its own thread (the WebSocket
    providers are `threaded`: the fake server cannot tell when the client has read its message).
    Polled at every millisecond, bounded, so a bug fails instead of hanging."""
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.001)


def audio_s(chunks: list[Any]) -> float:
    return sum(len(c.pcm) / 2 / c.rate for c in chunks if isinstance(c, AudioChunk))


def speech(seconds: float, rate: int = 24000, level: int = 6000) -> np.ndarray:
    """A loud, voiced-sounding stand-in for speech (a fake VAD hears it)."""
    t = np.arange(int(seconds * rate)) / rate
    wave = np.sin(2 * np.pi * 180 * t) + 0.5 * np.sin(2 * np.pi * 360 * t)
    return np.rint(wave / 1.5 * level).astype(np.int16)


def silence(seconds: float, rate: int = 24000) -> np.ndarray:
    return np.zeros(int(seconds * rate), np.int16)


async def send_frames(session: BidiSession, samples: np.ndarray, rate: int = 24000, frame_ms: int = 20) -> None:
    size = rate * frame_ms // 1000
    for first in range(0, samples.size, size):
        await session.send_audio(samples[first : first + size].tobytes(), rate)


class ScriptedApprover:
    """Answers approval requests from a script: "approve", "deny" (reason "not now"), "always"."""

    def __init__(self, script: list[str]) -> None:
        self.script = list(script)
        self.requests: list[Any] = []
        self.ran: list[str] = []

    async def decide(self, request: Any) -> Any:
        from tui_chat.tools.approval import Decision

        self.requests.append(request)
        answer = self.script.pop(0) if self.script else "deny"
        if answer == "approve":
            return Decision.approve(request)
        if answer == "always":
            return Decision.approve_always(request)
        return Decision.deny(request, "not now")


@pytest.fixture
def weather_tools() -> Callable[[list[str]], tuple[Any, ScriptedApprover, list[Any]]]:
    """`make(script)` -> (SessionTools with a `get_weather` tool that asks, its approver, the tool events)."""
    from tui_chat.chunks import ToolSpec
    from tui_chat.realtime.tools import SessionTools
    from tui_chat.tools.registry import Approval, Tool, ToolRegistry

    def make(script: list[str]) -> tuple[Any, ScriptedApprover, list[Any]]:
        approver = ScriptedApprover(script)

        async def weather(args: dict[str, Any], context: Any) -> str:
            approver.ran.append(args["city"])
            return f"sunny, 21 C in {args['city']}"

        spec = ToolSpec("get_weather", "Weather for a city",
                        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
        registry = ToolRegistry([Tool(spec, weather, default_approval=Approval.ASK, read_only=True)])
        events: list[Any] = []
        return SessionTools(registry, approver=approver, on_event=events.append), approver, events

    return make
