"""The WebSocket sessions' own thread: where their I/O runs, and that nothing of it outlives them."""

from __future__ import annotations

import asyncio
import threading

import pytest

from tests.fakes.realtime_openai import FakeOpenAIRealtime, Reply
from tui_chat.chunks import AudioChunk, Chunk, Done
from tui_chat.errors import ProviderError
from tui_chat.realtime import open_bidi
from tui_chat.realtime.base import BidiConfig
from tui_chat.realtime.io_thread import IoThread

from .conftest import settings_for, until

PUSH_TO_TALK = BidiConfig(turn_detection="manual")


def io_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.endswith("-io")]


async def test_io_runs_on_its_own_thread_and_stopping_ends_it() -> None:
    io = IoThread("test-io")
    here = threading.current_thread()

    async def where() -> threading.Thread:
        return threading.current_thread()

    ran_on = await io.run(where())
    assert ran_on is not here and ran_on.name == "test-io" and io.alive
    await io.stop()
    assert not io.alive and io.loop.is_closed()


async def test_cancelling_a_waiter_cancels_its_coroutine_there_and_stop_ends_what_is_left() -> None:
    io = IoThread("test-io")
    started, cancelled = threading.Event(), threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    waiter = asyncio.ensure_future(io.run(forever()))
    assert await asyncio.to_thread(started.wait, 10)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert await asyncio.to_thread(cancelled.wait, 10)

    left = asyncio.ensure_future(io.run(forever()))  # still running when the loop is stopped
    started.clear()
    assert await asyncio.to_thread(started.wait, 10)
    await io.stop()
    assert not io.alive
    with pytest.raises(asyncio.CancelledError):
        await left


async def test_a_session_reads_on_its_own_thread_and_closing_leaves_no_thread(openai_server: FakeOpenAIRealtime) -> None:
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=PUSH_TO_TALK)
    seen: list[tuple[str, type]] = []

    def on_chunk(chunk: Chunk) -> Chunk:
        seen.append((threading.current_thread().name, type(chunk)))
        return chunk

    session.on_chunk = on_chunk
    assert [thread.name for thread in io_threads()] == ["openai-realtime-io"]
    await session.send_text("hello")
    chunks = await until(session)
    await session.close()
    assert isinstance(chunks[-1], Done) and any(isinstance(c, AudioChunk) for c in chunks)
    assert {name for name, _kind in seen} == {"openai-realtime-io"}  # audio and the rest, on the session's thread
    assert [kind for _name, kind in seen] == [type(c) for c in chunks]  # and in the order output() has them
    assert io_threads() == []


async def test_a_session_that_fails_to_open_leaves_no_thread(openai_server: FakeOpenAIRealtime) -> None:
    with pytest.raises(ProviderError):
        await open_bidi("openai-realtime", settings_for(openai_server, key="sk-wrong"), config=PUSH_TO_TALK)
    assert io_threads() == []


async def test_a_chunk_hook_may_drop_chunks(openai_server: FakeOpenAIRealtime) -> None:
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=PUSH_TO_TALK)
    session.on_chunk = lambda chunk: None if isinstance(chunk, AudioChunk) else chunk
    await session.send_text("hello")
    chunks = await until(session)
    await session.close()
    assert isinstance(chunks[-1], Done) and not [c for c in chunks if isinstance(c, AudioChunk)]


async def test_cancelling_a_voice_session_mid_reply_closes_everything_without_hanging(openai_server: FakeOpenAIRealtime) -> None:
    """As when the app quits while a reply plays: the front end's task is cancelled."""
    from tests.voice.test_interrupt import FedSource, Run
    from tui_chat.audio.playback import ClockedSink
    from tui_chat.voice.events import ReplyStarted
    from tui_chat.voice.session import VoiceOptions, VoiceSession

    openai_server.replies.append(Reply(audio_s=2.0, hold_after_s=0.5))  # it waits, mid-reply, to be cut
    bidi = await open_bidi("openai-realtime", settings_for(openai_server), config=PUSH_TO_TALK)
    run = Run(VoiceSession(bidi, FedSource(24000), ClockedSink(24000), VoiceOptions(levels=False)))
    await run.voice.send_text("a long story")
    await openai_server.wait_for(lambda: openai_server.holds == 1)
    async with asyncio.timeout(10):
        while not run.of(ReplyStarted):
            await asyncio.sleep(0.001)
    run.task.cancel()
    async with asyncio.timeout(10):
        with pytest.raises(asyncio.CancelledError):
            await run.task
    assert bidi.closed and io_threads() == []
