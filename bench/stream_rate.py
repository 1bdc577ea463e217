"""Streaming at real model speeds: CPU, frames and latency of a reply arriving at fixed chunk rates.

Run:  python bench/stream_rate.py [--rates 25,50,200] [--seconds 6] [--repeat 1] [--size 120x40]
                                 [--apps ours,static,mdstream] [--pairs-made together|pinned|sequential]
                                 [--split] [--profile ours:50] [--fixed 2] [--latency 0.03]

`bench/stream_render.py` measures how fast a backlog is drained (zero delay). Models stream far
slower than that, and there the cost that matters is CPU: this script sends the same realistic
reply (`realistic_reply`: paragraphs, code fences, lists, tables) as word-sized chunks, chunk i
arriving at exactly start + i / rate (a fixed schedule, not a sleep per chunk, so a busy loop
does not slow the sender down), for rate x --seconds chunks. Each app and rate runs in a fresh
process (this script with --run), headless, at --size:

  ours      tui-chat itself (`TuiChatApp`), its demo provider made to send those chunks on that
            schedule: conversation, worker, `AssistantMessage`, `StreamingMarkdown`.
  static    a bare Textual app: a VerticalScroll holding one `Static`, a focused TextArea; on each
            chunk `static.update(Text(whole text so far))` (plain text, no Markdown).
  mdstream  the same bare app with one `Markdown` fed through `Markdown.get_stream` (each chunk
            `await stream.write(chunk)`).
  log       (a reference, not in the default --apps) the same bare app with Textual's own `Log`,
            each chunk written to its last line: no wrapping, no Markdown, no layout as it grows.
  frame     (a reference, likewise) the same bare app showing only a one-line count, repainted
            per chunk without a layout: what a frame per chunk costs at the least. Together, log
            and frame say where a goal lies against Textual itself.

Figures, per app and rate (the window is from the first chunk's arrival to the frame that shows
the finished reply):
  cpu        `time.process_time()` of the app's process over the window's wall time: its share
             of one core (everything the process does: the sender, keys, parsing, layout, frames)
  ms/chunk   CPU milliseconds per chunk
  fps        frames displayed per second (`App._display` with a screen update, each made to do the
             encoding a terminal write needs: see `stream_render.FrameProbe`)
  key p50/p90  latency of an "x" sent through the driver every 100 ms, to the frame showing it
  paint p50/p90  from a chunk's arrival to the first frame that shows it. "Shows it": the frame
             was composed after the app had put that chunk's text into its widgets: for static
             at once, for mdstream once `Markdown.append` for it returned (blocks mounted), for
             ours once the flush that took it on returned (`StreamingMarkdown.shown_chars`).

How ours and static are run: in pairs, --repeat pairs per rate, both runs of a pair at the same
moment (`concurrent_runs`). This VM's speed drifts up to 1.6x over minutes (identical fixed work
took 915-1,454 us of CPU per chunk in runs one after another; the same tree read 0.72x and 0.81x
static at 200/s in two runs minutes apart), while runs started at the same moment on their own
cores differ by 0-8%. Each child builds and mounts its app, says "ready" and starts streaming when
the parent says "go" (so the two schedules start within milliseconds); the core of the run that
ends first is kept busy by a spinner until the other ends. --pairs-made: "together" (the default
with two usable cores), at once, unpinned: the scheduler spreads both runs and others' work over
both cores; "pinned", at once, each pinned to its own core, swapped every pair; "sequential" (the
default with fewer cores), one after the other, taking turns at which goes first. Each pair is
printed: how it was made, both runs' CPU ms per chunk and their ratio, and the share of the time
each run's event loop waited for its core (Linux's schedstat). mdstream (no goal) runs by itself
just after each pair, as do log and frame: their "x static" is a ratio of medians, with the drift in it.
What concurrency may bias:
  - the two runs share the L3 cache and the memory bandwidth: each slows the other, by how much
    depends on how much memory each touches (ours holds a far larger DOM and parses Markdown), so
    the ratio may lean either way by a little (runs started together differ by 0-8% in all);
  - keys (every 100 ms) and chunks (the schedule) come on wall time, alike in both runs: a run
    starved of its core makes fewer frames on that schedule, so its CPU per chunk drops (paced
    work follows the frame rate): the share of time each loop waited for its core shows when
    that happened (unpinned, under others' load, one run may wait more than the other);
  - pinned, a run's threads share its core (the bench's go-waiter thread is idle by then), and
    a pinned run cannot move away from others' work on its core;
  - the spinner keeps a core busy but not its cache or memory traffic as the app did (the runs
    end within tenths of a second of each other: their schedules are the same).

Then the goals of issue 15, ours against static: CPU ms per chunk at 50/s at most 0.4x, at 200/s at
most 0.5x: the median of the per-pair ratios with an interval that holds the true median at least
90% of the time whatever the runs' distribution (order statistics: `paired_ratio.median_interval`),
and the verdict (met: the whole interval within the goal; MISSED: all of it above; else not
resolved by these pairs; `paired_ratio.Verdict`); at a rate with no goal the ratio and interval
alone; flagged as read on a busy machine when the runs' loops waited for their cores more than 5%
of the time (`BUSY_WAIT`). Paint p90 at most 50 ms and key p90 under 50 ms at every rate. The
table before them gives, per app and rate, the median of the runs' figures (keys and paints pooled).

--split: where the CPU of each run goes, measured inside the child by hooks on Textual's and our
classes (installed in the child only, in both runs of a pair alike; see `cpu_split`): layout frames
(`Screen._refresh_layout`, with the frame it renders), other frames (the screen's frame refresh
outside a layout), flushes (`StreamingMarkdown._flush`, its synchronous steps only), the
collector per generation, and the rest (the run's CPU less those). Printed under the table, the
runs of each app and rate summed: CPU ms per 8 s of streaming, share of the run's CPU, count per
run. The hooks cost a few microseconds a call (a few hundred calls a second).
--profile APP:RATE runs one measurement with cProfile on (from the first chunk to the done frame)
and prints the top functions instead.

--fixed N measures ours doing a fixed amount of work instead, for comparing two trees on a busy
machine: rate x --seconds chunks, N at a time, each batch shown (its flush done and a frame
painted) before the next arrives, so that every run makes the same flushes and frames whatever the
load. (Under a paced schedule a cheaper frame buys more frames, and a starved process fewer: CPU
per chunk then follows the frame rate.) Prints the app's CPU ms in all and per frame, the layouts
(full reflows) and frames, the CPU of those two parts, and the screen rows the frames drew again
(a frame of the whole screen counts all its rows); with --repeat, each run's figures.

--latency S fixes ours's frame budget (`StreamingMarkdown.LATENCY`, how long a chunk may wait for
the flush that shows it; by default it adapts to a paint goal) for every run, and --paint-goal S
sets the goal it adapts to (`StreamingMarkdown.PAINT_GOAL`), to compare pacings: frames and CPU
against paint p90.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import concurrent_runs
from cpu_split import CpuSplit, split_report
from paced_apps import TARGETS, Schedule, ours_target, reply_chunks
from paired_ratio import paired
from stream_render import FrameProbe, wait_for_frame
from textual import __version__ as textual_version
from textual.app import App

from tui_chat.ui.widgets.markdown.streaming import StreamingMarkdown

GOALS = {50: 0.4, 200: 0.5}
"""Rate -> the most CPU ms per chunk ours may take, as a share of static's."""
PAINT_GOAL = 0.050
KEY_GOAL = 0.050
BUSY_WAIT = 0.05
"""The share of its time a run's event loop may wait for its core (median of a rate's runs) before
the goal's ratio is flagged as read on a busy machine: a starved run makes fewer frames, and its
paced CPU per chunk follows its frame rate (seen: 1.08x at 200/s with the loops waiting 21-51%,
0.78x minutes later at 0-1%)."""


