"""`Problems`: the problems found in one file or value, each written `file:line: key.path: what is wrong`.

Untrusted text (a key, a value, a file name) is cleaned once here, where it enters a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from ..safe_text import clean
from .paths import json_key_line, key_path, toml_key_line
from .rules import Keys


@dataclass
class Problems:
    """The problems found in one file (`source`, `text` in `syntax`) or one value (`root`, e.g. "$").

    With `text`, each problem names the line of its key path, or of the nearest enclosing key
    found (a missing key is named at its table). Without it no line is given.
    """

    source: str = ""
    text: str | None = None
    syntax: Literal["toml", "json"] = "toml"
    root: str = ""
    found: list[tuple[Keys, str]] = field(default_factory=list)

    def add(self, keys: Keys, message: str) -> None:
        self.found.append((keys, message))

    def line(self, keys: Keys) -> int | None:
        """The line of `keys` (or of the nearest enclosing key) in `text`."""
        if self.text is None:
            return None
        find = toml_key_line if self.syntax == "toml" else json_key_line
        for end in range(len(keys), 0, -1):
            if (line := find(self.text, keys[:end])) is not None:
                return line
        return None

    def message(self, keys: Keys, message: str) -> str:
        """One problem as text: `file[:line]: key.path: message`, each part only where there is one."""
        line = self.line(keys)
        where = f"{self.source}:{line}" if line and self.source else self.source
        parts = [part for part in (where, key_path(keys, self.root), message) if part]
        return clean(": ".join(parts))

    @property
    def messages(self) -> list[str]:
        return [self.message(keys, message) for keys, message in self.found]

    def __bool__(self) -> bool:
        return bool(self.found)
