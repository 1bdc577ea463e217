"""A provider's API key for each request: the config file's, re-read when the file changed, else the environment's."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from ..providers import registry
from ..providers.registry import ProviderSpec


class KeySource:
    """The provider's API key for the next request: the config file's, else the environment's.

    The file is re-read only when its modification time, size or inode changed since it was last
    read, so a key edited in the file applies to the next request without a restart, at the cost
    of one `stat` per request. A file that does not parse (say, half-saved) keeps the last key.
    """

    def __init__(
        self, spec: ProviderSpec, path: Path | None, key: str | None, stamp: tuple[int, int, int] | None
    ) -> None:
        self._spec = spec
        self._path = path
        self._key = clean_key(key)
        self._stamp = stamp

    def __call__(self) -> str | None:
        if self._path is not None:
            self._refresh(self._path)
        return self._key or registry.env_key(self._spec)

    def _refresh(self, path: Path) -> None:
        try:
            stamp = stamp_of(path)
        except FileNotFoundError:
            self._key, self._stamp = None, None
            return
        except OSError:
            return
        if stamp == self._stamp:
            return
        try:
            data = tomllib.loads(path.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return
        self._key = clean_key(_dig(data, "providers", self._spec.name, "api_key"))
        self._stamp = stamp


def _dig(data: Any, *keys: str) -> Any:
    """`data[k1][k2]...`, or None where a table or key is missing."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def clean_key(key: Any) -> str | None:
    """A usable key: a non-blank string, stripped."""
    return (key.strip() or None) if isinstance(key, str) else None


def stamp_of(path: Path) -> tuple[int, int, int]:
    """What tells that a file changed: modification time, size, inode (an atomic replace changes it)."""
    status = os.stat(path)
    return status.st_mtime_ns, status.st_size, status.st_ino