# -- measuring ------------------------------------------------------------------------------


def quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def first_paints(schedule: Schedule, frames: list[tuple[float, int]]) -> list[float]:
    """For each chunk, the time from its arrival to the first frame showing all of it."""
    latencies = []
    index = 0
    for arrived, end in zip(schedule.arrived, schedule.ends):
        while index < len(frames) and (frames[index][0] < arrived or frames[index][1] < end):
            index += 1
        if index == len(frames):
            break
        latencies.append(frames[index][0] - arrived)
    return latencies


async def measure(
    name: str,
    rate: float,
    count: int,
    size: tuple[int, int],
    profiler: cProfile.Profile | None = None,
    *,
    together: bool = False,
    split: CpuSplit | None = None,
) -> dict:
    """One run of app `name` (`TARGETS`) at `rate`, `count` chunks: its figures (see the docstring
    at the top). `together` (a concurrent pair): once the app is up, wait for the parent's go.
    `split`: timed from the first chunk to the done frame, as the CPU is."""
    schedule = Schedule(rate, reply_chunks(count))
    target = TARGETS[name](schedule)
    app = target.app
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        if together:
            await asyncio.to_thread(concurrent_runs.wait_for_go)  # (the app's loop runs on meanwhile)
        probe = FrameProbe(app, target.prompt())
        frames: list[tuple[float, int]] = []  # (time, characters shown) of each frame
        counted = app._display

        def display(screen, renderable) -> None:
            before = probe.frames
            counted(screen, renderable)
            if probe.frames != before:
                frames.append((probe.last_frame, target.shown()))

        app._display = display  # type: ignore[method-assign]
        stop = asyncio.Event()
        keys = asyncio.create_task(probe.press_keys(stop))
        cpu_before, waited_before = time.process_time(), concurrent_runs.core_wait()
        if profiler is not None:
            profiler.enable()
        if split is not None:
            split.on = True
        await target.stream()
        await wait_for_frame(app, probe, time.perf_counter())
        if split is not None:
            split.on = False
        if profiler is not None:
            profiler.disable()
        cpu = time.process_time() - cpu_before
        waited = concurrent_runs.core_wait() - waited_before
        wall = probe.last_frame - schedule.arrived[0]
        frame_count = sum(1 for at, _ in frames if at >= schedule.arrived[0])
        stop.set()
        await keys
        await pilot.pause()
    return {
        "cpu": cpu,
        "wall": wall,
        "chunks": len(schedule.arrived),
        "frames": frame_count,
        "keys": probe.latencies,
        "paints": first_paints(schedule, frames),
        "wait": waited / wall,
        "cores": concurrent_runs.usable_cores(),
        "split": None if split is None else split.figures(cpu),
    }


