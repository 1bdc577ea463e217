"""The catalog: layered sources, family rules for unknown models, overrides, endpoint facts, defaults."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import tui_chat
from tui_chat.models import Catalog, default_model, lookup, realtime_models
from tui_chat.models.card import Rate
from tui_chat.models.endpoints import anthropic_facts, gemini_facts, ollama_facts


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the catalog tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_sources_load_offline(no_network: None) -> None:
    card = Catalog().lookup("openai", "gpt-5-mini")
    assert card.price_input == Rate(Decimal("0.25"))
    assert card.price_output == Rate(Decimal(2))
    assert card.price_cached_input == Rate(Decimal("0.025"))
    assert card.context_window == 400_000
    assert card.sources["price_input"] == "genai-prices"
    assert card.family == "gpt-5"


def test_importing_the_package_loads_neither_the_table_nor_genai_prices() -> None:
    code = (
        "import json, sys, tui_chat.models; "
        "print(json.dumps([m for m in ('genai_prices', 'tui_chat.models.table', 'tui_chat.models.prices') if m in sys.modules]))"
    )
    root = str(Path(tui_chat.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert json.loads(out.stdout) == []


def test_an_unknown_model_of_a_known_family_gets_the_familys_rules() -> None:
    card = Catalog().lookup("openai", "gpt-5.3-mini-2026-11-01")
    assert card.family == "gpt-5"
    assert card.params == frozenset()
    assert card.default_only == {"temperature"}
    assert card.max_tokens_field == "max_completion_tokens"
    assert card.reasoning.takes_effort and "xhigh" in card.reasoning.levels
    assert card.max_output == 128_000
    assert card.sources["reasoning"] == "bundled family gpt-5"
    # genai-prices does not know it, and no price is made up from a relative's.
    assert (card.price_input, card.price_output) == (None, None)


def test_an_unknown_claude_of_generation_5_thinks_adaptively_and_takes_no_temperature_on_either_version() -> None:
    card = Catalog().lookup("anthropic", "claude-sonnet-6-1")
    assert card.family == "claude-4.7+"
    assert card.reasoning.kind == "effort" and card.reasoning.effort_field == "output_config.effort"
    assert "temperature" not in card.accepted_params("2023-06-01")
    assert "temperature" not in card.accepted_params("2026-10-21")


def test_a_claude_before_4_7_takes_temperature_only_on_the_old_api_version() -> None:
    card = Catalog().lookup("anthropic", "claude-opus-4-5")
    assert "temperature" in card.accepted_params("2023-06-01")
    assert "temperature" not in card.accepted_params("2026-10-21")
    assert "temperature" not in card.accepted_params()
    assert card.reasoning.kind == "budget" and card.reasoning.min_budget == 1024


def test_the_most_specific_family_wins() -> None:
    assert Catalog().lookup("openai", "gpt-5-mini").reasoning.levels == ("minimal", "low", "medium", "high")
    assert Catalog().lookup("openai", "gpt-5.1").reasoning.levels == ("none", "low", "medium", "high")
    assert not Catalog().lookup("openai", "gpt-5.4-mini").reasoning.with_tools
    assert Catalog().lookup("openai", "gpt-5.2").reasoning.with_tools


def test_an_unknown_model_of_an_unknown_family_gets_the_conservative_provider_default() -> None:
    card = Catalog().lookup("openai-compatible", "my-local-llm")
    assert card.family == ""
    assert card.context_window is None and card.max_output is None
    assert card.reasoning.kind == "none"
    assert card.price_input is None
    assert set(card.sources.values()) == {"provider default"}


def test_the_exact_table_wins_over_genai_prices_and_vertex_follows_gemini() -> None:
    for provider in ("gemini", "vertex"):
        card = Catalog().lookup(provider, "gemini-3.5-flash-lite")
        assert card.context_window == 1_048_576  # Google's page; genai-prices rounds to 1,000,000
        assert card.sources["context_window"] == "bundled table"
        assert card.max_tokens_field == "maxOutputTokens"


def test_local_models_cost_nothing_but_ollama_cloud_models_are_unknown() -> None:
    assert Catalog().lookup("ollama", "llama3.2").price_input == Rate(Decimal(0))
    assert Catalog().lookup("ollama", "gpt-oss:120b-cloud").price_input is None


def test_a_config_override_wins() -> None:
    catalog = Catalog(
        {
            "gpt-5-mini": {"context_window": 1000, "price_input": 0.5, "tools": False, "reasoning_levels": ["low"]},
            "llama3.2:3b": {"provider": "ollama", "context_window": 131072, "input": ["text", "image"]},
        }
    )
    card = catalog.lookup("openai", "gpt-5-mini")
    assert card.context_window == 1000
    assert card.price_input == Rate(Decimal("0.5"))
    assert card.price_output == Rate(Decimal(2))  # what the override does not say still comes from genai-prices
    assert card.tools is False
    assert card.reasoning.levels == ("low",) and card.reasoning.effort_field == "reasoning_effort"
    assert card.sources["context_window"] == 'config [models."gpt-5-mini"]'
    assert card.sources["reasoning"] == 'config [models."gpt-5-mini"]'
    ollama = catalog.lookup("ollama", "llama3.2:3b")
    assert ollama.context_window == 131072 and "image" in ollama.input_kinds
    assert catalog.lookup("openai-compatible", "llama3.2:3b").context_window is None  # limited to ollama


def test_an_override_wins_over_what_the_endpoint_said() -> None:
    catalog = Catalog({"gemini-3.5-flash-lite": {"context_window": 5000}})
    catalog.learn("gemini", "gemini-3.5-flash-lite", {"context_window": 9000, "max_output": 100}, "gemini models.list")
    card = catalog.lookup("gemini", "gemini-3.5-flash-lite")
    assert card.context_window == 5000
    assert card.max_output == 100
    assert card.sources["max_output"] == "gemini models.list"


def test_gemini_models_list_facts_are_merged() -> None:
    item = {
        "name": "models/gemini-4-flash-preview",
        "displayName": "Gemini 4 Flash Preview",
        "inputTokenLimit": 2_097_152,
        "outputTokenLimit": 131_072,
        "supportedGenerationMethods": ["generateContent", "countTokens"],
        "thinking": True,
    }
    model_id, facts = gemini_facts(item)
    assert model_id == "gemini-4-flash-preview"
    catalog = Catalog()
    catalog.learn("gemini", model_id, facts, "gemini models.list")
    card = catalog.lookup("gemini", model_id)
    assert (card.context_window, card.max_output) == (2_097_152, 131_072)


def test_anthropic_models_api_facts_are_merged() -> None:
    supported, unsupported = {"supported": True}, {"supported": False}
    item = {
        "type": "model",
        "id": "claude-haiku-5-5",
        "display_name": "Claude Haiku 5.5",
        "created_at": "2026-10-07T00:00:00Z",
        "lifecycle": "active",
        "max_input_tokens": 1_000_000,
        "max_tokens": 128_000,
        "capabilities": {
            "image_input": supported,
            "pdf_input": unsupported,
            "effort": {"supported": True, "low": supported, "medium": supported, "high": supported, "max": unsupported, "xhigh": None},
            "thinking": {"supported": True, "types": {"adaptive": supported, "enabled": unsupported, "disabled": supported}},
        },
    }
    model_id, facts = anthropic_facts(item)
    catalog = Catalog()
    catalog.learn("anthropic", model_id, facts, "anthropic models API")
    card = catalog.lookup("anthropic", model_id)
    assert card.input_kinds == {"text", "image"}
    assert card.reasoning.kind == "effort"
    assert card.reasoning.levels == ("low", "medium", "high")
    assert card.reasoning.effort_with == (("thinking.type", "adaptive"),)
    assert card.sources["reasoning"] == "anthropic models API"


def test_ollama_show_facts_are_merged() -> None:
    show = {
        "modelfile": "...",
        "details": {"family": "gemma3", "parameter_size": "4.3B"},
        "model_info": {"general.architecture": "gemma3", "gemma3.context_length": 131072, "gemma3.embedding_length": 2560},
        "capabilities": ["completion", "vision"],
    }
    catalog = Catalog()
    catalog.learn("ollama", "gemma3:4b", ollama_facts(show), "ollama /api/show")
    card = catalog.lookup("ollama", "gemma3:4b")
    assert card.context_window == 131072
    assert card.tools is False
    assert card.input_kinds == {"text", "image"}


def test_learning_rejects_what_is_not_a_card_field() -> None:
    with pytest.raises(ValueError, match="colour"):
        Catalog().learn("openai", "gpt-5-mini", {"colour": "blue"}, "test")


def test_default_models_are_current_and_priced() -> None:
    for provider in ("openai", "anthropic", "gemini", "vertex", "mistral"):
        model = default_model(provider)
        card = lookup(provider, model)
        assert card.price_input is not None and card.price_output is not None, provider
    assert default_model("openai") == "gpt-5-mini"
    assert default_model("anthropic") == "claude-haiku-5-5"
    assert default_model("gemini") == "gemini-3.5-flash-lite"
    assert default_model("azure") == ""  # the deployment name is the user's
    assert default_model("no-such-provider") == ""


def test_realtime_models_are_realtime_cards() -> None:
    for provider in ("openai", "gemini"):
        models = realtime_models(provider)
        assert models
        assert all(lookup(provider, model).realtime for model in models)
    assert realtime_models("anthropic") == ()


def test_a_card_cannot_change_the_bundled_facts() -> None:
    card = Catalog().lookup("anthropic", "claude-opus-4-5")
    with pytest.raises(TypeError):
        card.params_by_api_version["2023-06-01"] = frozenset()  # type: ignore[index]
    with pytest.raises(TypeError):
        card.sources["params"] = "me"  # type: ignore[index]
    assert "temperature" in Catalog().lookup("anthropic", "claude-opus-4-5").accepted_params("2023-06-01")
