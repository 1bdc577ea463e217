"""The settings a config file gives: `Config`, its `[providers.NAME]` tables, and where the file is.

Where a value comes from, highest first: the command line or the UI; the config file; the
environment; built-in defaults. So an `api_key` in `[providers.NAME]` wins over the provider's
environment variable: writing a key into the file is the deliberate act, the variable may be left
over in a shell. Keys are best kept in the environment all the same.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from ..voice.settings import VoiceConfig
from ..providers import registry
from ..providers.registry import ProviderSettings
from .keys import KeySource, clean_key

if TYPE_CHECKING:
    from ..tools.mcp.config import McpServerConfig
    from ..models.catalog import Catalog
    from ..tools.settings import ToolConfig

CONFIG_ENV = "TUI_CHAT_CONFIG"
"""Environment variable naming a config file to use instead of the default one."""

DEFAULT_THEME = "textual-dark"


def default_config_path() -> Path:
    """`$TUI_CHAT_CONFIG` if set, else `config.toml` in the platform's config folder for tui-chat."""
    if override := os.environ.get(CONFIG_ENV, "").strip():
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir("tui-chat", appauthor=False)) / "config.toml"


@dataclass(slots=True)
class ProviderConfig:
    """One `[providers.NAME]` table: the keys every provider knows, and the rest as `options`."""

    api_key: str | None = field(default=None, repr=False)
    """Never shown: kept out of `repr` so a logged config cannot leak it."""
    base_url: str | None = None
    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Config:
    """The settings read from the config file; every field has a default."""

    provider: str | None = None
    """None: chosen by `effective_provider()`."""
    model: str | None = None
    """The model of `provider` (or of the provider chosen by default); None: the provider's default."""
    theme: str = DEFAULT_THEME
    pack: str | None = None
    prompt: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    workspace: str | None = None
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    tools: dict[str, ToolConfig] = field(default_factory=dict)
    """The `[tools.<name>]` tables, checked when the file is loaded."""
    pack_tools: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per pack id, how its tools are approved: `[packs.<id>.tools] <tool> = "ask" | "auto" | "deny"`."""
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The `[models."name"]` tables, each key checked: the person's facts about models (see `catalog()`)."""
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    history_enabled: bool = True
    """`[history] enabled`: False saves no chat, in the TUI or `ask` (saved chats can still be read)."""
    """The `[voice]` table: provider, devices, mode, interruption, VAD and turn settings."""
    mcp: dict[str, McpServerConfig] = field(default_factory=dict)
    """The `[mcp.servers.NAME]` tables: the MCP servers whose tools join the chat."""
    path: Path | None = None
    """The file these settings were loaded from (it may not exist)."""
    _stamp: tuple[int, int, int] | None = field(default=None, init=False, repr=False, compare=False)
    _catalog: Catalog | None = field(default=None, init=False, repr=False, compare=False)

    def effective_provider(self) -> str:
        """`provider`, else the first of `registry.DEFAULT_ORDER` with a key in this file or the
        environment, else "demo". Like `registry.default_provider_name()`, but a key written in
        the file counts too."""
        if self.provider:
            return self.provider
        for name in registry.DEFAULT_ORDER:
            if clean_key(self.provider_config(name).api_key) or registry.env_key(registry.PROVIDERS[name]):
                return name
        return "demo"

    def provider_config(self, name: str) -> ProviderConfig:
        """The `[providers.NAME]` table, or an empty one."""
        return self.providers.get(name) or ProviderConfig()

    def catalog(self) -> Catalog:
        """The model catalog with this file's `[models."name"]` overrides (the bundled one when there are none).

        One per config, so what endpoints taught it and what models refused outlive a provider switch.
        """
        from ..models.catalog import Catalog, default_catalog

        if self._catalog is None:
            self._catalog = Catalog(self.models) if self.models else default_catalog()
        return self._catalog

    def provider_settings(
        self,
        name: str,
        *,
        model: str | None = None,
        base_url: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> ProviderSettings:
        """What provider `name` is built from: the explicit arguments, then this config.

        The top-level `model` applies only to the provider it goes with (`provider`, or the one
        chosen by default) and wins over `[providers.NAME].model` there. The API key is looked up
        on every request: see `KeySource`.
        """
        spec = registry.spec_for(name)
        own = self.provider_config(name)
        return ProviderSettings(
            model=model or (self.model if name == self.effective_provider() else None) or own.model,
            base_url=base_url or own.base_url,
            api_key=KeySource(spec, self.path, own.api_key, self._stamp),
            options={**own.options, **(options or {})},
            catalog=self.catalog(),
        )


@dataclass(slots=True)
class LoadResult:
    """A config and the problems found reading it, one readable sentence each."""

    config: Config
    warnings: list[str] = field(default_factory=list)