async def measure_fixed(count: int, per_frame: int, size: tuple[int, int]) -> dict:
    """Ours fed `count` chunks, `per_frame` at a time, each batch shown before the next (see --fixed)."""
    app_ready: asyncio.Future[App] = asyncio.get_running_loop().create_future()

    class Lockstep(Schedule):
        async def paced(self) -> AsyncIterator[str]:
            app = await app_ready
            reply: StreamingMarkdown | None = None
            for index, chunk in enumerate(self.chunks):
                self.arrived.append(time.perf_counter())
                yield chunk
                if index % per_frame == per_frame - 1:
                    reply = reply or app.query(StreamingMarkdown).last()  # looked up once: a query walks the DOM
                    await reply.wait_flushed()
                    await app.screen.wait_for_refresh()

    schedule = Lockstep(1.0, reply_chunks(count))
    target = ours_target(schedule)
    app = target.app
    costs = {"layouts": 0, "layout_ms": 0.0, "frames": 0, "frame_ms": 0.0, "rows": 0}

    def timed(method: Callable, what: str) -> Callable:
        def run(*args, **kwargs):
            started = time.process_time()
            try:
                return method(*args, **kwargs)
            finally:
                costs[what + "s"] += 1
                costs[what + "_ms"] += (time.process_time() - started) * 1000

        return run

    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        compositor = app.screen._compositor
        compositor.reflow = timed(compositor.reflow, "layout")  # type: ignore[method-assign]
        render_update = timed(compositor.render_update, "frame")

        def counted(*args, **kwargs):  # the screen rows each frame renders again
            dirty = compositor._dirty_regions
            if compositor.size.region in dirty or kwargs.get("full"):
                costs["rows"] += compositor.size.height
            else:
                costs["rows"] += len({y for region in dirty for y in range(region.y, region.bottom)})
            return render_update(*args, **kwargs)

        compositor.render_update = counted  # type: ignore[method-assign]
        app_ready.set_result(app)
        started = time.process_time()
        await target.stream()
        cpu_ms = (time.process_time() - started) * 1000
        await pilot.pause()
    return {"cpu_ms": cpu_ms, **costs}


