"""bench/stream_rate.py: its pairs of ours and static, the goal ratio's interval and verdict, and
a real pair's CPU split into parts (`--split`; how the split counts is tests/test_cpu_split_bench.py's)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.bench_scripts import bench_module


@pytest.fixture(scope="module")
def stream_rate() -> Iterator[ModuleType]:
    yield from bench_module("stream_rate")


@pytest.fixture
def concurrent_runs(stream_rate) -> ModuleType:
    """The module that makes the pairs, as stream_rate uses it."""
    return stream_rate.concurrent_runs


def test_pairs_are_made_together_with_two_cores_and_one_after_the_other_without(concurrent_runs) -> None:
    assert concurrent_runs.arrangement(None, (0, 1), "together") == "together"
    assert concurrent_runs.arrangement(None, None, "together") == "sequential"
    assert concurrent_runs.arrangement("pinned", (0, 1), "together") == "pinned"
    with pytest.raises(ValueError, match="two usable cores"):
        concurrent_runs.arrangement("pinned", None, "together")


def test_each_pair_holds_static_as_the_baseline_and_ours_as_the_other(stream_rate, concurrent_runs) -> None:
    plan = concurrent_runs.pair_plan(4, "together", (0, 1))
    assert [[stream_rate.SIDES[placement.side] for placement in pair] for pair in plan] == [["static", "ours"]] * 4
    assert {(placement.core, placement.together) for pair in plan for placement in pair} == {(None, True)}
    sequential = concurrent_runs.pair_plan(4, "sequential", (0, 1))
    assert [[stream_rate.SIDES[placement.side] for placement in pair] for pair in sequential] == [["static", "ours"], ["ours", "static"]] * 2


def test_how_a_pair_was_made_is_said_with_the_apps_names(stream_rate, concurrent_runs) -> None:
    name = lambda placement: stream_rate.SIDES[placement.side]
    pinned, together, sequential = (concurrent_runs.pair_plan(2, arrangement, (0, 1))[1] for arrangement in ("pinned", "together", "sequential"))
    assert concurrent_runs.how_made(pinned, name, 0.04) == "static on core 1, ours on core 0, ended 0.04 s apart"
    assert concurrent_runs.how_made(together, name, 0.1) == "static and ours at once, unpinned, ended 0.10 s apart"
    assert concurrent_runs.how_made(sequential, name, None) == "ours first"


def test_the_command_line_parses_and_a_child_gets_its_run_and_placement(stream_rate) -> None:
    parser = stream_rate.build_parser()
    args = parser.parse_args(["--rates", "50,200", "--apps", "ours,static", "--seconds", "8", "--repeat", "5", "--split", "--pairs-made", "pinned"])
    assert (args.rates, args.apps, args.seconds, args.repeat, args.split, args.pairs_made) == ("50,200", "ours,static", 8.0, 5, True, "pinned")
    argv = stream_rate.child_command("ours", 200.0, args)[1:] + ["--core", "1", "--together"]  # (as `concurrent_runs.start` adds them)
    run = parser.parse_args(argv)
    assert (run.run, run.rates, run.seconds, run.split, run.core, run.together) == ("ours", "200.0", 8.0, True, 1, True)
    with pytest.raises(SystemExit):
        parser.parse_args(["--pairs-made", "interleaved"])


def test_a_child_gets_the_pacing_asked_for(stream_rate) -> None:
    parser = stream_rate.build_parser()
    args = parser.parse_args(["--latency", "0.03", "--paint-goal", "0.04"])
    run = parser.parse_args(stream_rate.child_command("ours", 50.0, args)[1:])
    assert (run.latency, run.paint_goal) == (0.03, 0.04)


def made_up_runs(ratios: list[float], static_ms: float = 4.0, wait: float = 0.0) -> tuple[list[dict], list[dict]]:
    """Static's and ours's runs of pairs whose CPU ms per chunk ratios are `ratios`, their loops
    waiting for their cores `wait` of the time."""
    run = lambda ms: {"cpu": ms * 100 / 1000, "chunks": 100, "wall": 2.0, "frames": 60, "keys": [0.01], "paints": [0.02], "wait": wait}
    return [run(static_ms) for _ in ratios], [run(static_ms * ratio) for ratio in ratios]


def test_the_goal_is_the_median_of_the_per_pair_ratios_with_its_interval_and_verdict(stream_rate, capsys) -> None:
    runs = {}
    for rate, ratios in ((25.0, [0.9, 1.0, 1.1, 1.2, 0.8]), (50.0, [0.30, 0.32, 0.35, 0.31, 0.38]),
                         (200.0, [0.62, 0.55, 0.58, 0.70, 0.51]), (400.0, [0.3, 0.6, 0.45, 0.5, 0.4])):  # fmt: skip
        runs["static", rate], runs["ours", rate] = made_up_runs(ratios)
    stream_rate.GOALS[400.0] = 0.5  # (a rate whose pairs straddle the goal)
    try:
        rows = {key: stream_rate.combine(measured) for key, measured in runs.items()}
        stream_rate.goals_report(runs, rows, [25.0, 50.0, 200.0, 400.0])
    finally:
        del stream_rate.GOALS[400.0]
    lines = capsys.readouterr().out.splitlines()
    assert lines[:8] == [
        "goal: ours CPU ms/chunk at 25/s (no goal):",
        "  ours / static    1.000x, median of the pairs (90% interval 0.800-1.200); medians static 4.00 ms, ours 4.00 ms: 1.000x",
        "goal: ours CPU ms/chunk at 50/s <= 0.4x static:",
        "  ours / static    0.320x, median of the pairs (90% interval 0.300-0.380); target 0.4x: met; medians static 4.00 ms, ours 1.28 ms: 0.320x",
        "goal: ours CPU ms/chunk at 200/s <= 0.5x static:",
        "  ours / static    0.580x, median of the pairs (90% interval 0.510-0.700); target 0.5x: MISSED; medians static 4.00 ms, ours 2.32 ms: 0.580x",
        "goal: ours CPU ms/chunk at 400/s <= 0.5x static:",
        ("  ours / static    0.450x, median of the pairs (90% interval 0.300-0.600); target 0.5x: not resolved (the interval holds it: these pairs cannot tell)"
        "; medians static 4.00 ms, ours 1.80 ms: 0.450x"),
    ]


def test_a_ratio_read_while_the_runs_waited_for_their_cores_is_flagged(stream_rate, capsys) -> None:
    runs: dict[tuple[str, float], list[dict]] = {}
    runs["static", 50.0], runs["ours", 50.0] = made_up_runs([0.5, 0.6, 0.55], wait=0.04)
    runs["static", 200.0], runs["ours", 200.0] = made_up_runs([1.0, 1.1, 1.05], wait=0.3)
    stream_rate.goals_report(runs, {key: stream_rate.combine(measured) for key, measured in runs.items()}, [50.0, 200.0])
    lines = capsys.readouterr().out.splitlines()
    assert [line for line in lines if "busy machine" in line] == [
        ("  (read on a busy machine: the runs' loops waited for their cores 30% of the time (median): a starved run makes"
        " fewer frames, and its paced CPU per chunk follows them)")
    ]
    assert lines.index(next(line for line in lines if "busy machine" in line)) == 4  # under the 200/s verdict


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="a concurrent pair needs two cores")
def test_a_pinned_pair_of_tiny_real_runs_splits_each_runs_cpu_into_parts_and_a_rest(stream_rate, concurrent_runs, capsys) -> None:
    args = stream_rate.build_parser().parse_args(["--rates", "50", "--seconds", "0.4", "--repeat", "1", "--apps", "ours,static", "--split"])
    cores = concurrent_runs.two_cores(os.sched_getaffinity(0))
    runs = stream_rate.measure_all(args, ["ours", "static"], [50.0], "pinned", cores)
    static, ours = runs["static", 50.0][0], runs["ours", 50.0][0]
    assert (static["cores"], ours["cores"]) == ([cores[0]], [cores[1]])
    assert static["apart"] == ours["apart"] >= 0
    assert "pair 1 (static on core" in capsys.readouterr().out
    for run in (static, ours):
        assert run["chunks"] == 20
        parts = {part: seconds for part, (seconds, _) in run["split"].items()}
        assert all(seconds >= 0 for seconds in parts.values())  # the rest too: the parts never overlap
        assert sum(parts.values()) == pytest.approx(run["cpu"])
        assert run["split"]["layout frames"][1] > 0 and run["split"]["other frames"][1] > 0
    assert ours["split"]["flushes"][1] > 0 and static["split"]["flushes"] == [0.0, 0]


@pytest.mark.parametrize("name", ["log", "frame"])
async def test_a_reference_app_is_measured_like_the_others_and_paints_every_chunk(stream_rate, name: str) -> None:
    run = await stream_rate.measure(name, 50.0, 10, (60, 12))
    assert run["chunks"] == 10 and run["frames"] > 0
    assert len(run["paints"]) == 10  # each chunk reached a frame that shows it


async def test_the_log_reference_writes_the_chunks_as_lines_and_the_frame_reference_only_counts(stream_rate) -> None:
    from textual.widgets import Log, Static

    chunks = ["Hello, ", "world\nsecond", " line"]
    log = stream_rate.TARGETS["log"](stream_rate.Schedule(1000.0, chunks))
    async with log.app.run_test(size=(40, 10)) as pilot:
        await log.stream()
        await pilot.pause()
        assert log.app.query_one(Log).lines == ["Hello, world", "second line"]
        assert log.shown() == len("".join(chunks))
    frame = stream_rate.TARGETS["frame"](stream_rate.Schedule(1000.0, chunks))
    async with frame.app.run_test(size=(40, 10)) as pilot:
        await frame.stream()
        await pilot.pause()
        assert str(frame.app.query_one("#log Static", Static).render()) == f"{len(''.join(chunks))} characters"
