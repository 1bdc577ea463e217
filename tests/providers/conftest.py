"""Fixtures for the provider suite: one fake server per test, a provider built against it, no real waits."""

from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator

import pytest

from tests.fakes.clock import Sleeps
from tests.fakes.server import FakeServer
from tests.fakes.wire import Wire
from tests.fakes.wires import KEY, WIRES
from tui_chat.chunks import Chunk
from tui_chat.providers.base import ChatRequest, Provider
from tui_chat.providers.registry import create_provider

SAFETY = 10.0
"""Seconds after which a test that should have finished long ago fails instead of hanging."""


@pytest.fixture(params=WIRES, ids=[wire.provider for wire in WIRES])
def wire(request: pytest.FixtureRequest) -> Wire:
    return request.param()


@pytest.fixture
async def server(wire: Wire) -> AsyncIterator[FakeServer]:
    async with FakeServer() as fake:
        wire.install(fake)
        yield fake


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def make(wire: Wire, server: FakeServer, sleeps: Sleeps) -> AsyncIterator[Any]:
    """`make(key, **options)` builds the wire's provider against the fake server; all are closed after the test."""
    built: list[Provider] = []

    def build(key: str | None = KEY, **options: Any) -> Provider:
        options.setdefault("sleep", sleeps)
        provider = create_provider(wire.provider, wire.settings(server, key, **options))
        built.append(provider)
        return provider

    yield build
    for provider in built:
        await provider.aclose()


async def collect(provider: Provider, request: ChatRequest) -> list[Chunk]:
    """All chunks of one stream (exceptions propagate), failing the test if it hangs."""
    chunks: list[Chunk] = []
    async with asyncio.timeout(SAFETY):
        async for chunk in provider.stream(request):
            chunks.append(chunk)
    return chunks
