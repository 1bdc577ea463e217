"""The catalog: a `ModelCard` for any provider and model id, from layered sources.

Sources, lowest first; each states some fields and a higher one wins field by field:
1. the provider's conservative default (`table.PROVIDER_DEFAULTS`; local providers cost nothing);
2. the model's families by pattern, general first, so an unknown model of a known family gets the
   family's rules (`gpt-5.3-mini-2026-11-01` -> gpt-5);
3. genai-prices: prices and, where it has them, context windows, for the exact model;
4. the bundled table's exact entry for the model;
5. what the provider's own model endpoint reported (`learn`);
6. the person's `[models."name"]` config tables.
A family rule sits below genai-prices because genai-prices speaks of the exact model; the bundled
exact entry sits above it because it is checked against the provider's own documentation.

The bundled table and genai-prices load on the first lookup, not at import; cards are cached.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Any

from .card import CARD_FIELDS, NO_REASONING, ModelCard, Rate
from .overrides import REASONING_LEVELS, Override, parse_overrides

PriceSource = Callable[[str, str], Mapping[str, Any]]
"""(provider, model id) -> price and context facts; genai-prices by default."""

_FREE = Rate(Decimal(0))


def _genai_prices(provider: str, model_id: str) -> Mapping[str, Any]:
    from .prices import price_facts

    return price_facts(provider, model_id)


@cache
def _families(provider: str) -> tuple[tuple[re.Pattern[str], str, Mapping[str, Any]], ...]:
    from .table import FAMILIES

    return tuple((re.compile(pattern), name, facts) for pattern, name, facts in FAMILIES.get(provider, ()))


class Catalog:
    """Model cards for every provider, with the person's overrides and what endpoints reported."""

    def __init__(self, overrides: Mapping[str, Any] | None = None, *, prices: PriceSource = _genai_prices) -> None:
        """`overrides` is the config's `[models]` table (checked here: `ConfigError` if wrong)."""
        self._overrides: tuple[Override, ...] = parse_overrides(overrides or {})
        self._prices = prices
        self._learned: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        self._cards: dict[tuple[str, str], ModelCard] = {}

    def lookup(self, provider: str, model_id: str) -> ModelCard:
        """The card of `model_id` at `provider`; never fails (an unknown model gets the provider's defaults)."""
        key = (provider, model_id)
        if (card := self._cards.get(key)) is None:
            card = self._cards[key] = self._build(provider, model_id)
        return card

    def learn(self, provider: str, model_id: str, facts: Mapping[str, Any], source: str) -> None:
        """Record what `provider`'s model endpoint said about `model_id` (see `endpoints.py`)."""
        if unknown := set(facts) - CARD_FIELDS:
            raise ValueError(f"not card fields: {', '.join(sorted(unknown))}")
        self._learned[(provider, model_id)] = (source, dict(facts))
        self._cards.pop((provider, model_id), None)

    def default_model(self, provider: str) -> str:
        """The provider's default model: current, generally available, inexpensive ("" = the user names it)."""
        from .table import DEFAULT_MODELS

        return DEFAULT_MODELS.get(provider, "")

    def realtime_models(self, provider: str) -> tuple[str, ...]:
        """The models of `provider` with a bidirectional (realtime) API, the default first."""
        from .table import REALTIME_MODELS

        return REALTIME_MODELS.get(provider, ())

    def known_models(self, provider: str) -> list[ModelCard]:
        """Cards of the models the catalog names for `provider`: its default, exact entries, realtime models."""
        from .table import MODELS, PROVIDER_ALIASES

        ids = [self.default_model(provider), *MODELS.get(PROVIDER_ALIASES.get(provider, provider), {}), *self.realtime_models(provider)]
        ids += [override.model_id for override in self._overrides if override.provider == provider]
        return [self.lookup(provider, model_id) for model_id in dict.fromkeys(ids) if model_id]

    def _build(self, provider: str, model_id: str) -> ModelCard:
        from .table import LOCAL_PROVIDERS, MODELS, PROVIDER_ALIASES, PROVIDER_DEFAULTS

        rules = PROVIDER_ALIASES.get(provider, provider)
        facts: dict[str, Any] = {}
        sources: dict[str, str] = {}

        def layer(source: str, stated: Mapping[str, Any]) -> None:
            for field, value in stated.items():
                facts[field] = value
                sources[field] = source

        layer("provider default", PROVIDER_DEFAULTS.get(rules, {}))
        if provider in LOCAL_PROVIDERS:
            layer("local model, no fee", {"price_input": _FREE, "price_output": _FREE, "price_cached_input": _FREE})
        for pattern, family, stated in _families(rules):
            if pattern.fullmatch(model_id):
                layer(f"bundled family {family}", {"family": family, **stated})
        layer("genai-prices", self._prices(provider, model_id))
        layer("bundled table", MODELS.get(rules, {}).get(model_id, {}))
        if learned := self._learned.get((provider, model_id)):
            layer(*learned)
        for override in self._overrides:
            if override.applies_to(provider, model_id):
                layer(override.source, override.facts)
                if "params" in override.facts:  # the person's list holds on every API version
                    facts.pop("params_by_api_version", None)
                    sources.pop("params_by_api_version", None)
        return _card(provider, model_id, facts, sources)


def _card(provider: str, model_id: str, facts: dict[str, Any], sources: dict[str, str]) -> ModelCard:
    """The card from layered facts; a levels override reshapes the reasoning it lands on."""
    if (levels := facts.pop(REASONING_LEVELS, None)) is not None:
        facts["reasoning"] = replace(facts.get("reasoning", NO_REASONING), levels=levels)
        sources["reasoning"] = sources.pop(REASONING_LEVELS)
    if "params_by_api_version" in facts:
        facts["params_by_api_version"] = MappingProxyType(dict(facts["params_by_api_version"]))
    return ModelCard(provider, model_id, **facts, sources=MappingProxyType(sources))


@cache
def default_catalog() -> Catalog:
    """The catalog with no overrides, for code that has no config at hand."""
    return Catalog()


def lookup(provider: str, model_id: str) -> ModelCard:
    """`default_catalog().lookup(...)`."""
    return default_catalog().lookup(provider, model_id)


def default_model(provider: str) -> str:
    """`default_catalog().default_model(...)`."""
    return default_catalog().default_model(provider)


def card_for(provider: Any) -> ModelCard:
    """The card of the model a provider talks to, from its own catalog (with the person's
    overrides and what its endpoints reported), or the bundled one for a provider without one."""
    catalog: Catalog = getattr(provider, "catalog", None) or default_catalog()
    return catalog.lookup(provider.name, provider.model)


def realtime_models(provider: str) -> tuple[str, ...]:
    """`default_catalog().realtime_models(...)`."""
    return default_catalog().realtime_models(provider)

