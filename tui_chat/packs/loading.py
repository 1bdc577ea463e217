"""Reading a pack file: size-capped, strict JSON, checked; `load_pack` for use, `validate_pack` for every problem."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from ..checking import Problems
from ..errors import PackError
from ..safe_text import clean_data
from .checking import check_pack
from .json_values import reject_constant
from .model import Pack
from .template import Invalid

MAX_PACK_BYTES = 5 * 1024 * 1024
"""A pack file larger than this is refused before it is read."""

_MAX_PROBLEMS_SHOWN = 3


def load_pack(path: str | Path) -> Pack:
    """Read and check the pack file at `path`. Raises `PackError` naming the file and key path."""
    pack, problems = _read(Path(path))
    if pack is None:
        messages = problems.messages
        shown = "; ".join(messages[:_MAX_PROBLEMS_SHOWN])
        more = len(messages) - _MAX_PROBLEMS_SHOWN
        raise PackError(
            shown + (f" (and {more} more)" if more > 0 else ""),
            hint="see them all with: tui-chat packs validate FILE" if more > 0 else "",
        )
    return pack


def validate_pack(path: str | Path) -> list[str]:
    """Every problem found in the pack at `path` ([] if none), each as "file:line: key.path: what is wrong".

    Beyond loading, each prompt is rendered with its defaults; a prompt that needs a variable
    with no default is not a problem of the pack, and is only checked as far as loading goes.
    """
    pack, problems = _read(Path(path))
    if pack is None:
        return problems.messages
    for key, prompt in pack.prompts.items():
        if any(v.required and v.default is None for v in prompt.variables):
            continue
        try:
            pack._render(prompt, {})
        except Invalid as error:
            problems.add(("prompts", key), str(error))
    return problems.messages


def _read(path: Path) -> tuple[Pack | None, Problems]:
    """The pack at `path`, or None and the problems that stop it loading."""
    problems = Problems(str(path), syntax="json")
    try:
        info = path.stat()
    except OSError as error:
        problems.add((), f"cannot read the pack: {error.strerror or error}")
        return None, problems
    if not stat.S_ISREG(info.st_mode):
        problems.add((), "is not a regular file")
        return None, problems
    if info.st_size > MAX_PACK_BYTES:
        problems.add((), f"is {info.st_size:,} bytes; a pack may be at most {MAX_PACK_BYTES:,} bytes")
        return None, problems
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_PACK_BYTES + 1)  # the file may have grown since stat()
    except OSError as error:
        problems.add((), f"cannot read the pack: {error.strerror or error}")
        return None, problems
    if len(raw) > MAX_PACK_BYTES:
        problems.add((), f"is more than {MAX_PACK_BYTES:,} bytes, the most a pack may be")
        return None, problems
    try:
        problems.text = raw.decode("utf-8-sig")
        data = json.loads(problems.text, parse_constant=reject_constant)
    except UnicodeDecodeError as error:
        problems.add((), f"is not UTF-8 text (byte {error.start})")
    except json.JSONDecodeError as error:
        problems.add((), f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}")
    except ValueError as error:  # NaN or Infinity, or an integer too long to read
        problems.add((), f"invalid JSON: {error}")
    except RecursionError:
        problems.add((), "invalid JSON: nested too deeply")
    else:
        return check_pack(clean_data(data), path, problems), problems  # every string is untrusted text: cleaned here, once
    return None, problems
