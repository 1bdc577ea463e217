"""What went wrong with a provider request, as errors that say what happened and what to do.

`RequestFailed` is a failure before anything reached the consumer (it may be retried);
`StreamFailure` one raised while a reply streams (it becomes the stream's last chunk).
`status_hint` and `error_message` turn an HTTP error status and body into words; they are shared
by the HTTP transport and the WebSocket handshake.
"""

from __future__ import annotations

import json
from typing import Any

from ..chunks import Chunk, ErrorChunk, Interrupted
from ..errors import ProviderError

SHOWN_BODY_LIMIT = 300
"""How many characters of an unexpected body are shown in a message."""


class RequestFailed(ProviderError):
    """A request failed before anything reached the consumer. `retry_after` is the server's wish, in seconds;
    `rejected_param` the request field a 400 said the model does not take (see fitting.py)."""

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        retryable: bool = False,
        status: int | None = None,
        retry_after: float | None = None,
        rejected_param: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, retryable=retryable, status=status)
        self.retry_after = retry_after
        self.rejected_param = rejected_param


class StreamFailure(Exception):
    """Raised by a decoder (or the read loop) when the stream went wrong.

    `interrupted` marks a stream that was cut off (kept as interrupted) rather than one that failed
    (kept as error); `retryable` says whether trying again could help; `auto_retry` whether the
    transport may retry by itself when nothing was delivered yet (default: `retryable`).
    """

    def __init__(
        self,
        message: str,
        *,
        hint: str = "",
        retryable: bool = False,
        interrupted: bool = False,
        auto_retry: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.retryable = retryable
        self.interrupted = interrupted
        self.auto_retry = retryable if auto_retry is None else auto_retry

    def chunk(self) -> Chunk:
        if self.interrupted:
            return Interrupted(self.message)
        return ErrorChunk(self.message, self.hint, self.retryable)


def status_hint(status: int, retryable: bool, key_hint: str) -> str:
    """What to do about an HTTP error status from a provider (HTTP or a WebSocket handshake);
    for 401 and 403, that the key was refused and `key_hint` (where the key is set, never the key)."""
    if status in (401, 403):
        return f"the key was refused: {key_hint}"
    if status == 404:
        return "check the model name and the base URL"
    if status == 429:
        return "you are being rate limited or are out of quota"
    return "the service is having trouble; try again shortly" if retryable else ""


def trim(text: str, limit: int = SHOWN_BODY_LIMIT) -> str:
    """`text` on one line, cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_message(body: str) -> str:
    """The human message inside an error body, in any of the shapes the providers use."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        return trim(body)
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict):
            message = error.get("message") or error.get("type") or error.get("status")
            if isinstance(message, str) and message:
                return trim(message)
        if isinstance(error, str) and error:
            return trim(error)
        for key in ("message", "detail", "title", "msg"):
            value = data.get(key)
            if isinstance(value, str) and value:
                return trim(value)
            if isinstance(value, list) and value and isinstance(value[0], dict):
                # FastAPI / Mistral validation errors: [{"loc": [...], "msg": "..."}].
                return trim("; ".join(str(item.get("msg", item)) for item in value[:3]))
    return trim(body)
