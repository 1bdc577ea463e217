"""bench/saving.py: how its pairs are planned, run and reported (bench/concurrent_runs.py makes
them; the ratio's interval and verdict are tests/test_paired_ratio_bench.py's)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.bench_scripts import bench_module


@pytest.fixture(scope="module")
def saving() -> Iterator[ModuleType]:
    yield from bench_module("saving")


@pytest.fixture(scope="module")
def paired_ratio() -> Iterator[ModuleType]:
    yield from bench_module("paired_ratio")


@pytest.fixture(scope="module")
def concurrent_runs() -> Iterator[ModuleType]:
    yield from bench_module("concurrent_runs")


def test_ranks_share_ties(saving) -> None:
    assert saving._ranks([30.0, 10.0, 20.0, 10.0]) == [3.0, 0.5, 2.0, 0.5]


def test_pinned_pairs_run_together_on_two_cores_swapped_every_pair(saving) -> None:
    plan = saving.pair_plan(6, "pinned", (0, 1))
    assert [(base.core, other.core) for base, other in plan] == [(0, 1), (1, 0)] * 3
    assert all((base.side, base.saving, other.side, other.saving) == (False, False, True, True) for base, other in plan)
    assert all(slot.together for pair in plan for slot in pair)


def test_pairs_made_together_are_not_pinned(saving) -> None:
    plan = saving.pair_plan(4, "together", (0, 1))
    assert [[(s.side, s.saving, s.core, s.together) for s in pair] for pair in plan] == [[(False, False, None, True), (True, True, None, True)]] * 4


def test_sequential_pairs_take_turns_at_which_goes_first_unpinned(saving) -> None:
    plan = saving.pair_plan(4, "sequential", (0, 1))
    assert [[slot.saving for slot in pair] for pair in plan] == [[False, True], [True, False]] * 2
    assert [[slot.side for slot in pair] for pair in plan] == [[False, True], [True, False]] * 2
    assert {(slot.core, slot.together) for pair in plan for slot in pair} == {(None, False)}


@pytest.mark.parametrize("arrangement", ["pinned", "together", "sequential"])
def test_an_aa_plan_is_its_ab_plan_with_saving_off_on_both_sides(saving, arrangement: str) -> None:
    ab, aa = saving.pair_plan(4, arrangement, (2, 5)), saving.pair_plan(4, arrangement, (2, 5), aa=True)
    assert not any(slot.saving for pair in aa for slot in pair)
    assert [[saving_off(s) for s in pair] for pair in aa] == [[saving_off(s) for s in pair] for pair in ab]


def saving_off(slot) -> tuple:
    """What a slot is but for its saving."""
    return (slot.side, slot.core, slot.together)


def test_concurrent_pairs_run_on_the_two_lowest_usable_cores(concurrent_runs) -> None:
    assert concurrent_runs.two_cores({7, 3, 5}) == (3, 5)
    assert concurrent_runs.two_cores({4}) is None


def test_the_slowdowns_by_core_show_a_faster_core_the_swap_cancels(saving, paired_ratio, capsys) -> None:
    # Core 1 is 10% faster: the run on it wins whichever side it is.
    run = lambda core, rate: {"core": core, "rate": rate, "key_p90_ms": 100 / rate}
    runs = {False: [run(0, 10.0), run(1, 11.0)] * 2, True: [run(1, 11.0), run(0, 10.0)] * 2}
    saving.core_report(runs, "A/A")
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "    A/A chunks/s by core: 0.909x with off on core 0 (2 pairs), 1.100x with off on core 1 (2 pairs)",
        "    A/A key latency p90 by core: 0.909x with off on core 0 (2 pairs), 1.100x with off on core 1 (2 pairs)",
    ]
    rates = paired_ratio.slowdowns([r["rate"] for r in runs[False]], [r["rate"] for r in runs[True]], lower_is_better=False)
    assert paired_ratio.median_interval(rates)[0] < 1 < paired_ratio.median_interval(rates)[1]


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="a concurrent pair needs two cores")
@pytest.mark.parametrize("arrangement", ["pinned", "together"])
def test_a_concurrent_pair_runs_each_side_where_planned_and_checks_its_saving(saving, concurrent_runs, arrangement: str) -> None:
    usable = sorted(os.sched_getaffinity(0))
    cores = concurrent_runs.two_cores(set(usable))
    pair = saving.pair_plan(2, arrangement, cores)[1]  # (pinned: the swapped one)
    runs = saving.run_pair(pair, 1_000, 128)  # (raises when a run's saving or flushes are not as planned)
    if arrangement == "pinned":
        assert runs[False]["cores"] == [cores[1]] and runs[True]["cores"] == [cores[0]]
    else:
        assert runs[False]["cores"] == runs[True]["cores"] == usable
    assert (runs[False]["saving"], runs[True]["saving"]) == (False, True)
    assert runs[False]["apart"] == runs[True]["apart"] >= 0
    assert runs[False]["flushes"] == runs[True]["flushes"] == 8
