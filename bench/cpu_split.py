"""Where a run's CPU goes (`stream_rate.py --split`), timed inside the child by hooks on the classes.

What is counted where, and why:

  layout frames  `Screen._refresh_layout`: the reflow and the frame it renders (a frame refresh
                 called inside a layout is the layout's: its cost is the layout's doing)
  other frames   the screen's frame refresh outside a layout (`Screen._on_timer_update`,
                 `Screen._compositor_refresh`)
  flushes        `StreamingMarkdown._flush`, its synchronous steps only: while it awaits (a mount,
                 the lock) the loop runs others' work, which is theirs, not the flush's
  collector      the garbage collector (`gc.callbacks`), by generation: taken out of whatever part
                 it interrupts, since the part did not ask for it
  rest           the run's CPU (`time.process_time`) less all the parts: the sender, keys, the
                 app's other work

No cProfile: it slows every call, the cheap ones most, and so skews the very split it reports; the
hooks cost a few microseconds a call (a few hundred calls a second). They are installed in the
child only (both runs of a pair alike), never in the app's code. `split_report` prints the split in
the parent.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import threading
import time
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from textual.screen import Screen

from tui_chat.ui.widgets.markdown.streaming import StreamingMarkdown

LAYOUT_FRAMES, OTHER_FRAMES, FLUSHES = "layout frames", "other frames", "flushes"
COLLECTOR = tuple(f"collector gen {generation}" for generation in range(3))
PARTS = (LAYOUT_FRAMES, OTHER_FRAMES, FLUSHES, *COLLECTOR)
"""The parts of a run's CPU `CpuSplit` takes apart (the rest is what none of them took)."""
JOINS = {OTHER_FRAMES: LAYOUT_FRAMES}
"""A part that, called inside the other, is that other's: the frame a layout renders is the layout's."""
HOOKS = (
    (Screen, "_refresh_layout", LAYOUT_FRAMES),
    (Screen, "_on_timer_update", OTHER_FRAMES),
    (Screen, "_compositor_refresh", OTHER_FRAMES),
    (StreamingMarkdown, "_flush", FLUSHES),
)
"""The methods `CpuSplit` times: (class, name, part)."""


class CpuSplit:
    """Times the parts of a run's CPU (`PARTS`, see the module's docstring) while `on`, each with
    the CPU clock of the thread it runs on, through hooks on the classes (so every instance alike,
    made before or after).

    Each hook wraps the method on the class named and on every subclass defining its own (a mixin's
    override calling the base's counts once). Parts exclude each other: a part called inside
    another is taken out of it (the collector always), except a frame refresh inside a layout,
    which is the layout's (`JOINS`), and a part inside itself. So the parts never add up to more
    than the CPU they ran on: the rest is the run's CPU (`time.process_time`) less their sum.
    Counts: the calls not inside another of the same part (for the collector, collections)."""

    def __init__(self) -> None:
        self.on = False
        self.seconds = dict.fromkeys(PARTS, 0.0)
        self.counts = dict.fromkeys(PARTS, 0)
        self._threads = threading.local()  # per thread: the stack of parts running, innermost last

    def install(self, hooks: tuple[tuple[type, str, str], ...] = HOOKS) -> None:
        """Put the hooks in place, and `collector` among the collector's callbacks (for good: in a
        child that makes one run)."""
        for base, name, part in hooks:
            self._hook(base, name, part)
        gc.callbacks.append(self.collector)

    def figures(self, cpu: float) -> dict[str, tuple[float, int]]:
        """Each part's CPU seconds and count, and the rest of `cpu` (the run's CPU seconds)."""
        return {part: (self.seconds[part], self.counts[part]) for part in PARTS} | {"rest": (cpu - sum(self.seconds.values()), 0)}

    def _hook(self, base: type, name: str, part: str) -> None:
        for kind in (base, *_subclasses(base)):
            if name in vars(kind):
                method = vars(kind)[name]
                setattr(kind, name, self._stepped(method, part) if asyncio.iscoroutinefunction(method) else self._timed(method, part))

    def _timed(self, method: Callable[..., Any], part: str) -> Callable[..., Any]:
        @functools.wraps(method)  # (Textual counts a callback's parameters through its signature)
        def timed(*args: Any, **kwargs: Any) -> Any:
            entered = self._enter(part, counted=True)
            try:
                return method(*args, **kwargs)
            finally:
                if entered:
                    self._leave()

        return timed

    def _stepped(self, method: Callable[..., Coroutine[Any, Any, Any]], part: str) -> Callable[..., Coroutine[Any, Any, Any]]:
        @functools.wraps(method)
        async def stepped(*args: Any, **kwargs: Any) -> Any:
            return await _Steps(method(*args, **kwargs), self, part)

        return stepped

    def _stack(self) -> list[list[Any]]:
        stack = getattr(self._threads, "stack", None)
        if stack is None:
            stack = self._threads.stack = []
        return stack

    def _enter(self, part: str, *, counted: bool) -> bool:
        """Start timing `part` on this thread, pausing the part it is called in; False (nothing to
        leave) when off, or when it belongs to the part it is called in."""
        stack = self._stack()
        if not self.on or (stack and stack[-1][0] in (part, JOINS.get(part))):
            return False
        now = time.thread_time()
        if stack:
            outer = stack[-1]
            self.seconds[outer[0]] += now - outer[1]
        stack.append([part, now])
        self.counts[part] += counted
        return True

    def _leave(self) -> None:
        """Stop timing this thread's innermost part, resuming the one it was called in."""
        stack = self._stack()
        part, since = stack.pop()
        now = time.thread_time()
        self.seconds[part] += now - since
        if stack:
            stack[-1][1] = now

    def collector(self, phase: str, info: dict[str, int]) -> None:
        """The garbage collector's callback: times a collection as its generation's part."""
        if phase == "start":
            self._enter(COLLECTOR[info["generation"]], counted=True)
        elif self._stack() and self._stack()[-1][0] == COLLECTOR[info["generation"]]:
            self._leave()


