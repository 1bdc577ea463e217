"""A WebSocket server on 127.0.0.1 with real sockets, for the realtime (voice) provider tests.

`FakeWsServer` accepts connections, checks the handshake (path and key header; a refused one gets
an HTTP error status with a JSON body, as the services answer), records every message each
connection receives, and hands each connection to `serve(conn)`, which a protocol fake
(`realtime_openai.py`, `realtime_gemini.py`) implements. Tests script faults through the
connection: `send_raw` (anything, e.g. bytes that are not JSON), `close(code, reason)`, `abort()`
(the TCP connection dies without a close frame: the client sees 1006).

Everything waits on events, never on the clock: `wait_for(predicate)` returns as soon as the
server's state makes the predicate true (checked whenever a message arrives or a connection
opens or closes).
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Callable

import numpy as np


def tone(seconds: float, rate: int = 24000, hz: float = 440.0, level: int = 8000) -> np.ndarray:
    """A sine tone: reply audio that is easy to find in a recording (no sample of it is zero for long)."""
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    return np.rint(np.sin(2 * math.pi * hz * t) * level).astype(np.int16)


def word_pieces(text: str) -> list[str]:
    """`text` in the pieces a streaming transcriber sends: word by word, each after the first with its space."""
    return [(" " if index else "") + word for index, word in enumerate(text.split(" "))]


def rms(samples: np.ndarray) -> float:
    if samples.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


@dataclass
class Handshake:
    path: str
    query: str
    headers: dict[str, str]


@dataclass
class Conn:
    """One client connection as the fake sees it."""

    server: FakeWsServer
    ws: Any
    number: int
    handshake: Handshake
    received: list[dict[str, Any]] = field(default_factory=list)
    raw_received: list[str | bytes] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    close_code: int | None = None
    state: dict[str, Any] = field(default_factory=dict)
    """Per-connection protocol state, for the fakes."""

    async def send(self, message: dict[str, Any]) -> None:
        """Send a message; to a client that has gone, nothing (what it sent is still acted on)."""
        from websockets.exceptions import ConnectionClosed

        data = json.dumps(message, separators=(",", ":"))
        try:
            await self.ws.send(data.encode("utf-8") if self.server.binary_frames else data)
        except ConnectionClosed:
            pass

    async def send_raw(self, data: str | bytes) -> None:
        await self.ws.send(data)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code, reason)

    def abort(self) -> None:
        self.ws.transport.abort()

    def of_type(self, key: str, value: Any = None) -> list[dict[str, Any]]:
        """The messages received with `message[key] == value` (or with `key` present, when value is None)."""
        if value is None:
            return [m for m in self.received if key in m]
        return [m for m in self.received if m.get(key) == value]


class FakeWsServer:
    """The server (see the module text). Subclasses implement `serve` and `check_handshake`."""

    key = "test-key"
    binary_frames = False

    def __init__(self, *, max_size: int | None = 64 * 1024 * 1024) -> None:
        self.max_size = max_size
        self.conns: list[Conn] = []
        self.handshakes: list[Handshake] = []
        self.refusals: list[tuple[int, str]] = []
        """Handshakes to refuse next: (status, message), in order."""
        self.changed = asyncio.Event()
        self._server: Any = None
        self.port = 0
        self.errors: list[BaseException] = []

    @property
    def base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def __aenter__(self) -> FakeWsServer:
        from websockets.asyncio.server import serve

        self._server = await serve(
            self._handle, "127.0.0.1", 0, process_request=self._process_request, max_size=self.max_size, compression=None,
            ping_interval=None,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            for conn in self.conns:
                if not conn.closed.is_set():
                    conn.abort()
            await self._server.wait_closed()
            self._server = None
        if self.errors:
            raise self.errors[0]

    def notify(self) -> None:
        self.changed.set()

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not predicate():
                self.changed.clear()
                await self.changed.wait()

    @property
    def last(self) -> Conn:
        return self.conns[-1]

    def check_handshake(self, handshake: Handshake) -> tuple[int, str] | None:
        """None to accept, or (HTTP status, message) to refuse."""
        return None

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": {"message": message, "code": status}}

    def _process_request(self, connection: Any, request: Any) -> Any:
        path, _, query = request.path.partition("?")
        headers = {name.lower(): value for name, value in request.headers.raw_items()}
        handshake = Handshake(path, query, headers)
        self.handshakes.append(handshake)
        refusal = self.refusals.pop(0) if self.refusals else self.check_handshake(handshake)
        self.notify()
        if refusal is None:
            return None
        status, message = refusal
        response = connection.respond(HTTPStatus(status), json.dumps(self.error_body(status, message)))
        response.headers["Content-Type"] = "application/json"
        return response

    async def _handle(self, ws: Any) -> None:
        from websockets.exceptions import ConnectionClosed

        path, _, query = ws.request.path.partition("?")
        headers = {name.lower(): value for name, value in ws.request.headers.raw_items()}
        conn = Conn(self, ws, len(self.conns) + 1, Handshake(path, query, headers))
        self.conns.append(conn)
        self.notify()
        try:
            await self.serve(conn)
        except ConnectionClosed:
            pass
        except Exception as error:  # a bug in the fake: fail the test that used it
            self.errors.append(error)
            raise
        finally:
            try:
                await ws.wait_closed()
            except Exception:  # noqa: BLE001
                pass
            exc = ws.close_exc
            rcvd = getattr(exc, "rcvd", None)
            conn.close_code = rcvd.code if rcvd is not None else 1006
            conn.closed.set()
            self.notify()

    async def messages(self, conn: Conn) -> Any:
        """The client's messages as dicts, recorded; a frame that is not JSON ends the connection with 1007."""
        async for raw in conn.ws:
            conn.raw_received.append(raw)
            try:
                message = json.loads(raw)
            except ValueError:
                await conn.close(1007, "Invalid JSON payload received.")
                return
            conn.received.append(message)
            self.notify()
            yield message
            self.notify()  # and again once the fake has acted on it

    async def serve(self, conn: Conn) -> None:
        raise NotImplementedError
