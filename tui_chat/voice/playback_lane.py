"""`PlaybackLane`: reply audio from the model's session straight to the speaker, in stream order.

A voice front end's loop is often busy (a screen laying out a streaming transcript holds the
Textual loop for tens of milliseconds at a time). Reply audio that waited for that loop before
being queued for the speaker would reach it late, and the speaker would run dry. So the voice
session sets `PlaybackLane.take` as its model session's `on_chunk`: it sees every chunk on the
model session's own thread, in the order they came, queues reply audio for the sink at once, and
passes the chunks on to the front end's loop, where the session keeps its accounts of replies.

Both sides must agree on whose audio is whose without sharing a clock, so the tag of each piece of
audio is its segment: 1 + the number of reply ends (`Done`, `Interrupted`) that came before it.
A reply lies within one segment, so the session maps each reply to the segment it began in
(`VoiceSession._heard_s`), whatever it has or has not yet read of the stream.

What the two sides share is guarded by one lock: a cut (`cut`, from the session's loop) flushes
the sink and, when a reply's audio or words had begun coming, drops the rest of that reply (audio
and assistant words) until its end arrives; a reply the provider cuts by itself (`Interrupted`
with server turn detection, not after a cut of ours) has its queued audio flushed as the
`Interrupted` passes. No piece of a cut reply can slip in between the flush and the dropping.
"""

from __future__ import annotations

import threading

from ..audio.pcm import pcm_to_array
from ..audio.playback import PlaybackSink
from ..chunks import (
    AudioChunk,
    Chunk,
    Done,
    Interrupted,
    Role,
    TextDelta,
    TranscriptChunk,
)


def is_reply_content(chunk: Chunk) -> bool:
    """Audio or assistant words: what makes a reply (and what is dropped of a cut one)."""
    if isinstance(chunk, (AudioChunk, TextDelta)):
        return True
    return isinstance(chunk, TranscriptChunk) and chunk.role is Role.ASSISTANT


class PlaybackLane:
    """Plays reply audio as it arrives, from any thread (see the module text)."""

    def __init__(self, sink: PlaybackSink, *, server_turns: bool) -> None:
        self.sink = sink
        self.server_turns = server_turns
        self._lock = threading.Lock()
        self._segment = 1
        self._begun = False  # reply content came in this segment
        self._dropping = False  # the reply of this segment was cut: the rest of it is dropped

    def take(self, chunk: Chunk) -> Chunk | None:
        """`BidiSession.on_chunk`: queue audio for the sink; the chunk for the session, None to drop it."""
        with self._lock:
            if is_reply_content(chunk):
                if self._dropping:
                    return None
                self._begun = True
                if isinstance(chunk, AudioChunk):
                    self.sink.write(pcm_to_array(chunk.pcm), chunk.rate, tag=self._segment)
                return chunk
            if isinstance(chunk, (Done, Interrupted)):
                if isinstance(chunk, Interrupted) and self.server_turns and not self._dropping:
                    self.sink.flush()  # the provider cut the reply by itself: what is queued of it stops too
                self._segment += 1
                self._begun = self._dropping = False
            return chunk

    def cut(self, *, keep_current: bool = False) -> float:
        """Stop playing (all, or all but the piece playing) and drop what still comes of the reply
        whose content has begun coming. Seconds of audio dropped."""
        with self._lock:
            flushed = self.sink.flush(keep_current=keep_current)
            if self._begun:
                self._dropping = True
            return flushed
