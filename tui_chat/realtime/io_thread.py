"""`IoThread`: an event loop of its own, on a thread of its own, for a voice session's connection.

A voice session's socket must be read while the front end's loop is busy: a screen laying out a
streaming transcript holds the Textual loop for tens of milliseconds at a time, and reply audio
read only between those stalls reaches the speaker too late (the output buffer runs dry). So a
threaded `BidiSession` does all its I/O here: connecting, reading and decoding server messages,
sending, reconnecting. Its audio is handed to the thread-safe playback queue from this thread
(`BidiSession.on_chunk`), and everything else goes to the front end's loop with
`call_soon_threadsafe`.

`run(coro)` runs a coroutine here and waits for it from any other loop (cancelling the waiter
cancels it); `stop()` ends the loop once its tasks are done, and joins the thread. The thread is a
daemon, so even a session never closed cannot keep the process from exiting.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Coroutine, TypeVar

T = TypeVar("T")

STOP_TIMEOUT_S = 5.0
"""How long `stop()` waits for the thread (its tasks are cancelled first; it ends at once)."""


class IoThread:
    """An asyncio loop running on a daemon thread named `name` (see the module text)."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        loop = self.loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            left = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in left:
                task.cancel()
            if left:
                loop.run_until_complete(asyncio.wait(left, timeout=STOP_TIMEOUT_S))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    @property
    def here(self) -> bool:
        """The caller runs on this thread's loop."""
        return threading.current_thread() is self._thread

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """`await coro` on this thread's loop, from any loop (on this one: directly)."""
        if self.here:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    async def stop(self) -> None:
        """End the loop (tasks still running are cancelled) and wait, off the caller's loop, for the thread."""
        if self.here:
            raise RuntimeError("an IoThread cannot be stopped from its own loop")
        if self._thread.is_alive():
            try:
                self.loop.call_soon_threadsafe(self.loop.stop)
            except RuntimeError:  # the loop is already closed
                pass
            await asyncio.to_thread(self._thread.join, STOP_TIMEOUT_S)
