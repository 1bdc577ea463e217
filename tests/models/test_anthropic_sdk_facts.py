"""The Anthropic rules checked against facts copied from the anthropic Python SDK 2.10.0.

The SDK is not a dependency; these constants are copied from its source (PyPI anthropic 2.10.0):
`types/model_param.py` (the model ids), `types/output_config_param.py` (effort levels),
`types/thinking_config_enabled_param.py` / `thinking_config_adaptive_param.py` (thinking shapes).
"""

from __future__ import annotations

import re

import pytest

from tui_chat.models import Catalog, shape

SDK_MODELS = (
    "claude-fable-5-2", "claude-mythos-5-2", "claude-haiku-5-5", "claude-sonnet-5-5", "claude-fable-5-1",
    "claude-opus-5-5", "claude-mythos-5-1", "claude-sonnet-5", "claude-fable-5", "claude-mythos-5", "claude-opus-5",
    "claude-opus-4-8", "claude-opus-4-7", "claude-mythos-preview", "claude-opus-4-6", "claude-sonnet-4-6",
    "claude-haiku-4-5", "claude-haiku-4-5-20251001", "claude-opus-4-5", "claude-opus-4-5-20251101",
    "claude-sonnet-4-5", "claude-sonnet-4-5-20250929",
)
SDK_EFFORT_LEVELS = {"low", "medium", "high", "xhigh", "max"}
SDK_THINKING_KEYS = {"enabled": {"type", "budget_tokens", "display"}, "adaptive": {"type", "display"}}


def _generation(model_id: str) -> tuple[int, int] | None:
    match = re.fullmatch(r"claude-[a-z]+-(\d+)(?:-(\d))?(?:-\d{8})?", model_id)
    return (int(match.group(1)), int(match.group(2) or 0)) if match else None


@pytest.mark.parametrize("model_id", SDK_MODELS)
def test_every_sdk_model_has_a_family_and_the_temperature_rule_of_its_generation(model_id: str) -> None:
    card = Catalog().lookup("anthropic", model_id)
    assert card.family.startswith("claude")
    assert "temperature" not in card.accepted_params("2026-10-21")
    generation = _generation(model_id)
    if generation is not None:
        assert ("temperature" in card.accepted_params("2023-06-01")) == (generation < (4, 7))


@pytest.mark.parametrize("model_id", SDK_MODELS)
def test_shaped_reasoning_fits_the_sdk_request_types(model_id: str) -> None:
    card = Catalog().lookup("anthropic", model_id)
    assert set(card.reasoning.levels) <= SDK_EFFORT_LEVELS
    level = card.reasoning.levels[0] if card.reasoning.levels else "low"
    shaped = shape(card, {"max_tokens": 4096, "reasoning_effort": level, "thinking_budget": 2048})
    thinking = shaped.params.get("thinking")
    assert thinking is not None, shaped.dropped
    assert set(thinking) <= SDK_THINKING_KEYS[thinking["type"]]
    if "output_config" in shaped.params:
        assert shaped.params["output_config"]["effort"] in SDK_EFFORT_LEVELS
        assert thinking["type"] == "adaptive"