def _subclasses(kind: type) -> list[type]:
    """Every class deriving from `kind`, at any depth (those defined by now)."""
    found = []
    for sub in kind.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


class _Steps:
    """Awaits `coroutine`, timing each step it runs (from being resumed to its next wait) as
    `part`, and counting it once: not the time it waits, when others run."""

    def __init__(self, coroutine: Coroutine[Any, Any, Any], split: CpuSplit, part: str) -> None:
        self.coroutine, self.split, self.part = coroutine, split, part

    def __await__(self) -> Generator[Any, Any, Any]:
        sent: Any = None
        thrown: BaseException | None = None
        counted = True
        while True:
            entered = self.split._enter(self.part, counted=counted)
            counted = False
            try:
                step = self.coroutine.send(sent) if thrown is None else self.coroutine.throw(thrown)
            except StopIteration as done:
                return done.value
            finally:
                if entered:
                    self.split._leave()
            try:
                sent, thrown = (yield step), None
            except GeneratorExit:
                self.coroutine.close()
                raise
            except BaseException as error:  # noqa: BLE001  (a cancellation among them: the coroutine's to handle)
                sent, thrown = None, error


def split_report(runs: dict[tuple[str, float], list[dict]]) -> None:
    """Print where the CPU went (`CpuSplit`), for each app and rate measured with it: each part as
    CPU ms per 8 s of streaming, share of the runs' CPU and count per run, the runs summed (so the
    parts and the rest add up to the total)."""
    columns = [(key, measured) for key, measured in runs.items() if measured[0].get("split")]
    if not columns:
        return
    print()
    print("where the CPU goes (--split; the runs of each summed: CPU ms per 8 s of streaming, share of the CPU, count per run):")
    print(f"{'':<17}" + "".join(f"{f'{app} {rate:g}/s':>26}" for (app, rate), _ in columns))
    for part in (*PARTS, "rest", "total"):
        cells = []
        for _, measured in columns:
            wall, cpu = sum(run["wall"] for run in measured), sum(run["cpu"] for run in measured)
            seconds = cpu if part == "total" else sum(run["split"][part][0] for run in measured)
            count = 0 if part in ("rest", "total") else sum(run["split"][part][1] for run in measured) / len(measured)
            cells.append(f"{seconds / wall * 8000:>9,.0f} ms{seconds / cpu:>6.0%}{'' if part in ('rest', 'total') else f'{count:>8,.0f}':>8}")
        print(f"{part:<17}" + "".join(f"{cell:>26}" for cell in cells))
