"""Model cards as `tui-chat models` shows them: one JSON object per model, or a plain-text table.

Model ids may come from a server's list: `tui-chat models` passes them in cleaned (`ModelInfo`
cleans every id it holds), and the table is plain text, never markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from .card import ModelCard, Rate


def card_dict(card: ModelCard) -> dict[str, Any]:
    """Everything the catalog knows of `card`, JSON-ready (prices as strings of USD per million tokens, null if unknown)."""
    reasoning = card.reasoning
    return {
        "provider": card.provider,
        "id": card.id,
        "family": card.family,
        "context_window": card.context_window,
        "max_output": card.max_output,
        "input": sorted(card.input_kinds),
        "tools": card.tools,
        "streaming": card.streaming,
        "realtime": card.realtime,
        "reasoning": {"kind": reasoning.kind, "levels": list(reasoning.levels), "min_budget": reasoning.min_budget},
        "params": sorted(card.params),
        "max_tokens_field": card.max_tokens_field,
        "price_input": _price(card.price_input),
        "price_output": _price(card.price_output),
        "price_cached_input": _price(card.price_cached_input),
        "sources": dict(card.sources),
    }


_COLUMNS = ("model", "context", "max out", "input", "tools", "reasoning", "$/M in", "$/M out")


def card_table(cards: Iterable[ModelCard]) -> list[str]:
    """A plain-text table of `cards`, one line per model under a header (prices per million tokens, "?" unknown)."""
    rows = [_COLUMNS] + [
        (
            card.id,
            _tokens(card.context_window),
            _tokens(card.max_output),
            ",".join(sorted(card.input_kinds)),
            "yes" if card.tools else "no",
            _reasoning(card),
            _price(card.price_input) or "?",
            _price(card.price_output) or "?",
        )
        for card in cards
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_COLUMNS))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def _price(rate: Rate | None) -> str | None:
    if rate is None:
        return None
    text = format(rate.base.normalize() if rate.base else Decimal(0), "f")
    return text + (" (tiered)" if rate.tiers else "")


def _tokens(count: int | None) -> str:
    if count is None:
        return "?"
    return f"{count // 1000:,}K" if count >= 10_000 and count % 1000 == 0 or count >= 100_000 else f"{count:,}"


def _reasoning(card: ModelCard) -> str:
    reasoning = card.reasoning
    if reasoning.kind == "none":
        return "-"
    if reasoning.takes_effort:
        return "effort " + "/".join(reasoning.levels)
    return f"budget >= {reasoning.min_budget}"
