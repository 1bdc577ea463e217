"""The frame budget of a streamed reply, on a fake clock: when each flush runs, not how long it takes."""

from __future__ import annotations

import pytest

from tui_chat.ui.widgets.markdown.pacing import FrameBudget


def stream(budget: FrameBudget, rate: float, chunks: int, start: float = 10.0) -> list[float]:
    """Feed `chunks` arrivals at `rate` per second, flushing when the budget says; the flush times.

    A flush is scheduled by the first arrival after the previous flush and runs at arrival +
    delay, taking every chunk that arrived by then (as `StreamingMarkdown` does). Waits: appended.
    """
    flushes: list[float] = []
    scheduled: float | None = None
    for index in range(chunks):
        now = start + index / rate
        if scheduled is not None and scheduled <= now:
            budget.flushed(scheduled)
            flushes.append(scheduled)
            scheduled = None
        budget.arrived(now)
        if scheduled is None:
            scheduled = now + budget.delay(now)
    if scheduled is not None:
        budget.flushed(scheduled)
        flushes.append(scheduled)
    return flushes


def waits(rate: float, chunks: int, flushes: list[float], start: float = 10.0) -> list[float]:
    """For each arrival, the wait until the first flush at or after it."""
    result = []
    for index in range(chunks):
        arrival = start + index / rate
        result.append(min(flush for flush in flushes if flush >= arrival - 1e-9) - arrival)
    return result


def test_the_first_chunk_of_a_reply_is_flushed_at_once() -> None:
    budget = FrameBudget(latency=0.040)
    budget.arrived(5.0)
    assert budget.delay(5.0) == 0.0


def test_a_chunk_after_a_quiet_spell_is_flushed_at_once() -> None:
    budget = FrameBudget(latency=0.040)
    budget.arrived(5.0)
    budget.flushed(5.0)
    budget.arrived(5.001)
    assert budget.delay(5.001) == pytest.approx(0.039)  # streaming fast: waits for the batch
    budget.flushed(5.040)
    budget.arrived(7.0)  # two seconds later
    assert budget.delay(7.0) == 0.0


def test_a_slow_stream_is_flushed_chunk_by_chunk_without_waiting() -> None:
    budget = FrameBudget(latency=0.040)
    flushes = stream(budget, rate=10, chunks=30)
    assert len(flushes) == 30
    assert max(waits(10, 30, flushes)) == pytest.approx(0.0)


@pytest.mark.parametrize(("rate", "most_flushes_per_second"), [(50, 26), (200, 26)])
def test_a_fast_stream_is_flushed_in_batches_within_the_latency_budget(
    rate: float, most_flushes_per_second: float
) -> None:
    budget = FrameBudget(latency=0.040)
    chunks = int(rate * 2)
    flushes = stream(budget, rate=rate, chunks=chunks)
    assert len(flushes) <= most_flushes_per_second * 2
    assert len(flushes) >= 2 * 20  # still about a frame per 40 ms
    assert max(waits(rate, chunks, flushes)) <= 0.040 + 1e-9


def test_flushes_fall_on_arrivals_at_a_whole_number_of_gaps() -> None:
    budget = FrameBudget(latency=0.040)
    for index in range(20):
        budget.arrived(1.0 + index * 0.015)  # about 67 chunks/s
    assert budget.gap == pytest.approx(0.015)
    assert budget.interval() == pytest.approx(0.030)  # two gaps: the third would pass 40 ms


def test_arrivals_at_the_same_instant_do_not_break_the_interval() -> None:
    budget = FrameBudget(latency=0.040)
    budget.arrived(3.0)
    budget.arrived(3.0)  # a clock's resolution: two chunks, no time between them
    assert budget.interval() == pytest.approx(0.040)  # as for arrivals a hair apart
