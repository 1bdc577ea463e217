"""Reading a pack file: size-capped, strict JSON, checked; `load_pack` for use, `validate_pack` for every problem."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from ..errors import PackError
from .checking import Checker
from .json_values import join_key, reject_constant
from .model import Pack
from .template import Invalid

MAX_PACK_BYTES = 5 * 1024 * 1024
"""A pack file larger than this is refused before it is read."""

_MAX_PROBLEMS_SHOWN = 3


def load_pack(path: str | Path) -> Pack:
    """Read and check the pack file at `path`. Raises `PackError` naming the file and key path."""
    pack, problems = _read(Path(path))
    if pack is None:
        shown = "; ".join(problems[:_MAX_PROBLEMS_SHOWN])
        more = len(problems) - _MAX_PROBLEMS_SHOWN
        raise PackError(
            f"{path}: {shown}" + (f" (and {more} more)" if more > 0 else ""),
            hint="see them all with: tui-chat packs validate FILE" if more > 0 else "",
        )
    return pack


def validate_pack(path: str | Path) -> list[str]:
    """Every problem found in the pack at `path` ([] if none), each as "key.path: what is wrong".

    Beyond loading, each prompt is rendered with its defaults; a prompt that needs a variable
    with no default is not a problem of the pack, and is only checked as far as loading goes.
    """
    pack, problems = _read(Path(path))
    if pack is None:
        return problems
    for key, prompt in pack.prompts.items():
        if any(v.required and v.default is None for v in prompt.variables):
            continue
        try:
            pack._render(prompt, {})
        except Invalid as error:
            problems.append(f"{join_key('prompts', key)}: {error}")
    return problems


def _read(path: Path) -> tuple[Pack | None, list[str]]:
    """The pack at `path`, or None and the problems that stop it loading."""
    try:
        info = path.stat()
    except OSError as error:
        return None, [f"cannot read the pack: {error.strerror or error}"]
    if not stat.S_ISREG(info.st_mode):
        return None, ["is not a regular file"]
    if info.st_size > MAX_PACK_BYTES:
        return None, [f"is {info.st_size:,} bytes; a pack may be at most {MAX_PACK_BYTES:,} bytes"]
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_PACK_BYTES + 1)  # the file may have grown since stat()
    except OSError as error:
        return None, [f"cannot read the pack: {error.strerror or error}"]
    if len(raw) > MAX_PACK_BYTES:
        return None, [f"is more than {MAX_PACK_BYTES:,} bytes, the most a pack may be"]
    try:
        data = json.loads(raw.decode("utf-8-sig"), parse_constant=reject_constant)
    except UnicodeDecodeError as error:
        return None, [f"is not UTF-8 text (byte {error.start})"]
    except json.JSONDecodeError as error:
        return None, [f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"]
    except ValueError as error:  # NaN or Infinity, or an integer too long to read
        return None, [f"invalid JSON: {error}"]
    except RecursionError:
        return None, ["invalid JSON: nested too deeply"]
    checker = Checker()
    pack = checker.pack(data, path)
    return (pack, []) if not checker.problems else (None, checker.problems)
