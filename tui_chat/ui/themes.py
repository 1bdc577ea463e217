"""Colour themes from TOML files: the bundled ones, then the user's, each checked before use.

A theme file holds a `name`, `dark` (true or false), the base colours of a Textual theme
(`primary` is required, the rest optional) and an optional `[variables]` table of Textual CSS
variables, for example:

    name = "my-theme"
    dark = true
    primary = "#88c0d0"
    background = "#2e3440"

    [variables]
    footer-key-foreground = "#88c0d0"

A file that is wrong is skipped with a warning naming the file, the key and the bad value; it
never stops the app from starting.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Iterable

from textual.color import Color, ColorParseError
from textual.theme import Theme

from ..config import default_config_path
from ..errors import ThemeError
from ..resources import bundled_dir

COLOUR_KEYS = (
    "primary", "secondary", "accent", "foreground", "background",
    "surface", "panel", "boost", "warning", "error", "success",
)
"""The base colours a theme file may set; Textual derives every other shade from them."""

_KEYS = ("name", "dark", *COLOUR_KEYS, "variables")
_VARIABLE_NAME = re.compile(r"[a-z][a-z0-9-]*")


def _fail(path: Path, key: str, problem: str) -> ThemeError:
    return ThemeError(f"{path}: {key}: {problem}", hint="theme skipped")


def _parse(path: Path) -> dict[str, Any]:
    """The TOML content of `path`, or a ThemeError naming the file (and line, for a syntax error)."""
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as error:
        raise ThemeError(f"{path}: cannot read: {error.strerror or error}", hint="theme skipped") from None
    except UnicodeDecodeError as error:
        raise ThemeError(f"{path}: not UTF-8 text (byte {error.start})", hint="theme skipped") from None
    except tomllib.TOMLDecodeError as error:
        raise ThemeError(f"{path}: invalid TOML: {error}", hint="theme skipped") from None


def load_theme_file(path: Path) -> Theme:
    """The Textual theme described by the TOML file at `path`; ThemeError if any key is wrong."""
    data = _parse(path)
    for key in data:
        if key not in _KEYS:
            import difflib  # only when a key was wrong

            close = difflib.get_close_matches(key, _KEYS, n=1)
            raise _fail(path, key, "unknown key" + (f" (did you mean {close[0]!r}?)" if close else ""))
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(path, "name", "required, a non-empty string")
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise _fail(path, "dark", "must be true or false")
    if "primary" not in data:
        raise _fail(path, "primary", "required, a colour")
    colours = {key: _colour(path, key, data[key]) for key in COLOUR_KEYS if key in data}
    return Theme(name=name.strip(), dark=dark, variables=_variables(path, data.get("variables", {})), **colours)


def _colour(path: Path, key: str, value: Any) -> str:
    """`value` if Textual can parse it as a colour."""
    if not isinstance(value, str):
        raise _fail(path, key, f"expected a colour string, got {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise _fail(path, key, f"invalid colour {value!r}") from None
    return value


def _variables(path: Path, table: Any) -> dict[str, str]:
    """The `[variables]` table: Textual CSS variable names to string values."""
    if not isinstance(table, dict):
        raise _fail(path, "variables", "expected a table")
    for name, value in table.items():
        if not _VARIABLE_NAME.fullmatch(name):
            raise _fail(path, f"variables.{name}", "not a CSS variable name (lower case, digits, -)")
        if not isinstance(value, str):
            raise _fail(path, f"variables.{name}", f"expected a string, got {value!r}")
    return dict(table)


def theme_dirs(config_path: Path | None) -> list[Path]:
    """Where themes are looked for, in order: the bundled folder, then `themes/` beside the config."""
    return [bundled_dir("themes"), (config_path or default_config_path()).parent / "themes"]


def discover_themes(dirs: Iterable[Path]) -> tuple[list[Theme], list[str]]:
    """Every valid `*.toml` theme in `dirs`, and one warning per file skipped.

    A theme in a later folder replaces an earlier one of the same name, so a user can restyle a
    bundled theme. Two files of one folder giving the same name is a mistake, and is warned of.
    """
    themes: dict[str, Theme] = {}
    warnings: list[str] = []
    for folder in dirs:
        if not folder.is_dir():
            continue
        seen: dict[str, Path] = {}
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(path)
            except ThemeError as error:
                warnings.append(str(error))
                continue
            if theme.name in seen:
                first = seen[theme.name].name
                warnings.append(f"{path}: name: {theme.name!r} is also the name in {first}; using {path.name}")
            seen[theme.name] = path
            themes[theme.name] = theme
    return list(themes.values()), warnings
