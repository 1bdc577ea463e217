"""Request shaping for each provider's default and reasoning models, as the services' facts say."""

from __future__ import annotations

import pytest

from tui_chat.models import Catalog, Rejections, shape
from tui_chat.models.catalog import default_catalog

PACK = {"temperature": 0.7, "top_p": 0.9, "max_tokens": 1024}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return default_catalog()


def test_gpt_5_mini_takes_only_the_default_temperature_and_max_completion_tokens(catalog: Catalog) -> None:
    shaped = shape(catalog.lookup("openai", "gpt-5-mini"), {**PACK, "presence_penalty": 0.5, "reasoning_effort": "low"})
    assert shaped.params == {"max_completion_tokens": 1024, "reasoning_effort": "low"}
    assert dict(shaped.dropped) == {
        "temperature": "gpt-5-mini takes only the default temperature",
        "top_p": "gpt-5-mini does not take top_p",
        "presence_penalty": "gpt-5-mini does not take presence_penalty",
    }
    assert shaped.notice().startswith("gpt-5-mini takes only the default temperature; ")


def test_max_tokens_is_clamped_to_the_models_maximum_output(catalog: Catalog) -> None:
    shaped = shape(catalog.lookup("openai", "gpt-5-mini"), {"max_tokens": 1_000_000})
    assert shaped.params == {"max_completion_tokens": 128_000}
    assert shaped.adjusted == (("max_tokens", "gpt-5-mini writes at most 128000 tokens, so max_tokens 1000000 became 128000"),)


def test_a_non_reasoning_openai_model_keeps_its_sampling_parameters(catalog: Catalog) -> None:
    shaped = shape(catalog.lookup("openai", "gpt-4o-mini"), {**PACK, "reasoning_effort": "low"})
    assert shaped.params == {"temperature": 0.7, "top_p": 0.9, "max_completion_tokens": 1024}
    assert shaped.dropped == (("reasoning_effort", "gpt-4o-mini has no reasoning effort setting"),)


def test_an_effort_level_the_model_does_not_have_is_dropped(catalog: Catalog) -> None:
    shaped = shape(catalog.lookup("openai", "gpt-5-mini"), {"reasoning_effort": "xhigh"})
    assert shaped.params == {}
    assert shaped.dropped == (("reasoning_effort", "gpt-5-mini takes reasoning_effort minimal, low, medium, high, not 'xhigh'"),)


def test_from_gpt_5_4_reasoning_effort_is_not_sent_with_tools_on_chat_completions(catalog: Catalog) -> None:
    card = catalog.lookup("openai", "gpt-5.4-mini")
    assert shape(card, {"reasoning_effort": "low"}).params == {"reasoning_effort": "low"}
    with_tools = shape(card, {"reasoning_effort": "low"}, tools=True)
    assert with_tools.params == {}
    assert with_tools.dropped[0][0] == "reasoning_effort"


def test_an_openai_o_series_model_is_shaped_like_gpt_5(catalog: Catalog) -> None:
    shaped = shape(catalog.lookup("openai", "o4-mini"), {**PACK, "reasoning_effort": "high"})
    assert shaped.params == {"max_completion_tokens": 1024, "reasoning_effort": "high"}
    assert [name for name, _ in shaped.dropped] == ["temperature", "top_p"]


def test_claude_default_on_the_current_api_takes_no_sampling_and_thinks_adaptively(catalog: Catalog) -> None:
    card = catalog.lookup("anthropic", "claude-haiku-5-5")
    shaped = shape(card, {**PACK, "top_k": 40, "stop": ["END"], "reasoning_effort": "medium"}, api_version="2026-10-21")
    assert shaped.params == {
        "max_tokens": 1024,
        "stop": ["END"],
        "output_config": {"effort": "medium"},
        "thinking": {"type": "adaptive"},
    }
    assert dict(shaped.dropped) == {
        name: f"claude-haiku-5-5 does not take {name} on API version 2026-10-21" for name in ("temperature", "top_p", "top_k")
    }


def test_claude_4_7_and_later_reject_temperature_on_2023_06_01_too(catalog: Catalog) -> None:
    shaped = shape(catalog.lookup("anthropic", "claude-opus-4-7"), PACK, api_version="2023-06-01")
    assert shaped.params == {"max_tokens": 1024}
    assert "temperature" in dict(shaped.dropped)


def test_an_older_claude_keeps_temperature_on_2023_06_01_only(catalog: Catalog) -> None:
    card = catalog.lookup("anthropic", "claude-sonnet-4-5")
    assert shape(card, PACK, api_version="2023-06-01").params == {"temperature": 0.7, "top_p": 0.9, "max_tokens": 1024}
    assert shape(card, PACK).params == {"max_tokens": 1024}


