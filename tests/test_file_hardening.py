"""Issue 12, file side: hostile or wrong files never reach the terminal raw, never end the app, and are named.

The hostile pieces and the check are the shared set's (tests/fakes/hostile.py); tests/hostile runs
the whole set through every command and screen.

Everything goes through the real command line (`main`) over real files in a temporary folder.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from textual.app import App

from tests.fakes import hostile as h
from tui_chat.cli import EXIT_OK, main
from tui_chat.config import load_config, set_value, write_default_config
from tui_chat.errors import ThemeError
from tui_chat.ui.themes import discover_themes, load_theme_file

OSC52 = h.PIECES["OSC 52 clipboard"]
OSC0 = h.PIECES["OSC 0 retitle"]
RLO = h.PIECES["bidi override"]


def toml(text: str) -> str:
    """`text` as a TOML basic string: controls written as \\u escapes, which TOML allows."""
    return json.dumps(text)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def pack(prompts: dict[str, dict[str, object]], **top: object) -> dict[str, object]:
    return {
        "id": "hostile",
        "name": "Pack",
        "version": "1.0.0",
        "template_engine": {"version": "v1", "syntax": "{{variable}}"},
        "prompts": prompts,
        **top,
    }


def prompt(prompt_id: str, **extra: object) -> dict[str, object]:
    return {"id": prompt_id, "name": prompt_id, "version": "1.0.0", "system_template": "Hi.", **extra}


# --- 12.8: untrusted text from files is cleaned where it enters -------------------------------------


def test_a_hostile_pack_shows_no_terminal_controls(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = pack(
        {f"p{OSC0}": prompt("chat", name=f"Chat{RLO}", description=f"d{OSC52}")},
        name=f"Evil{OSC0}",
        description=f"Copies{OSC52} to the clipboard",
    )
    data["prompts"][f"p{OSC0}"]["variables"] = [  # type: ignore[index]
        {"name": "x", "type": "string", "required": False, "description": f"v{OSC52}"}
    ]
    path = tmp_path / "evil.pack.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    code, out, err = run(capsys, "packs", "show", str(path))
    assert code == EXIT_OK, err
    assert "Evil]0;pwned" in out and "Copies]52;c;ZXZpbA== to the clipboard" in out  # shown, defused
    h.assert_harmless(out + err, shows=())


def test_a_hostile_pack_problem_shows_no_terminal_controls(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "evil.pack.json"
    path.write_text(json.dumps(pack({"p": prompt("chat")}, **{f"extra{OSC52}": 1})), encoding="utf-8")
    code, out, err = run(capsys, "packs", "validate", str(path))
    assert code != EXIT_OK
    assert "is not a known key" in out
    h.assert_harmless(out + err, shows=())


def test_a_hostile_theme_name_and_key_show_no_terminal_controls(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    themes = tmp_path / "themes"
    themes.mkdir()
    (themes / "a.toml").write_text(f'name = {toml(f"nice{OSC0}")}\nprimary = "#336699"\n', encoding="utf-8")
    (themes / "b.toml").write_text(f'name = "b"\nprimary = "#336699"\n{toml(f"bad{OSC52}")} = 1\n', encoding="utf-8")
    code, out, err = run(capsys, "themes", "--config", str(tmp_path / "config.toml"))
    assert code == EXIT_OK
    assert "nice" not in out and "a.toml: name:" in err and "b.toml" in err  # a name is a plain name, or the theme is skipped
    h.assert_harmless(out + err, shows=())


@pytest.mark.parametrize("name", ["[bold]B[/bold]", "a[link=https://evil.example]x", "$accent", "zero\u200bwidth", " "])
def test_a_theme_name_that_is_not_a_plain_name_is_skipped_naming_file_and_key(tmp_path: Path, name: str) -> None:
    """Textual's theme palette reads a theme's name as markup: "[link=..." ended the app with a MarkupError."""
    path = tmp_path / "odd.toml"
    path.write_text(f'name = {toml(name)}\nprimary = "#336699"\n', encoding="utf-8")
    (tmp_path / "fine.toml").write_text('name = "Ночь 2.0_b+"\nprimary = "#336699"\n', encoding="utf-8")
    themes, [warning] = discover_themes([tmp_path])
    assert [theme.name for theme in themes] == ["Ночь 2.0_b+"]
    assert warning.startswith(f"{path}: name: ")


def test_a_hostile_config_key_is_named_without_terminal_controls(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'{toml(f"them{OSC0}")} = 1\n[voice]\n{toml(f"mode{OSC52}")} = 2\n', encoding="utf-8")
    warnings = load_config(path).warnings
    assert len(warnings) == 2
    h.assert_harmless("\n".join(warnings), shows=())


# --- 12.13: an unknown prompt in a big pack --------------------------------------------------------


def test_an_unknown_prompt_in_a_big_pack_suggests_a_few_and_counts_the_rest(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "big.pack.json"
    path.write_text(json.dumps(pack({f"prompt-{n}": prompt(f"prompt-{n}") for n in range(10_000)})), encoding="utf-8")
    code, out, err = run(capsys, "ask", "--provider", "demo", "--pack", str(path), "--prompt", "prompt-99999", "hi")
    assert code != EXIT_OK
    assert "10,000 prompts" in err
    assert "did you mean 'prompt-9999'" in err
    assert err.count("prompt-") < 10


# --- 12.7: tool approvals named with file and line; config init keeps the user's settings ----------


def test_a_bad_tool_approval_is_named_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('theme = "nord"\n\n[tools.list_directory]\napproval = "sometimes"\n', encoding="utf-8")
    [warning] = load_config(path).warnings
    assert warning.startswith(f'{path}:4: tools.list_directory.approval: expected "ask", "auto" or "deny"')


def test_config_init_force_writes_the_template_around_the_users_settings(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    set_value(path, "theme", "tui-chat-dusk")  # as the app does when a theme is picked
    set_value(path, "providers.demo.speed", 0)
    write_default_config(path, force=True)
    text = path.read_text()
    assert "keys are best kept in environment variables" in text
    assert tomllib.loads(text) == {"theme": "tui-chat-dusk", "providers": {"demo": {"speed": 0}, "openai": {}, "anthropic": {}, "gemini": {}, "ollama": {}}}
    assert load_config(path).warnings == []


def test_set_value_keeps_comments_and_layout_of_a_hand_written_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    original = '# mine\nmodel   =   "m"   # aligned\n\n[providers.demo]\nspeed = 5  # fast\n'
    path.write_text(original, encoding="utf-8")
    set_value(path, "providers.demo.speed", 1)
    assert path.read_text() == original.replace("speed = 5", "speed = 1")


# --- 12.9: config show masks header values and URL credentials ------------------------------------


def test_config_show_masks_headers_and_url_passwords(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[providers.openai]\nbase_url = "https://alice:hunter2-secret@proxy.test/v1"\n'
        '[providers.openai.headers]\nAuthorization = "Bearer abcdefghijklmnop-SECRET"\nX-Api-Key = "short"\n',
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "config", "--config", str(path), "show")
    assert code == EXIT_OK
    assert "hunter2" not in out and "abcdefghijklmnop" not in out and '"short"' not in out
    shown = tomllib.loads(out)["providers"]["openai"]
    assert shown["base_url"] == "https://alice:****@proxy.test/v1"
    assert shown["headers"] == {"Authorization": "…CRET", "X-Api-Key": "set"}


# --- 12.10: a theme is checked the way Textual will use it -----------------------------------------


def test_a_theme_variable_textual_cannot_parse_is_skipped_naming_file_and_key(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('name = "good"\nprimary = "#336699"\n[variables]\nfooter-key-foreground = "#ff0000"\n', encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\nprimary = "#336699"\n[variables]\nfooter-key-foreground = "not-a-colour"\n', encoding="utf-8")
    with pytest.raises(ThemeError, match="variables.footer-key-foreground"):
        load_theme_file(bad)
    themes, [warning] = discover_themes([tmp_path])
    assert [theme.name for theme in themes] == ["good"]
    assert str(bad) in warning and "'not-a-colour'" in warning


async def test_every_theme_that_loads_can_be_picked_in_a_running_app(tmp_path: Path) -> None:
    (tmp_path / "style.toml").write_text(
        'name = "style"\nprimary = "#336699"\n[variables]\nblock-cursor-text-style = "bold"\nmy-own = "anything"\n',
        encoding="utf-8",
    )
    (tmp_path / "bad-style.toml").write_text(
        'name = "bad-style"\nprimary = "#336699"\n[variables]\nblock-cursor-text-style = "blinky"\n', encoding="utf-8"
    )
    themes, warnings = discover_themes([tmp_path])
    assert [theme.name for theme in themes] == ["style"] and "block-cursor-text-style" in warnings[0]
    app = App[None]()
    async with app.run_test() as pilot:
        app.register_theme(themes[0])
        app.theme = "style"
        await pilot.pause()
        assert app.get_css_variables()["block-cursor-text-style"] == "bold"
    assert app.return_code in (None, 0)
