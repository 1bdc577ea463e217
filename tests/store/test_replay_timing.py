"""`--speed` replays a recording with its timing scaled, on the replay provider's own clock seam
(an injected clock and sleep that keep virtual time: no wall clock in the test)."""

from __future__ import annotations

import pytest

from tui_chat.chunks import Done, TextDelta
from tui_chat.providers.base import ChatRequest
from tui_chat.providers.registry import ProviderSettings
from tui_chat.providers.replay import RecordedReply, ReplayProvider

RECORDING = [RecordedReply("aaabbbbcc", chunks=((0, 3), (400, 4), (1900, 2)))]
"""Three chunks, 0.4 s and then 1.5 s apart."""


class VirtualTime:
    """A clock that moves only when slept on (or moved by the test, as a slow consumer would)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(round(delay, 6))
        self.now += delay


async def _play(speed: float, time: VirtualTime, *, consumer_takes: float = 0.0) -> tuple[list[str], list[float]]:
    provider = ReplayProvider(ProviderSettings(
        options={"recording": RECORDING, "speed": speed, "clock": time.clock, "sleep": time.sleep}
    ))  # fmt: skip
    texts, at = [], []
    async for chunk in provider.stream(ChatRequest(model="recorded", messages=())):
        if isinstance(chunk, TextDelta):
            texts.append(chunk.text)
            at.append(round(time.now - 100.0, 6))
            time.now += consumer_takes
        else:
            assert isinstance(chunk, Done)
    return texts, at


@pytest.mark.parametrize(("speed", "expected"), [(1, [0.0, 0.4, 1.9]), (4, [0.0, 0.1, 0.475]), (0.5, [0.0, 0.8, 3.8])])
async def test_each_chunk_comes_at_its_recorded_time_divided_by_the_speed(speed: float, expected: list[float]) -> None:
    time = VirtualTime()
    texts, at = await _play(speed, time)
    assert texts == ["aaa", "bbbb", "cc"]
    assert at == expected


async def test_time_the_consumer_takes_counts_toward_the_next_gap() -> None:
    time = VirtualTime()
    _, at = await _play(1, time, consumer_takes=0.3)
    assert at == [0.0, 0.4, 1.9]  # the recorded times still, not 0.3 s later each
    assert time.sleeps == [0.0, 0.1, 1.2]


async def test_speed_zero_plays_as_fast_as_it_is_taken() -> None:
    time = VirtualTime()
    texts, at = await _play(0, time)
    assert texts == ["aaa", "bbbb", "cc"] and at == [0.0, 0.0, 0.0]
    assert set(time.sleeps) <= {0.0}  # only turns of the loop, never a wait
