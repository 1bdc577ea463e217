"""The transport options every HTTP (and WebSocket) provider reads: timeouts, limits, retries, headers.

Options (the `options` dict of `ProviderSettings`, all optional): `connect_timeout` (10 s),
`idle_timeout` (120 s) between events that carry something, `total_timeout` (none) for a whole
reply, `max_event_bytes` (8 MiB, see `sse.py`), `retries` (2), `retry_base_delay` (0.5 s),
`retry_max_delay` (8 s), `max_retry_after` (60 s), `jitter` (0.25), `headers` (extra request
headers). Tests may also pass `sleep` (an async callable used for backoff waits) and `random`
(a callable returning [0, 1)).
"""

from __future__ import annotations

import asyncio
import math
import random as _random
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Mapping

from ..errors import ProviderError
from .sse import DEFAULT_MAX_EVENT_BYTES


def option_number(options: Mapping[str, Any], key: str, default: float | None, *, minimum: float = 0.0) -> float | None:
    """A numeric provider option, checked: None when unset with no default."""
    value = options.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value < minimum:
        raise ProviderError(f"option {key!r} must be a number of at least {minimum:g}, not {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class TransportOptions:
    """Timeouts, limits and retry policy, read from a provider's options."""

    connect_timeout: float = 10.0
    idle_timeout: float = 120.0
    total_timeout: float | None = None
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    retries: int = 2
    retry_base_delay: float = 0.5
    retry_max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.25
    headers: Mapping[str, str] = field(default_factory=dict)
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    random: Callable[[], float] = _random.random

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> TransportOptions:
        """Validate the transport options in `options`; other keys are left to the provider."""
        d = cls()
        headers = options.get("headers") or {}
        if not isinstance(headers, Mapping) or not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise ProviderError("option 'headers' must be a table of header names to string values")
        sleep = options.get("sleep", d.sleep)
        rand = options.get("random", d.random)
        if not callable(sleep) or not callable(rand):
            raise ProviderError("options 'sleep' and 'random' must be callables")
        retries = option_number(options, "retries", d.retries)
        max_event = option_number(options, "max_event_bytes", d.max_event_bytes, minimum=1)
        return cls(
            connect_timeout=option_number(options, "connect_timeout", d.connect_timeout, minimum=0.001) or d.connect_timeout,
            idle_timeout=option_number(options, "idle_timeout", d.idle_timeout, minimum=0.001) or d.idle_timeout,
            total_timeout=option_number(options, "total_timeout", None, minimum=0.001),
            max_event_bytes=int(max_event or d.max_event_bytes),
            retries=int(retries if retries is not None else d.retries),
            retry_base_delay=option_number(options, "retry_base_delay", d.retry_base_delay) or 0.0,
            retry_max_delay=option_number(options, "retry_max_delay", d.retry_max_delay) or 0.0,
            max_retry_after=option_number(options, "max_retry_after", d.max_retry_after) or 0.0,
            jitter=min(1.0, option_number(options, "jitter", d.jitter) or 0.0),
            headers=dict(headers),
            sleep=sleep,
            random=rand,
        )

    def backoff(self, retry: int) -> float:
        """The wait before retry number `retry` (1-based): doubling from the base, capped, minus jitter."""
        delay = min(self.retry_max_delay, self.retry_base_delay * (2 ** (retry - 1)))
        return delay * (1.0 - self.jitter * self.random())
