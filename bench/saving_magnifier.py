"""`saving.py`'s magnifier: a reply streamed through the tool loop alone (no display), with the
recorder attached and without, in turn. There the app's own work is ~6 us per chunk, so saving's
fixed per-chunk cost stands out (no target); `measure` makes the runs and `report` prints their
figures and returns what saving adds to the event loop per chunk. How the runs are made and what
each figure is: `saving`'s docstring, "The magnifier"."""

from __future__ import annotations

import asyncio
import gc
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from paired_ratio import paired

from tui_chat.conversation import Conversation
from tui_chat.providers.demo import DemoProvider
from tui_chat.providers.registry import ProviderSettings
from tui_chat.store.history import Store
from tui_chat.store.recorder import ChatSettings, Recorder
from tui_chat.tools.loop import ToolLoop
from tui_chat.tools.registry import ToolRegistry
from tui_chat.tools.workspace import Workspace

KEY_EVERY = 0.002
"""Seconds between two keys of the input thread."""
WRITER_THREAD = "tui-chat store writer"


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
