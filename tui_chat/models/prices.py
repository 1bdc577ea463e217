"""Prices and context windows from genai-prices, the maintained price table (pydantic/genai-prices).

genai-prices ships its data in the wheel (`genai_prices/data.py`), so this works offline; it never
fetches anything unless `UpdatePrices` is started, which we do not do. Importing it costs a few
hundred milliseconds (pydantic and a 1.6 MB data module), so it is imported here, on the first
lookup that needs a price, never at start-up. Its `find_provider_model` matches a model id by the
provider's own rules (exact names, prefixes, dated variants), and each model may carry
`context_window` too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from .card import Rate

SOURCE = "genai-prices"

GENAI_PROVIDER_IDS: dict[str, str] = {
    "openai": "openai",
    "azure": "azure",
    "anthropic": "anthropic",
    "gemini": "google",
    "vertex": "google",
    "mistral": "mistral",
    "cohere": "cohere",
}
"""Our provider names -> genai-prices provider ids. Ollama (local), Replicate (billed by the
second) and OpenAI-compatible servers (anyone's prices) have no entry."""

_PRICE_FIELDS = (("price_input", "input_mtok"), ("price_output", "output_mtok"), ("price_cached_input", "cache_read_mtok"))


def price_facts(provider: str, model_id: str, *, when: datetime | None = None) -> dict[str, Any]:
    """What genai-prices knows of `model_id` at `provider` (prices at `when`, default now): card facts."""
    provider_id = GENAI_PROVIDER_IDS.get(provider)
    if provider_id is None or not model_id:
        return {}
    from genai_prices import data_snapshot  # heavy: only when a price is first needed

    try:
        _, model = data_snapshot.get_snapshot().find_provider_model(model_id, None, provider_id, None)
    except LookupError:
        return {}
    facts: dict[str, Any] = {}
    if model.context_window:
        facts["context_window"] = int(model.context_window)
    price = model.get_prices(when or datetime.now(UTC))
    for field, theirs in _PRICE_FIELDS:
        if (rate := _rate(getattr(price, theirs, None))) is not None:
            facts[field] = rate
    return facts


def _rate(value: Any) -> Rate | None:
    """A genai-prices price (a Decimal, or TieredPrices with base and tiers) as a `Rate`."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return Rate(value)
    return Rate(Decimal(value.base), tuple((int(tier.start), Decimal(tier.price)) for tier in value.tiers))