def fixed(args: argparse.Namespace, rate: float, size: tuple[int, int]) -> int:
    count = int(rate * args.seconds)
    if args.run:  # a child: one measurement, printed as JSON
        print(json.dumps(asyncio.run(measure_fixed(count, args.fixed, size))))
        return 0
    print(f"stream_rate --fixed: ours, {count} chunks, {args.fixed} per frame, {size[0]}x{size[1]}, one process per run")
    print(f"{'cpu ms':>8}{'per frame':>10}{'layouts':>9}{'layout ms':>10}{'frames':>8}{'frame ms':>10}{'rows':>8}")
    command = [__file__, "--run", "ours", "--fixed", str(args.fixed), "--rates", str(rate)]
    command += ["--seconds", str(args.seconds), "--size", args.size]
    for _ in range(args.repeat):
        run = concurrent_runs.run_alone(command, "--fixed")
        print(
            f"{run['cpu_ms']:>8.0f}{run['cpu_ms'] / max(1, run['frames']):>10.2f}{run['layouts']:>9}"
            f"{run['layout_ms']:>10.0f}{run['frames']:>8}{run['frame_ms']:>10.0f}{run['rows']:>8}",
            flush=True,
        )
    return 0


def child_command(name: str, rate: float, args: argparse.Namespace) -> list[str]:
    """The command line of a child making one run of app `name` at `rate` (its placement aside)."""
    command = [__file__, "--run", name, "--rates", str(rate), "--seconds", str(args.seconds), "--size", args.size]
    command += [] if args.latency is None else ["--latency", str(args.latency)]
    command += [] if args.paint_goal is None else ["--paint-goal", str(args.paint_goal)]
    return command + (["--split"] if args.split else [])


SIDES = {False: "static", True: "ours"}
"""The apps of a pair by side: static the baseline, ours the other."""


def measure_all(args: argparse.Namespace, apps: list[str], rates: list[float], arrangement: str, cores: tuple[int, int] | None) -> dict[tuple[str, float], list[dict]]:
    """Every run, by app and rate, `args.repeat` of each: ours and static as pairs made as
    `arrangement` says (`concurrent_runs`; each pair printed), any other app by itself just after
    its rate's pair (mdstream, log and frame have no goal: no pair of their own)."""
    runs: dict[tuple[str, float], list[dict]] = defaultdict(list)
    pairing = "ours" in apps and "static" in apps
    name = lambda placement: SIDES[placement.side]
    for rate in rates:
        command = lambda placement, rate=rate: child_command(name(placement), rate, args)
        called = lambda placement, rate=rate: f"{name(placement)} at {rate:g}/s"
        if pairing:
            print(f"at {rate:g}/s, ours and static in pairs ({concurrent_runs.described(arrangement, cores)}):", flush=True)
        for number, pair in enumerate(concurrent_runs.pair_plan(args.repeat, arrangement, cores), 1):
            if pairing:
                done = concurrent_runs.run_pair(pair, command, called)
                static, ours = done[False], done[True]
                runs["static", rate].append(static)
                runs["ours", rate].append(ours)
                print(f"  pair {number} ({concurrent_runs.how_made(pair, name, static.get('apart'))}): CPU ms/chunk static"
                      f" {per_chunk(static):.2f}, ours {per_chunk(ours):.2f}: {per_chunk(ours) / per_chunk(static):.2f}x;"
                      f" the loop waited for its core {static['wait']:.0%}/{ours['wait']:.0%} of the time", flush=True)  # fmt: skip
            for app in apps:
                if not (pairing and app in SIDES.values()):
                    runs[app, rate].append(concurrent_runs.run_alone(child_command(app, rate, args), f"{app} at {rate:g}/s"))
    return runs


