"""Where a voice session's input comes from: fixed-size int16 mono frames, in order.

`AudioSource` is the interface (the microphone in `devices` is one); `PcmSource` plays samples
already in memory, paced in real time by their audio time or, with `fast`, as quickly as they are
taken. Pacing uses an injectable clock, so tests never wait on the wall clock.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, Protocol

import numpy as np

FRAME_MS = 20


class AudioSource(Protocol):
    """Frames of exactly `frame_samples` int16 mono samples at `rate` Hz."""

    rate: int
    frame_samples: int
    warnings: list[str]

    def frames(self) -> AsyncIterator[np.ndarray]:
        """The frames, until the input ends (a file) or the source is closed (a microphone)."""
        ...

    async def aclose(self) -> None: ...


class PcmSource:
    """Samples in memory as a frame source; the last frame is padded with silence.

    Paced (the default): frame i is handed out when `clock()` reaches the start time plus the end
    of frame i, as a microphone would deliver it. `fast`: no waiting, but the loop is given back
    once per frame so the rest of the session runs in between.
    """

    def __init__(
        self,
        samples: np.ndarray,
        rate: int,
        *,
        frame_ms: int = FRAME_MS,
        fast: bool = False,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        warnings: list[str] | None = None,
    ) -> None:
        self.samples = np.asarray(samples, dtype=np.int16)
        self.rate = rate
        self.frame_samples = rate * frame_ms // 1000
        self.fast = fast
        self.clock = clock
        self.sleep = sleep
        self.warnings = list(warnings or [])
        self._closed = False

    @property
    def duration(self) -> float:
        return self.samples.size / self.rate

    async def frames(self) -> AsyncIterator[np.ndarray]:
        size = self.frame_samples
        started = self.clock()
        for index, first in enumerate(range(0, self.samples.size, size)):
            if self._closed:
                return
            frame = self.samples[first : first + size]
            if frame.size < size:
                frame = np.concatenate((frame, np.zeros(size - frame.size, dtype=np.int16)))
            if self.fast:
                await asyncio.sleep(0)
            else:
                wait = started + (index + 1) * size / self.rate - self.clock()
                await self.sleep(max(0.0, wait))
            yield frame

    async def aclose(self) -> None:
        self._closed = True


def open_wav_source(path: str | Path, rate: int, *, fast: bool = False, frame_ms: int = FRAME_MS, **pacing) -> PcmSource:  # type: ignore[no-untyped-def]
    """A WAV file as a source at `rate` Hz (any WAV format is converted); raises `WavError`."""
    from .wav import read_wav

    audio = read_wav(path, rate)
    return PcmSource(audio.samples, rate, frame_ms=frame_ms, fast=fast, warnings=audio.warnings, **pacing)
