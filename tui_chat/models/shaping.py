"""Request shaping: the parameters a model takes, from what a pack or the config asked for. Pure.

`shape` keeps what the card says the model takes, drops the rest with a short reason a person can
read, sends `max_tokens` under the field the model wants (clamped to its maximum output), and turns
`reasoning_effort` / `thinking_budget` into the model's own wire fields where it has them.

`Shaped.params` holds request fields: sampling parameters under the pack names (the provider
renames the ones its wire spells differently, as it always has), the max-tokens field by the
card's name, and reasoning as the nested objects the wire wants (`{"output_config": {"effort":
"low"}, "thinking": {"type": "adaptive"}}`; for Gemini they go inside `generationConfig`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from .card import SAMPLING_PARAMS, ModelCard

MAX_TOKENS = "max_tokens"
REASONING_EFFORT = "reasoning_effort"
THINKING_BUDGET = "thinking_budget"

_OTHER_MAX_TOKENS_FIELD = {"max_tokens": "max_completion_tokens", "max_completion_tokens": "max_tokens"}
"""When a service rejects one OpenAI-style max-tokens field by name, it wants the other."""


@dataclass(frozen=True, slots=True)
class Shaped:
    """A request's parameters fitted to one model, and what was dropped or changed on the way, and why."""

    params: dict[str, Any]
    dropped: tuple[tuple[str, str], ...] = ()
    adjusted: tuple[tuple[str, str], ...] = ()

    def notice(self) -> str:
        """One line for the status bar saying what was dropped or changed ("" when nothing was)."""
        return "; ".join(reason for _, reason in (*self.dropped, *self.adjusted))


def shape(
    card: ModelCard,
    parameters: Mapping[str, Any],
    *,
    api_version: str | None = None,
    tools: bool = False,
    rejected: Collection[str] = (),
) -> Shaped:
    """Fit `parameters` to `card` on `api_version`, for a request with or without `tools`.

    `rejected` names parameters the service has already refused for this model (`Rejections`).
    """
    accepted = card.accepted_params(api_version)
    params: dict[str, Any] = {}
    dropped: list[tuple[str, str]] = []
    adjusted: list[tuple[str, str]] = []
    for name, value in parameters.items():
        if name == MAX_TOKENS:
            _max_tokens(card, value, rejected, params, dropped, adjusted)
        elif name in rejected:
            dropped.append((name, f"{card.id} rejected {name} before"))
        elif name == REASONING_EFFORT:
            _effort(card, value, tools, params, dropped)
        elif name == THINKING_BUDGET:
            _budget(card, value, parameters.get(MAX_TOKENS), params, dropped)
        elif name not in SAMPLING_PARAMS or name in accepted:
            params[name] = value
        elif name in card.default_only:
            dropped.append((name, f"{card.id} takes only the default {name}"))
        elif api_version and card.params_by_api_version:
            dropped.append((name, f"{card.id} does not take {name} on API version {api_version}"))
        else:
            dropped.append((name, f"{card.id} does not take {name}"))
    return Shaped(params, tuple(dropped), tuple(adjusted))


def _max_tokens(
    card: ModelCard,
    value: Any,
    rejected: Collection[str],
    params: dict[str, Any],
    dropped: list[tuple[str, str]],
    adjusted: list[tuple[str, str]],
) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        dropped.append((MAX_TOKENS, f"max_tokens {value!r} is not a whole number above 0"))
        return
    field = card.max_tokens_field
    if field in rejected:
        if (other := _OTHER_MAX_TOKENS_FIELD.get(field)) is None or other in rejected:
            dropped.append((MAX_TOKENS, f"{card.id} rejected {field} before"))
            return
        adjusted.append((MAX_TOKENS, f"{card.id} rejected {field}, so max_tokens goes as {other}"))
        field = other
    if card.max_output is not None and value > card.max_output:
        adjusted.append((MAX_TOKENS, f"{card.id} writes at most {card.max_output} tokens, so max_tokens {value} became {card.max_output}"))
        value = card.max_output
    params[field] = value


def _effort(card: ModelCard, value: Any, tools: bool, params: dict[str, Any], dropped: list[tuple[str, str]]) -> None:
    reasoning = card.reasoning
    if not reasoning.takes_effort:
        hint = " (it takes a thinking_budget)" if reasoning.takes_budget else ""
        dropped.append((REASONING_EFFORT, f"{card.id} has no reasoning effort setting{hint}"))
    elif value not in reasoning.levels:
        dropped.append((REASONING_EFFORT, f"{card.id} takes reasoning_effort {', '.join(reasoning.levels)}, not {value!r}"))
    elif tools and not reasoning.with_tools:
        dropped.append((REASONING_EFFORT, f"{card.id} does not take reasoning_effort together with tools on this API"))
    else:
        _put(params, reasoning.effort_field, value)
        for path, fixed in reasoning.effort_with:
            _put(params, path, fixed)


def _budget(card: ModelCard, value: Any, max_tokens: Any, params: dict[str, Any], dropped: list[tuple[str, str]]) -> None:
    reasoning = card.reasoning
    if not reasoning.takes_budget:
        hint = " (set reasoning_effort instead)" if reasoning.takes_effort else ""
        dropped.append((THINKING_BUDGET, f"{card.id} has no thinking budget{hint}"))
    elif isinstance(value, bool) or not isinstance(value, int) or value < reasoning.min_budget:
        dropped.append((THINKING_BUDGET, f"{card.id} takes a thinking_budget of at least {reasoning.min_budget} tokens, not {value!r}"))
    elif reasoning.budget_with and isinstance(max_tokens, int) and value >= max_tokens:
        dropped.append((THINKING_BUDGET, f"thinking_budget {value} must be below max_tokens {max_tokens}"))
    else:
        _put(params, reasoning.budget_field, value)
        for path, fixed in reasoning.budget_with:
            _put(params, path, fixed)


def _put(params: dict[str, Any], path: str, value: Any) -> None:
    """Set `value` at a dotted `path` in `params`, making the nested objects on the way."""
    *parents, leaf = path.split(".")
    node = params
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
