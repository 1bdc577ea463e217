"""The retry policy: which failures are tried again, and after how long.

Retries happen only before the first chunk reached the consumer (the transport's rule): `retries`
more attempts, backoff from `retry_base_delay` doubling up to `retry_max_delay` with jitter, on
connect errors, a connection dropped before any reply, 408, 409, 429, 5xx and 529, and on a
retryable error event that arrives before any content. The server has the last word, as the
official OpenAI and Anthropic SDKs let it: `x-should-retry: true` retries any status, `false`
none. `retry-after-ms` / `Retry-After` are honoured up to `max_retry_after`; a longer wait is not
slept, the error says when to try again.
"""

from __future__ import annotations

import email.utils
import math
import time

import httpx

from .failures import RequestFailed
from .options import TransportOptions

RETRYABLE_STATUSES = frozenset({408, 409, 429, 529})


def status_is_retryable(status: int, headers: httpx.Headers) -> bool:
    """Whether an HTTP error status is worth another attempt: the server's `x-should-retry`, else the status."""
    wish = headers.get("x-should-retry", "").strip().lower()
    if wish == "true":
        return True
    if wish == "false":
        return False
    return status in RETRYABLE_STATUSES or status >= 500


def parse_retry_after(headers: httpx.Headers, now: float | None = None) -> float | None:
    """Seconds the server asked us to wait, from `retry-after-ms` or `Retry-After` (seconds or a date)."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def describe_wait(seconds: float) -> str:
    """A wait in words a person reads at a glance ("45 s", "3 min", "1.5 h")."""
    if seconds < 120:
        return f"{math.ceil(seconds)} s"
    if seconds < 7200:
        return f"{math.ceil(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def retry_delay(failure: RequestFailed, attempt: int, attempts: int, options: TransportOptions) -> float | None:
    """How long to wait before the attempt after `attempt`, or None to give up (the failure then says why)."""
    if not failure.retryable:
        return None
    if attempt >= attempts:
        if attempts > 1:
            failure.message = f"{failure.message} (gave up after {attempts} attempts)"
            failure.args = (failure.message,)
        return None
    if failure.retry_after is not None:
        if failure.retry_after > options.max_retry_after:
            wait = describe_wait(failure.retry_after)
            failure.message = f"{failure.message}; the service asks to retry after {wait}"
            failure.args = (failure.message,)
            failure.hint = f"try again in {wait}"
            return None
        return failure.retry_after
    return options.backoff(attempt)
