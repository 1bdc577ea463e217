"""Two bench runs made at the same moment, each in a child process placed as planned.

This VM's speed drifts up to 1.6x over minutes (identical runs one after another took 915-1,454 us
of CPU per chunk), so two runs made one after the other see different machines, and a ratio of
the two carries that drift. Two runs made at the same moment, each on its own core, see the same
drift (runs started together differ by 0-8%). A benchmark compares two sides (the baseline,
`side` False, and the other, True), a pair of runs at a time, made as its plan says
(`ARRANGEMENTS`):

  pinned      at the same moment, each pinned to its own core (`os.sched_setaffinity` in the
              child, before any of its threads starts: they all inherit it; checked from the
              cores the child reports), the cores swapped every pair, so that a core faster than
              the other favours neither side;
  together    at the same moment, unpinned: the scheduler spreads both runs and others' work over
              both cores (steadier when others' work loads one core more than the other);
  sequential  one after the other, unpinned, the pairs taking turns at which goes first (the only
              way with fewer than two usable cores).

At the same moment: both children build what they measure, print "ready" and wait for a line
("go") on their standard input; once both are ready the parent sends it to both. The core of the
run that ends first is then kept busy by a spinning process until the other has ended, so that
the slower run does not have the machine to itself at its end, which would pull the pair towards
1x; how far apart they ended is returned ("apart").

The child's side: `add_child_options` (its `--core` and `--together`), `take_core` first thing,
`wait_for_go` once it is ready, and its figures as one JSON line, the last it prints, holding
`usable_cores()` as "cores". What concurrency can bias is the caller's to say (it depends on what
is measured): the runs share the L3 cache, the memory bandwidth and the disk; a spinner keeps a
core busy but not its cache; anything timed on wall time runs alike in both.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

ARRANGEMENTS = ("pinned", "together", "sequential")
"""How a pair's two runs are made: at the same time, each pinned to its own core; at the same time,
unpinned; one after the other, unpinned."""


@dataclass(frozen=True)
class Placement:
    """One run of a pair: its side of the comparison (False: the baseline; True: the other), the core
    it is pinned to (None: not pinned), and whether it runs at the same time as the other run of its
    pair."""

    side: bool
    core: int | None
    together: bool


P = TypeVar("P", bound=Placement)

ALONE = Placement(False, None, False)
"""A run made by itself: unpinned, starting at once."""


def two_cores(usable: set[int]) -> tuple[int, int] | None:
    """The two cores concurrent pairs run on (the lowest two of `usable`), or None with fewer than two."""
    lowest = sorted(usable)[:2]
    return (lowest[0], lowest[1]) if len(lowest) == 2 else None


def arrangement(asked: str | None, cores: tuple[int, int] | None, concurrent: str) -> str:
    """The arrangement to use: the one `asked` for, else `concurrent` with two usable `cores`, else
    "sequential". ValueError when pinned pairs are asked for without two cores."""
    if asked == "pinned" and cores is None:
        raise ValueError("pinned pairs need two usable cores")
    return asked or ("sequential" if cores is None else concurrent)


def described(arrangement: str, cores: tuple[int, int] | None) -> str:
    """How the pairs of `arrangement` are made, in words."""
    return {"sequential": "one after the other", "together": "both at once, unpinned",
            "pinned": f"both at once, on cores {cores and cores[0]} and {cores and cores[1]} (swapped every pair)"}[arrangement]  # fmt: skip


def pair_plan(pairs: int, arrangement: str, cores: tuple[int, int] | None = None) -> list[tuple[Placement, Placement]]:
    """The placements of `pairs` pairs, made as `arrangement` says (`ARRANGEMENTS`): "pinned", a
    pair's two runs at the same time, each pinned to one of `cores`, the cores swapped every pair
    (baseline first); "together", at the same time, unpinned; "sequential", one after the other,
    the pairs taking turns at which goes first (the run that goes first is the pair's first)."""
    plan: list[tuple[Placement, Placement]] = []
    for pair in range(pairs):
        if arrangement == "sequential":
            first = pair % 2 == 1
            plan.append((Placement(first, None, False), Placement(not first, None, False)))
        else:
            base, other = (None, None) if arrangement == "together" or cores is None else cores[:: 1 if pair % 2 == 0 else -1]
            plan.append((Placement(False, base, True), Placement(True, other, True)))
    return plan


def how_made(pair: tuple[Placement, Placement], name: Callable[[Placement], str], apart: float | None) -> str:
    """How `pair`'s runs were made, each called by `name`: which went first, or which core each was
    pinned to, and how far apart (seconds) they ended."""
    base, other = sorted(pair, key=lambda placement: placement.side)
    if not base.together:
        return f"{name(pair[0])} first"
    if base.core is None:
        return f"{name(base)} and {name(other)} at once, unpinned, ended {apart:.2f} s apart"
    return f"{name(base)} on core {base.core}, {name(other)} on core {other.core}, ended {apart:.2f} s apart"


# -- the child's side ------------------------------------------------------------------------


def add_child_options(parser: argparse.ArgumentParser) -> None:
    """The options the parent gives a child of a pair (hidden: no person passes them)."""
    parser.add_argument("--core", type=int, help=argparse.SUPPRESS)  # the core it is pinned to
    parser.add_argument("--together", action="store_true", help=argparse.SUPPRESS)  # wait for "go"


def take_core(core: int | None) -> None:
    """Pin this process to `core` (None: leave it). Call it before any thread starts: they all inherit it."""
    if core is not None:
        os.sched_setaffinity(0, {core})


def wait_for_go() -> None:
    """Say "ready" to the parent and wait until it says go (its line on our standard input)."""
    print("ready", flush=True)
    sys.stdin.readline()


def usable_cores() -> list[int]:
    """The cores this process may run on (the parent checks a pinned run's against its plan)."""
    return sorted(os.sched_getaffinity(0))


def core_wait() -> float:
    """The seconds the calling thread has waited for a core while it could run (Linux's schedstat):
    the time other threads, its own process's or anyone's, held the core it was on."""
    return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e9


# -- the parent's side -----------------------------------------------------------------------


def start(placement: Placement, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A child process running `argv` (a command of this Python) placed as `placement` says."""
    command = [sys.executable, *argv] + ([] if placement.core is None else ["--core", str(placement.core)])
    command += ["--together"] if placement.together else []
    return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def figures(placement: Placement, child: subprocess.Popen[str], name: str) -> dict:
    """The figures of `name`'s run once its child has ended (its output read to the end): its last
    line, JSON; a pinned run's cores checked against its placement."""
    out, err = child.communicate()  # (after "ready", a child writes nothing until its figures: none was left in a buffer)
    if child.returncode != 0:
        raise SystemExit(f"the {name} run failed:\n{err[-4000:]}")
    run = json.loads(out.strip().splitlines()[-1])
    if placement.core is not None and run["cores"] != [placement.core]:
        raise SystemExit(f"a run meant for core {placement.core} ran on cores {run['cores']}")
    return run


def run_alone(argv: list[str], name: str, env: dict[str, str] | None = None) -> dict:
    """One run by itself (`ALONE`): its figures."""
    return figures(ALONE, start(ALONE, argv, env), name)


def run_pair(
    pair: tuple[P, P],
    argv: Callable[[P], list[str]],
    name: Callable[[P], str],
    check: Callable[[P, dict], dict] = lambda placement, run: run,
    env: Callable[[P], dict[str, str] | None] = lambda placement: None,
) -> dict[bool, dict]:
    """Both runs of a pair, each a child running `argv(placement)` (with `env(placement)`), called
    `name(placement)` in errors: one after the other, or at the same time: both start once both are
    ready, and the core of the one that ends first (pinned; else a core) is kept busy by a spinning
    process until the other has ended. Each run's figures (`figures`, then `check`ed: it returns
    them, or raises SystemExit) by its side, with, when together, how many seconds apart the two
    ended ("apart")."""
    if not pair[0].together:
        return {p.side: check(p, figures(p, start(p, argv(p), env(p)), name(p))) for p in pair}
    children = {p: start(p, argv(p), env(p)) for p in pair}
    for placement, child in children.items():
        if child.stdout.readline() != "ready\n":  # type: ignore[union-attr]
            raise SystemExit(f"the {name(placement)} run failed to start:\n{child.communicate()[1][-4000:]}")
    for child in children.values():
        child.stdin.write("go\n")  # type: ignore[union-attr]
        child.stdin.flush()  # type: ignore[union-attr]
    ended: queue.Queue[P] = queue.Queue()
    done: dict[P, dict | SystemExit] = {}

    def finish(placement: P) -> None:  # (reads the child's output as it comes: a full pipe cannot stall it)
        try:
            done[placement] = check(placement, figures(placement, children[placement], name(placement)))
        except SystemExit as failed:
            done[placement] = failed
        ended.put(placement)

    waiters = [threading.Thread(target=finish, args=(placement,)) for placement in pair]
    for waiter in waiters:
        waiter.start()
    first = ended.get()
    first_at = time.perf_counter()
    spin = ("" if first.core is None else f"import os\nos.sched_setaffinity(0, {{{first.core}}})\n") + "while True: pass"
    spinner = subprocess.Popen([sys.executable, "-c", spin])
    ended.get()
    apart = time.perf_counter() - first_at
    spinner.kill()
    spinner.wait()
    for waiter in waiters:
        waiter.join()
    for run in done.values():
        if isinstance(run, SystemExit):
            raise run
    return {placement.side: run | {"apart": apart} for placement, run in done.items()}  # type: ignore[operator]
