"""An incremental Server-Sent Events parser over raw bytes, with a bound on the size of one event.

Why not httpx-sse: its line decoder works on decoded text and keeps an unfinished line in a list
that grows without limit, so one endless `data:` line from a broken server or proxy would be
buffered whole before anything could object. This parser works on bytes (decoding each event's
data once, after it is complete, so a multi-byte character split across reads is never torn) and
raises `EventTooLarge` as soon as the event being assembled, or the unfinished line, passes
`max_event_bytes`; memory stays bounded by that limit plus one network read.

It follows the WHATWG event-stream rules: lines end with CRLF, LF or CR; a blank line dispatches
the event; lines starting with ":" are comments; `event`, `data`, `id` and `retry` are the fields;
a leading UTF-8 BOM is skipped. Comments are counted (they are keep-alives) but never dispatched.
"""

from __future__ import annotations

from typing import NamedTuple

DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024
BOM = b"\xef\xbb\xbf"


class SSEEvent(NamedTuple):
    """One dispatched event. `event` is "message" when the stream named none.

    A named tuple rather than a frozen dataclass: just as immutable, and one is made per event, so
    its cost counts (a frozen dataclass takes four `object.__setattr__` calls to build).
    """

    event: str
    data: str
    id: str = ""
    retry: int | None = None


_new_event = tuple.__new__
"""`_new_event(SSEEvent, (event, data, id, retry))` builds an event without the named tuple's Python-level `__new__`."""


class EventTooLarge(Exception):
    """One event (or one unfinished line) passed the size limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"an event was larger than {limit} bytes")
        self.limit = limit


class SSEParser:
    """Feed it bytes as they arrive; it returns the events completed by them."""

    __slots__ = ("max_event_bytes", "_tail", "_pending_cr", "_event", "_data", "_id", "_retry", "_size", "_started", "_head", "comments")

    def __init__(self, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        self.max_event_bytes = max_event_bytes
        self._tail = b""
        self._pending_cr = False
        self._event = ""
        self._data: list[bytes] = []
        self._id = ""
        self._retry: int | None = None
        self._size = 0
        self._started = False
        self._head = b""
        self.comments = 0
        """How many comment lines (keep-alives) were seen."""

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Parse `chunk` and return the events it completed (possibly none)."""
        if not chunk:
            return []
        if not self._started:
            # Skip a UTF-8 byte order mark, which may itself arrive split across reads.
            chunk = self._head + chunk
            if len(chunk) < 3 and BOM.startswith(chunk):
                self._head = chunk
                return []
            self._started = True
            self._head = b""
            if chunk.startswith(BOM):
                chunk = chunk[3:]
            if not chunk:
                return []
        if self._pending_cr:
            # The previous chunk ended with CR: a LF now belongs to it (CRLF), anything else starts a line.
            self._pending_cr = False
            if chunk.startswith(b"\n"):
                chunk = chunk[1:]
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                self._pending_cr = True
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buffer = self._tail + chunk if self._tail else chunk
        lines = buffer.split(b"\n")
        self._tail = lines.pop()
        if len(self._tail) + self._size > self.max_event_bytes:
            self._reset()
            raise EventTooLarge(self.max_event_bytes)
        events: list[SSEEvent] = []
        limit = self.max_event_bytes
        for line in lines:
            # The common lines, the blank line, "data: ..." and "event: ...", are handled inline (this
            # is the hot loop). The blank line is tested first: it is the cheapest test, and every
            # other line of most streams is one.
            if not line:
                if self._data:
                    data = self._data[0] if len(self._data) == 1 else b"\n".join(self._data)
                    events.append(_new_event(SSEEvent, (self._event or "message", data.decode("utf-8", "replace"), self._id, self._retry)))
                    self._event = ""
                    self._data = []
                    self._retry = None
                    self._size = 0
                else:
                    event = self._line(line)
                    if event is not None:
                        events.append(event)
            elif line[:6] == b"data: ":
                self._size += len(line)
                if self._size > limit:
                    self._reset()
                    raise EventTooLarge(limit)
                self._data.append(line[6:])
            elif line[:7] == b"event: ":  # named events (Anthropic, Cohere, Replicate): one such line each
                self._size += len(line)
                if self._size > limit:
                    self._reset()
                    raise EventTooLarge(limit)
                self._event = line[7:].decode("utf-8", "replace")
            else:
                event = self._line(line)
                if event is not None:
                    events.append(event)
        return events

    def close(self) -> list[SSEEvent]:
        """The body ended: return an event left without its closing blank line, if it has data.

        The standard says to drop such an event; some OpenAI-compatible servers end with
        `data: [DONE]` and no blank line, so a complete last line is kept instead.
        """
        events: list[SSEEvent] = []
        if self._tail:
            line, self._tail = self._tail, b""
            event = self._line(line)
            if event is not None:
                events.append(event)
        event = self._line(b"")
        if event is not None:
            events.append(event)
        return events

    def _reset(self) -> None:
        self._tail = b""
        self._event = ""
        self._data = []
        self._retry = None
        self._size = 0

    def _line(self, line: bytes) -> SSEEvent | None:
        if not line:
            if not self._data and not self._event:
                self._size = 0
                return None
            data = b"\n".join(self._data).decode("utf-8", "replace")
            event = SSEEvent(self._event or "message", data, self._id, self._retry)
            self._event = ""
            self._data = []
            self._retry = None
            self._size = 0
            return event
        if line[0] == 58:  # ":"
            self.comments += 1
            return None
        self._size += len(line)
        if self._size > self.max_event_bytes:
            self._reset()
            raise EventTooLarge(self.max_event_bytes)
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(value)
        elif name == b"event":
            self._event = value.decode("utf-8", "replace")
        elif name == b"id":
            if b"\0" not in value:
                self._id = value.decode("utf-8", "replace")
        elif name == b"retry":
            if value.isdigit():
                self._retry = int(value)
        return None
