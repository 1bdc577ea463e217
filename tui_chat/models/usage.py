"""What a reply cost and how much of the context window a conversation uses. Pure.

Token counts follow one convention: `input_tokens` counts every prompt token, cached ones
included, and `cached_input_tokens` says how many of them were read from the cache (OpenAI's
`prompt_tokens` and `cached_tokens`; for Anthropic, whose `input_tokens` leaves the cache out, the
provider adds `cache_read_input_tokens` and `cache_creation_input_tokens` in). A price the catalog
does not know makes the cost unknown (None), never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, Sequence

from .card import ModelCard, Rate

_MILLION = Decimal(1_000_000)


class TokenUsage(Protocol):
    """Token counts of one reply; `tui_chat.chunks.Usage` is one (its cached count is then 0)."""

    @property
    def input_tokens(self) -> int: ...

    @property
    def output_tokens(self) -> int: ...


def cost(card: ModelCard, usage: TokenUsage) -> Decimal | None:
    """The reply's cost in USD, or None when a price it needs is unknown.

    A tiered price applies its tier to all tokens of the kind once the input passes the tier's
    start, as the providers bill long prompts.
    """
    cached = int(getattr(usage, "cached_input_tokens", 0) or 0)
    fresh = usage.input_tokens - cached
    parts: list[tuple[Rate | None, int]] = [
        (card.price_input, fresh),
        (card.price_cached_input, cached),
        (card.price_output, usage.output_tokens),
    ]
    total = Decimal(0)
    for rate, tokens in parts:
        if tokens == 0:
            continue
        if rate is None:
            return None
        total += rate.per_million(usage.input_tokens) * tokens
    return total / _MILLION


@dataclass(frozen=True, slots=True)
class ContextUse:
    """Tokens in use against the model's context window (`window` None: not known)."""

    used: int
    window: int | None

    @property
    def percent(self) -> float | None:
        """How full the window is, 0-100 (more when over), or None when the window is unknown."""
        return None if not self.window else 100 * self.used / self.window

    def fits(self, more: int = 0) -> bool:
        """Whether `more` tokens still fit (always True when the window is unknown)."""
        return self.window is None or self.used + more <= self.window


CHARS_PER_TOKEN = 4
"""About how many characters of text make one token, for text no service has counted yet."""


def estimate_tokens(chars: int) -> int:
    """A rough token count of `chars` characters of text not yet counted by a service (rounded up)."""
    return -(-chars // CHARS_PER_TOKEN)


def next_input_tokens(measured: int, added_chars: int) -> int:
    """The next request's input in tokens, estimated: what the service last counted (the last
    reply's input and output, 0 before any reply) and the text added since, at `CHARS_PER_TOKEN`."""
    return measured + estimate_tokens(added_chars)


def context_use(card: ModelCard, tokens: int) -> ContextUse:
    """`tokens` (the next request's input) against `card`'s context window."""
    return ContextUse(tokens, card.context_window)


def usage_figures(card: ModelCard, usage: TokenUsage) -> dict[str, Any]:
    """A reply's figures for `ask --json` and the status bar: tokens, context used against the window, cost.

    `context_used` is what the next request starts from (this reply's input and output);
    `context_window` and `context_percent` are None when the window is unknown; `cost_usd` is
    "unknown" when a price is, never a guess.
    """
    use = context_use(card, usage.input_tokens + usage.output_tokens)
    spent = cost(card, usage)
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "context_used": use.used,
        "context_window": use.window,
        "context_percent": None if use.percent is None else round(use.percent, 1),
        "cost_usd": "unknown" if spent is None else float(spent),
    }


def turn_cost(card: ModelCard, calls: Sequence[TokenUsage]) -> Decimal | None:
    """What the model calls of one turn (a reply, or the rounds of a tool turn) cost together; None when a price is unknown."""
    total = Decimal(0)
    for call in calls:
        spent = cost(card, call)
        if spent is None:
            return None
        total += spent
    return total


def usage_line(card: ModelCard, calls: Sequence[TokenUsage], chat_cost: Decimal | None) -> str:
    """The status bar's words for the last turn and the chat so far ("in 1,200 · out 300 · ctx 0.4% of 400k · $0.0004 (chat $0.01)").

    `calls` are the turn's model calls: their tokens and cost add up; the context in use is what
    the last of them read and wrote, which is where the next request starts. Short, so that it
    fits beside the reply's state in a terminal of 100 columns.
    """
    last = calls[-1]
    use = context_use(card, last.input_tokens + last.output_tokens)
    context = f"{round(use.percent, 1):g}% of {_tokens(use.window)}" if use.window and use.percent is not None else "window unknown"
    return (
        f"in {sum(call.input_tokens for call in calls):,} · out {sum(call.output_tokens for call in calls):,}"
        f" · ctx {context} · {_dollars(turn_cost(card, calls))} (chat {_dollars(chat_cost)})"
    )


def _tokens(count: int) -> str:
    """A window size the short way: 8,192 -> "8k", 128,000 -> "128k", 1,048,576 -> "1M", 1,500,000 -> "1.5M"."""
    if count >= 1_000_000:
        scale = 1 << 20 if count % (1 << 20) == 0 else 1_000_000
        return f"{round(count / scale, 1):g}M"
    if count >= 1000:
        scale = 1024 if count % 1024 == 0 and count % 1000 else 1000
        return f"{round(count / scale):g}k"
    return str(count)


def _dollars(amount: Decimal | None) -> str:
    """`amount` in USD to four significant figures, or "unknown"."""
    if amount is None:
        return "cost unknown"
    return f"${amount:.4g}" if amount else "$0"
