"""A loopback fake server on its own event loop in a background thread, for a client in another process.

The CLI tests run the real `tui-chat` command in a subprocess against it; the test thread waits on
a readiness event, never on a sleep.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Callable, TypeVar

from tests.fakes.server import FakeServer, Recorded, Script
from tests.fakes.wire import Wire

WAIT = 10.0
"""Seconds for the fake to start, stop or answer a call from the test thread (only reached on a bug)."""

T = TypeVar("T")


class LiveFake:
    """A `FakeServer` on its own event loop in a background thread, for a client in another process."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name=f"fake-{wire.provider}", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._server: FakeServer | None = None
        self._error: BaseException | None = None

    def _main(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as error:  # noqa: BLE001 - reported to the test thread
            self._error = error
        finally:
            self._ready.set()  # if it failed before it was ready, do not leave the test waiting

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with FakeServer() as server:
            self.wire.install(server)
            self._server = server
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> LiveFake:
        self._thread.start()
        if not self._ready.wait(WAIT) or self._server is None:
            raise RuntimeError(f"the fake server did not start: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():  # else it has already failed, and `_error` says how
            assert self._loop is not None and self._stop is not None
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(WAIT)
            assert not self._thread.is_alive(), "the fake server did not stop"
        if self._error is not None and exc[0] is None:
            raise self._error

    @property
    def server(self) -> FakeServer:
        assert self._server is not None
        return self._server

    @property
    def base_url(self) -> str:
        return self.wire.base_url(self.server)

    def call(self, fn: Callable[[], T]) -> T:
        """Run `fn` on the server's loop (its state belongs to that thread) and return its result."""
        assert self._loop is not None

        async def run() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(WAIT)

    def enqueue(self, *scripts: Script) -> None:
        self.call(lambda: self.server.enqueue(*scripts))

    def stream_requests(self) -> list[Recorded]:
        return self.call(lambda: self.wire.stream_requests(self.server))
