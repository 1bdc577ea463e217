"""Writing the config: atomic, private (0600) writes, and one setting changed keeping the user's comments and layout.

Writing refuses to replace a file it cannot parse. `tomlkit`, which keeps a file's layout, is
imported only when a setting is written, never at start-up, and so is `tempfile` (13 ms).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .loading import read_toml


def atomic_write_secret(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically, readable and writable by its owner alone.

    The temporary file is created in the same folder by `tempfile.mkstemp`, which opens it with
    O_CREAT | O_EXCL and mode 0600, so there is never a moment when the content is readable by
    others; it is fsynced before `os.replace`, so a crash leaves the old file or the new one, never
    half of one. Missing parent folders are created with mode 0700.
    """
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        import tempfile  # only when writing: it costs 13 ms at start-up

        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise ConfigError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise ConfigError(f"cannot write {path}: {error.strerror or error}") from None
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable, where the platform allows opening a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def set_value(path: Path, dotted_key: str, value: Any) -> None:
    """Set `dotted_key` (e.g. "theme", "providers.demo.speed") to `value` in the file at `path`.

    Everything else in the file (comments, blank lines, order, the way values are written) stays
    as it was. A file that does not parse is never touched: ConfigError instead.
    """
    import tomlkit  # only when writing: it costs ~25 ms to import

    keys = tuple(dotted_key.split("."))
    if not all(keys):
        raise ConfigError(f"invalid setting name {dotted_key!r}")
    try:
        text = read_toml(path)[0] if path.exists() else ""
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    document = tomlkit.parse(text)
    table: Any = document
    for depth, key in enumerate(keys[:-1], start=1):
        if key not in table:
            table[key] = tomlkit.table()
        table = table[key]
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {'.'.join(keys[:depth])} is not a table", hint="cannot set a key inside it")
    table[keys[-1]] = value
    atomic_write_secret(path, tomlkit.dumps(document))
