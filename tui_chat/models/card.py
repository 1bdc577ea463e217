"""What the catalog knows about one model: limits, inputs, features, accepted parameters, prices.

A `ModelCard` is plain frozen data. The catalog builds it by layering partial facts (a mapping of
field name to value) from several sources; `sources` says, per field, which source gave it, so
`tui-chat models` can show where a fact came from and a person can tell a measured fact from a rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

InputKind = Literal["text", "image", "audio", "pdf"]
INPUT_KINDS: frozenset[str] = frozenset({"text", "image", "audio", "pdf"})

ReasoningKind = Literal["none", "effort", "budget", "effort+budget"]
"""How a model's reasoning is configured: not at all, by an effort level, by a token budget, or both."""

SAMPLING_PARAMS: frozenset[str] = frozenset(
    {"temperature", "top_p", "top_k", "presence_penalty", "frequency_penalty", "logprobs", "seed", "stop"}
)
"""The generic request parameters a pack or config may set, by the names the catalog uses for them."""


@dataclass(frozen=True, slots=True)
class Rate:
    """A price in USD per million tokens, with the "cliff" tiers some providers use.

    `tiers` holds (start, price) pairs, ascending: once the request's input tokens exceed `start`,
    that price applies to every token of the kind (the convention genai-prices documents for
    Anthropic, Google and OpenAI long-context prices).
    """

    base: Decimal
    tiers: tuple[tuple[int, Decimal], ...] = ()

    def per_million(self, input_tokens: int) -> Decimal:
        """The price per million tokens for a request with `input_tokens` input tokens."""
        price = self.base
        for start, tier_price in self.tiers:
            if input_tokens > start:
                price = tier_price
        return price


@dataclass(frozen=True, slots=True)
class Reasoning:
    """How a model reasons and how that is asked for on the wire.

    `levels` are the effort values it takes (in the provider's spelling); `effort_field` and
    `budget_field` are the request fields that carry them (dotted for nested objects, as in
    `output_config.effort`); `min_budget` is the smallest thinking budget the service accepts.
    """

    kind: ReasoningKind = "none"
    levels: tuple[str, ...] = ()
    effort_field: str = ""
    budget_field: str = ""
    min_budget: int = 0
    effort_with: tuple[tuple[str, Any], ...] = ()
    """Fixed fields sent alongside an effort level (Anthropic: `thinking.type = "adaptive"`)."""
    budget_with: tuple[tuple[str, Any], ...] = ()
    """Fixed fields sent alongside a budget (Anthropic: `thinking.type = "enabled"`)."""
    with_tools: bool = True
    """False where the API refuses reasoning settings together with function tools (OpenAI Chat
    Completions from gpt-5.4: "Function tools with reasoning_effort are not supported")."""

    @property
    def takes_effort(self) -> bool:
        return self.kind in ("effort", "effort+budget")

    @property
    def takes_budget(self) -> bool:
        return self.kind in ("budget", "effort+budget")


NO_REASONING = Reasoning()


@dataclass(frozen=True, slots=True)
class ModelCard:
    """Everything the catalog knows about one model of one provider.

    `params` are the sampling parameters the model takes on the provider's current API version;
    `params_by_api_version` lists them for other versions where they differ (Anthropic's
    `2023-06-01`). `default_only` names parameters the model takes only at their default value, so
    the catalog drops them and says so in those words. Prices are USD per million tokens; `None`
    means unknown, never a guess. `sources` maps a field name to where its value came from.
    """

    provider: str
    id: str
    family: str = ""
    context_window: int | None = None
    max_output: int | None = None
    input_kinds: frozenset[str] = frozenset({"text"})
    tools: bool = False
    streaming: bool = True
    realtime: bool = False
    reasoning: Reasoning = NO_REASONING
    params: frozenset[str] = frozenset()
    params_by_api_version: Mapping[str, frozenset[str]] = field(default_factory=dict)
    default_only: frozenset[str] = frozenset()
    max_tokens_field: str = "max_tokens"
    price_input: Rate | None = None
    price_output: Rate | None = None
    price_cached_input: Rate | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    def accepted_params(self, api_version: str | None = None) -> frozenset[str]:
        """The sampling parameters this model takes on `api_version` (None: the current one)."""
        if api_version is not None and api_version in self.params_by_api_version:
            return self.params_by_api_version[api_version]
        return self.params

    @property
    def name(self) -> str:
        """`provider/id`, as messages name the model."""
        return f"{self.provider}/{self.id}"


CARD_FIELDS: frozenset[str] = frozenset(ModelCard.__dataclass_fields__) - {"provider", "id", "sources"}
"""The fields a source may state a fact about."""
