"""Playback: the queue of reply audio waiting to be heard, and the sinks that play it.

`PlaybackQueue` holds reply audio in the pieces it came in. It is read by a speaker in blocks,
possibly from the PortAudio thread, without locks: a flush swaps in a new deque, so a reader in
the middle of a block finishes that block from the old one and never sees audio queued after the
flush. Each piece carries a tag (the reply it belongs to) so the session can tell how much of a
reply was heard before a barge-in.

It is also a jitter buffer. Reply audio is written on the event loop, which a busy screen can
hold up; a speaker that started on the first piece would run dry at the first stall. So after
running dry the reader waits, playing silence, until `prebuffer` samples are queued (or it has
waited that long: a reply shorter than that still plays), then plays on. An underrun is a block
that found too little audio while a reply was still coming: it is counted when that same reply's
audio resumes (`underruns`, `underrun_samples`), so the silence after a reply's end, or after a
flush, never counts. Everything the reader changes is written by the reader alone.

`PlaybackSink` is what a voice session plays into. `ClockedSink` is the virtual speaker: it plays
exactly as much audio as the input has advanced (a file or the microphone is the clock), writing
what is heard, silence included, to a WAV file or nowhere. That makes `--audio-out` a recording
of the session aligned with its input, and makes fast runs behave as live ones do.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Hashable, Protocol

import numpy as np

from .errors import AudioError
from .pcm import resample
from .wav import WavWriter


_NO_REPLY = object()
"""The starved-on tag when nothing was playing (a tag may be None)."""


class PlaybackQueue:
    """Reply audio at `rate` waiting to be played; written on the event loop, read from anywhere.

    `prebuffer` (samples) is the jitter buffer's depth: what must be queued (or waited for)
    before playing starts again after the queue ran dry. The writer may change it at any time.
    """

    def __init__(self, rate: int, *, prebuffer: int = 0) -> None:
        self.rate = rate
        self.prebuffer = prebuffer
        self._items: deque[list[Any]] = deque()  # [tag, samples, offset]
        self.played: dict[Hashable, int] = {}
        self.flushes = 0
        self.underruns = 0
        """Blocks that were short of audio while a reply was still coming."""
        self.underrun_samples = 0
        """The silence those blocks put into replies."""
        self.read_total = 0
        """Samples the reader has taken (audio and silence): the device's clock."""
        self._refilling = True  # playing silence until the queue holds `prebuffer` again
        self._waited = 0  # samples of silence played while refilling with audio queued
        self._last_tag: object = _NO_REPLY  # the tag of the last audio played
        self._starved_on: object = _NO_REPLY  # the tag of the reply that ran dry
        self._starved_blocks = 0
        self._starved_samples = 0

    def put(self, samples: np.ndarray, tag: Hashable = None) -> None:
        if samples.size:
            self._items.append([tag, samples, 0])

    def read_into(self, out: np.ndarray) -> int:
        """Fill `out` (int16) from the queue, silence after its end; the number of queued samples used."""
        items = self._items  # a flush replaces the deque; this block keeps reading the old one
        n = out.size
        self.read_total += n
        if self._refilling and not self._refilled(items, n):
            out[:] = 0
            self._starving(n)
            return 0
        filled = 0
        while filled < n and items:
            try:
                item = items[0]
            except IndexError:
                break
            tag, samples, offset = item
            if self._starved_on is not _NO_REPLY:
                self._resumed(tag)
            take = min(n - filled, samples.size - offset)
            out[filled : filled + take] = samples[offset : offset + take]
            item[2] = offset + take
            filled += take
            self.played[tag] = self.played.get(tag, 0) + take
            self._last_tag = tag
            if item[2] >= samples.size:
                try:
                    items.popleft()
                except IndexError:
                    break
        if filled < n:
            out[filled:] = 0
            self._refilling = True
            self._starved_on = self._last_tag
            self._starving(n - filled)
        return filled

    def _refilled(self, items: deque[list[Any]], block: int) -> bool:
        """While refilling: whether to play again (enough queued, or waited long enough)."""
        queued = sum(s.size - off for _tag, s, off in list(items))
        if not queued:
            self._waited = 0
            return False
        if queued < self.prebuffer and self._waited < self.prebuffer:
            self._waited += block
            return False
        self._refilling = False
        self._waited = 0
        return True

    def _starving(self, samples: int) -> None:
        """A block was `samples` short; an underrun if the reply that ran dry goes on later."""
        if self._starved_on is not _NO_REPLY:
            self._starved_blocks += 1
            self._starved_samples += samples

    def _resumed(self, tag: Hashable) -> None:
        """Audio of `tag` is played after running dry: the silence was an underrun if it is the same reply."""
        if tag == self._starved_on:
            self.underruns += self._starved_blocks
            self.underrun_samples += self._starved_samples
        self._starved_on = _NO_REPLY
        self._starved_blocks = self._starved_samples = 0

    def flush(self, *, keep_current: bool = False) -> int:
        """Drop what is queued; with `keep_current`, the piece being played plays to its end. Samples dropped."""
        old = self._items
        kept: deque[list[Any]] = deque()
        if keep_current and old and old[0][2] > 0:
            kept.append(old[0])
        self._items = kept
        self.flushes += 1
        return int(sum(s.size - off for _tag, s, off in old) - sum(s.size - off for _tag, s, off in kept))

    @property
    def playing(self) -> Hashable:
        """The tag of the piece being played (the head of the queue), None when nothing is queued."""
        items = self._items
        try:
            tag: Hashable = items[0][0]
            return tag
        except IndexError:
            return None

    @property
    def pending(self) -> int:
        """Samples queued and not yet played."""
        return int(sum(s.size - off for _tag, s, off in list(self._items)))


