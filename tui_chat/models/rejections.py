"""Parameters a service rejected by name: read out of its 400, remembered per model, dropped after.

The readers take the error body exactly as the service sends it:
- OpenAI: `{"error": {"message": "Unsupported parameter: 'temperature' is not supported with this
  model.", "type": "invalid_request_error", "param": "temperature", "code": "unsupported_parameter"}}`
  (`code` may be `"unsupported_value"` for "Only the default (1) value is supported", or null).
- Anthropic: `{"type": "error", "error": {"type": "invalid_request_error", "message": "`temperature`
  is deprecated for this model."}, "request_id": "req_..."}`, and the request-validation form
  `"top_k: Extra inputs are not permitted"`.
The memory lives as long as the process; keeping it across runs comes with the store.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_OPENAI_MESSAGE = re.compile(r"Unsupported (parameter|value): '([A-Za-z_.\[\]0-9]+)'")
_ANTHROPIC_MESSAGES = (
    re.compile(r"^`([A-Za-z_]+)` is deprecated for this model"),
    re.compile(r"^([A-Za-z_]+): Extra inputs are not permitted"),
    re.compile(r"^`[A-Za-z_]+` and `([A-Za-z_]+)` cannot both be specified for this model"),
)


class Rejections:
    """Which parameters each (provider, model) has refused by name in this run."""

    def __init__(self) -> None:
        self._refused: dict[tuple[str, str], set[str]] = {}

    def remember(self, provider: str, model_id: str, param: str) -> bool:
        """Note that `model_id` refused `param`; True when that is news (so say so once)."""
        refused = self._refused.setdefault((provider, model_id), set())
        if param in refused:
            return False
        refused.add(param)
        return True

    def for_model(self, provider: str, model_id: str) -> frozenset[str]:
        """The parameters `model_id` at `provider` has refused so far (pass to `shape(rejected=...)`)."""
        return frozenset(self._refused.get((provider, model_id), ()))


def _error(body: bytes | str | Mapping[str, Any]) -> Mapping[str, Any] | None:
    if not isinstance(body, Mapping):
        try:
            body = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
    error = body.get("error") if isinstance(body, Mapping) else None
    return error if isinstance(error, Mapping) else None


def openai_rejected_param(body: bytes | str | Mapping[str, Any]) -> str | None:
    """The parameter an OpenAI(-compatible) 400 body says is unsupported, or None."""
    error = _error(body)
    if error is None:
        return None
    message = error.get("message") if isinstance(error.get("message"), str) else ""
    param = error.get("param")
    if isinstance(param, str) and param and (
        error.get("code") in ("unsupported_parameter", "unsupported_value") or _OPENAI_MESSAGE.search(message)
    ):
        return param
    match = _OPENAI_MESSAGE.search(message)
    return match.group(2) if match else None


def anthropic_rejected_param(body: bytes | str | Mapping[str, Any]) -> str | None:
    """The parameter an Anthropic 400 body says the model does not take, or None."""
    error = _error(body)
    if error is None or error.get("type") != "invalid_request_error" or not isinstance(error.get("message"), str):
        return None
    for pattern in _ANTHROPIC_MESSAGES:
        if match := pattern.match(error["message"]):
            return match.group(1)
    return None
