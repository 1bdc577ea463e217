"""tui-chat: a keyboard-driven terminal chat client for large language models."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """`__version__`, read from the installed package's metadata (pyproject.toml is its one source).

    Looked up on first use, so start-up does not pay for `importlib.metadata`.
    """
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tui-chat")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0+unknown"
