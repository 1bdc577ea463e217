"""Playback: the queue of reply audio waiting to be heard, and the sinks that play it.

`PlaybackQueue` holds reply audio in the pieces it came in. It is read by a speaker in blocks,
possibly from the PortAudio thread, without locks: a flush swaps in a new deque, so a reader in
the middle of a block finishes that block from the old one and never sees audio queued after the
flush. Each piece carries a tag (the reply it belongs to) so the session can tell how much of a
reply was heard before a barge-in.

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


class PlaybackQueue:
    """Reply audio at `rate` waiting to be played; written on the event loop, read from anywhere."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._items: deque[list[Any]] = deque()  # [tag, samples, offset]
        self.played: dict[Hashable, int] = {}
        self.flushes = 0

    def put(self, samples: np.ndarray, tag: Hashable = None) -> None:
        if samples.size:
            self._items.append([tag, samples, 0])

    def read_into(self, out: np.ndarray) -> int:
        """Fill `out` (int16) from the queue, silence after its end; the number of queued samples used."""
        items = self._items  # a flush replaces the deque; this block keeps reading the old one
        filled = 0
        n = out.size
        while filled < n and items:
            try:
                item = items[0]
            except IndexError:
                break
            tag, samples, offset = item
            take = min(n - filled, samples.size - offset)
            out[filled : filled + take] = samples[offset : offset + take]
            item[2] = offset + take
            filled += take
            self.played[tag] = self.played.get(tag, 0) + take
            if item[2] >= samples.size:
                try:
                    items.popleft()
                except IndexError:
                    break
        if filled < n:
            out[filled:] = 0
        return filled

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
