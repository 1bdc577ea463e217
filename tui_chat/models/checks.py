"""Capability checks before a request: what the chosen model cannot do, and what to pick instead. Pure.

Tools offered to a model without tools, an input kind it does not read (an image to a text-only
model), voice with a model that has no realtime API: each is a `Problem` with one clear sentence
and the models of the same provider the catalog knows can do it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .card import ModelCard
from .catalog import Catalog, default_catalog


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing the model cannot do that the request needs; `instead` lists models that can."""

    need: str
    message: str
    instead: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.message}; try {', '.join(self.instead)}" if self.instead else self.message


def problems(
    card: ModelCard,
    *,
    tools: bool = False,
    input_kinds: set[str] | frozenset[str] = frozenset(),
    voice: bool = False,
    catalog: Catalog | None = None,
) -> list[Problem]:
    """What stands between `card` and a request with `tools`, `input_kinds` and `voice`."""
    catalog = catalog or default_catalog()
    found: list[Problem] = []

    def lacks(need: str, message: str, can: Callable[[ModelCard], bool]) -> None:
        found.append(Problem(need, message, _alternatives(catalog, card, can)))

    if tools and not card.tools:
        lacks("tools", f"{card.id} cannot use tools", lambda other: other.tools)
    for kind in sorted(set(input_kinds) - card.input_kinds):
        lacks(kind, f"{card.id} does not read {_KIND_WORDS.get(kind, kind)}", lambda other, kind=kind: kind in other.input_kinds)
    if voice and not card.realtime:
        lacks("voice", f"{card.id} has no realtime API for voice", lambda other: other.realtime)
    return found


_KIND_WORDS = {"image": "images", "audio": "audio", "pdf": "PDF files", "text": "text"}


def _alternatives(catalog: Catalog, card: ModelCard, can: Callable[[ModelCard], bool]) -> tuple[str, ...]:
    return tuple(other.id for other in catalog.known_models(card.provider) if other.id != card.id and can(other))
