"""bench/paired_ratio.py: the interval of a median of per-pair ratios and the verdict it gives."""

from __future__ import annotations

import math
from collections.abc import Iterator
from types import ModuleType

import pytest

from tests.bench_scripts import bench_module


@pytest.fixture(scope="module")
def paired_ratio() -> Iterator[ModuleType]:
    yield from bench_module("paired_ratio")


def coverage(n: int, k: int) -> float:
    """The chance that the k-th smallest and the k-th largest of n samples hold the true median:
    not if fewer than k samples fall below it, nor fewer than k above it."""
    return 1 - 2 * sum(math.comb(n, i) for i in range(k)) / 2**n


@pytest.mark.parametrize("n", range(1, 41))
def test_median_interval_is_the_tightest_that_holds_the_median_often_enough(paired_ratio, n: int) -> None:
    values = [float(rank) for rank in range(n, 0, -1)]  # any order: ranks 1..n
    low, high = paired_ratio.median_interval(values, 0.90)
    k = int(low)
    assert high == n + 1 - k  # as many values above it as below
    if coverage(n, 1) >= 0.90:
        assert coverage(n, k) >= 0.90
        assert k + 1 > (n + 1) // 2 or coverage(n, k + 1) < 0.90
    else:  # too few pairs for that: the whole range
        assert (low, high) == (1, n)


def test_median_interval_of_a_few_pairs(paired_ratio) -> None:
    assert paired_ratio.median_interval([1.2, 0.9, 1.0, 1.1, 1.3, 0.8, 1.05, 0.95, 1.15, 1.0]) == (0.9, 1.2)


def test_verdict_is_met_only_when_the_whole_interval_is_within_the_target(paired_ratio) -> None:
    met = paired_ratio.Verdict(1.01, 0.98, 1.04, 1.05)
    missed = paired_ratio.Verdict(1.12, 1.07, 1.20, 1.05)
    unresolved = paired_ratio.Verdict(1.01, 0.90, 1.12, 1.05)
    assert (met.met, met.missed) == (True, False) and str(met).endswith("met")
    assert (missed.met, missed.missed) == (False, True) and "MISSED" in str(missed)
    assert (unresolved.met, unresolved.missed) == (False, False) and "not resolved" in str(unresolved)
