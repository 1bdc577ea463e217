"""Provider names, how to build each one, and which one to use when none is named.

Provider modules are imported only when a provider of that name is built, so start-up pays for
none of them. Each provider's default model comes from the model catalog (`models.default_model`).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from ..errors import UnknownProviderError
from .base import Provider

if TYPE_CHECKING:
    from ..models.catalog import Catalog

KeySource = Callable[[], "str | None"]
"""Returns the API key to use for the next request; called per request so a changed key applies at once."""


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """How to find and build one provider."""

    name: str
    module: str
    class_name: str
    description: str
    key_env: tuple[str, ...] = ()


@dataclass(slots=True)
class ProviderSettings:
    """Everything a provider is built from: model, endpoint, key source, provider options and catalog.

    `catalog` is the model catalog with the person's `[models]` overrides (None: the bundled one).
    """

    model: str | None = None
    base_url: str | None = None
    api_key: KeySource | None = None
    options: dict[str, Any] = field(default_factory=dict)
    catalog: Catalog | None = None


PROVIDERS: dict[str, ProviderSpec] = {
    spec.name: spec
    for spec in (
        ProviderSpec("demo", "tui_chat.providers.demo", "DemoProvider", "offline demo, no key needed", ()),
        ProviderSpec("openai", "tui_chat.providers.openai", "OpenAIProvider", "OpenAI Chat Completions", ("OPENAI_API_KEY",)),
        ProviderSpec("azure", "tui_chat.providers.openai", "AzureOpenAIProvider", "Azure OpenAI deployments", ("AZURE_OPENAI_API_KEY",)),
        ProviderSpec("mistral", "tui_chat.providers.openai", "MistralProvider", "Mistral chat", ("MISTRAL_API_KEY",)),
        ProviderSpec("ollama", "tui_chat.providers.openai", "OllamaProvider", "a local Ollama server", ()),
        ProviderSpec("openai-compatible", "tui_chat.providers.openai", "OpenAICompatibleProvider", "any OpenAI-compatible server (--base-url)", ()),
        ProviderSpec("anthropic", "tui_chat.providers.anthropic", "AnthropicProvider", "Anthropic Messages", ("ANTHROPIC_API_KEY",)),
        ProviderSpec("gemini", "tui_chat.providers.gemini", "GeminiProvider", "Google Gemini (AI Studio)", ("GEMINI_API_KEY", "GOOGLE_API_KEY")),
        ProviderSpec("vertex", "tui_chat.providers.gemini", "VertexProvider", "Gemini on Vertex AI", ("GOOGLE_CLOUD_ACCESS_TOKEN",)),
        ProviderSpec("cohere", "tui_chat.providers.cohere", "CohereProvider", "Cohere Chat v2", ("CO_API_KEY",)),
        ProviderSpec("replicate", "tui_chat.providers.replicate", "ReplicateProvider", "Replicate predictions", ("REPLICATE_API_TOKEN",)),
        ProviderSpec("replay", "tui_chat.providers.replay", "ReplayProvider", "plays a saved chat back (--from CHAT.json|ID)", ()),
    )
}

DEFAULT_ORDER = ("openai", "anthropic", "gemini")
"""Providers picked by default, in this order, when their key is in the environment."""


def spec_for(name: str) -> ProviderSpec:
    """The spec of provider `name`, or an error that suggests the close names."""
    try:
        return PROVIDERS[name]
    except KeyError:
        import difflib  # only when a name was wrong

        close = difflib.get_close_matches(name, PROVIDERS, n=3, cutoff=0.5)
        hint = (f"did you mean {', '.join(close)}? " if close else "") + f"the providers are: {', '.join(PROVIDERS)}"
        raise UnknownProviderError(f"unknown provider {name!r}", hint=hint) from None


def env_key(spec: ProviderSpec, environ: Mapping[str, str] | None = None) -> str | None:
    """The first non-empty key for `spec` found in the environment."""
    environ = os.environ if environ is None else environ
    for var in spec.key_env:
        if value := environ.get(var, "").strip():
            return value
    return None


def default_provider_name(environ: Mapping[str, str] | None = None) -> str:
    """The provider to use when none is named: the first with a key in the environment, else `demo`."""
    for name in DEFAULT_ORDER:
        if env_key(PROVIDERS[name], environ):
            return name
    return "demo"


def create_provider(name: str, settings: ProviderSettings | None = None) -> Provider:
    """Import provider `name`'s module and build it from `settings`."""
    spec = spec_for(name)
    settings = settings or ProviderSettings()
    module = importlib.import_module(spec.module)
    factory = getattr(module, spec.class_name)
    provider: Provider = factory(settings)
    return provider