class PlaybackSink(Protocol):
    """Where reply audio goes. Times are seconds of audio at the sink's rate."""

    rate: int
    clocked: bool
    """True when `advance` drives playback (a virtual speaker); False for a real device."""
    error: AudioError | None
    """Set when the device failed; the session reports it and ends."""

    def write(self, samples: np.ndarray, rate: int, tag: Hashable = None) -> None: ...

    def advance(self, samples: int, rate: int) -> None:
        """The input clock moved on by `samples` at `rate`; a clocked sink plays that much."""
        ...

    def flush(self, *, keep_current: bool = False) -> float:
        """Stop playing what is queued (seconds dropped)."""
        ...

    @property
    def pending_s(self) -> float: ...

    @property
    def playing(self) -> Hashable:
        """The tag of the audio being played, None when nothing is."""
        ...

    def played_s(self, tag: Hashable) -> float:
        """Seconds of the audio tagged `tag` that have been played."""
        ...

    async def drain(self) -> None:
        """Play what is queued to its end."""
        ...

    async def aclose(self) -> None: ...


class ClockedSink:
    """A virtual speaker advanced by the input clock, recording to a WAV file (or nowhere)."""

    clocked = True

    def __init__(self, rate: int, writer: WavWriter | None = None) -> None:
        self.rate = rate
        self.writer = writer
        self.queue = PlaybackQueue(rate)
        self.error: AudioError | None = None
        self._input_samples: dict[int, int] = {}  # input samples seen, per input rate
        self._played_total = 0  # output samples produced (heard or silence)
        self._scratch = np.zeros(0, dtype=np.int16)

    def write(self, samples: np.ndarray, rate: int, tag: Hashable = None) -> None:
        self.queue.put(resample(samples, rate, self.rate), tag)

    def advance(self, samples: int, rate: int) -> None:
        total = self._input_samples.get(rate, 0) + samples
        self._input_samples[rate] = total
        due = total * self.rate // rate - self._played_total
        if due > 0:
            self._play(due)

    def _play(self, n: int) -> None:
        if self._scratch.size != n:
            self._scratch = np.zeros(n, dtype=np.int16)
        self.queue.read_into(self._scratch)
        self._played_total += n
        if self.writer is not None:
            self.writer.write(self._scratch)

    def flush(self, *, keep_current: bool = False) -> float:
        return self.queue.flush(keep_current=keep_current) / self.rate

    @property
    def pending_s(self) -> float:
        return self.queue.pending / self.rate

    @property
    def playing(self) -> Hashable:
        return self.queue.playing

    @property
    def position_s(self) -> float:
        """Seconds of output produced so far, heard or silent."""
        return self._played_total / self.rate

    def played_s(self, tag: Hashable) -> float:
        return self.queue.played.get(tag, 0) / self.rate

    async def drain(self) -> None:
        pending = self.queue.pending
        if pending:
            self._play(pending)

    async def aclose(self) -> None:
        if self.writer is not None:
            self.writer.close()
