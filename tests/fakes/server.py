"""A small scripted HTTP/1.1 server on 127.0.0.1 with real sockets, for provider tests.

Each response is a *script*: a list of steps saying what to send and when. A streamed response
starts with `Status` (headers, chunked transfer encoding) and continues with `Send` (one HTTP
chunk each, so the client sees each as its own read even when TCP joins them), `Wait` (until an
`asyncio.Event` is set), `Repeat` (send something every so often until the client goes away),
`Drop` (abort the connection mid-body) and implicitly ends the body when the steps run out.
`Respond` sends a whole response with a Content-Length.

The server keeps connections alive (HTTP/1.1), counts the connections it accepted and those that
were closed, and records every request (method, path, query, headers, body).
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import parse_qs, urlsplit

# --- steps -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """Start a streamed (chunked) response."""

    code: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "text/event-stream"


@dataclass(frozen=True)
class Respond:
    """A whole response with a Content-Length."""

    code: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass(frozen=True)
class Send:
    """Send `data` as one HTTP chunk."""

    data: bytes


@dataclass(frozen=True)
class Wait:
    """Send nothing until `event` is set."""

    event: asyncio.Event


@dataclass(frozen=True)
class Repeat:
    """Send `data` every `every` seconds (at most `times` times) until the client goes away."""

    data: bytes
    every: float
    times: int | None = None


@dataclass(frozen=True)
class Drop:
    """Abort the connection here, without ending the body."""


@dataclass(frozen=True)
class Close:
    """End the body, then close the connection."""


Step = Status | Respond | Send | Wait | Repeat | Drop | Close
Script = Sequence[Step]


def json_response(obj: Any, code: int = 200, headers: dict[str, str] | None = None) -> list[Step]:
    return [Respond(code, json.dumps(obj).encode(), dict(headers or {}))]


def stream(events: Iterable[bytes], code: int = 200, headers: dict[str, str] | None = None) -> list[Step]:
    """A 200 event-stream response that sends each event as its own chunk."""
    return [Status(code, dict(headers or {}))] + [Send(event) for event in events]


def sse(data: str | dict[str, Any] | list[Any], event: str | None = None, id: str | None = None) -> bytes:
    """One SSE event. Dicts and lists are sent as compact JSON; a string as is (multi-line split)."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    lines = []
    if event is not None:
        lines.append(f"event: {event}")
    if id is not None:
        lines.append(f"id: {id}")
    lines.extend(f"data: {line}" for line in text.split("\n"))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


# --- requests --------------------------------------------------------------------------------


