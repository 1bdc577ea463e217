"""Finding a pack by path, bundled id or file stem, and reading `--var name=value` assignments."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..checking.json_rules import did_you_mean
from ..errors import PackError
from ..resources import bundled_dir
from .loading import load_pack

PACK_SUFFIX = ".pack.json"


def bundled_pack_paths() -> list[Path]:
    """The bundled `*.pack.json` files, sorted by name."""
    return sorted(bundled_dir("packs").glob(f"*{PACK_SUFFIX}"))


def find_pack(name_or_path: str) -> Path:
    """The pack file meant by `name_or_path`: an existing file, or a bundled pack's id or file stem."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    by_stem = bundled_dir("packs") / f"{name_or_path}{PACK_SUFFIX}"
    if path.name == name_or_path and by_stem.is_file():  # the usual case: no need to read every pack
        return by_stem
    names: dict[str, Path] = {}
    for bundled in bundled_pack_paths():
        names.setdefault(bundled.name.removesuffix(PACK_SUFFIX), bundled)
        try:
            names.setdefault(load_pack(bundled).id, bundled)
        except PackError:
            pass  # a broken bundled pack can still be found by its file name, and fail on load
    if name_or_path in names:
        return names[name_or_path]
    if path.suffix == ".json" or path.name != name_or_path:  # it was meant as a path
        raise PackError(f"no pack file at {name_or_path}", hint="check the path")
    raise PackError(
        f"no pack named {name_or_path!r}{did_you_mean(name_or_path, names)}",
        hint="bundled packs: " + (", ".join(sorted(names)) or "none") + "; or give the path of a .pack.json file",
    )


def parse_var_assignments(items: Sequence[str]) -> dict[str, str]:
    """`["key=value", ...]` (from `--var`) as a dict; the value is everything after the first "="."""
    variables: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise PackError(f"--var {item!r} is not of the form name=value", hint="write --var name=value")
        variables[key.strip()] = value
    return variables
