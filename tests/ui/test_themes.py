"""Theme files: the bundled ones load and work in an app; bad ones are skipped with a clear warning."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App

from tui_chat.config import default_config_path
from tui_chat.errors import ThemeError
from tui_chat.resources import bundled_dir
from tui_chat.ui.themes import discover_themes, load_theme_file, theme_dirs

BUNDLED = sorted(bundled_dir("themes").glob("*.toml"))

VALID = 'name = "mine"\ndark = false\nprimary = "#336699"\nbackground = "white"\n'


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_there_are_bundled_dark_and_light_themes() -> None:
    themes = [load_theme_file(path) for path in BUNDLED]
    assert len(themes) >= 3
    assert any(theme.dark for theme in themes) and any(not theme.dark for theme in themes)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda path: path.stem)
def test_each_bundled_theme_loads_under_its_file_name(path: Path) -> None:
    theme = load_theme_file(path)
    assert theme.name == path.stem
    assert theme.background and theme.foreground and theme.variables


@pytest.mark.parametrize("path", BUNDLED, ids=lambda path: path.stem)
async def test_each_bundled_theme_applies_in_a_textual_app(path: Path) -> None:
    theme = load_theme_file(path)
    app = App[None]()
    async with app.run_test():
        app.register_theme(theme)
        app.theme = theme.name
        variables = app.get_css_variables()
        assert variables["primary"].lower() == theme.primary.lower()
        assert variables["footer-key-foreground"].lower() == theme.variables["footer-key-foreground"].lower()


def test_a_valid_file_becomes_a_theme(tmp_path: Path) -> None:
    theme = load_theme_file(write(tmp_path, "mine.toml", VALID + '[variables]\nfooter-key-foreground = "#ff0000"\n'))
    assert (theme.name, theme.dark, theme.primary, theme.background) == ("mine", False, "#336699", "white")
    assert theme.variables == {"footer-key-foreground": "#ff0000"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\nprimary = "#12345"\n', "primary: invalid colour '#12345'"),
        ('name = "x"\nprimary = "#123456"\naccent = 7\n', "accent: expected a colour string, got 7"),
        ('primary = "#123456"\n', "name: required"),
        ('name = "x"\n', "primary: required"),
        ('name = "x"\nprimary = "#123456"\ndark = "yes"\n', "dark: must be true or false"),
        ('name = "x"\nprimary = "#123456"\nprimay = "#123456"\n', "primay: unknown key (did you mean 'primary'?)"),
        ('name = "x"\nprimary = "#123456"\nvariables = 3\n', "variables: expected a table"),
        ('name = "x"\nprimary = "#123456"\n[variables]\nBad_Name = "red"\n', "variables.Bad_Name: not a CSS variable name"),
        ('name = "x"\nprimary = \n', "invalid TOML: Invalid value (at line 2, column 11)"),
    ],
)
def test_bad_files_raise_a_theme_error_naming_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(ThemeError) as caught:
        load_theme_file(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_theme_dirs_are_bundled_then_beside_the_config(tmp_path: Path) -> None:
    assert theme_dirs(tmp_path / "config.toml") == [bundled_dir("themes"), tmp_path / "themes"]
    assert theme_dirs(None) == [bundled_dir("themes"), default_config_path().parent / "themes"]


def test_invalid_colour_is_skipped_with_a_warning_and_the_rest_load(tmp_path: Path) -> None:
    write(tmp_path, "good.toml", VALID)
    bad = write(tmp_path, "bad.toml", 'name = "bad"\nprimary = "#336699"\nsurface = "not-a-colour"\n')
    themes, warnings = discover_themes([tmp_path, tmp_path / "missing"])
    assert [theme.name for theme in themes] == ["mine"]
    [warning] = warnings
    assert str(bad) in warning and "surface" in warning and "'not-a-colour'" in warning


def test_user_theme_overrides_a_bundled_one_by_name(tmp_path: Path) -> None:
    user_dir = tmp_path / "themes"
    write(user_dir, "my-dusk.toml", 'name = "tui-chat-dusk"\nprimary = "#ff00ff"\n')
    themes, warnings = discover_themes(theme_dirs(tmp_path / "config.toml"))
    assert warnings == []
    dusk = [theme for theme in themes if theme.name == "tui-chat-dusk"]
    assert len(dusk) == 1 and dusk[0].primary == "#ff00ff"
    assert {theme.name for theme in themes} >= {"tui-chat-paper", "tui-chat-terminal"}


def test_two_files_of_one_folder_with_one_name_are_warned_of(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", VALID)
    write(tmp_path, "b.toml", VALID.replace("#336699", "#993366"))
    themes, warnings = discover_themes([tmp_path])
    assert [theme.primary for theme in themes] == ["#993366"]
    [warning] = warnings
    assert "'mine'" in warning and "a.toml" in warning and "b.toml" in warning
