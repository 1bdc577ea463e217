"""Decoded JSON values in pack text: strict reading (no NaN) and short forms for messages."""

from __future__ import annotations

import json
from typing import Any


def reject_constant(name: str) -> None:
    """For `json.loads(parse_constant=...)`: NaN and Infinity are not JSON."""
    raise ValueError(f"{name} is not a JSON value")


def json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
