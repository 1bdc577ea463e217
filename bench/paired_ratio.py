"""The median of per-pair ratios, its interval and its verdict against a bar: how the benches read
paired runs (`saving.py`'s on/off pairs, `stream_rate.py`'s ours/static pairs).

The runs of a pair are made next to each other in time (`concurrent_runs`), so each pair's ratio
cancels the machine's drift; the median of the ratios is the figure, with an interval that holds
the true median at least `CONFIDENCE` of the time whatever the ratios' distribution (order
statistics), and the verdict: met when the whole interval is within the bar, MISSED when all of it
is above, else not resolved by these pairs. Light (no textual, no app): a bench's children need
none of it, its parent all of it.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass

CONFIDENCE = 0.90
"""How sure the interval of a median of per-pair ratios is (see `median_interval`)."""


def median_interval(values: list[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """An interval holding the true median of what `values` are samples of, at least `confidence`
    of the time, whatever their distribution: from the k-th smallest to the k-th largest value,
    with k the largest for which fewer than k of n values fall below the median with a chance of at
    most (1 - confidence) / 2 (each falls below it with a chance of one half). With too few values
    for that, the smallest and the largest."""
    ordered = sorted(values)
    n, k, below = len(ordered), 1, 0.0
    while k < (n + 1) // 2:
        below += math.comb(n, k - 1) / 2**n  # the chance that fewer than k fall below the median
        if below + math.comb(n, k) / 2**n > (1 - confidence) / 2:
            break
        k += 1
    return ordered[k - 1], ordered[n - k]


@dataclass(frozen=True)
class Verdict:
    """Where a median slowdown stands against its target: met when even its interval's top is
    within the target, missed when even its bottom is above it, else not resolved by these pairs
    (the machine's noise is larger than the difference the target is about)."""

    slowdown: float
    low: float
    high: float
    target: float

    @property
    def met(self) -> bool:
        return self.high <= self.target

    @property
    def missed(self) -> bool:
        return self.low > self.target

    def __str__(self) -> str:
        if self.met:
            return f"target {self.target}x: met"
        if self.missed:
            return f"target {self.target}x: MISSED"
        return f"target {self.target}x: not resolved (the interval holds it: these pairs cannot tell)"


def slowdowns(off_runs: list[float], on_runs: list[float], *, lower_is_better: bool) -> list[float]:
    """The per-pair slowdowns of the on runs against the off runs (above 1: on is worse)."""
    slower = (lambda off, on: on / off) if lower_is_better else (lambda off, on: off / on)
    return [slower(off, on) for off, on in zip(off_runs, on_runs, strict=True)]


def paired(name: str, shown: Callable[[float], str], off_runs: list[float], on_runs: list[float], *,
           lower_is_better: bool, target: float | None, sides: tuple[str, str] = ("off", "on")) -> Verdict | None:
    """Print one figure of paired runs (the i-th off run and the i-th on run were next to each other
    in time): the median of the per-pair on/off slowdowns with its interval (`median_interval`),
    the verdict against `target` (None: no target), and the medians of each mode (named `sides`);
    returns the verdict."""
    pairs = slowdowns(off_runs, on_runs, lower_is_better=lower_is_better)
    slowdown = statistics.median(pairs)
    low, high = median_interval(pairs)
    verdict = None if target is None else Verdict(slowdown, low, high, target)
    off, on = statistics.median(off_runs), statistics.median(on_runs)
    medians = slowdowns([off], [on], lower_is_better=lower_is_better)[0]
    print(f"  {name:<16} {slowdown:.3f}x, median of the pairs ({CONFIDENCE:.0%} interval {low:.3f}-{high:.3f});"
          f"{'' if verdict is None else f' {verdict};'} medians {sides[0]} {shown(off)}, {sides[1]} {shown(on)}: {medians:.3f}x")  # fmt: skip
    return verdict