@dataclass
class Recorded:
    """A request the server received."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    connection: int

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(urlsplit(self.target).query).items()}

    def json(self) -> Any:
        return json.loads(self.body)


REASONS = {
    200: "OK", 201: "Created", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    408: "Request Timeout", 409: "Conflict", 422: "Unprocessable Entity", 429: "Too Many Requests",
    500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 529: "Overloaded",
}


class _Connection:
    """One accepted socket, read by a pump task so that a client hang-up is seen at any time."""

    def __init__(self, number: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.number = number
        self.reader = reader
        self.writer = writer
        self.buffer = bytearray()
        self.eof = False
        self.closed = asyncio.Event()
        self._wake = asyncio.Event()

    async def pump(self) -> None:
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                self.buffer += data
                self._wake.set()
        except (ConnectionError, OSError):
            pass
        finally:
            self.eof = True
            self._wake.set()
            self.closed.set()

    async def read_until(self, separator: bytes) -> bytes | None:
        while True:
            index = self.buffer.find(separator)
            if index >= 0:
                end = index + len(separator)
                data = bytes(self.buffer[:end])
                del self.buffer[:end]
                return data
            if self.eof:
                return None
            self._wake.clear()
            await self._wake.wait()

    async def read_exactly(self, size: int) -> bytes | None:
        while len(self.buffer) < size:
            if self.eof:
                return None
            self._wake.clear()
            await self._wake.wait()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data


class FakeServer:
    """The scripted server. Use `async with FakeServer() as server:`; `server.url` is its base URL."""

    def __init__(self) -> None:
        self.scripts: deque[Script] = deque()
        self.requests: list[Recorded] = []
        self.connections = 0
        self.closed_connections = 0
        self.route: Callable[[Recorded], Script | None] | None = None
        """Optional router asked first for each request; None falls back to the queue of scripts."""
        self.changed = asyncio.Event()
        """Set (and re-armed) whenever a request arrives or a connection closes."""
        self._server: asyncio.base_events.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._open: dict[int, _Connection] = {}
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def enqueue(self, *scripts: Script) -> None:
        """Responses for the next requests, in order."""
        self.scripts.extend(scripts)

    async def __aenter__(self) -> FakeServer:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._open.values()):
            conn.writer.transport.abort()
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until `predicate()` holds (checked whenever the server's state changes)."""
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    def _notify(self) -> None:
        self.changed.set()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        conn = _Connection(self.connections, reader, writer)
        self._open[conn.number] = conn
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        pump = asyncio.create_task(conn.pump())
        try:
            while await self._serve_one(conn):
                pass
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass  # the client went away, or the server is shutting down
        finally:
            writer.transport.abort()
            pump.cancel()
            await asyncio.gather(pump, return_exceptions=True)
            self._open.pop(conn.number, None)
            self.closed_connections += 1
            self._tasks.discard(task)
            self._notify()

    async def _serve_one(self, conn: _Connection) -> bool:
        """Read one request and answer it; False when the connection is done."""
        head = await conn.read_until(b"\r\n\r\n")
        if head is None:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = b""
        if length := int(headers.get("content-length", "0") or 0):
            body = await conn.read_exactly(length) or b""
        request = Recorded(method, target, headers, body, conn.number)
        self.requests.append(request)
        self._notify()
        script = self.route(request) if self.route else None
        if script is None:
            script = self.scripts.popleft() if self.scripts else json_response({"error": {"message": "no script for this request"}}, 500)
        return await self._play(conn, script)

    async def _play(self, conn: _Connection, script: Script) -> bool:
        writer = conn.writer
        chunked = False
        keep_alive = True
        for step in script:
            if isinstance(step, Respond):
                headers = {"content-type": step.content_type, "content-length": str(len(step.body)), **step.headers}
                writer.write(self._head(step.code, headers) + step.body)
                await writer.drain()
            elif isinstance(step, Status):
                headers = {"content-type": step.content_type, "transfer-encoding": "chunked", "cache-control": "no-cache", **step.headers}
                writer.write(self._head(step.code, headers))
                await writer.drain()
                chunked = True
            elif isinstance(step, Send):
                if step.data:
                    writer.write(b"%x\r\n%s\r\n" % (len(step.data), step.data))
                    await writer.drain()
            elif isinstance(step, Wait):
                waiter = asyncio.create_task(step.event.wait())
                closed = asyncio.create_task(conn.closed.wait())
                await asyncio.wait({waiter, closed}, return_when=asyncio.FIRST_COMPLETED)
                waiter.cancel()
                closed.cancel()
                if conn.closed.is_set():
                    return False
            elif isinstance(step, Repeat):
                sent = 0
                while step.times is None or sent < step.times:
                    if conn.closed.is_set():
                        return False
                    writer.write(b"%x\r\n%s\r\n" % (len(step.data), step.data))
                    await writer.drain()
                    sent += 1
                    try:
                        await asyncio.wait_for(conn.closed.wait(), step.every)
                        return False
                    except TimeoutError:
                        pass
            elif isinstance(step, Drop):
                writer.transport.abort()
                return False
            elif isinstance(step, Close):
                keep_alive = False
                break
        if chunked:
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        return keep_alive and not conn.eof

    @staticmethod
    def _head(code: int, headers: dict[str, str]) -> bytes:
        lines = [f"HTTP/1.1 {code} {REASONS.get(code, 'Status')}"]
        lines.extend(f"{name}: {value}" for name, value in headers.items())
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