def test_a_thinking_budget_goes_where_the_model_has_one(catalog: Catalog) -> None:
    budget = {"max_tokens": 8000, "thinking_budget": 2048}
    older = shape(catalog.lookup("anthropic", "claude-sonnet-4-5"), budget)
    assert older.params == {"max_tokens": 8000, "thinking": {"type": "enabled", "budget_tokens": 2048}}
    adaptive = shape(catalog.lookup("anthropic", "claude-haiku-5-5"), budget)
    assert adaptive.params == {"max_tokens": 8000}
    assert adaptive.dropped == (("thinking_budget", "claude-haiku-5-5 has no thinking budget (set reasoning_effort instead)"),)


def test_a_thinking_budget_below_the_minimum_or_not_below_max_tokens_is_dropped(catalog: Catalog) -> None:
    card = catalog.lookup("anthropic", "claude-sonnet-4-5")
    assert shape(card, {"thinking_budget": 500}).dropped == (
        ("thinking_budget", "claude-sonnet-4-5 takes a thinking_budget of at least 1024 tokens, not 500"),
    )
    assert shape(card, {"max_tokens": 2048, "thinking_budget": 2048}).dropped == (
        ("thinking_budget", "thinking_budget 2048 must be below max_tokens 2048"),
    )


def test_gemini_default_maps_max_tokens_and_thinking_level(catalog: Catalog) -> None:
    shaped = shape(catalog.lookup("gemini", "gemini-3.5-flash-lite"), {**PACK, "reasoning_effort": "minimal", "max_tokens": 100_000})
    assert shaped.params == {
        "temperature": 0.7,
        "top_p": 0.9,
        "maxOutputTokens": 65_536,
        "thinkingConfig": {"thinkingLevel": "minimal"},
    }
    assert [name for name, _ in shaped.adjusted] == ["max_tokens"]


def test_gemini_2_5_takes_a_thinking_budget_not_a_level(catalog: Catalog) -> None:
    card = catalog.lookup("gemini", "gemini-2.5-flash")
    assert shape(card, {"thinking_budget": 0}).params == {"thinkingConfig": {"thinkingBudget": 0}}
    assert shape(card, {"reasoning_effort": "low"}).dropped == (
        ("reasoning_effort", "gemini-2.5-flash has no reasoning effort setting (it takes a thinking_budget)"),
    )


@pytest.mark.parametrize("provider", ["mistral", "cohere", "ollama", "openai-compatible"])
def test_the_other_providers_defaults_keep_temperature_and_plain_max_tokens(catalog: Catalog, provider: str) -> None:
    model = catalog.default_model(provider) or "some-model"
    shaped = shape(catalog.lookup(provider, model), PACK)
    assert shaped.params == PACK
    assert shaped.dropped == ()


def test_parameters_the_catalog_does_not_govern_pass_through(catalog: Catalog) -> None:
    shaped = shape(catalog.lookup("openai", "gpt-5-mini"), {"response_format": {"type": "json_object"}})
    assert shaped.params == {"response_format": {"type": "json_object"}}


def test_a_bad_max_tokens_is_dropped_with_its_value(catalog: Catalog) -> None:
    shaped = shape(catalog.lookup("openai", "gpt-4o-mini"), {"max_tokens": "lots"})
    assert shaped.params == {}
    assert shaped.dropped == (("max_tokens", "max_tokens 'lots' is not a whole number above 0"),)


def test_a_parameter_the_service_rejected_is_dropped_from_then_on(catalog: Catalog) -> None:
    rejections = Rejections()
    card = catalog.lookup("openai-compatible", "my-model")
    assert shape(card, PACK, rejected=rejections.for_model("openai-compatible", "my-model")).params == PACK
    assert rejections.remember("openai-compatible", "my-model", "top_p") is True
    assert rejections.remember("openai-compatible", "my-model", "top_p") is False
    shaped = shape(card, PACK, rejected=rejections.for_model("openai-compatible", "my-model"))
    assert shaped.params == {"temperature": 0.7, "max_tokens": 1024}
    assert shaped.dropped == (("top_p", "my-model rejected top_p before"),)
    assert rejections.for_model("openai-compatible", "other-model") == frozenset()


def test_a_rejected_max_tokens_field_switches_to_the_other_one(catalog: Catalog) -> None:
    card = catalog.lookup("openai-compatible", "my-model")
    shaped = shape(card, {"max_tokens": 50}, rejected={"max_tokens"})
    assert shaped.params == {"max_completion_tokens": 50}
    assert shaped.adjusted == (("max_tokens", "my-model rejected max_tokens, so max_tokens goes as max_completion_tokens"),)
    both = shape(card, {"max_tokens": 50}, rejected={"max_tokens", "max_completion_tokens"})
    assert both.params == {}
