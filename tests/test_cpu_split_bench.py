"""bench/cpu_split.py: where a run's CPU goes, nested parts taken apart, each call counted once,
the time a coroutine awaits left out."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.bench_scripts import bench_module


@pytest.fixture(scope="module")
def cpu_split() -> Iterator[ModuleType]:
    yield from bench_module("cpu_split")


class FakeScreen:
    """Methods standing in for a screen's and a reply's, each doing a fixed amount of work."""

    def __init__(self, split) -> None:
        self.split = split
        self.woken = asyncio.Event()

    def layout(self, work: int) -> None:
        sum(range(work))
        self.frame(work)  # a layout renders its frame: the layout's

    def frame(self, work: int) -> None:
        sum(range(work))

    def flush_sync(self, work: int) -> None:
        self.layout(work)  # (a layout inside a flush is the layout's)

    async def flush(self) -> None:
        await self.woken.wait()  # (the time it waits is not the flush's)
        sum(range(10))

    async def busy(self, work: int) -> None:
        self.layout(work)
        self.woken.set()


class OtherScreen(FakeScreen):
    """A subclass overriding a hooked method and calling the base's: one call."""

    def layout(self, work: int) -> None:
        super().layout(work)


def test_the_split_takes_nested_parts_apart_counts_each_once_and_leaves_out_awaits(cpu_split) -> None:
    split = cpu_split.CpuSplit()
    hooks = ((FakeScreen, "layout", cpu_split.LAYOUT_FRAMES), (FakeScreen, "frame", cpu_split.OTHER_FRAMES),
             (FakeScreen, "flush_sync", cpu_split.FLUSHES), (FakeScreen, "flush", cpu_split.FLUSHES))  # fmt: skip
    split.install(hooks)
    try:
        assert "layout" in vars(OtherScreen) and vars(OtherScreen)["layout"].__wrapped__  # (the override hooked too)
        screen = OtherScreen(split)
        screen.layout(10)  # off: not counted
        split.on = True
        screen.layout(10_000)
        screen.frame(10)
        screen.flush_sync(2_000_000)

        async def flush_while_busy() -> None:
            flushing = asyncio.ensure_future(screen.flush())
            await asyncio.sleep(0)  # (the flush is now waiting)
            await screen.busy(2_000_000)
            await flushing

        asyncio.run(flush_while_busy())
        gc.collect()
        split.on = False
        screen.layout(10)
    finally:
        gc.callbacks.remove(split.collector)
    counts = split.counts
    assert (counts["layout frames"], counts["other frames"], counts["flushes"]) == (3, 1, 2)
    assert counts["collector gen 2"] >= 1  # (gc.collect's, and any the interpreter made meanwhile)
    seconds = split.seconds
    assert seconds["layout frames"] > 0 and seconds["collector gen 2"] > 0
    # The flushes did almost nothing themselves: the layout inside one (2x 2,000,000 additions) and
    # the busy layout another awaited (2x 2,000,000) are the layouts'.
    assert seconds["flushes"] < seconds["layout frames"] / 10
    figures = split.figures(cpu=sum(seconds.values()) + 0.5)
    assert figures["rest"] == pytest.approx((0.5, 0))
