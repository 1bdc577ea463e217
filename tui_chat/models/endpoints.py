"""Facts from the providers' own model endpoints, read out of their replies (fetching is elsewhere).

Each reader takes one decoded JSON item as the service returns it and gives the card facts it
states; a missing or malformed field states nothing. Model ids are passed on as given: the caller
cleans them where they enter (`safe_text.clean`), as for any text from a server.

- Gemini `models.list` / `models.get`: `{"name": "models/gemini-3.5-flash-lite",
  "inputTokenLimit": 1048576, "outputTokenLimit": 65536, "thinking": true, ...}`.
- Anthropic `GET /v1/models` items (SDK 2.10.0 `types/model_info.py`): `id`, `max_input_tokens`,
  `max_tokens`, `capabilities` with `image_input`, `pdf_input`, `effort` (`low`...`max`, `xhigh`,
  each `{"supported": bool}`) and `thinking.types` (`enabled`, `adaptive`).
- Ollama `POST /api/show`: `model_info["<architecture>.context_length"]` and `capabilities`
  (`"completion"`, `"tools"`, `"vision"`, `"thinking"`, ...).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .card import Reasoning

_ANTHROPIC_EFFORT_LEVELS = ("low", "medium", "high", "xhigh", "max")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _supported(capabilities: Mapping[str, Any], *path: str) -> bool | None:
    node: Any = capabilities
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    if isinstance(node, Mapping) and isinstance(node.get("supported"), bool):
        return node["supported"]
    return None


def gemini_facts(item: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(model id, facts) from one Gemini models.list item."""
    model_id = str(item.get("name", "")).removeprefix("models/")
    facts: dict[str, Any] = {}
    if (window := _int(item.get("inputTokenLimit"))) is not None:
        facts["context_window"] = window
    if (output := _int(item.get("outputTokenLimit"))) is not None:
        facts["max_output"] = output
    if item.get("thinking") is False:
        facts["reasoning"] = Reasoning()
    return model_id, facts


def anthropic_facts(item: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(model id, facts) from one Anthropic models API item."""
    model_id = str(item.get("id", ""))
    facts: dict[str, Any] = {}
    if (window := _int(item.get("max_input_tokens"))) is not None:
        facts["context_window"] = window
    if (output := _int(item.get("max_tokens"))) is not None:
        facts["max_output"] = output
    capabilities = item.get("capabilities")
    if not isinstance(capabilities, Mapping):
        return model_id, facts
    image, pdf = _supported(capabilities, "image_input"), _supported(capabilities, "pdf_input")
    if image is not None and pdf is not None:
        facts["input_kinds"] = frozenset({"text"} | ({"image"} if image else set()) | ({"pdf"} if pdf else set()))
    if (reasoning := _anthropic_reasoning(capabilities)) is not None:
        facts["reasoning"] = reasoning
    return model_id, facts


def _anthropic_reasoning(capabilities: Mapping[str, Any]) -> Reasoning | None:
    """The reasoning a model states: effort levels (with adaptive thinking) and/or a thinking budget."""
    thinking = _supported(capabilities, "thinking")
    effort = _supported(capabilities, "effort")
    if thinking is None and effort is None:
        return None
    adaptive = bool(_supported(capabilities, "thinking", "types", "adaptive"))
    budget = bool(_supported(capabilities, "thinking", "types", "enabled"))
    levels = tuple(level for level in _ANTHROPIC_EFFORT_LEVELS if _supported(capabilities, "effort", level)) if effort else ()
    takes_effort = bool(levels) and adaptive
    kind = "effort+budget" if takes_effort and budget else "effort" if takes_effort else "budget" if budget else "none"
    return Reasoning(
        kind,
        levels if takes_effort else (),
        effort_field="output_config.effort" if takes_effort else "",
        budget_field="thinking.budget_tokens" if budget else "",
        min_budget=1024 if budget else 0,
        effort_with=(("thinking.type", "adaptive"),) if takes_effort else (),
        budget_with=(("thinking.type", "enabled"),) if budget else (),
    )


def ollama_facts(show: Mapping[str, Any]) -> dict[str, Any]:
    """Facts from an Ollama /api/show reply (the model id is the one that was asked about)."""
    facts: dict[str, Any] = {}
    info = show.get("model_info")
    if isinstance(info, Mapping):
        for key, value in info.items():
            if isinstance(key, str) and key.endswith(".context_length") and (window := _int(value)) is not None:
                facts["context_window"] = window
                break
    capabilities = show.get("capabilities")
    if isinstance(capabilities, list):
        facts["tools"] = "tools" in capabilities
        facts["input_kinds"] = frozenset({"text", "image"} if "vision" in capabilities else {"text"})
    return facts
