"""Playback through a stalled event loop: the jitter buffer, underruns, the loop lag on the device's clock.

The speaker is the real `SpeakerSink` on the fake sounddevice; its device side (`Card`) pulls
blocks the way PortAudio's thread does. Reply audio is a tone written "just in time": one block
of it for each block the device plays, as a service that speaks as it generates sends it. A stall
is the event loop blocked in a call that waits on a `threading.Event` while the card plays an
exact number of blocks on its own thread: its length is counted in blocks, never timed.
"""

from __future__ import annotations

import asyncio
import sys
import threading

import numpy as np
import pytest

from tests.fakes.realtime_server import tone
from tui_chat.audio.clock import LoopLag
from tui_chat.audio.devices import SpeakerSink
from tui_chat.audio.playback import PlaybackQueue

from .fake_sounddevice import FakeDevice, FakeOutputStream, FakeSoundDevice

RATE = 24000
BLOCK = RATE // 50  # the speaker's 20 ms block
STALL = 10  # blocks


class Card:
    """The device side of an output stream: plays blocks when told to, keeps what it played."""

    def __init__(self, stream: FakeOutputStream) -> None:
        self.stream = stream
        self.blocks: list[np.ndarray] = []

    def play(self, blocks: int) -> None:
        for _ in range(blocks):
            self.blocks.append(np.frombuffer(self.stream.pull(BLOCK), "<i2"))

    def stall_loop(self, blocks: int) -> None:
        """Block the event loop (call it from the loop) while this card plays `blocks` on a thread of its own."""
        played = threading.Event()
        thread = threading.Thread(target=lambda: (self.play(blocks), played.set()))
        thread.start()
        played.wait()  # nothing on the loop runs meanwhile: not the writer, not the speaker's probe
        thread.join()

    @property
    def heard(self) -> np.ndarray:
        return np.concatenate(self.blocks)


async def open_speaker(monkeypatch: pytest.MonkeyPatch, **options: float) -> tuple[SpeakerSink, Card]:
    fake = FakeSoundDevice([FakeDevice("Speakers", outputs=1, rate=RATE)])
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    sink = await SpeakerSink.open(None, RATE, **options)
    return sink, Card(fake.streams[0])


async def play_just_in_time(sink: SpeakerSink, card: Card, audio: np.ndarray, *, stall_at: int) -> None:
    """Write `audio` one block per block played; at block `stall_at` the loop stalls for STALL blocks,
    and the pieces that came meanwhile are written at once after it (as a socket's buffer hands them over)."""
    pieces = [audio[i : i + BLOCK] for i in range(0, audio.size, BLOCK)]
    index = 0
    while index < len(pieces):
        if index == stall_at:
            card.stall_loop(STALL)
            for piece in pieces[index : index + STALL]:
                sink.write(piece, RATE, tag=1)
            index += STALL
            continue
        sink.write(pieces[index], RATE, tag=1)
        index += 1
        card.play(1)
        await asyncio.sleep(0)  # the loop turns: the speaker's probe runs
    while sink.pending_s:
        card.play(1)
    card.play(1)
    await asyncio.sleep(0)


def start_of(audio: np.ndarray, heard: np.ndarray) -> int:
    """Where `audio` begins in `heard` (silence before it)."""
    return int(np.flatnonzero(heard)[0] - np.flatnonzero(audio)[0])


def assert_heard_whole(card: Card, audio: np.ndarray) -> None:
    """What the card played is silence, then `audio` without a gap, then silence."""
    heard = card.heard
    start = start_of(audio, heard)
    assert np.array_equal(heard[start : start + audio.size], audio)
    assert not np.any(heard[start + audio.size :])


async def test_a_reply_written_just_in_time_rides_out_a_stall_as_long_as_one_seen_before(monkeypatch: pytest.MonkeyPatch) -> None:
    sink, card = await open_speaker(monkeypatch)
    card.play(1)
    await asyncio.sleep(0)
    card.stall_loop(STALL)  # nothing playing yet: the speaker learns how long the loop can stall
    await asyncio.sleep(0)
    assert sink.lag.worst == (STALL - 1) * BLOCK  # the probe posted at the stall's first block waited out the rest
    assert sink.jitter_s == pytest.approx((STALL - 1) * BLOCK / RATE + sink.min_jitter_s)

    audio = tone(2.0, RATE, hz=440.0)
    await play_just_in_time(sink, card, audio, stall_at=40)
    assert sink.underruns == 0 and sink.queue.underrun_samples == 0
    assert sink.played_s(1) == pytest.approx(2.0)
    assert_heard_whole(card, audio)
    await sink.aclose()


