"""Reply audio keeps the speaker fed while the front end's event loop is blocked.

The whole voice path: the real `VoiceSession` and `MeteredSink` over the real `SpeakerSink` (on the
fake sounddevice, whose device side the test plays block by block) and the real OpenAI Realtime
session, against the fake service run on a thread and loop of its own, as a remote service is
(a fake on the test's loop would stall with it). The test blocks the loop, as a screen laying out
a long transcript does, while the rest of a reply is sent; the speaker plays on. Nothing is timed:
each block waits (bounded) for the audio it needs to reach the speaker's queue.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable

import numpy as np
import pytest

from tests.audio.test_playback import BLOCK, open_speaker
from tests.fakes.realtime_openai import FakeOpenAIRealtime, Reply
from tests.realtime.conftest import settings_for
from tui_chat.audio.devices import SpeakerSink
from tui_chat.realtime import open_bidi
from tui_chat.realtime.base import BidiConfig
from tui_chat.voice.events import ReplyEnded
from tui_chat.voice.metered_sink import MeteredSink
from tui_chat.voice.session import VoiceOptions, VoiceSession

from .test_interrupt import FedSource, Run

RATE = 24000
HOLD_S = 0.3
REPLY_S = 1.0
WAIT_S = 5.0
"""The most a blocked loop waits for audio that never comes (the old path), so a failure is quick."""


class ServiceThread:
    """The fake OpenAI Realtime service on a thread with its own loop; its first reply is
    `REPLY_S` of tone that pauses after `HOLD_S` until `release()`."""

    def __init__(self) -> None:
        self.server: FakeOpenAIRealtime | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._release: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="fake-service", daemon=True)

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop, self._release = asyncio.Event(), asyncio.Event()
        async with FakeOpenAIRealtime() as server:
            server.replies.append(Reply(audio_s=REPLY_S, chunk_ms=100, hold_after_s=HOLD_S, release=self._release))
            self.server = server
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> FakeOpenAIRealtime:
        self._thread.start()
        assert self._ready.wait(10), "the fake service did not start"
        assert self.server is not None
        return self.server

    def release(self) -> None:
        assert self._loop is not None and self._release is not None
        self._loop.call_soon_threadsafe(self._release.set)

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


class Arrivals:
    """Wakes a waiting thread whenever reply audio reaches the speaker's queue (the speaker's
    `write` is wrapped; it may be called on any thread)."""

    def __init__(self, sink: SpeakerSink) -> None:
        self.sink = sink
        self._changed = threading.Condition()
        write = sink.write

        def written(samples: np.ndarray, rate: int, tag: Any = None) -> None:
            write(samples, rate, tag)
            with self._changed:
                self._changed.notify_all()

        sink.write = written  # type: ignore[method-assign]

    @property
    def received_s(self) -> float:
        queue = self.sink.queue
        return (sum(queue.played.values()) + queue.pending) / queue.rate

    def wait(self, condition: Callable[[], bool], deadline: float) -> bool:
        with self._changed:
            return self._changed.wait_for(condition, timeout=max(0.0, deadline - time.monotonic()))


async def test_a_blocked_loop_does_not_starve_the_speaker(monkeypatch: pytest.MonkeyPatch) -> None:
    service = ServiceThread()
    with service as server:
        bidi = await open_bidi("openai-realtime", settings_for(server), config=BidiConfig(turn_detection="manual"))
        speaker, card = await open_speaker(monkeypatch)
        arrivals = Arrivals(speaker)
        source = FedSource(RATE)
        run = Run(VoiceSession(bidi, source, MeteredSink(speaker), VoiceOptions(levels=False)))
        await run.voice.send_text("Tell me about the sea.")
        assert await asyncio.to_thread(arrivals.wait, lambda: arrivals.received_s >= HOLD_S - 1e-9, time.monotonic() + 10)
        card.play(10)  # 0.2 s of the reply heard, 0.1 s queued; the service holds the rest
        before = speaker.played_s(1)

        # From here to the end of the stall nothing on this loop runs, as with a busy screen.
        service.release()
        deadline = time.monotonic() + WAIT_S
        for _ in range(40):  # 0.8 s of the device's clock
            arrivals.wait(lambda: speaker.queue.pending >= BLOCK or arrivals.received_s >= REPLY_S - 1e-9, deadline)
            card.play(1)
        during = speaker.played_s(1) - before

        assert await asyncio.to_thread(arrivals.wait, lambda: arrivals.received_s >= REPLY_S - 1e-9, time.monotonic() + 10)
        while speaker.queue.pending:
            card.play(1)
        source.end()
        await run.finish()

    assert during == pytest.approx(0.8)  # every block of the stall was reply audio
    assert speaker.underruns == 0 and speaker.queue.underrun_samples == 0
    ended = [(e.status, e.audio_s, e.played_s) for e in run.of(ReplyEnded)]
    assert ended == [("complete", pytest.approx(REPLY_S), pytest.approx(REPLY_S))]
