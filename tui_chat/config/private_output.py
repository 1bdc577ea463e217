"""Writing what a command was told to write to a file (`-o FILE`): private and whole, or written
through when the name is not a file to replace (a pipe, a terminal, the process's own output)."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from ..errors import ConfigError
from .editing import atomic_write_secret


def write_private_output(path: Path, text: str) -> None:
    """Write an export to `path`, as private as the config and never half-written.

    A file (or a name not taken yet) is replaced atomically, mode 0600; through a symbolic link,
    the file it names is (the link stays). What is not a file to replace is written through, as
    a person naming it means: this process's own standard output (`-o /dev/stdout`, or any name
    of it: a redirect to a file, even appending, keeps what it holds and where it goes), and a
    terminal, pipe or device (`/dev/tty`, a FIFO, `>(gzip > chat.gz)`).
    """
    try:
        found = path.stat()
    except OSError:
        found = None
    if found is not None and _is_standard_output(found):
        sys.stdout.write(text)
        sys.stdout.flush()
    elif found is not None and not stat.S_ISREG(found.st_mode):
        try:
            with path.open("w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as error:
            raise ConfigError(f"cannot write {path}: {error.strerror or error}") from None
    else:
        atomic_write_secret(Path(os.path.realpath(path)) if path.is_symlink() else path, text)


def _is_standard_output(found: os.stat_result) -> bool:
    """Is `found` (a file's status) the file this process's standard output writes to?"""
    try:
        ours = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # (no real descriptor: captured, closed)
        return False
    return (found.st_dev, found.st_ino) == (ours.st_dev, ours.st_ino)