def per_chunk(run: dict) -> float:
    """A run's CPU milliseconds per chunk."""
    return run["cpu"] * 1000 / run["chunks"]


@dataclass
class Row:
    cpu_share: float
    ms_per_chunk: float
    fps: float
    keys: list[float]
    paints: list[float]


def combine(runs: list[dict]) -> Row:
    return Row(
        statistics.median(run["cpu"] / run["wall"] for run in runs),
        statistics.median(map(per_chunk, runs)),
        statistics.median(run["frames"] / run["wall"] for run in runs),
        [value for run in runs for value in run["keys"]],
        [value for run in runs for value in run["paints"]],
    )


def ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 1000:.1f}"


def goals_report(runs: dict[tuple[str, float], list[dict]], rows: dict[tuple[str, float], Row], rates: list[float]) -> None:
    """Print issue 15's goals: ours's CPU ms per chunk over static's, the median of the per-pair
    ratios with its interval and verdict (`paired_ratio.paired`; no verdict at a rate with no goal), then
    paint and key p90 at each rate."""
    for rate in rates:
        if runs.get(("ours", rate)) and runs.get(("static", rate)):
            statics, ours = [per_chunk(run) for run in runs["static", rate]], [per_chunk(run) for run in runs["ours", rate]]
            goal = GOALS.get(rate)
            print(f"goal: ours CPU ms/chunk at {rate:g}/s {'(no goal)' if goal is None else f'<= {goal}x static'}:")
            paired("ours / static", "{:.2f} ms".format, statics, ours, lower_is_better=True, target=goal, sides=("static", "ours"))
            waited = statistics.median(run["wait"] for run in runs["static", rate] + runs["ours", rate])
            if waited > BUSY_WAIT:
                print(f"  (read on a busy machine: the runs' loops waited for their cores {waited:.0%} of the time (median):"
                      " a starved run makes fewer frames, and its paced CPU per chunk follows them)")  # fmt: skip
    for rate in rates:
        row = rows["ours", rate]
        paint, key = quantile(row.paints, 0.9), quantile(row.keys, 0.9)
        paint_met = paint is not None and paint <= PAINT_GOAL
        key_met = key is not None and key < KEY_GOAL
        print(
            f"goal at {rate:g}/s: paint p90 <= 50 ms: {ms(paint)} {'met' if paint_met else 'NOT met'};"
            f" key p90 < 50 ms: {ms(key)} {'met' if key_met else 'NOT met'}"
        )


