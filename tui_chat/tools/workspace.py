"""The folder file tools are confined to.

A path from the model is taken relative to the workspace root. It is refused when it resolves
outside the root: an absolute path elsewhere, `..` steps that climb out, or a symbolic link
(anywhere along the path) that points out. Paths are resolved with symlinks followed, so what is
checked is where the file really is.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..safe_text import escape_controls


class WorkspaceError(ValueError):
    """A path is refused or cannot be used; `str()` says which and why, for the model."""


class Workspace:
    """A root folder; `resolve()` turns a path given by the model into a real path inside it."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        base = Path(root).expanduser() if root is not None else Path.cwd()
        self.root = Path(os.path.realpath(base))

    def __repr__(self) -> str:
        return f"Workspace({str(self.root)!r})"

    def resolve(self, path: str | None = None) -> Path:
        """The real path of `path` (relative to the root; "." or None is the root itself).

        Raises `WorkspaceError` when it lies outside the root. The path need not exist.
        """
        text = "." if path is None or path == "" else path
        if "\x00" in text:
            raise WorkspaceError("the path contains a NUL character")
        candidate = Path(text)
        joined = candidate if candidate.is_absolute() else self.root / candidate
        real = Path(os.path.realpath(joined))
        if real != self.root and not real.is_relative_to(self.root):
            raise WorkspaceError(
                f"{escape_controls(text)!s} is outside the workspace {self.root}; "
                "only files inside it can be used"
            )
        return real

    def relative(self, path: Path) -> str:
        """`path` as shown to the model: relative to the root, "." for the root itself."""
        try:
            shown = path.relative_to(self.root).as_posix()
        except ValueError:
            return str(path)
        return shown or "."
