"""16-bit mono PCM: conversions from other sample formats, and resampling.

Everything inside a voice session is signed 16-bit little-endian mono (`numpy.int16` arrays, or
their bytes). Rate conversion uses libsoxr through the `soxr` package: a proper band-limited
resampler, streaming where the audio comes in blocks (devices), one-shot for whole files.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import AudioError

INT16_MAX = 32767
SAMPLE_WIDTH = 2  # bytes per sample of the session format


def pcm_to_array(pcm: bytes | bytearray | memoryview) -> np.ndarray:
    """The samples of 16-bit little-endian PCM bytes (a read-only view, no copy)."""
    return np.frombuffer(pcm, dtype="<i2")


def array_to_pcm(samples: np.ndarray) -> bytes:
    """16-bit little-endian PCM bytes of int16 samples."""
    return np.asarray(samples, dtype="<i2").tobytes()


def float_to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as int16, clipped, rounded to nearest."""
    scaled = np.clip(np.asarray(samples, dtype=np.float64) * 32768.0, -32768.0, 32767.0)
    return np.rint(scaled).astype(np.int16)


def to_mono(samples: np.ndarray) -> np.ndarray:
    """Mix a (frames, channels) array down to one channel by averaging; 1-D input is returned as is."""
    if samples.ndim == 1:
        return samples
    if samples.shape[1] == 1:
        return samples[:, 0]
    mixed = samples.astype(np.float64).mean(axis=1)
    if np.issubdtype(samples.dtype, np.integer):
        return np.rint(mixed).astype(samples.dtype)
    return mixed.astype(samples.dtype)


def _soxr() -> Any:
    try:
        import soxr
    except ImportError as error:  # pragma: no cover - soxr is a dependency
        raise AudioError(
            "converting the sample rate needs the soxr package, which is not installed",
            hint="pip install soxr",
        ) from error
    return soxr


def resample(samples: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Int16 mono `samples` at `in_rate` converted to `out_rate` (whole signal at once)."""
    if in_rate == out_rate or samples.size == 0:
        return np.asarray(samples, dtype=np.int16)
    out = _soxr().resample(np.asarray(samples, dtype=np.int16), in_rate, out_rate, quality="HQ")
    return np.asarray(out, dtype=np.int16)


class StreamResampler:
    """Rate conversion of a signal that arrives in blocks, with no clicks at block edges.

    `process(block)` returns what is ready so far (the filter delays a few milliseconds);
    `flush()` returns the rest at the end of the stream.
    """

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._stream = None if in_rate == out_rate else _soxr().ResampleStream(
            in_rate, out_rate, 1, dtype="int16", quality="HQ"
        )

    def process(self, block: np.ndarray) -> np.ndarray:
        if self._stream is None:
            return np.asarray(block, dtype=np.int16)
        return np.asarray(self._stream.resample_chunk(np.asarray(block, dtype=np.int16)), dtype=np.int16)

    def flush(self) -> np.ndarray:
        if self._stream is None:
            return np.zeros(0, dtype=np.int16)
        return np.asarray(self._stream.resample_chunk(np.zeros(0, dtype=np.int16), last=True), dtype=np.int16)


class Reframer:
    """Cuts a stream of blocks of any length into frames of exactly `size` samples."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pending = np.zeros(0, dtype=np.int16)

    def push(self, block: np.ndarray) -> list[np.ndarray]:
        data = np.concatenate((self._pending, block)) if self._pending.size else np.asarray(block, dtype=np.int16)
        whole = data.size // self.size * self.size
        frames = [data[i : i + self.size] for i in range(0, whole, self.size)]
        self._pending = data[whole:].copy()
        return frames

    def rest(self) -> np.ndarray | None:
        """The last, partial frame padded with silence, or None when nothing is left."""
        if not self._pending.size:
            return None
        frame = np.zeros(self.size, dtype=np.int16)
        frame[: self._pending.size] = self._pending
        self._pending = np.zeros(0, dtype=np.int16)
        return frame
