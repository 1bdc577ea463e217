"""A stand-in for `asyncio.sleep` for the backoff waits of providers and voice sessions."""

from __future__ import annotations

import asyncio


class Sleeps:
    """An injected `sleep`: records the delays asked for and never waits on the clock (it only yields once)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)
