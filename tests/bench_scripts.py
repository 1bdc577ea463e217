"""Importing the bench scripts in tests, as they import each other (their folder on the path)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench_module(name: str) -> Iterator[ModuleType]:
    """The bench script `name` imported as the scripts import each other (their folder on the path),
    for as long as the generator is not resumed; then the path and the modules as they were."""
    before = set(sys.modules)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(BENCH))
        yield importlib.import_module(name)
    for added in set(sys.modules) - before:
        if getattr(sys.modules[added], "__file__", None) and Path(sys.modules[added].__file__).parent == BENCH:
            del sys.modules[added]
