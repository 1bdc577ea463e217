"""The frame budget of a streamed reply, on a fake clock: when each flush runs, not how long it takes."""

from __future__ import annotations

import pytest

from tui_chat.ui.widgets.markdown.pacing import FrameBudget


def stream(budget: FrameBudget, arrivals: list[float], paint_lag: float = 0.0) -> list[float]:
    """Feed the arrivals, flushing when the budget says (as `StreamingMarkdown` does); the flush times.

    The first arrival after a flush sets a timer for arrival + delay; a later arrival for which the
    delay is 0 flushes at once, taking itself on (the timer is dropped). A timer runs before an
    arrival that comes after it, and takes on every chunk that arrived before it. The frame showing
    a flush ends `paint_lag` after it.
    """
    flushes: list[float] = []
    timer: float | None = None

    def flush(at: float) -> None:
        budget.flushed()
        flushes.append(at)
        budget.painted(at + paint_lag)

    for now in arrivals:
        if timer is not None and timer < now:
            flush(timer)
            timer = None
        budget.arrived(now)
        delay = budget.delay(now)
        if not delay:
            flush(now)
            timer = None
        elif timer is None:
            timer = now + delay
    if timer is not None:
        flush(timer)
    return flushes


def steady(rate: float, chunks: int, start: float = 10.0) -> list[float]:
    return [start + index / rate for index in range(chunks)]


def waits(arrivals: list[float], flushes: list[float]) -> list[float]:
    """For each arrival, the wait until the first flush at or after it."""
    return [min(flush for flush in flushes if flush >= arrival) - arrival for arrival in arrivals]


def test_the_first_chunk_of_a_reply_is_flushed_at_once() -> None:
    budget = FrameBudget(latency=0.030)
    budget.arrived(5.0)
    assert budget.delay(5.0) == 0.0


def test_a_chunk_after_a_quiet_spell_is_flushed_at_once() -> None:
    budget = FrameBudget(latency=0.030)
    for index in range(10):  # streaming fast: waits for the batch
        budget.arrived(5.0 + index * 0.005)
        budget.flushed()
    budget.arrived(5.05)
    assert budget.delay(5.05) == pytest.approx(0.030)
    budget.flushed()
    budget.arrived(7.0)  # two seconds later
    assert budget.delay(7.0) == 0.0


def test_a_slow_stream_is_flushed_chunk_by_chunk_without_waiting() -> None:
    arrivals = steady(10, 30)
    flushes = stream(FrameBudget(latency=0.030), arrivals)
    assert flushes == arrivals


@pytest.mark.parametrize(("rate", "batch"), [(50, 2), (100, 3), (200, 6)])
def test_a_fast_stream_is_flushed_in_batches_each_on_an_arrival_within_the_budget(rate: float, batch: int) -> None:
    arrivals = steady(rate, int(rate * 2))
    flushes = stream(FrameBudget(latency=0.030), arrivals)
    assert set(flushes[:-1]) <= set(arrivals)  # each on an arrival (the last by the timer, nothing follows it)
    assert len(flushes) <= len(arrivals) / batch + 2
    assert max(waits(arrivals, flushes)) <= 0.030 + 1e-9


def test_at_50_chunks_a_second_half_the_chunks_wait_one_gap_and_half_none() -> None:
    """Every second chunk is shown on its arrival: no chunk waits for a timer set for it."""
    arrivals = steady(50, 100)
    flushes = stream(FrameBudget(latency=0.030), arrivals)
    measured = sorted(waits(arrivals[:-1], flushes))  # the last waits for the timer: nothing follows it
    assert measured[49] == pytest.approx(0.0, abs=1e-9)
    assert measured[-1] == pytest.approx(0.020)


def test_text_after_which_nothing_comes_is_flushed_by_the_budget() -> None:
    arrivals = [*steady(200, 5), 12.0]  # five fast chunks, then a pause
    flushes = stream(FrameBudget(latency=0.030), arrivals)
    assert flushes[0] == pytest.approx(10.0)  # the first at once
    assert flushes[1] == pytest.approx(10.005 + 0.030)  # the rest by the timer, within the budget
    assert flushes[-1] == 12.0


def test_arrivals_at_the_same_instant_wait_for_the_budget() -> None:
    budget = FrameBudget(latency=0.030)
    budget.arrived(3.0)
    budget.flushed()
    budget.arrived(3.0)  # a clock's resolution: two chunks, no time between them
    assert budget.delay(3.0) == pytest.approx(0.030)


def adapting(latency: float = 0.030) -> FrameBudget:
    return FrameBudget(latency=latency, paint_goal=0.045, bounds=(0.010, 0.050))


def p90(values: list[float]) -> float:
    return sorted(values)[int(0.9 * len(values)) - 1]


def test_where_frames_are_quick_the_budget_grows_and_50_chunks_a_second_are_painted_three_at_a_time() -> None:
    budget = adapting()
    arrivals = steady(50, 400)
    flushes = stream(budget, arrivals, paint_lag=0.003)
    assert budget.latency == pytest.approx(0.050)  # grown to its most
    settled = [flush for flush in flushes if flush > arrivals[100]]
    assert len(settled) <= len(arrivals[101:]) / 3 + 2  # three chunks a flush, not two
    paints = [wait + 0.003 for wait in waits(arrivals[101:-1], flushes)]
    assert p90(paints) <= 0.045


def test_where_frames_are_slow_the_budget_shrinks_until_chunks_are_painted_within_the_goal() -> None:
    budget = adapting(latency=0.050)
    arrivals = steady(200, 1600)
    flushes = stream(budget, arrivals, paint_lag=0.020)
    assert budget.latency < 0.030
    paints = [wait + 0.020 for wait in waits(arrivals[800:-1], flushes)]
    assert p90(paints) <= 0.045 + 0.005  # within the goal, give or take a batch's step of 5 ms
    assert len(flushes) < len(arrivals) / 3  # still in batches


def test_text_flushed_while_behind_does_not_move_the_budget() -> None:
    budget = adapting()
    for index in range(100):
        budget.arrived(10.0 + index * 0.005)
        budget.flushed(timed=False)  # a backlog: its text waited for the backlog, not the budget
        budget.painted(10.5 + index * 0.005)
    assert budget.latency == 0.030


def test_without_a_paint_goal_the_budget_stays() -> None:
    budget = FrameBudget(latency=0.030)
    stream(budget, steady(50, 200), paint_lag=0.100)
    assert budget.latency == 0.030
