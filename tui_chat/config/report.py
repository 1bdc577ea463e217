"""`tui-chat config show`: the settings in effect as TOML, with every secret masked.

Masked: API keys, options named like a secret, every HTTP header value, and the user info
(`user:password@`) of any URL.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..providers import registry
from ..providers.registry import ProviderSpec
from .model import Config

_SECRET_OPTION = re.compile(r"(key|secret|password|token)$", re.IGNORECASE)
"""Option names whose values are masked like API keys."""


def mask_secret(secret: str) -> str:
    """Enough of a secret to tell two apart, never enough to use: "…" and the last 4 characters of
    a long one, just "set" for one too short to show any of."""
    return f"…{secret[-4:]}" if len(secret) >= 16 else "set"


def _env_source(spec: ProviderSpec) -> tuple[str, str] | None:
    """The environment variable that supplies `spec`'s key, and its value."""
    for var in spec.key_env:
        if value := os.environ.get(var, "").strip():
            return var, value
    return None


def _key_report(config: Config) -> list[str]:
    """One comment line per provider that takes a key: where its key comes from, masked."""
    lines = []
    for name, spec in registry.PROVIDERS.items():
        own = config.provider_config(name).api_key
        env = _env_source(spec)
        if own:
            overrides = f", overriding {env[0]}" if env else ""
            lines.append(f"#   {name}: api_key in [providers.{name}] = {mask_secret(own)}{overrides}")
        elif env:
            lines.append(f"#   {name}: {env[0]} = {mask_secret(env[1])}")
        elif spec.key_env:
            lines.append(f"#   {name}: no key (set {' or '.join(spec.key_env)})")
    return lines


def mask_url(url: str) -> str:
    """`url` with the password of its user info masked: `https://user:****@host/path`."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, path = rest.partition("/")
    user, at, host = authority.rpartition("@")
    if not at:
        return url
    name, colon, _password = user.partition(":")
    return f"{scheme}://{name}{':****' if colon else ''}@{host}{slash}{path}"


def _masked_option(key: str, value: Any) -> Any:
    """A provider option as `config show` prints it: secrets, header values and URL passwords masked."""
    if key == "headers" and isinstance(value, dict):
        return {name: mask_secret(str(item)) for name, item in value.items()}
    if isinstance(value, str) and _SECRET_OPTION.search(key):
        return mask_secret(value)
    if isinstance(value, str) and "://" in value:
        return mask_url(value)
    return value


def masked_toml(config: Config) -> str:
    """The settings in effect as TOML, every API key, secret-named option, header value and URL password masked."""
    data: dict[str, Any] = {"provider": config.effective_provider()}
    for key in ("model", "theme", "pack", "prompt", "workspace"):
        if value := getattr(config, key):
            data[key] = value
    if config.variables:
        data["variables"] = dict(config.variables)
    providers: dict[str, dict[str, Any]] = {}
    for name, own in config.providers.items():
        table: dict[str, Any] = {}
        if own.model:
            table["model"] = own.model
        if own.base_url:
            table["base_url"] = mask_url(own.base_url)
        if own.api_key:
            table["api_key"] = mask_secret(own.api_key)
        for key, value in own.options.items():
            table[key] = _masked_option(key, value)
        if table:
            providers[name] = table
    if providers:
        data["providers"] = providers
    if config.tools:
        data["tools"] = {name: tool.as_table() for name, tool in config.tools.items()}
    if config.pack_tools:
        data["packs"] = {pack_id: {"tools": modes} for pack_id, modes in config.pack_tools.items()}
    if config.models:
        data["models"] = {name: dict(facts) for name, facts in config.models.items()}
    if voice := config.voice.set_values():
        data["voice"] = voice
    if not config.history_enabled:
        data["history"] = {"enabled": False}
    if config.path is not None and config.path.is_file():
        source = f"# Settings in effect, from {config.path}."
    else:
        source = f"# Settings in effect: built-in defaults ({config.path or 'no config file'} does not exist)."
    chosen = "" if config.provider else "# provider: not set, so chosen by which keys are set.\n"
    header = "\n".join([source, "# API keys, masked:", *_key_report(config)])
    import tomli_w  # only for `config show`: not on the path to the first screen

    return f"{header}\n{chosen}\n{tomli_w.dumps(data)}"
