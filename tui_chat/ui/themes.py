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

A theme is checked completely when it is loaded, the way Textual will use it: every colour is
parsed, the colour system is generated, and every `[variables]` value Textual knows is parsed as
CSS in the property Textual uses it in. The bundled themes skip that last, costly part (about 15 ms
on the path to the first screen): they ship with tui-chat, and the test suite runs the whole check
on each of them. A file that is wrong is skipped with a warning naming the
file, the key and the bad value; it never stops the app, at start or when the theme is picked.
A theme's name must be a plain name (Textual's palette reads it as markup); messages naming what
the file holds are cleaned of terminal controls here, where they enter.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any, Iterable

from textual.color import Color, ColorParseError
from textual.theme import BUILTIN_THEMES, Theme

from ..checking import Problems, Rule, Wrong, check_table, suggest, table
from ..config import default_config_path
from ..errors import ThemeError
from ..resources import bundled_dir
from ..safe_text import clean

COLOUR_KEYS = (
    "primary", "secondary", "accent", "foreground", "background",
    "surface", "panel", "boost", "warning", "error", "success",
)  # fmt: skip
"""The base colours a theme file may set; Textual derives every other shade from them."""

_VARIABLE_NAME = re.compile(r"[a-z][a-z0-9-]*")
_THEME_NAME = re.compile(r"\w[\w .+-]*")


def _fail(path: Path, key: str, problem: str) -> ThemeError:
    return ThemeError(clean(f"{path}: {key}: {problem}"), hint="theme skipped")


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


def _name(value: Any) -> str:
    """A plain name: Textual's theme palette reads it as markup, so "[", "$" and controls cannot be in it."""
    if not isinstance(value, str) or not value.strip():
        raise Wrong("required, a non-empty string")
    if not _THEME_NAME.fullmatch(name := value.strip()):
        raise Wrong(f"{name!r} is not a plain name (letters, digits, spaces and - _ . + only)")
    return name


def _dark(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Wrong("must be true or false")
    return value


def _colour(value: Any) -> str:
    """`value` if Textual can parse it as a colour."""
    if not isinstance(value, str):
        raise Wrong(f"expected a colour string, got {value!r}")
    try:
        Color.parse(value)
    except ColorParseError:
        raise Wrong(f"invalid colour {value!r}") from None
    return value


def _css_text(value: Any) -> str:
    if not isinstance(value, str):
        raise Wrong(f"expected a string, got {value!r}")
    return value


RULES: dict[str, Rule] = {"name": _name, "dark": _dark, **dict.fromkeys(COLOUR_KEYS, _colour), "variables": table}
"""Each key of a theme file and its rule."""


def load_theme_file(path: Path, *, as_textual_uses_it: bool = True) -> Theme:
    """The Textual theme described by the TOML file at `path`; ThemeError if anything in it is wrong.

    `as_textual_uses_it=False` skips generating its colours and parsing its variables as Textual's
    CSS (for the bundled themes, which the test suite checks that way)."""
    data = _parse(path)
    problems = Problems(str(path))
    good = check_table(
        data, RULES, (), problems, wrong="", unknown=lambda key: f"unknown key{suggest(key, RULES)}", unknown_outcome=""
    )
    for key, what in (("name", "required, a non-empty string"), ("primary", "required, a colour")):
        if key not in data:
            problems.add((key,), what)
    if "variables" in good:
        names = [name for name in good["variables"] if _VARIABLE_NAME.fullmatch(name)]
        not_css = "not a CSS variable name (lower case, digits, -)"
        good["variables"] = check_table(
            good["variables"], dict.fromkeys(names, _css_text), ("variables",), problems,
            wrong="", unknown=lambda _name: not_css, unknown_outcome="",
        )  # fmt: skip
    if problems:
        raise ThemeError(problems.messages[0], hint="theme skipped")
    theme = Theme(**good)
    if as_textual_uses_it:
        _check_as_textual_uses_it(path, theme)
    return theme


def _check_as_textual_uses_it(path: Path, theme: Theme) -> None:
    """Generate the theme's colour system and parse each of its variables as Textual's CSS will."""
    from textual.css.stylesheet import Stylesheet, StylesheetParseError

    try:
        variables = theme.to_color_system().generate()
    except (ColorParseError, ValueError) as error:
        raise _fail(path, "colours", f"Textual cannot build colours from them: {error}") from None
    for name, value in theme.variables.items():
        css_property = _css_property(name)
        if css_property is None:
            continue  # a variable of the user's own: Textual does not use it
        sheet = Stylesheet(variables=variables)
        sheet.add_source(f"Widget {{ {css_property}: ${name}; }}", read_from=(str(path), f"variables.{name}"))
        try:
            sheet.parse()
        except StylesheetParseError:
            raise _fail(path, f"variables.{name}", f"{value!r} is not a valid {css_property} value") from None


@cache
def _css_property(name: str) -> str | None:
    """The CSS property Textual's own value of variable `name` parses in (None: Textual has no such variable)."""
    from textual.css.stylesheet import Stylesheet, StylesheetParseError

    defaults = BUILTIN_THEMES["textual-dark"].to_color_system().generate()
    if name not in defaults:
        return None
    for css_property in ("color", "text-style", "background", "link-style"):
        sheet = Stylesheet(variables=defaults)
        sheet.add_source(f"Widget {{ {css_property}: ${name}; }}")
        try:
            sheet.parse()
        except StylesheetParseError:
            continue
        return css_property
    return None
def builtin_theme_names() -> list[str]:
    """The names of Textual's own themes, sorted, for `tui-chat themes` (the core must not import Textual)."""
    return sorted(BUILTIN_THEMES)


def theme_dirs(config_path: Path | None) -> list[Path]:
    """Where themes are looked for, in order: the bundled folder, then `themes/` beside the config."""
    return [bundled_dir("themes"), (config_path or default_config_path()).parent / "themes"]


def discover_themes(dirs: Iterable[Path]) -> tuple[list[Theme], list[str]]:
    """Every valid `*.toml` theme in `dirs`, and one warning per file skipped.

    Themes from the bundled folder are not checked as Textual uses them (see the module's docstring).
    A theme in a later folder replaces an earlier one of the same name, so a user can restyle a
    bundled theme. Two files of one folder giving the same name is a mistake, and is warned of.
    """
    themes: dict[str, Theme] = {}
    warnings: list[str] = []
    shipped = bundled_dir("themes")
    for folder in dirs:
        if not folder.is_dir():
            continue
        seen: dict[str, Path] = {}
        for path in sorted(folder.glob("*.toml")):
            try:
                theme = load_theme_file(path, as_textual_uses_it=folder != shipped)
            except ThemeError as error:
                warnings.append(str(error))
                continue
            if theme.name in seen:
                first = seen[theme.name].name
                warnings.append(f"{path}: name: {theme.name!r} is also the name in {first}; using {path.name}")
            seen[theme.name] = path
            themes[theme.name] = theme
    return list(themes.values()), warnings
