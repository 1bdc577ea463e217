"""Reading the config file: parse the TOML, check it against the rules of each table, build a `Config`.

Reading never fails and never writes: a broken file gives the defaults and a warning naming the
file, line and key, so the app still starts; a wrong value is named and its default used; an
unknown key is named with a suggestion. No message here ever contains an API key (values of the
wrong type are described by their TOML type, never shown).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from ..voice.settings import INTERRUPTIONS, TURN_DETECTIONS, VOICE_MODES, VoiceConfig
from ..checking import (
    Problems,
    Rule,
    Wrong,
    check_table,
    choice,
    keep_type,
    non_empty_string,
    number,
    string,
    suggest,
    table,
    toml_type,
)
from ..errors import ConfigError, TuiChatError
from ..providers import registry
from ..safe_text import clean_data
from .keys import stamp_of
from .model import Config, LoadResult, ProviderConfig


def _provider_name(value: Any) -> str:
    name = string(value)
    if name not in registry.PROVIDERS:
        raise Wrong(f"unknown provider {name!r}{suggest(name, registry.PROVIDERS)}")
    return name


def _voice_provider(value: Any) -> str:
    """A provider that can hold a voice session (not unknown, not a text provider without a voice side)."""
    from ..realtime import bidi_spec_for

    name = non_empty_string(value)
    try:
        bidi_spec_for(name)
    except TuiChatError as error:
        raise Wrong(str(error)) from None
    return name


def _device(value: Any) -> int | str:
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise Wrong(f"expected a device index >= 0 or a name, got {value}")
        return value
    if isinstance(value, str) and value.strip():
        return value
    raise Wrong(f"expected a device name or index (see `tui-chat devices`), got {toml_type(value)}")


def _as_is(value: Any) -> Any:
    return value


TOP_LEVEL: dict[str, Rule] = {
    "provider": _provider_name,
    "model": string,
    "theme": string,
    "pack": string,
    "prompt": string,
    "workspace": string,
    "variables": _as_is,
    "providers": _as_is,
    "tools": _as_is,
    "packs": _as_is,
    "voice": _as_is,
    "mcp": _as_is,
    "models": _as_is,
    "history": _as_is,
}
"""The top-level keys; the tables are checked by their own rules below."""

PROVIDER_KEYS: dict[str, Rule] = {"api_key": string, "base_url": string, "model": string}
"""The keys every `[providers.NAME]` table knows; any other key is an option of that provider."""

REASONING: dict[str, Rule] = {
    "reasoning_effort": non_empty_string,
    "thinking_budget": number(1, whole=True, unit=" tokens"),
}
"""Reasoning options any provider takes (sent where the model has reasoning; see models/shaping.py)."""

ANTHROPIC_API_VERSIONS = ("2026-10-21", "2023-06-01")
"""The Anthropic API versions tui-chat speaks; the first is the default (providers/anthropic.py)."""

KNOWN_OPTIONS: dict[str, dict[str, Rule]] = {
    "anthropic": {"api_version": choice(ANTHROPIC_API_VERSIONS)},
    "demo": {
        "speed": keep_type(number(0)),
        "first_token_delay": keep_type(number(0)),
        "reply_chunks": number(0, whole=True),
        "fail_after_chunks": number(0, whole=True),
    },
}
"""Provider options whose type is checked on load; any other option is passed on as it is."""

VOICE: dict[str, Rule] = {
    "provider": _voice_provider,
    "model": non_empty_string,
    "voice": non_empty_string,
    "input_device": _device,
    "output_device": _device,
    "mode": choice(VOICE_MODES),
    "hold_release": number(0, 2, low_open=True, unit=" s"),
    "interruption": choice(INTERRUPTIONS),
    "turn_detection": choice(TURN_DETECTIONS),
    "vad_threshold": number(0, 60, low_open=True, unit=" dB"),
    "vad_start": number(0, 5, low_open=True, unit=" s"),
    "vad_stop": number(0, 10, low_open=True, unit=" s"),
    "vad_min_volume": number(-100, 0, unit=" dBFS"),
    "pre_roll": number(0, 2, unit=" s"),
    "max_turn": number(1, 600, unit=" s"),
}
"""The `[voice]` table: each key and its rule; a wrong value is replaced by its default."""


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise Wrong(f"expected true or false, got {toml_type(value)}")
    return value


HISTORY: dict[str, Rule] = {"enabled": _boolean}
"""The `[history]` table: whether chats are saved."""


_approval = choice(("ask", "auto", "deny"))
"""How a tool is approved."""


def _build(data: dict[str, Any], problems: Problems, path: Path) -> Config:
    """A `Config` from the parsed file, every wrong value dropped with a problem recorded."""
    top = check_table(data, TOP_LEVEL, (), problems)
    config = Config(path=path, **{key: top[key] for key in ("provider", "model", "theme", "pack", "prompt", "workspace") if key in top})
    if "variables" in top:
        variables = top["variables"]
        rules = dict.fromkeys(variables, string) if isinstance(variables, dict) else {}
        config.variables = check_table(variables, rules, ("variables",), problems)
    if "providers" in top:
        config.providers = _providers(top["providers"], problems)
    if "tools" in top and isinstance(tools := _table(top["tools"], ("tools",), problems), dict):
        from ..tools.settings import check_tool_settings  # only for a file with [tools]: the tools package is heavy

        config.tools = check_tool_settings(tools, problems)
    if "packs" in top:
        config.pack_tools = _pack_tools(top["packs"], problems)
    if "mcp" in top:
        from ..tools.mcp.config import check_mcp_table  # only for a file with [mcp]

        config.mcp = check_mcp_table(top["mcp"], problems)
    if "models" in top:
        config.models = _models(top["models"], problems)
    if "voice" in top:
        config.voice = VoiceConfig(**check_table(top["voice"], VOICE, ("voice",), problems, wrong="using the default"))
    if "history" in top:
        history = check_table(top["history"], HISTORY, ("history",), problems, wrong="using the default")
        config.history_enabled = history.get("enabled", True)
    return config


def _table(value: Any, keys: tuple[str, ...], problems: Problems) -> dict[str, Any] | None:
    try:
        return table(value)
    except Wrong as error:
        problems.add(keys, f"{error}; ignored")
        return None


def _providers(value: Any, problems: Problems) -> dict[str, ProviderConfig]:
    tables = _table(value, ("providers",), problems) or {}
    result: dict[str, ProviderConfig] = {}
    for name, own in tables.items():
        if name not in registry.PROVIDERS:
            problems.add(("providers", name), f"unknown provider{suggest(name, registry.PROVIDERS)}; ignored")
        elif (own := _table(own, ("providers", name), problems)) is not None:
            options = {**REASONING, **KNOWN_OPTIONS.get(name, {})}
            rules = {key: PROVIDER_KEYS.get(key) or options.get(key, _as_is) for key in own}
            good = check_table(own, rules, ("providers", name), problems)
            known = {key: good.pop(key) for key in PROVIDER_KEYS if key in good}
            result[name] = ProviderConfig(**known, options=good)
    return result


def _models(value: Any, problems: Problems) -> dict[str, dict[str, Any]]:
    """`[models."name"]` tables: the person's facts about a model, each key checked (models/overrides.py)."""
    from ..models.overrides import OVERRIDE_RULES  # only for a file with [models]

    result: dict[str, dict[str, Any]] = {}
    for name, own in (_table(value, ("models",), problems) or {}).items():
        if (own := _table(own, ("models", name), problems)) is not None:
            result[name] = check_table(own, OVERRIDE_RULES, ("models", name), problems)
    return result


