"""Saving while streaming: a reply streamed with the chat saved, against not saved (issue 14's 1.05x).

Run:  python bench/saving.py [--tui-chunks 8000] [--tui-pairs 6]
                             [--chunks 50000] [--repeat 25] [--flush-interval 0.25]   (~1.75 min)

Two figures: first the tool loop alone (a magnifier, no target), then tui-chat itself (the target).

The target: tui-chat itself. Where a person streams, a chunk costs the app hundreds of
microseconds (parsing, layout, frames), and that is where issue 14 sets "streaming with saving on
within 1.05x of saving off". Each run is `bench/stream_render.py`'s `ours` run: `TuiChatApp`
headless (120x40) on the demo provider at zero delay, a message sent from the prompt, the
`--tui-chunks` chunks of its long Markdown reply streamed as a person sees them, an "x" key sent
through the driver every 100 ms (its latency: to the first frame showing it), the time taken to
the frame that shows the finished reply. Saving on: history as a user's default, in a fresh
temporary data folder (`XDG_DATA_HOME`: a real SQLite file, the app's own recorder and writer,
`history.FLUSH_INTERVAL`), the store opened before the message is sent (as when a person types
once the app has settled); off: as `--no-history` turns it off. Each run in a fresh process (one
app per process, as in use), `--tui-pairs` pairs taking turns at which goes first. Every "on"
run's database is read back after its process ended and must hold the chat with the whole reply,
complete; an "off" run must have made no database: else the bench stops, so it cannot measure
nothing. Figures: per pair, both runs' chunks/s and key p90; then for chunks/s and key latency p90
the median of the per-pair on/off ratios with their middle half (first to third quartile), the
verdict against 1.05x (exit code 1 when either is missed; flagged when the middle half reaches
from below 1x to above the target: a shared machine's noise, not a measured difference) and the
medians of each mode. No target: the p90 of all keys of each mode pooled (a run holds only ~40
keys), and the CPU while the reply streams per chunk, of all threads and of the event loop
(`time.process_time`, `time.thread_time`), paired likewise: saving's own cost, which the wall
clock of a busy machine blurs; and the slowdown that saving's own CPU makes (what it adds to the
event loop per chunk, from the magnifier below, plus what it adds on other threads, from these
runs, over the CPU a chunk costs with saving off): steady where the wall clock is not. Also the
frames drawn and the full garbage collections (medians).

The magnifier: the tool loop alone. The demo provider (no delay: it still hands the event loop
back once per chunk, as a network stream does) streams `--chunks` chunks of a long Markdown reply
through the tool loop's turn, with no display and no output, once with the recorder attached (a
real SQLite file in a temporary folder) and once without, in turn, `--repeat` pairs (0: none).
There the app's own work is ~6 us per chunk, so saving's fixed ~0.5 us per chunk (a list append
and a clock reading, see `store/recorder.py`) reads as 1.07-1.09x: a magnifier of that
cost, no target. Short pairs (25 of 50,000 chunks, ~0.35 s each) outvote a burst of someone
else's work better than a few long ones. So that each shorter run still has its new text written
while it streams, the store writes every `--flush-interval` (0.25 s; the app's is 0.5 s): per
chunk about twice the app's writing. Each run starts once the writer has committed everything of
the run before; that tail is measured apart. Key latency: a thread posts a "key" to the event
loop every 2 ms (`call_soon_threadsafe`, as a terminal's input thread hands Textual its keys) and
the time until the loop runs it is taken. Figures: as above (per-pair ratios of chunks/s and key
p90 with their middle half, the medians), the median slowest key, and where the difference goes:
the event loop thread's CPU per chunk, the writer thread's CPU while the reply streams and after
it until all is committed, and the garbage collections from a run's start until its writes are
committed, with the time they took.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_chat.chunks import ReplyStatus, Role
from tui_chat.conversation import Conversation
from tui_chat.providers.demo import DemoProvider, long_markdown
from tui_chat.providers.registry import ProviderSettings
from tui_chat.store.history import Store, open_store
from tui_chat.store.reads import list_chats, load_chat
from tui_chat.store.recorder import ChatSettings, Recorder
from tui_chat.tools.loop import ToolLoop
from tui_chat.tools.registry import ToolRegistry
from tui_chat.tools.workspace import Workspace

TARGET = 1.05
KEY_EVERY = 0.002
"""Seconds between two keys of the input thread."""
WRITER_THREAD = "tui-chat store writer"
TUI_SIZE = (120, 40)
"""The headless terminal of the tui-chat runs (as `stream_render`'s)."""


@dataclass
class Run:
    """One reply streamed: the figures of that run."""

    rate: float
    """Chunks per second."""
    key_p90_ms: float
    slowest_key_ms: float
    loop_cpu_us: float
    """The event loop thread's CPU per chunk, microseconds."""
    writer_cpu_ms: float
    """The writer thread's CPU while the reply streamed."""
    tail_cpu_ms: float
    """The writer thread's CPU from the reply's end until everything was committed."""
    collections: list[int] = field(default_factory=lambda: [0, 0, 0])
    """Garbage collections during the run and until its writes were committed (on any thread), by generation."""
    gc_ms: float = 0.0


class GcWatch:
    """Counts the collections and the time they take while `active`."""

    def __init__(self) -> None:
        self.active: Run | None = None
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if self.active is None:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.active.collections[info["generation"]] += 1
            self.active.gc_ms += (time.perf_counter() - self._started) * 1000


def _writer_cpu() -> Callable[[], float]:
    """A clock of the store writer thread's CPU seconds."""
    writer = next(t for t in threading.enumerate() if t.name == WRITER_THREAD)
    clock = time.pthread_getcpuclockid(writer.ident)  # type: ignore[arg-type]
    return lambda: time.clock_gettime(clock)


async def _stream(folder: Path, chunks: int, recorder: Recorder | None, run: Run, writer_cpu: Callable[[], float]) -> None:
    """Stream one reply through a turn, filling in `run`'s rate, keys and CPU."""
    provider = DemoProvider(ProviderSettings(options={"speed": 0, "reply_chunks": chunks}))
    loop = ToolLoop(Conversation(provider), ToolRegistry([], workspace=Workspace(folder)), recorder=recorder)
    events = asyncio.get_running_loop()
    keys: list[float] = []
    done = threading.Event()

    def press() -> None:  # the terminal's input thread
        while not done.wait(KEY_EVERY):
            sent = time.perf_counter()
            events.call_soon_threadsafe(lambda sent=sent: keys.append(time.perf_counter() - sent))

    presser = threading.Thread(target=press)
    count = 0
    writer_start = writer_cpu()
    cpu_start = time.thread_time()
    start = time.perf_counter()
    presser.start()
    async for _ in loop.send("stream"):
        count += 1
    elapsed = time.perf_counter() - start
    cpu = time.thread_time() - cpu_start
    run.writer_cpu_ms = (writer_cpu() - writer_start) * 1000
    done.set()
    presser.join()
    run.rate = count / elapsed
    run.loop_cpu_us = cpu / count * 1e6
    run.key_p90_ms = statistics.quantiles(keys, n=10)[-1] * 1000
    run.slowest_key_ms = max(keys) * 1000


def measure(store: Store, folder: Path, chunks: int, repeat: int) -> dict[bool, list[Run]]:
    """`repeat` runs with saving off and on, in turn: off-on, then on-off (each mode follows each
    mode alike: a run after one that saved starts while the machine still writes that run's pages
    back to the disk, which slows whichever mode comes next)."""
    runs: dict[bool, list[Run]] = {False: [], True: []}
    writer_cpu = _writer_cpu()
    watch = GcWatch()
    for pair in range(repeat):
        for saving in (False, True) if pair % 2 == 0 else (True, False):
            recorder = Recorder(store, lambda: ChatSettings("demo", "demo")) if saving else None
            run = Run(0, 0, 0, 0, 0, 0)
            watch.active = run
            asyncio.run(_stream(folder, chunks, recorder, run, writer_cpu))
            tail_start = writer_cpu()
            store.run(lambda conn: None).result()  # what the run wrote is committed before the next starts
            run.tail_cpu_ms = (writer_cpu() - tail_start) * 1000
            watch.active = None
            runs[saving].append(run)
    return runs


def _spread(values: list[float]) -> str:
    """The middle half of `values` (first to third quartile), as `low-high`."""
    low, _, high = statistics.quantiles(values, n=4)
    return f"{low:.3f}-{high:.3f}"


def paired(name: str, shown: Callable[[float], str], off_runs: list[float], on_runs: list[float], *,
           lower_is_better: bool, target: float | None) -> float:
    """Print one figure of paired runs (the i-th off run and the i-th on run were next to each other
    in time): the median of the per-pair on/off slowdowns with their middle half, the verdict
    against `target` (None: no target), and the medians of each mode; returns that slowdown."""
    slower = (lambda off, on: on / off) if lower_is_better else (lambda off, on: off / on)
    pairs = [slower(off, on) for off, on in zip(off_runs, on_runs, strict=True)]
    slowdown = statistics.median(pairs)
    off, on = statistics.median(off_runs), statistics.median(on_runs)
    verdict = "" if target is None else f" target {target}x: {'met' if slowdown <= target else 'MISSED'};"
    low, _, high = statistics.quantiles(pairs, n=4)
    if target is not None and low < 1 < target < high:
        verdict += " (its middle half reaches from below 1x to above the target: within the noise of these pairs);"
    print(f"  {name:<16} {slowdown:.3f}x, median of the pairs (mid half {_spread(pairs)});{verdict}"
          f" medians off {shown(off)}, on {shown(on)}: {slower(off, on):.3f}x")  # fmt: skip
    return slowdown


def report(runs: dict[bool, list[Run]], chunks: int) -> float:
    """Print the tool loop's figures (a magnifier: no target); returns what saving adds to the
    event loop's CPU per chunk (microseconds, the difference of the medians)."""
    off_runs, on_runs = runs[False], runs[True]
    print(f"the tool loop alone: a magnifier of the per-chunk cost, no target ({chunks:,} chunks, saving off and on"
          f" in turn, {len(on_runs)} pairs of runs, no display):")  # fmt: skip
    for name, shown, value, lower_is_better in (
        ("chunks/s", "{:,.0f}".format, lambda r: r.rate, False),
        ("key latency p90", "{:.3f} ms".format, lambda r: r.key_p90_ms, True),
    ):
        paired(name, shown, [value(r) for r in off_runs], [value(r) for r in on_runs],
               lower_is_better=lower_is_better, target=None)  # fmt: skip
    median = lambda saving, value: statistics.median(map(value, runs[saving]))
    print(f"  {'slowest key':<16} median off {median(False, lambda r: r.slowest_key_ms):.3f} ms,"
          f" on {median(True, lambda r: r.slowest_key_ms):.3f} ms")  # fmt: skip
    print("  where it goes (medians per run, off / on):")
    print(f"    event loop CPU     {median(False, lambda r: r.loop_cpu_us):.3f} / {median(True, lambda r: r.loop_cpu_us):.3f} us per chunk")
    print(f"    writer CPU         {median(False, lambda r: r.writer_cpu_ms):.2f} / {median(True, lambda r: r.writer_cpu_ms):.2f} ms while streaming,"
          f" {median(False, lambda r: r.tail_cpu_ms):.2f} / {median(True, lambda r: r.tail_cpu_ms):.2f} ms after the reply")  # fmt: skip
    for generation in range(3):
        count = lambda r, generation=generation: r.collections[generation]
        print(f"    gc generation {generation}    {median(False, count):.0f} / {median(True, count):.0f} collections")
    print(f"    gc time            {median(False, lambda r: r.gc_ms):.2f} / {median(True, lambda r: r.gc_ms):.2f} ms")
    return median(True, lambda r: r.loop_cpu_us) - median(False, lambda r: r.loop_cpu_us)


# -- the target: tui-chat itself ----------------------------------------------------------


def tui_run(saving: bool, chunks: int) -> dict[str, float | int | str]:
    """In a child process: tui-chat streams one reply headless (`stream_render`'s `ours` run, its
    key presses and frame probe), saving to the user data folder (which the parent made a fresh
    temporary one) or with history off as `--no-history` turns it off; the figures as a dict."""
    import stream_render  # textual and the whole app: only in the child that runs it

    from tui_chat.session import Choices, start_history
    from tui_chat.store.database import default_path

    target = stream_render.ours_app(chunks)
    session = target.app.session
    cpu: dict[str, float] = {}

    async def stream(app: stream_render.App) -> None:  # the ours stream, its CPU timed: all threads', and the loop's
        start, loop_start = time.process_time(), time.thread_time()
        await ours_stream(app)
        cpu["process"], cpu["loop"] = time.process_time() - start, time.thread_time() - loop_start

    ours_stream, target.stream = target.stream, stream
    start_history(session, Choices(no_history=not saving))  # the store opened now: as a person who types once the app has settled
    try:
        result, _ = asyncio.run(stream_render.run_one("saving", target, chunks, TUI_SIZE))
    finally:
        session.close_history()  # as the app's command does at exit: what is queued is committed
    key_p90 = result.key(0.9)
    if key_p90 is None:
        raise SystemExit("no key press fell inside the reply: use more --tui-chunks")
    return {"rate": result.rate, "key_p90_ms": key_p90 * 1000, "keys_ms": [key * 1000 for key in result.key_latencies],
            "frames": result.frames, "cpu_us": cpu["process"] / chunks * 1e6, "loop_cpu_us": cpu["loop"] / chunks * 1e6,
            "gc2": len(result.gc_pauses), "gc2_ms": sum(result.gc_pauses) * 1000,
            "database": str(default_path())}  # fmt: skip


def check_saved(database: Path, saving: bool, chunks: int) -> None:
    """Make sure a run measured what it says: with saving on, the whole reply is in the database
    (read back through the store), and with it off, no database was made."""
    if not saving:
        if database.exists():
            raise SystemExit(f"saving off, yet {database} was made")
        return
    if not database.exists():
        raise SystemExit(f"saving on, yet there is no {database}")
    store = open_store(database)
    try:
        chats = store.run(list_chats).result()
        messages = store.run(load_chat, chats[0].id).result().messages if len(chats) == 1 else ()
    finally:
        store.close()
    reply = "".join(long_markdown(chunks))
    if [(m.role, m.text, m.status) for m in messages] != [(Role.USER, "benchmark", ReplyStatus.COMPLETE), (Role.ASSISTANT, reply, ReplyStatus.COMPLETE)]:
        raise SystemExit(f"saving on, yet {database} does not hold the chat and its whole reply: {len(chats)} chats,"
                         f" messages {[(m.role, len(m.text), m.status) for m in messages]}")  # fmt: skip


def tui_measure(chunks: int, pairs: int) -> dict[bool, list[dict]]:
    """`pairs` pairs of tui-chat runs, saving off and on, each in a fresh process with a fresh data
    folder; the pairs take turns at which goes first. Each run's saving is checked."""
    runs: dict[bool, list[dict]] = {False: [], True: []}
    for pair in range(pairs):
        for saving in (False, True) if pair % 2 == 0 else (True, False):
            with tempfile.TemporaryDirectory(prefix="tui-chat-bench-") as folder:
                env = {**os.environ, "XDG_DATA_HOME": folder, "XDG_STATE_HOME": folder}
                command = [sys.executable, __file__, "--run", "on" if saving else "off", "--tui-chunks", str(chunks)]
                done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
                if done.returncode != 0:
                    raise SystemExit(f"the saving {'on' if saving else 'off'} run failed:\n{done.stderr[-4000:]}")
                run = json.loads(done.stdout.strip().splitlines()[-1])
                check_saved(Path(run["database"]), saving, chunks)
            runs[saving].append(run)
        off, on = runs[False][-1], runs[True][-1]
        print(f"  pair {pair + 1} ({'off' if pair % 2 == 0 else 'on'} first): chunks/s off {off['rate']:,.0f}, on {on['rate']:,.0f};"
              f" key p90 off {off['key_p90_ms']:.1f} ms, on {on['key_p90_ms']:.1f} ms ({len(off['keys_ms'])}/{len(on['keys_ms'])} keys)",
              flush=True)  # fmt: skip
    return runs


def tui_report(runs: dict[bool, list[dict]], loop_cost_us: float | None) -> float:
    """Print the target's figures, and the CPU per chunk (no target: what saving costs the machine,
    which the wall clock of a shared machine blurs); with `loop_cost_us` (what saving adds to the
    event loop per chunk, from the tool loop alone, where it stands out), the slowdown saving's own
    CPU makes. Returns the worse of the two slowdowns."""
    figures = lambda key: ([r[key] for r in runs[False]], [r[key] for r in runs[True]])
    slowdowns = [
        paired(name, shown, *figures(key), lower_is_better=lower_is_better, target=TARGET)
        for name, shown, key, lower_is_better in (
            ("chunks/s", "{:,.0f}".format, "rate", False),
            ("key latency p90", "{:.1f} ms".format, "key_p90_ms", True),
        )
    ]
    pooled = lambda saving: statistics.quantiles([key for r in runs[saving] for key in r["keys_ms"]], n=10)[-1]
    print(f"  {'key latency p90 of all keys pooled':<34} off {pooled(False):.1f} ms, on {pooled(True):.1f} ms:"
          f" {pooled(True) / pooled(False):.3f}x (no target: steadier than one run's few keys, not paired)")  # fmt: skip
    print("  where it goes (no target; CPU while the reply streams, per chunk):")
    paired("  all threads", "{:.1f} us".format, *figures("cpu_us"), lower_is_better=True, target=None)
    paired("  event loop", "{:.1f} us".format, *figures("loop_cpu_us"), lower_is_better=True, target=None)
    others = lambda saving: statistics.median(r["cpu_us"] - r["loop_cpu_us"] for r in runs[saving])
    print(f"    other threads (the store's writer among them): medians off {others(False):.2f} us, on {others(True):.2f} us")
    if loop_cost_us is not None:
        own = loop_cost_us + others(True) - others(False)
        per_chunk = statistics.median(r["cpu_us"] for r in runs[False])
        print(f"    saving's own CPU: +{loop_cost_us:.2f} us on the event loop (the tool loop alone) and"
              f" +{others(True) - others(False):.2f} us on other threads (here), of the {per_chunk:.0f} us a chunk"
              f" costs with saving off: {(per_chunk + own) / per_chunk:.4f}x (an estimate, no target)")  # fmt: skip
    median = lambda saving, key: statistics.median(r[key] for r in runs[saving])
    print(f"    frames             medians off {median(False, 'frames'):.0f}, on {median(True, 'frames'):.0f}")
    print(f"    full collections   medians off {median(False, 'gc2'):.0f} taking {median(False, 'gc2_ms'):.1f} ms,"
          f" on {median(True, 'gc2'):.0f} taking {median(True, 'gc2_ms'):.1f} ms")  # fmt: skip
    print("  (every saving-on run's reply was read back whole from its database; no saving-off run made one)")
    return max(slowdowns)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=50_000, help="chunks per reply through the tool loop alone")
    parser.add_argument("--repeat", type=int, default=25, help="pairs of tool-loop runs: saving off, and on (0: none)")
    parser.add_argument("--flush-interval", type=float, default=0.25, help="seconds between the writer's writes of new text (tool loop)")
    parser.add_argument("--tui-chunks", type=int, default=8_000, help="chunks per reply in tui-chat itself")
    parser.add_argument("--tui-pairs", type=int, default=6, help="pairs of tui-chat runs: saving off, and on")
    parser.add_argument("--run", choices=("on", "off"), help=argparse.SUPPRESS)  # a child: one tui-chat run
    args = parser.parse_args()
    if args.run:
        print(json.dumps(tui_run(args.run == "on", args.tui_chunks)))
        return 0
    loop_cost_us = None
    if args.repeat:
        with tempfile.TemporaryDirectory(prefix="tui-chat-bench-") as folder:
            store = open_store(Path(folder) / "saving.db", flush_interval=args.flush_interval)
            try:
                runs = measure(store, Path(folder), args.chunks, args.repeat)
            finally:
                store.close()
        loop_cost_us = report(runs, args.chunks)
        print()
    print(f"streaming in tui-chat itself, the target ({args.tui_chunks:,} chunks, headless {TUI_SIZE[0]}x{TUI_SIZE[1]},"
          f" saving off and on, {args.tui_pairs} pairs of runs, one process each):", flush=True)  # fmt: skip
    slowdown = tui_report(tui_measure(args.tui_chunks, args.tui_pairs), loop_cost_us)
    return 0 if slowdown <= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
