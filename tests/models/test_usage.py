"""Cost against hand-computed figures, and context use."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from tui_chat.chunks import Usage
from tui_chat.models import Catalog, context_use, cost
from tui_chat.models.usage import usage_figures, usage_line
from tui_chat.models.card import ModelCard, Rate


@dataclass(frozen=True)
class CachedUsage:
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int


def test_cost_of_a_gpt_5_mini_reply() -> None:
    # $0.25 per M input, $2 per M output: 12,000 in and 3,500 out
    # = 12,000 * 0.25 / 1e6 + 3,500 * 2 / 1e6 = 0.003 + 0.007 = 0.010
    card = Catalog().lookup("openai", "gpt-5-mini")
    assert cost(card, Usage(input_tokens=12_000, output_tokens=3_500)) == Decimal("0.010")


def test_cost_with_cached_input() -> None:
    # 100,000 in of which 80,000 cached, 2,000 out, at 0.25 / 0.025 / 2 per M:
    # 20,000 * 0.25 = 5,000; 80,000 * 0.025 = 2,000; 2,000 * 2 = 4,000 -> 11,000 / 1e6 = 0.011
    card = Catalog().lookup("openai", "gpt-5-mini")
    assert cost(card, CachedUsage(100_000, 2_000, 80_000)) == Decimal("0.011")


def test_a_long_prompt_pays_the_tier_price_for_all_its_tokens() -> None:
    # claude-haiku-5-5: $0.10 / $0.50 per M up to 100,000 prompt tokens, $0.50 / $2.50 beyond.
    card = Catalog().lookup("anthropic", "claude-haiku-5-5")
    # 100,000 in (not beyond), 1,000 out: 100,000 * 0.10 + 1,000 * 0.50 = 10,500 / 1e6
    assert cost(card, Usage(100_000, 1_000)) == Decimal("0.0105")
    # 100,001 in, 1,000 out: 100,001 * 0.50 + 1,000 * 2.50 = 52,500.5 / 1e6
    assert cost(card, Usage(100_001, 1_000)) == Decimal("0.0525005")


def test_an_unknown_price_makes_the_cost_unknown_never_a_guess() -> None:
    assert cost(Catalog().lookup("openai", "gpt-5.3-mini-2026-11-01"), Usage(1_000, 1_000)) is None
    no_cache_price = ModelCard("x", "m", price_input=Rate(Decimal(1)), price_output=Rate(Decimal(1)))
    assert cost(no_cache_price, CachedUsage(1_000, 10, 500)) is None
    assert cost(no_cache_price, CachedUsage(1_000, 10, 0)) == Decimal("0.00101")


def test_a_local_model_costs_nothing() -> None:
    assert cost(Catalog().lookup("ollama", "llama3.2"), Usage(50_000, 5_000)) == 0


def test_context_use() -> None:
    card = Catalog().lookup("openai", "gpt-5-mini")
    use = context_use(card, 100_000)
    assert (use.used, use.window, use.percent) == (100_000, 400_000, 25.0)
    assert use.fits(300_000) and not use.fits(300_001)
    unknown = context_use(Catalog().lookup("openai-compatible", "x"), 10)
    assert unknown.percent is None and unknown.fits(10**9)


def test_usage_figures_are_hand_computed_and_unknown_when_a_price_is() -> None:
    card = Catalog(prices=lambda provider, model: {}).lookup("openai", "gpt-5-mini")
    priced = replace(card, price_input=Rate(Decimal("0.25")), price_output=Rate(Decimal("2")), context_window=400_000)
    # 1000 * 0.25 / 1e6 + 500 * 2 / 1e6 = 0.00025 + 0.001
    assert usage_figures(priced, Usage(1000, 500)) == {
        "input_tokens": 1000, "output_tokens": 500, "context_used": 1500, "context_window": 400_000,
        "context_percent": 0.4, "cost_usd": 0.00125,
    }
    unpriced = replace(priced, price_output=None, context_window=None)
    figures = usage_figures(unpriced, Usage(1000, 500))
    assert figures["cost_usd"] == "unknown" and figures["context_percent"] is None
    assert usage_line(priced, [Usage(1000, 500)], Decimal("0.01")) == (
        "in 1,000 · out 500 · ctx 0.4% of 400k · $0.00125 (chat $0.01)"
    )
    assert usage_line(unpriced, [Usage(1000, 500)], None).endswith("ctx window unknown · cost unknown (chat cost unknown)")


def test_a_tool_turn_adds_its_calls_up_and_its_context_is_the_last_calls() -> None:
    from tui_chat.models.usage import turn_cost

    card = Catalog(prices=lambda provider, model: {}).lookup("openai", "gpt-5-mini")
    priced = replace(card, price_input=Rate(Decimal("0.25")), price_output=Rate(Decimal("2")), context_window=400_000)
    calls = [Usage(1000, 100), Usage(1300, 500)]
    # (1000 + 1300) * 0.25 / 1e6 + (100 + 500) * 2 / 1e6 = 0.000575 + 0.0012
    assert turn_cost(priced, calls) == Decimal("0.001775")
    # the context is the last call's 1,300 + 500 = 1,800 of 400,000 = 0.45 %, shown to one decimal
    assert usage_line(priced, calls, Decimal("0.002")) == (
        "in 2,300 · out 600 · ctx 0.5% of 400k · $0.001775 (chat $0.002)"
    )
    assert turn_cost(replace(priced, price_output=None), calls) is None


def test_text_not_yet_counted_is_estimated_at_four_characters_a_token_rounded_up() -> None:
    from tui_chat.models.usage import estimate_tokens, next_input_tokens

    assert [estimate_tokens(chars) for chars in (0, 1, 4, 5, 400)] == [0, 1, 1, 2, 100]
    # the service counted 1,200 tokens (the last reply's input and output); 41 characters came since
    assert next_input_tokens(1_200, 41) == 1_211
    assert next_input_tokens(0, 0) == 0


def test_window_sizes_are_shown_the_short_way() -> None:
    from tui_chat.models.usage import _tokens

    assert [_tokens(n) for n in (8192, 400_000, 1_048_576, 2_000_000, 128_000, 200_000, 131_072, 1_500_000, 900)] == [
        "8k", "400k", "1M", "2M", "128k", "200k", "128k", "1.5M", "900"
    ]


def test_a_chat_s_cost_follows_the_provider_it_moved_to() -> None:
    """The recorder prices each reply on the model the chat is on when it ends, not the one it began on."""
    from tui_chat.store.recorder import cost_of

    @dataclass
    class OnModel:
        name: str
        model: str
        catalog: Catalog

    on = OnModel("openai", "gpt-5-mini", Catalog())
    price = cost_of(lambda: on)
    usage = Usage(input_tokens=12_000, output_tokens=3_500)
    assert price(usage) == 0.010
    on = OnModel("anthropic", "claude-haiku-5-5", Catalog())  # 100,000 * 0.10 + ... : 12,000 * 0.10 + 3,500 * 0.50 = 2,950 / 1e6
    assert price(usage) == float(Decimal("0.00295"))