def _pack_tools(value: Any, problems: Problems) -> dict[str, dict[str, str]]:
    """`[packs.<id>.tools]` tables: tool name -> approval mode."""
    result: dict[str, dict[str, str]] = {}
    for pack_id, own in (_table(value, ("packs",), problems) or {}).items():
        keys = ("packs", pack_id)
        if (own := _table(own, keys, problems)) is None:
            continue
        own = check_table(own, {"tools": _as_is}, keys, problems, unknown=lambda _key: "unknown setting (only tools)")
        if (tools := _table(own.get("tools", {}), (*keys, "tools"), problems)) is not None:
            result[pack_id] = check_table(tools, dict.fromkeys(tools, _approval), (*keys, "tools"), problems)
    return result


def read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The text of `path` and its parsed TOML, every string cleaned (a file is untrusted text);
    ConfigError, naming the file, if it is not TOML."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start})") from None
    try:
        return text, clean_data(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def load_config(path: Path | None = None) -> LoadResult:
    """Read the config at `path` (default: `default_config_path()`); never raises, never writes."""
    from .model import default_config_path

    path = path or default_config_path()
    try:
        stamp = stamp_of(path)
        text, data = read_toml(path)
    except FileNotFoundError:
        return LoadResult(Config(path=path))
    except OSError as error:
        return LoadResult(Config(path=path), [f"{path}: cannot read: {error.strerror or error}; using defaults"])
    except ConfigError as error:
        return LoadResult(Config(path=path), [f"{error}; using defaults"])
    problems = Problems(str(path), text)
    config = _build(data, problems, path)
    config._stamp = stamp
    return LoadResult(config, problems.messages)
