"""The TOML config: reading never fails or writes, writing is atomic and private, keys never show."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest

from tui_chat.config import (
    Config,
    ProviderConfig,
    atomic_write_secret,
    default_config_path,
    load_config,
    mask_secret,
    masked_toml,
    set_value,
    write_default_config,
)
from tui_chat.errors import ConfigError

SECRET = "sk-test-0123456789abcdefSECRET"
OTHER_SECRET = "sk-other-9876543210zyxwvuOTHER-longer"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_default_path_is_in_the_user_config_dir_and_the_env_overrides_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert default_config_path() == Path(os.environ["XDG_CONFIG_HOME"]) / "tui-chat" / "config.toml"
    monkeypatch.setenv("TUI_CHAT_CONFIG", str(tmp_path / "elsewhere.toml"))
    assert default_config_path() == tmp_path / "elsewhere.toml"


def test_missing_file_gives_defaults_without_warning_or_writing(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    result = load_config(path)
    assert result.warnings == []
    assert result.config == Config(path=path)
    assert result.config.theme == "textual-dark" and result.config.provider is None
    assert not path.exists()


def test_load_config_without_a_path_reads_the_default_file() -> None:
    path = default_config_path()
    path.parent.mkdir(parents=True)
    write(path, 'theme = "nord"\n')
    assert load_config().config.theme == "nord"


def test_syntax_error_gives_defaults_and_a_warning_with_file_and_line(tmp_path: Path) -> None:
    original = b'theme = "nord"\nprovider = \n[providers.demo]\n'
    path = tmp_path / "config.toml"
    path.write_bytes(original)
    result = load_config(path)
    assert result.config == Config(path=path)
    [warning] = result.warnings
    assert str(path) in warning and "line 2" in warning and "column" in warning
    assert path.read_bytes() == original


def test_syntax_error_on_a_key_line_does_not_echo_the_key(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", f'[providers.openai]\napi_key = "{SECRET}\n')
    [warning] = load_config(path).warnings
    assert "line 2" in warning
    assert SECRET not in warning and SECRET[-8:] not in warning


def test_wrong_types_are_dropped_with_key_path_and_line_and_the_rest_applies(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        'theme = 3\nmodel = "gpt-4o"\nvariables = { name = "Ada", age = 3 }\n'
        'providers.openai = "x"\n\n[providers.demo]\nspeed = "fast"\nfirst_token_delay = 0.1\n'
        'reply_chunks = -1\n',
    )
    result = load_config(path)
    config = result.config
    assert config.theme == "textual-dark"
    assert config.model == "gpt-4o"
    assert config.variables == {"name": "Ada"}
    assert "openai" not in config.providers
    assert config.providers["demo"].options == {"first_token_delay": 0.1}
    warnings = "\n".join(result.warnings)
    assert f"{path}:1: theme: expected a string, got an integer" in warnings
    assert f"{path}:4: providers.openai: expected a table, got a string" in warnings
    assert f"{path}:7: providers.demo.speed: expected a number >= 0, got a string" in warnings
    assert "providers.demo.reply_chunks" in warnings
    assert "variables.age" in warnings
    assert len(result.warnings) == 5


def test_wrong_typed_api_key_warning_does_not_contain_the_key(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", f'[providers.openai]\napi_key = ["{SECRET}"]\nmodel = "gpt-4o"\n')
    result = load_config(path)
    [warning] = result.warnings
    assert f"{path}:2: providers.openai.api_key: expected a string, got an array" in warning
    assert SECRET not in warning and SECRET[-4:] not in warning
    assert result.config.providers["openai"] == ProviderConfig(model="gpt-4o")


def test_unknown_settings_and_providers_are_warned_of_with_a_suggestion(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", 'them = "nord"\nprovider = "opnai"\n[providers.antropic]\nmodel = "x"\n')
    result = load_config(path)
    warnings = "\n".join(result.warnings)
    assert f"{path}:1: them: unknown setting (did you mean 'theme'?)" in warnings
    assert "provider: unknown provider 'opnai' (did you mean 'openai'?)" in warnings
    assert f"{path}:3: providers.antropic: unknown provider (did you mean 'anthropic'?)" in warnings
    assert result.config.provider is None and result.config.providers == {}


def test_provider_tables_split_known_keys_from_options(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        '[providers.vertex]\nmodel = "gemini-2.5-pro"\nbase_url = "https://example.test"\n'
        'token_command = "gcloud auth print-access-token"\ntimeout = 30\n',
    )
    result = load_config(path)
    assert result.warnings == []
    assert result.config.provider_config("vertex") == ProviderConfig(
        base_url="https://example.test",
        model="gemini-2.5-pro",
        options={"token_command": "gcloud auth print-access-token", "timeout": 30},
    )
    assert result.config.provider_config("openai") == ProviderConfig()


def test_provider_settings_explicit_values_win_over_the_config(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        'provider = "demo"\nmodel = "top"\n[providers.demo]\nmodel = "own"\nspeed = 5\nfirst_token_delay = 1\n'
        '[providers.openai]\nmodel = "gpt-own"\nbase_url = "https://own.test/v1"\n',
    )
    config = load_config(path).config
    demo = config.provider_settings("demo", options={"speed": 0})
    assert demo.model == "top"
    assert demo.options == {"speed": 0, "first_token_delay": 1}
    assert config.provider_settings("demo", model="cli").model == "cli"
    openai = config.provider_settings("openai", base_url="https://cli.test/v1")
    assert openai.model == "gpt-own"
    assert openai.base_url == "https://cli.test/v1"
    assert config.provider_settings("openai").base_url == "https://own.test/v1"


def test_key_changed_in_the_file_applies_to_the_next_call_without_reloading(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", f'[providers.openai]\napi_key = "{SECRET}"\n')
    key = load_config(path).config.provider_settings("openai").api_key
    assert key is not None
    assert key() == SECRET
    write(path, f'[providers.openai]\napi_key = "{OTHER_SECRET}"\n')
    assert key() == OTHER_SECRET
    set_value(path, "providers.openai.api_key", SECRET)
    assert key() == SECRET


def test_unchanged_file_is_not_parsed_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "config.toml", f'[providers.openai]\napi_key = "{SECRET}"\n')
    key = load_config(path).config.provider_settings("openai").api_key
    assert key is not None

    def no_parsing(text: str) -> dict[str, object]:
        raise AssertionError("the config was parsed again")

    monkeypatch.setattr(tomllib, "loads", no_parsing)
    assert key() == SECRET
    assert key() == SECRET


def test_env_key_is_used_when_the_file_has_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OTHER_SECRET)
    path = write(tmp_path / "config.toml", '[providers.openai]\nmodel = "gpt-4o"\n')
    key = load_config(path).config.provider_settings("openai").api_key
    assert key is not None and key() == OTHER_SECRET
    assert Config().provider_settings("openai").api_key() == OTHER_SECRET  # type: ignore[misc]


def test_config_key_wins_over_env_and_removing_it_falls_back_to_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OTHER_SECRET)
    path = write(tmp_path / "config.toml", f'[providers.openai]\napi_key = "{SECRET}"\n')
    key = load_config(path).config.provider_settings("openai").api_key
    assert key is not None and key() == SECRET
    write(path, '[providers.openai]\nmodel = "gpt-4o"\n')
    assert key() == OTHER_SECRET
    path.unlink()
    assert key() == OTHER_SECRET


def test_half_written_file_keeps_the_last_good_key(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", f'[providers.openai]\napi_key = "{SECRET}"\n')
    key = load_config(path).config.provider_settings("openai").api_key
    assert key is not None
    write(path, '[providers.openai]\napi_key = "sk-half')
    assert key() == SECRET


def test_no_key_anywhere_gives_none(tmp_path: Path) -> None:
    key = load_config(tmp_path / "config.toml").config.provider_settings("anthropic").api_key
    assert key is not None and key() is None


def test_set_value_creates_a_private_file_in_private_folders(tmp_path: Path) -> None:
    path = tmp_path / "new" / "dir" / "config.toml"
    set_value(path, "theme", "nord")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    assert tomllib.loads(path.read_text()) == {"theme": "nord"}
    assert load_config(path).config.theme == "nord"


def test_set_value_makes_an_existing_readable_file_private(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", 'model = "m"\n')
    path.chmod(0o644)
    set_value(path, "theme", "nord")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_set_value_keeps_other_keys_and_comments(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        '# my settings\ntheme = "nord"  # old\nmodel = "m"\n\n[providers.demo]\n# fast\nspeed = 5\n',
    )
    set_value(path, "theme", "dracula")
    set_value(path, "providers.demo.speed", 0)
    set_value(path, "providers.demo.first_token_delay", 0.5)
    set_value(path, "providers.openai.model", "gpt-4o")
    set_value(path, "pack", "writing")
    text = path.read_text()
    assert "# my settings" in text and "# fast" in text
    assert tomllib.loads(text) == {
        "theme": "dracula",
        "model": "m",
        "pack": "writing",
        "providers": {"demo": {"speed": 0, "first_token_delay": 0.5}, "openai": {"model": "gpt-4o"}},
    }


def test_set_value_rewrites_when_a_line_edit_cannot_do_it(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", 'providers = { demo = { speed = 5 } }\n')
    set_value(path, "providers.demo.speed", 1)
    assert tomllib.loads(path.read_text()) == {"providers": {"demo": {"speed": 1}}}


def test_set_value_refuses_a_broken_file_and_leaves_it_alone(tmp_path: Path) -> None:
    original = b'theme = "nord"\nmodel = \n'
    path = tmp_path / "config.toml"
    path.write_bytes(original)
    with pytest.raises(ConfigError, match="line 2"):
        set_value(path, "theme", "dracula")
    assert path.read_bytes() == original


def test_set_value_refuses_to_set_inside_a_value(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", 'theme = "nord"\n')
    with pytest.raises(ConfigError, match="theme is not a table"):
        set_value(path, "theme.dark", True)
    with pytest.raises(ConfigError, match="invalid setting name"):
        set_value(path, "providers..model", "x")
    assert path.read_text() == 'theme = "nord"\n'


def test_failed_write_leaves_the_original_and_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = b'# mine\ntheme = "nord"\n'
    path = tmp_path / "config.toml"
    path.write_bytes(original)

    def failing_replace(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(ConfigError, match="No space left on device"):
        set_value(path, "theme", "dracula")
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.toml"]


def test_atomic_write_secret_never_creates_a_readable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    modes: list[int] = []
    real_replace = os.replace

    def spying_replace(source: str, target: str) -> None:
        modes.append(stat.S_IMODE(os.stat(source).st_mode))
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", spying_replace)
    old_umask = os.umask(0)
    try:
        atomic_write_secret(tmp_path / "secret.toml", "x = 1\n")
    finally:
        os.umask(old_umask)
    assert modes == [0o600]
    assert (tmp_path / "secret.toml").read_text() == "x = 1\n"


def test_write_default_config_is_a_valid_private_template(tmp_path: Path) -> None:
    path = tmp_path / "tui-chat" / "config.toml"
    assert write_default_config(path) == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text()
    assert "# provider = " in text and "OPENAI_API_KEY" in text
    result = load_config(path)
    assert result.warnings == []
    assert result.config.theme == "textual-dark"


def test_write_default_config_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", 'theme = "nord"\n')
    with pytest.raises(ConfigError, match="already exists"):
        write_default_config(path)
    assert path.read_text() == 'theme = "nord"\n'
    write_default_config(path, force=True)
    assert "# theme = " in path.read_text()


def test_set_value_fills_in_the_template_keeping_its_comments(tmp_path: Path) -> None:
    path = write_default_config(tmp_path / "config.toml")
    set_value(path, "theme", "tui-chat-dusk")
    set_value(path, "providers.demo.speed", 0)
    text = path.read_text()
    assert '\ntheme = "tui-chat-dusk"\n' in text
    assert "keys are best kept in environment variables" in text
    result = load_config(path)
    assert result.warnings == []
    assert result.config.theme == "tui-chat-dusk"
    assert result.config.providers["demo"].options == {"speed": 0}


def test_masked_toml_never_contains_a_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", OTHER_SECRET)
    path = write(
        tmp_path / "config.toml",
        f'model = "gpt-4o"\n[providers.openai]\napi_key = "{SECRET}"\nbase_url = "https://x.test"\n'
        f'[providers.replicate]\napi_token = "{SECRET}-2"\n',
    )
    shown = masked_toml(load_config(path).config)
    assert SECRET not in shown and OTHER_SECRET not in shown
    assert SECRET[:-4] not in shown and OTHER_SECRET[:-4] not in shown
    assert f"…{SECRET[-4:]}" in shown
    assert f"ANTHROPIC_API_KEY = …{OTHER_SECRET[-4:]}" in shown
    assert "GEMINI_API_KEY" in shown
    parsed = tomllib.loads(shown)
    assert parsed["provider"] == "openai"
    assert parsed["model"] == "gpt-4o"
    assert parsed["providers"]["openai"] == {"api_key": f"…{SECRET[-4:]}", "base_url": "https://x.test"}


def test_mask_secret_shows_nothing_of_a_short_secret() -> None:
    assert mask_secret("short-key") == "set"
    assert mask_secret("sk-0123456789abcdef") == "…cdef"


def test_effective_provider_counts_keys_in_the_file_as_well_as_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert Config().effective_provider() == "demo"
    monkeypatch.setenv("GEMINI_API_KEY", OTHER_SECRET)
    assert Config().effective_provider() == "gemini"
    path = write(tmp_path / "config.toml", f'[providers.anthropic]\napi_key = "{SECRET}"\n')
    assert load_config(path).config.effective_provider() == "anthropic"
    assert Config(provider="cohere").effective_provider() == "cohere"


def test_pack_tool_approvals_are_read_and_bad_ones_named(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        '[packs.tools-demo.tools]\nlist_directory = "auto"\ncalculator = 3\n[packs.other]\ntools = "x"\n',
    )
    loaded = load_config(path)
    assert loaded.config.pack_tools == {"tools-demo": {"list_directory": "auto"}}
    assert any("packs.tools-demo.tools.calculator" in w for w in loaded.warnings)
    assert any("packs.other.tools" in w for w in loaded.warnings)


def test_model_overrides_reach_the_providers_catalog(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        '[models."llama3.2"]\nprovider = "ollama"\ncontext_window = 131072\ntools = false\n',
    )
    result = load_config(path)
    assert result.warnings == []
    assert result.config.models == {"llama3.2": {"provider": "ollama", "context_window": 131072, "tools": False}}
    settings = result.config.provider_settings("ollama")
    assert settings.catalog is result.config.catalog()  # one catalog per config: what it learns is kept
    card = settings.catalog.lookup("ollama", "llama3.2")
    assert card.context_window == 131072 and card.tools is False
    assert card.sources["context_window"] == 'config [models."llama3.2"]'


def test_wrong_model_override_keys_are_named_with_file_line_and_key_and_dropped(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        'model = "gpt-5-mini"\n\n[models."gpt-5-mini"]\ncontext_window = -5\nmax_output = 1000\n'
        'colour = "red"\n\n[models.broken]\ninput = ["smell"]\n',
    )
    result = load_config(path)
    warnings = "\n".join(result.warnings)
    assert f"{path}:4: models.gpt-5-mini.context_window: -5 is not valid; use a whole number of tokens above 0" in warnings
    assert f"{path}:6: models.gpt-5-mini.colour: unknown setting" in warnings
    assert f"{path}:9: models.broken.input: ['smell'] is not valid" in warnings
    assert len(result.warnings) == 3
    assert result.config.models == {"gpt-5-mini": {"max_output": 1000}, "broken": {}}
    assert result.config.catalog().lookup("openai", "gpt-5-mini").max_output == 1000


def test_reasoning_and_api_version_options_are_checked(tmp_path: Path) -> None:
    path = write(
        tmp_path / "config.toml",
        '[providers.anthropic]\napi_version = "2026-10-21"\nthinking_budget = 4096\n'
        '[providers.openai]\nreasoning_effort = "low"\nthinking_budget = "lots"\n'
        '[providers.gemini]\napi_version = "v1"\n',
    )
    result = load_config(path)
    [warning] = result.warnings
    assert f"{path}:6: providers.openai.thinking_budget: expected a whole number >= 1, got a string" in warning
    assert result.config.provider_config("anthropic").options == {"api_version": "2026-10-21", "thinking_budget": 4096}
    assert result.config.provider_config("openai").options == {"reasoning_effort": "low"}
    assert result.config.provider_config("gemini").options == {"api_version": "v1"}  # Gemini's own versions pass


def test_an_unknown_anthropic_api_version_is_named_with_the_ones_there_are(tmp_path: Path) -> None:
    path = write(tmp_path / "config.toml", '[providers.anthropic]\napi_version = "2026-10-20"\n')
    [warning] = load_config(path).warnings
    assert f"{path}:2: providers.anthropic.api_version: expected one of 2026-10-21, 2023-06-01" in warning
    assert load_config(path).config.provider_config("anthropic").options == {}


def test_template_names_the_catalogs_defaults_and_the_new_keys_and_show_prints_overrides(tmp_path: Path) -> None:
    from tui_chat.models import default_model

    path = write_default_config(tmp_path / "config.toml")
    text = path.read_text()
    for provider in ("openai", "anthropic", "gemini"):
        assert f'# model = "{default_model(provider)}"' in text
    for key in ("api_version", "reasoning_effort", "thinking_budget", '[models."', "context_window"):
        assert key in text
    models_block = text[text.index('# [models."') :]
    example = "\n".join(line.removeprefix("# ") for line in models_block.splitlines())
    write(path, '[providers.anthropic]\napi_version = "2023-06-01"\nthinking_budget = 2048\n' + example)
    result = load_config(path)
    assert result.warnings == []  # the template's example is a valid table
    assert result.config.catalog().lookup("ollama", "llama3.2").context_window == 131072
    shown = tomllib.loads(masked_toml(result.config).split("\n\n", 1)[1])
    assert shown["models"]["llama3.2"]["provider"] == "ollama"
    assert shown["providers"]["anthropic"]["api_version"] == "2023-06-01"