async def test_without_the_jitter_buffer_the_same_stall_underruns(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test above can fail: a speaker that plays each piece as it comes runs dry for the whole stall."""
    sink, card = await open_speaker(monkeypatch, min_jitter_s=0.0, max_jitter_s=0.0)
    card.play(1)
    await asyncio.sleep(0)
    card.stall_loop(STALL)
    await asyncio.sleep(0)
    audio = tone(2.0, RATE, hz=440.0)
    await play_just_in_time(sink, card, audio, stall_at=40)
    assert sink.underruns == STALL and sink.queue.underrun_samples == STALL * BLOCK
    heard = card.heard
    start = start_of(audio, heard)
    gap = heard[start + 40 * BLOCK : start + (40 + STALL) * BLOCK]
    assert gap.size == STALL * BLOCK and not np.any(gap)  # the stall, heard as silence inside the reply
    await sink.aclose()


async def test_the_jitter_buffer_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    sink, card = await open_speaker(monkeypatch, max_jitter_s=0.3)
    card.play(1)
    await asyncio.sleep(0)
    card.stall_loop(50)  # a second: more than a reply should wait to start
    await asyncio.sleep(0)
    assert sink.lag.worst == 49 * BLOCK and sink.jitter_s == pytest.approx(0.3)
    await sink.aclose()


async def test_the_jitter_buffer_follows_the_loop_that_writes_not_the_one_that_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reply audio written from another loop (a voice session's own thread) is not held up by
    this loop's stalls, so they must not deepen the buffer (each would delay every reply's start)."""
    from tui_chat.realtime.io_thread import IoThread

    sink, card = await open_speaker(monkeypatch)
    writer = IoThread("writer-io")

    async def write() -> None:
        sink.write(tone(1.0, RATE), RATE, tag=1)

    async def turn() -> None:
        """Nothing: awaited, it shows that what was posted to the writer before it has run."""

    await writer.run(write())
    for _ in range(STALL):  # this loop is blocked meanwhile; the writer's loop turns after every block
        card.play(1)
        asyncio.run_coroutine_threadsafe(turn(), writer.loop).result(10)
    await asyncio.sleep(0)
    assert sink.lag.worst == 0 and sink.jitter_s == pytest.approx(sink.min_jitter_s)
    assert sink.played_s(1) == pytest.approx(STALL * BLOCK / RATE) and sink.underruns == 0
    await writer.stop()
    await sink.aclose()


def test_an_underrun_is_a_gap_inside_a_reply() -> None:
    """Short blocks count when the same reply's audio resumes after them; the silence after a
    reply's end, or after a flush, does not count."""
    queue = PlaybackQueue(1000)
    out = np.zeros(20, np.int16)
    queue.put(np.full(30, 7, np.int16), tag=1)
    assert queue.read_into(out) == 20
    assert queue.read_into(out) == 10 and not np.any(out[10:])  # ran dry mid-block
    assert queue.read_into(out) == 0
    assert queue.underruns == 0  # not yet known to be a gap: the reply may have ended
    queue.put(np.full(20, 7, np.int16), tag=1)
    assert queue.read_into(out) == 20
    assert (queue.underruns, queue.underrun_samples) == (2, 30)

    assert queue.read_into(out) == 0  # reply 1 is over
    queue.put(np.full(20, 8, np.int16), tag=2)
    assert queue.read_into(out) == 20
    queue.put(np.full(40, 8, np.int16), tag=2)
    assert queue.read_into(out) == 20
    queue.flush()
    assert queue.read_into(out) == 0
    queue.put(np.full(20, 9, np.int16), tag=3)
    assert queue.read_into(out) == 20
    assert (queue.underruns, queue.underrun_samples) == (2, 30)


def test_after_running_dry_playing_waits_for_the_prebuffer_or_that_long() -> None:
    queue = PlaybackQueue(1000, prebuffer=50)
    out = np.zeros(10, np.int16)
    queue.put(np.full(20, 7, np.int16), tag=1)
    assert queue.read_into(out) == 0 and queue.pending == 20  # 20 < 50 queued: silence
    queue.put(np.full(40, 7, np.int16), tag=1)
    assert queue.read_into(out) == 10  # 60 queued: it plays
    assert queue.underruns == 0

    short = PlaybackQueue(1000, prebuffer=50)
    short.put(np.full(20, 7, np.int16), tag=1)  # a reply shorter than the prebuffer
    assert [short.read_into(out) for _ in range(7)] == [0, 0, 0, 0, 0, 10, 10]  # it waited 50, then played


def test_loop_lag_keeps_the_worst_of_its_window() -> None:
    lag = LoopLag(window=100)
    assert lag.worst == 0
    lag.note(0, 50)
    lag.note(60, 20)
    assert lag.worst == 50
    lag.note(120, 5)
    assert lag.worst == 20  # the 50 at 0 fell out of the window
    lag.note(200, 1)
    assert lag.worst == 5
