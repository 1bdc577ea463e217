"""What Anthropic's Messages API refuses, checked against the anthropic SDK's own request types.

The bodies are validated with pydantic's `TypeAdapter` over the SDK's `MessageCreateParamsStreaming`
TypedDict, made strict: every TypedDict reachable from it, and every SDK response model its unions
also take (blocks sent back as the SDK returned them), forbids keys it does not declare, and every
lazily checked `Iterable` is walked to its end. On top of
the types, the rules of the service that no type states (issue 13, "Models of today"):
- `2026-10-21`: the key as `Authorization: Bearer`; no document blocks inside assistant messages;
  no citations on user text blocks; temperature, top_p and top_k are refused as extra inputs.
- `2023-06-01`: temperature, top_p and top_k are taken, except that models of generation 4.7 and
  later answer "`temperature` is deprecated for this model.".
Each refusal is the service's 400 body: `{"type": "error", "error": {"type":
"invalid_request_error", "message": ...}}`.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from typing_extensions import get_args, get_type_hints, is_typeddict

CURRENT = "2026-10-21"
LEGACY = "2023-06-01"
LEGACY_SAMPLING = ("temperature", "top_p", "top_k")
_STRICT = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
_NO_TEMPERATURE = re.compile(r"claude-[a-z]+-(4-[7-9]|[5-9])(-.*)?")
"""Claude 4.7 and later: temperature refused on every API version."""


def _make_strict(kind: Any, seen: list[Any]) -> None:
    """Make every TypedDict and model reachable from `kind` forbid undeclared keys (models are rebuilt after)."""
    if kind in seen:
        return
    if is_typeddict(kind):
        seen.append(kind)
        kind.__pydantic_config__ = _STRICT
        for hint in get_type_hints(kind, include_extras=True).values():
            _make_strict(hint, seen)
    elif isinstance(kind, type) and issubclass(kind, BaseModel):
        seen.append(kind)
        kind.model_config = {**kind.model_config, "extra": "forbid"}
        for field in kind.model_fields.values():
            _make_strict(field.annotation, seen)
    for arg in get_args(kind):
        _make_strict(arg, seen)


def prepare() -> None:
    """Build the strict validator now (about 0.1 s once per process, much more on a loaded
    machine), so that the first request checked does not spend a test's timeout on it."""
    _adapter()


@cache
def _adapter() -> TypeAdapter[Any]:
    from anthropic.types.message_create_params import MessageCreateParamsStreaming

    reached: list[Any] = []
    _make_strict(MessageCreateParamsStreaming, reached)
    for kind in reversed(reached):
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            kind.model_rebuild(force=True)
    return TypeAdapter(MessageCreateParamsStreaming)


def _walk(value: Any, path: str) -> None:
    """Validate what pydantic left lazy (its `Iterable`s are checked only as they are read)."""
    if isinstance(value, BaseModel):
        value = dict(value)
    if isinstance(value, dict):
        for key, item in value.items():
            _walk(item, f"{path}.{key}" if path else str(key))
    elif not isinstance(value, (str, bytes, int, float, bool, type(None))):
        try:
            items = iter(value)
        except TypeError:
            return
        index = 0
        while True:
            try:
                item = next(items)
            except StopIteration:
                return
            except ValidationError as invalid:
                raise ValueError(_message(invalid, f"{path}.{index}")) from None
            _walk(item, f"{path}.{index}")
            index += 1


def _message(invalid: ValidationError, path: str = "") -> str:
    """The first error as the service words it: `where: what` (the union member pydantic tried is left out)."""
    first = invalid.errors()[0]
    parts = [str(part) for part in first["loc"] if not str(part).endswith(("Param", "Block"))]
    where = ".".join(([path] if path else []) + parts[1:] if path else parts)
    return f"{where}: {first['msg']}"


def error(message: str) -> dict[str, Any]:
    """The service's 400 body for `message`."""
    return {"type": "error", "error": {"type": "invalid_request_error", "message": message}, "request_id": "req_fake"}


def refusal(version: str, body: dict[str, Any]) -> str | None:
    """Why the service would refuse `body` on `version` (None: it would take it)."""
    if version not in (CURRENT, LEGACY):
        return f"anthropic-version: unknown version {version!r}"
    model = str(body.get("model", ""))
    if "temperature" in body and _NO_TEMPERATURE.fullmatch(model):
        return "`temperature` is deprecated for this model."
    typed = dict(body)
    if version == LEGACY:
        for name in LEGACY_SAMPLING:
            typed.pop(name, None)
    try:
        _walk(_adapter().validate_python(typed), "")
    except ValidationError as invalid:
        return _message(invalid)
    except ValueError as invalid:
        return str(invalid)
    if version == CURRENT:
        for index, message in enumerate(body.get("messages", ())):
            for number, block in enumerate(message.get("content") if isinstance(message.get("content"), list) else ()):
                where = f"messages.{index}.content.{number}"
                if message.get("role") == "assistant" and block.get("type") == "document":
                    return f"{where}: document blocks are not accepted in assistant messages"
                if message.get("role") == "user" and block.get("type") == "text" and "citations" in block:
                    return f"{where}.citations: Extra inputs are not permitted"
    return None
