"""Requests fitted to the model: shaped by the catalog, told once, and sent again once after a named refusal.

Every HTTP provider sends through a `Fitter`. Before a request leaves it:
- the model's card is looked up (in a worker thread: the first lookup imports genai-prices, which
  takes most of a second, and must not stall the event loop);
- tools offered to a model that cannot use them are left out, and the person is told, with the
  models that can;
- the parameters are shaped (`models.shaping.shape`): what the model does not take is dropped,
  `max_tokens` goes under the model's own field, reasoning settings become its wire fields; the
  person is told once per model what was dropped and why (a `Notice`);
- sampling parameters are renamed to the wire's names (`names`, pack name -> wire name).
When the service still answers 400 naming a parameter (OpenAI's `param`, Anthropic's message; the
provider reads it into `RequestFailed.rejected_param`), that parameter is remembered for the model,
dropped, and the request sent once more, saying so.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import aclosing
from dataclasses import replace
from typing import Any

from ..chunks import Chunk, Notice
from ..models.card import ModelCard
from ..models.catalog import Catalog
from ..models.checks import problems
from ..models.rejections import Rejections
from ..models.shaping import REASONING_EFFORT, THINKING_BUDGET, Shaped, shape
from ..safe_text import clean
from .base import ChatRequest
from .encoding import map_parameters
from .failures import RequestFailed

Send = Callable[[ChatRequest, dict[str, Any]], AsyncIterator[Chunk]]
"""A provider's wire step: the request and its fitted wire parameters -> the reply's chunks."""

REASONING_OPTIONS = (REASONING_EFFORT, THINKING_BUDGET)
"""Provider options that set reasoning for every request whose parameters do not."""
_OWN_REASONING = (*REASONING_OPTIONS, "thinking")
"""Request parameters that say how to reason (Anthropic's raw `thinking` object among them)."""
MAX_TOKENS_FIELDS = frozenset({"max_tokens", "max_completion_tokens"})
"""The OpenAI-style max-tokens fields; a refusal of one names the wire field itself."""


def shaped_fields(card: ModelCard) -> frozenset[str]:
    """The top-level request fields `shape` writes under their wire names for `card`: max tokens and reasoning."""
    reasoning = card.reasoning
    paths = [reasoning.effort_field, reasoning.budget_field, *(path for path, _ in (*reasoning.effort_with, *reasoning.budget_with))]
    return frozenset({card.max_tokens_field, *MAX_TOKENS_FIELDS, *(path.split(".")[0] for path in paths if path)})


class Fitter:
    """Fits one provider's requests to its models; remembers what each model refused and what was said."""

    def __init__(
        self,
        provider: str,
        catalog: Catalog,
        names: Mapping[str, str],
        *,
        api_version: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> None:
        """`names` maps the pack's sampling parameter names to the wire's; `options` may hold reasoning defaults."""
        self.provider = provider
        self.catalog = catalog
        self.names = dict(names)
        self.api_version = api_version
        self.defaults = {key: options[key] for key in REASONING_OPTIONS if options and options.get(key) is not None}
        self.rejections = Rejections()
        self._told: set[tuple[str, str]] = set()

    async def card(self, model: str) -> ModelCard:
        """The model's card, looked up off the event loop (the first lookup loads the price table)."""
        return await asyncio.to_thread(self.catalog.lookup, self.provider, model)

    def shape(self, card: ModelCard, request: ChatRequest) -> Shaped:
        """`request`'s parameters (with the reasoning options when it sets none) fitted to `card`."""
        parameters = dict(request.parameters)
        if not any(key in parameters for key in _OWN_REASONING):
            parameters = {**self.defaults, **parameters}
        rejected = self.rejections.for_model(self.provider, card.id)
        return shape(card, parameters, api_version=self.api_version, tools=bool(request.tools), rejected=rejected)

    def wire(self, card: ModelCard, shaped: Shaped) -> dict[str, Any]:
        """The shaped parameters under the wire's names; unknown names are left out, as always."""
        names = {**self.names, **{field: field for field in shaped_fields(card)}}
        return map_parameters(shaped.params, names, self.provider)

    def pack_name(self, card: ModelCard, wire_name: str | None) -> str | None:
        """The parameter name `shape` knows for a wire field the service refused."""
        if wire_name is None or wire_name in MAX_TOKENS_FIELDS or wire_name == card.max_tokens_field:
            return wire_name
        return {wire: pack for pack, wire in self.names.items()}.get(wire_name, wire_name)

    def once(self, model: str, message: str) -> Notice | None:
        """A `Notice` of `message`, the first time it is said about `model`; None after (or if empty)."""
        if not message or (model, message) in self._told:
            return None
        self._told.add((model, message))
        return Notice(clean(message))

    def without_tools(self, card: ModelCard, request: ChatRequest) -> tuple[ChatRequest, Notice | None]:
        """`request` without its tools when the model cannot use them, and what to tell the person."""
        if not request.tools:
            return request, None
        found = [problem for problem in problems(card, tools=True, catalog=self.catalog) if problem.need == "tools"]
        if not found:
            return request, None
        return replace(request, tools=(), tool_choice=None), self.once(card.id, f"{found[0]}; sent without tools")

    async def stream(self, model: str, request: ChatRequest, send: Send) -> AsyncIterator[Chunk]:
        """Fit `request` to `model`, send it with `send`, and once more if the service refuses a named parameter."""
        card = await self.card(model)
        request, notice = self.without_tools(card, request)
        if notice is not None:
            yield notice
        shaped = self.shape(card, request)
        if (notice := self.once(model, shaped.notice())) is not None:
            yield notice
        for attempt in (1, 2):
            try:
                async with aclosing(send(request, self.wire(card, shaped))) as chunks:
                    async for chunk in chunks:
                        yield chunk
                return
            except RequestFailed as failure:
                param = self.pack_name(card, failure.rejected_param)
                news = param is not None and self.rejections.remember(self.provider, model, param)
                if attempt == 2 or not news:
                    raise
                again = self.shape(card, request)
                if again.params == shaped.params:
                    raise
                self._told.add((model, again.notice()))  # said below, in the words of what happened
                shaped = again
                yield Notice(clean(f"{model} refused {param}: sent again without it (and will not send it to {model} again)"))
