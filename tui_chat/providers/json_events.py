"""Decoders: what turns one response's SSE events into chunks, and the base of those whose events are JSON.

`StreamDecoder` is what the transport asks of every decoder. `JSONEventDecoder` is the shared
opening of the decoders whose events each carry one JSON object (OpenAI and its kin, Anthropic,
Gemini, Cohere): skip events after the closing one, parse the data (orjson first, the standard
library for the rare event whose numbers must stay exact), let keep-alives and the protocol's
closing sentinel through, insist on an object, and hand it to `decode`.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar, Iterable, Protocol

from ..chunks import Chunk
from .encoding import first_loads, loads
from .failures import StreamFailure, trim
from .sse import SSEEvent


class StreamDecoder(Protocol):
    """Turns one response's SSE events into chunks. One decoder per attempt.

    `complete` is set once the reply has said it is finished (a finish reason); `terminal` once
    the protocol's closing event arrived (nothing more will follow). `finish()` gives the last
    chunks (tool calls held back, usage, `Done`) and is called only when `complete`.

    `feed` is given every event, keep-alives included, and gives nothing for a keep-alive.
    `is_keepalive` is asked only about the events of a read that gave no chunk, to tell whether
    the server did anything (for `idle_timeout`): a read that gave a chunk did. (Asking it of every
    event cost a method call per event, on the hottest path of a reply.)
    """

    complete: bool
    terminal: bool

    def feed(self, event: SSEEvent) -> Iterable[Chunk]: ...

    def finish(self) -> Iterable[Chunk]: ...

    def is_keepalive(self, event: SSEEvent) -> bool: ...


def load_json(event: SSEEvent, *, exact: bool = False) -> Any:
    """The JSON in an event's data, or a `StreamFailure` naming the event.

    `exact` parses with the standard library, which keeps integers beyond 64 bits exact (see
    `encoding.loads`): for the rare events whose parsed values are turned back into JSON text.
    """
    try:
        return json.loads(event.data) if exact else loads(event.data)
    except ValueError as error:
        raise StreamFailure(
            f"the server sent an event that is not valid JSON ({event.event!r}: {trim(event.data, 120)!r}): {error}",
            hint="this is a problem with the server or a proxy in between",
        ) from None


class JSONEventDecoder:
    """A `StreamDecoder` for a protocol whose events each carry one JSON object; subclasses write `decode`."""

    closing_data: ClassVar[str | None] = None
    """Data that is not JSON and ends the stream (OpenAI's `[DONE]`), if the protocol has such an event."""
    array_framing: ClassVar[bool] = False
    """Whether an event may hold a JSON array whose first element is the object (Gemini)."""

    def __init__(self, label: str) -> None:
        self.label = label
        """How the provider is named in messages."""
        self.complete = False
        self.terminal = False

    def is_keepalive(self, event: SSEEvent) -> bool:
        return not event.data or event.data.isspace()

    def feed(self, event: SSEEvent, *, exact: bool = False) -> list[Chunk]:
        """The chunks of one event. `exact`: parse with the standard library (see `load_json`)."""
        if self.terminal:
            return []
        try:
            payload = load_json(event, exact=True) if exact else first_loads(event.data)
        except ValueError:  # not JSON for orjson: a keep-alive, the closing sentinel, or something for load_json to decide
            if self.is_keepalive(event):
                return []
            if self.closing_data is not None and event.data.strip() == self.closing_data:
                self.terminal = True
                self.complete = True
                return []
            payload = load_json(event)
        if type(payload) is not dict:
            if self.array_framing and type(payload) is list:
                payload = payload[0] if payload else {}
            if type(payload) is not dict:
                raise StreamFailure(f"{self.label} sent an event that is not an object: {trim(event.data, 120)!r}")
        return self.decode(payload, event, exact)

    def decode(self, payload: dict[str, Any], event: SSEEvent, exact: bool) -> list[Chunk]:
        """The chunks of one event's JSON object (`exact`: it was parsed by the standard library)."""
        raise NotImplementedError
