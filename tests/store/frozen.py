"""Making a folder and its files unwritable for the test's process, root included (the immutable
flag, `chattr +i`; a plain chmod stops everyone but root)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def frozen(folder: Path) -> Iterator[None]:
    """`folder` and every file in it cannot be written, made, renamed or removed inside the block."""
    paths = [folder, *folder.iterdir()]
    if os.geteuid() != 0:
        modes = {path: path.stat().st_mode for path in paths}
        for path in paths:
            path.chmod(0o500 if path.is_dir() else 0o400)
        try:
            yield
        finally:
            for path, mode in modes.items():
                path.chmod(mode)
        return
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", *map(str, paths)], check=False).returncode:
        pytest.skip("root, and this file system has no immutable flag (chattr +i)")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)
