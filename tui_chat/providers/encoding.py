"""Small helpers the wire formats share: parameters, tool arguments, call ids, JSON in and out."""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from ..chunks import Message, Role

try:  # orjson parses an event 3-4x faster than json.loads; without it the standard library is used
    from orjson import JSONDecodeError as _FastError
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - tui-chat works without orjson, only slower
    _fast_loads = None

log = logging.getLogger("tui_chat.providers")


def loads(text: str) -> Any:
    """Parse JSON text as `json.loads` does, only faster (with orjson, when it is installed).

    The providers parse every streamed event with this, so it is the hot path of a reply. Whatever
    orjson refuses goes on to `json.loads`, which then either accepts it (orjson is stricter: NaN,
    Infinity, numbers beyond a double's range, lone surrogates) or raises its usual `ValueError` with
    its usual message; so what is accepted, and how a bad event is reported, do not depend on orjson.

    One difference remains, by design: orjson reads an integer beyond 64 bits (above 2**64 - 1 or
    below -2**63) as a float, where `json.loads` keeps it exact. That matters only where a parsed
    value is turned back into JSON text, which is tool call arguments sent as objects: those few
    events are parsed with `json.loads` (`load_json(event, exact=True)` in transport.py). (orjson also
    accepts nesting 1000 to 1024 deep, where `json.loads` runs out of recursion.)
    """
    if _fast_loads is not None:
        try:
            return _fast_loads(text)
        except _FastError:
            pass
    return json.loads(text)


first_loads: Callable[[str], Any] = _fast_loads if _fast_loads is not None else json.loads
"""The first try of a decoder's hot path: orjson's own `loads` (else `json.loads`), with no frame of ours.

A decoder calls it in `try` and, on `ValueError`, hands the event to `transport.load_json`, which
decides as `loads` does (the standard library has the last word, and its error is the one
reported). Two Python calls fewer per event than `load_json`, and what is accepted is the same.
"""


GENERATED_ID_PREFIX = "tc_"
"""Prefix of tool call ids made up here, for wire formats that send none (never sent back as ids)."""


def new_call_id() -> str:
    """A fresh tool call id, for a call the server sent without one."""
    return GENERATED_ID_PREFIX + uuid.uuid4().hex[:20]


def is_generated_id(call_id: str | None) -> bool:
    return bool(call_id) and call_id.startswith(GENERATED_ID_PREFIX)  # type: ignore[union-attr]


def stop_list(value: Any) -> list[str] | None:
    """The `stop` parameter as a list of strings (it may be given as one string)."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value] if value else None
    if isinstance(value, (list, tuple)):
        items = [str(item) for item in value if str(item)]
        return items or None
    return [str(value)]


def map_parameters(parameters: Mapping[str, Any], names: Mapping[str, str], provider: str) -> dict[str, Any]:
    """`parameters` renamed by `names` (PromptPack name -> wire name); unknown ones are skipped (logged)."""
    out: dict[str, Any] = {}
    for key, value in parameters.items():
        if value is None:
            continue
        wire = names.get(key)
        if wire is None:
            log.debug("%s: parameter %r is not supported and was not sent", provider, key)
            continue
        out[wire] = stop_list(value) if key == "stop" else value
    return out


def arguments_object(arguments: str) -> dict[str, Any]:
    """A tool call's JSON argument text as an object (for formats that send arguments as objects)."""
    if not arguments.strip():
        return {}
    try:
        value = json.loads(arguments)
    except ValueError:
        return {"_raw_arguments": arguments}
    return value if isinstance(value, dict) else {"value": value}


def tool_names(messages: Iterable[Message]) -> dict[str, str]:
    """Tool call id -> tool name, from the assistant messages of a history."""
    names: dict[str, str] = {}
    for message in messages:
        if message.role is Role.ASSISTANT:
            for call in message.tool_calls:
                names[call.id] = call.name
    return names


def dumps(body: Any) -> bytes:
    """A request body as compact UTF-8 JSON."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


JSON_HEADERS = {"content-type": "application/json", "accept": "text/event-stream"}


@dataclass(slots=True)
class PartialCall:
    """A tool call being assembled from a stream's fragments: id, name and argument text so far."""

    id: str = ""
    name: str = ""
    arguments: str = ""
