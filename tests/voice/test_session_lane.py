"""Reply audio played before the session has read it (`PlaybackLane`): how such a reply ends.

The model's side here is a minimal `BidiSession` whose chunks the test emits by hand, all at once,
without letting the loop turn: as when a busy screen holds the loop while the session's own thread
receives a reply and queues its audio. The virtual speaker is advanced by the test.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.fakes.realtime_server import tone
from tui_chat.audio.playback import ClockedSink
from tui_chat.chunks import AudioChunk, Done, Role, TranscriptChunk
from tui_chat.realtime.base import BidiSession
from tui_chat.voice.events import BargeIn, ReplyEnded
from tui_chat.voice.session import VoiceOptions, VoiceSession

from .test_interrupt import FedSource, Run

RATE = 24000


class HandFed(BidiSession):
    """A model's side that sends nothing by itself: the test emits its chunks."""

    provider = "hand-fed"

    def __init__(self) -> None:
        super().__init__()
        self.interrupts: list[float | None] = []

    async def _connect(self) -> None: ...

    async def _send_audio(self, pcm: bytes, rate: int) -> None: ...

    async def _send_text(self, text: str) -> None: ...

    async def _end_turn(self) -> None: ...

    async def _interrupt(self, played: float | None) -> None:
        self.interrupts.append(played)  # the reply had all come: nothing to cut on the model's side

    async def _disconnect(self) -> None: ...


async def test_a_reply_cut_before_its_end_was_read_ends_interrupted_at_what_was_heard() -> None:
    bidi = HandFed()
    await bidi.open()
    sink = ClockedSink(RATE)
    source = FedSource(RATE)
    run = Run(VoiceSession(bidi, source, sink, VoiceOptions(levels=False)))
    await run.voice.send_text("count for me")

    # The whole reply arrives and 0.4 s of it plays while the session's loop does not turn.
    bidi._emit(TranscriptChunk("One two three.", Role.ASSISTANT))
    bidi._emit(AudioChunk(tone(1.0, RATE).astype(np.int16).tobytes(), RATE))
    bidi._emit(Done())
    assert sink.pending_s == pytest.approx(1.0)  # queued as it came, before the session read it
    sink.advance(int(0.4 * RATE), RATE)
    assert await run.voice.interrupt()  # Esc, still before the session has read any of the reply

    source.end()
    await run.finish()
    [barge] = run.of(BargeIn)
    assert (barge.played_s, barge.flushed_s) == (pytest.approx(0.4), pytest.approx(0.6))
    assert bidi.interrupts == [pytest.approx(0.4)]  # the model is told what was heard
    [ended] = run.of(ReplyEnded)
    assert (ended.status, ended.audio_s, ended.played_s) == ("interrupted", pytest.approx(1.0), pytest.approx(0.4))
    assert ended.full_text == "One two three."
