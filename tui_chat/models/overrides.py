"""A person's own facts about a model, from the config's `[models."name"]` tables, checked.

The table name is the model id as the provider spells it; `provider = "..."` limits the entry to
one provider (ids like `llama3.2:3b` or `meta/llama` hold `:` and `/`, so the provider is a key,
not part of the name). Every other key states one fact and wins over every other source:

    [models."gpt-5-mini"]
    context_window = 400000          # tokens, > 0
    max_output = 128000              # tokens, > 0
    input = ["text", "image"]        # of text, image, audio, pdf
    tools = true                     # also: streaming, realtime
    params = ["seed"]                # the sampling parameters it takes (replaces the catalog's)
    max_tokens_field = "max_completion_tokens"
    reasoning = "none"               # turn reasoning settings off
    reasoning_levels = ["low", "high"]   # the effort levels it takes
    price_input = 0.25               # USD per million tokens, >= 0; also price_output, price_cached_input
    family = "gpt-5"

A wrong key or value raises `ConfigError` naming the table, the key and the value. The config
loader checks the same keys with `OVERRIDE_RULES`, so a wrong one is named with its file and line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..checking import Rule, Wrong
from ..errors import ConfigError
from .card import INPUT_KINDS, NO_REASONING, SAMPLING_PARAMS, Rate

REASONING_LEVELS = "reasoning_levels"
"""A fact applied to the layered card's reasoning (its levels replaced), not set on its own."""


@dataclass(frozen=True, slots=True)
class Override:
    """One checked `[models."name"]` table: the provider it is limited to (or None) and its facts."""

    model_id: str
    provider: str | None
    facts: Mapping[str, Any]

    @property
    def source(self) -> str:
        return f'config [models."{self.model_id}"]'

    def applies_to(self, provider: str, model_id: str) -> bool:
        return model_id == self.model_id and self.provider in (None, provider)


def _positive_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _words(allowed: frozenset[str] | None) -> Callable[[Any], frozenset[str] | None]:
    def check(value: Any) -> frozenset[str] | None:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return None
        if allowed is not None and not set(value) <= allowed:
            return None
        return frozenset(value)

    return check


def _levels(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and value and all(isinstance(item, str) and item for item in value):
        return tuple(value)
    return None


def _reasoning(value: Any) -> object | None:
    return NO_REASONING if value == "none" else None


def _price(value: Any) -> Rate | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        price = Decimal(str(value))
    except InvalidOperation:
        return None
    return Rate(price) if price.is_finite() and price >= 0 else None


_KEYS: dict[str, tuple[str, Callable[[Any], Any], str]] = {
    # config key: (card field, checker returning the fact or None, what a right value is)
    "context_window": ("context_window", _positive_int, "a whole number of tokens above 0"),
    "max_output": ("max_output", _positive_int, "a whole number of tokens above 0"),
    "input": ("input_kinds", _words(INPUT_KINDS), f"a list of {', '.join(sorted(INPUT_KINDS))}"),
    "tools": ("tools", _bool, "true or false"),
    "streaming": ("streaming", _bool, "true or false"),
    "realtime": ("realtime", _bool, "true or false"),
    "params": ("params", _words(SAMPLING_PARAMS), f"a list of {', '.join(sorted(SAMPLING_PARAMS))}"),
    "max_tokens_field": ("max_tokens_field", _text, "the request field name, such as max_completion_tokens"),
    "reasoning": ("reasoning", _reasoning, '"none" (set reasoning_levels to change the levels)'),
    "reasoning_levels": (REASONING_LEVELS, _levels, 'a list of effort levels, such as ["low", "high"]'),
    "price_input": ("price_input", _price, "USD per million tokens, 0 or more"),
    "price_output": ("price_output", _price, "USD per million tokens, 0 or more"),
    "price_cached_input": ("price_cached_input", _price, "USD per million tokens, 0 or more"),
    "family": ("family", _text, "a family name"),
}


def _rule(key: str) -> Rule:
    """The config checker of `key`: its value as written when right, else `Wrong` saying what is right."""
    _field, check, expected = _KEYS[key]

    def rule(value: Any) -> Any:
        if check(value) is None:
            raise Wrong(f"{value!r} is not valid; use {expected}")
        return value

    return rule


def _provider(value: Any) -> str:
    if _text(value) is None:
        raise Wrong(f'{value!r} is not a provider name; use a name such as "ollama"')
    return str(value).strip()


OVERRIDE_RULES: dict[str, Rule] = {"provider": _provider, **{key: _rule(key) for key in _KEYS}}
"""Each key of a `[models."name"]` table and its checker, for the config loader."""


def parse_overrides(tables: Mapping[str, Any]) -> tuple[Override, ...]:
    """Check the `[models]` tables of the config and turn each into an `Override`."""
    if not isinstance(tables, Mapping):
        raise ConfigError(f"[models] must be a table of model tables, not {tables!r}")
    return tuple(_parse_one(name, table) for name, table in tables.items())


def _parse_one(name: str, table: Any) -> Override:
    where = f'[models."{name}"]'
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table, not {table!r}")
    provider = table.get("provider")
    if provider is not None and _text(provider) is None:
        raise ConfigError(f"{where} provider = {provider!r} is not a provider name", hint='use a name such as "ollama"')
    facts: dict[str, Any] = {}
    for key, value in table.items():
        if key == "provider":
            continue
        if key not in _KEYS:
            raise ConfigError(f"{where} has an unknown key {key!r}", hint=f"known keys: provider, {', '.join(_KEYS)}")
        field, check, expected = _KEYS[key]
        fact = check(value)
        if fact is None:
            raise ConfigError(f"{where} {key} = {value!r} is not valid", hint=f"use {expected}")
        facts[field] = fact
    return Override(name, provider.strip() if provider else None, facts)