def profile(spec: str, args: argparse.Namespace, size: tuple[int, int]) -> int:
    name, rate = spec.split(":")
    count = int(float(rate) * args.seconds)
    profiler = cProfile.Profile()
    asyncio.run(measure(name, float(rate), count, size, profiler))
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).sort_stats("tottime")
    stats.print_stats(35)
    stats.sort_stats("cumulative").print_stats(45)
    print(out.getvalue())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line (a child's hidden options among it)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="25,50,200", help="comma-separated chunks per second")
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds of streaming per run (rate x seconds chunks)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per app and rate: pairs of ours and static (medians; keys and paints pooled)")
    parser.add_argument("--size", default="120x40", help="terminal size, WIDTHxHEIGHT")
    parser.add_argument("--apps", default="ours,static,mdstream", help="comma-separated: ours, static, mdstream, log, frame")
    parser.add_argument("--pairs-made", choices=concurrent_runs.ARRANGEMENTS, help="how a pair of ours and static is made:"
                        " at once unpinned (the default with two usable cores), at once each pinned to its own core, or one"
                        " after the other (the default with fewer)")  # fmt: skip
    parser.add_argument("--split", action="store_true", help="where the CPU goes: layout frames, other frames, flushes, the collector (see above)")
    parser.add_argument("--profile", metavar="APP:RATE", help="profile one run (cProfile) instead")
    parser.add_argument("--fixed", type=int, metavar="N", help="ours doing fixed work, N chunks per frame (see above)")
    parser.add_argument(
        "--latency", type=float, metavar="S", help="fix ours's frame budget in seconds (StreamingMarkdown.LATENCY), to compare pacings"
    )
    parser.add_argument(
        "--paint-goal", type=float, metavar="S", help="the paint p90 ours's frame budget adapts to (StreamingMarkdown.PAINT_GOAL)"
    )
    parser.add_argument("--run", choices=tuple(TARGETS), help=argparse.SUPPRESS)
    concurrent_runs.add_child_options(parser)
    return parser


def main() -> int:
    parser = build_parser()
    args = parser.parse_args()
    concurrent_runs.take_core(args.core)  # (a child of a pinned pair) before any thread starts: they all inherit it
    if args.latency is not None:
        StreamingMarkdown.LATENCY, StreamingMarkdown.PAINT_GOAL = args.latency, None
    if args.paint_goal is not None:
        StreamingMarkdown.PAINT_GOAL = args.paint_goal
    rates = [float(part) for part in args.rates.split(",") if part.strip()]
    width, height = (int(part) for part in args.size.lower().split("x"))
    size = (width, height)
    if args.profile:
        return profile(args.profile, args, size)
    if args.fixed:
        return fixed(args, rates[0], size)
    if args.run:  # a child: one measurement, printed as JSON
        rate, split = rates[0], CpuSplit() if args.split else None
        if split is not None:
            split.install()
        print(json.dumps(asyncio.run(measure(args.run, rate, int(rate * args.seconds), size, together=args.together, split=split))))
        return 0

    cores = concurrent_runs.two_cores(os.sched_getaffinity(0))
    try:
        arrangement = concurrent_runs.arrangement(args.pairs_made, cores, "together")
    except ValueError as error:
        parser.error(str(error))
    apps = [name for name in args.apps.split(",") if name]
    print(
        f"stream_rate: {size[0]}x{size[1]}, {args.seconds:g} s of chunks per run, {args.repeat} run(s) each, one"
        f" process per run; python {sys.version.split()[0]}, textual {textual_version}"
    )
    print()
    runs = measure_all(args, apps, rates, arrangement, cores)
    print()
    print(
        f"{'app':<9}{'rate/s':>7}{'chunks':>7}{'cpu':>6}{'ms/chunk':>9}{'fps':>6}{'key p50':>9}{'key p90':>9}"
        f"{'paint p50':>11}{'paint p90':>11}{'x static':>10}"
    )
    rows = {(name, rate): combine(runs[name, rate]) for rate in rates for name in apps}
    for rate in rates:
        for name in apps:
            row, base = rows[name, rate], rows.get(("static", rate))
            ratio = f"{row.ms_per_chunk / base.ms_per_chunk:.2f}x" if base else "-"
            print(
                f"{name:<9}{rate:>7g}{int(rate * args.seconds):>7}{row.cpu_share:>6.2f}{row.ms_per_chunk:>9.2f}"
                f"{row.fps:>6.0f}{ms(quantile(row.keys, 0.5)):>9}{ms(quantile(row.keys, 0.9)):>9}"
                f"{ms(quantile(row.paints, 0.5)):>11}{ms(quantile(row.paints, 0.9)):>11}{ratio:>10}",
                flush=True,
            )
    print()
    print("times in ms; cpu: share of one core; x static: median CPU ms per chunk over static's median at the same rate")
    split_report({(name, rate): runs[name, rate] for rate in rates for name in apps})
    if "ours" in apps:
        print()
        goals_report(runs, rows, rates)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
