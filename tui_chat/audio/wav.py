"""WAV files: read any PCM or float WAV as 16-bit mono at the rate wanted; write 16-bit mono.

The reader parses the RIFF chunks itself (the standard `wave` module of Python 3.11 reads neither
float samples nor WAVE_FORMAT_EXTENSIBLE headers, which most 24- and 32-bit files have). It takes
8-bit unsigned, 16-, 24- and 32-bit signed, 32- and 64-bit float, any number of channels (mixed
down to mono) and any rate (converted with soxr). A data chunk cut short is read as far as it goes,
with a warning; anything else wrong is a `WavError` that names the file and what is wrong where.
"""

from __future__ import annotations

import struct
import wave
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import WavError
from .pcm import float_to_int16, resample, to_mono

_PCM, _FLOAT, _EXTENSIBLE = 0x0001, 0x0003, 0xFFFE
_FORMAT_NAMES = {0x0002: "MS ADPCM", 0x0006: "A-law", 0x0007: "mu-law", 0x0011: "IMA ADPCM", 0x0055: "MP3"}


@dataclass(frozen=True, slots=True)
class WavFormat:
    """What the file's `fmt ` chunk says."""

    encoding: str  # "pcm" or "float"
    channels: int
    rate: int
    bits: int

    def describe(self) -> str:
        kind = "float" if self.encoding == "float" else ("unsigned" if self.bits == 8 else "signed")
        layout = {1: "mono", 2: "stereo"}.get(self.channels, f"{self.channels} channels")
        return f"{self.bits}-bit {kind}, {layout}, {self.rate} Hz"


@dataclass(slots=True)
class WavAudio:
    """A WAV file's audio as int16 mono at `rate`, with the file's own format and any warnings."""

    samples: np.ndarray
    rate: int
    format: WavFormat
    warnings: list[str] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.samples.size / self.rate


def _parse_fmt(path: Path, body: bytes) -> WavFormat:
    if len(body) < 16:
        raise WavError(f"{path}: the fmt chunk is {len(body)} bytes long, too short (16 at least)")
    tag, channels, rate, _byte_rate, _align, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == _EXTENSIBLE:
        if len(body) < 40:
            raise WavError(f"{path}: the extensible fmt chunk is {len(body)} bytes long, too short (40)")
        tag = struct.unpack("<H", body[24:26])[0]  # first two bytes of the sub-format GUID
    if tag == _PCM:
        encoding = "pcm"
        if bits not in (8, 16, 24, 32):
            raise WavError(f"{path}: {bits}-bit integer samples are not supported", hint="use 8, 16, 24 or 32 bits")
    elif tag == _FLOAT:
        encoding = "float"
        if bits not in (32, 64):
            raise WavError(f"{path}: {bits}-bit float samples are not supported", hint="use 32 or 64 bits")
    else:
        name = _FORMAT_NAMES.get(tag, f"format code 0x{tag:04x}")
        raise WavError(
            f"{path}: the samples are compressed ({name}); only PCM and float WAV files can be read",
            hint="convert it first, e.g. sox IN.wav -e signed -b 16 OUT.wav",
        )
    if channels < 1:
        raise WavError(f"{path}: the fmt chunk says the file has {channels} channels")
    if rate < 1:
        raise WavError(f"{path}: the fmt chunk says the sample rate is {rate} Hz")
    return WavFormat(encoding, channels, rate, bits)


def _decode(data: bytes, fmt: WavFormat) -> np.ndarray:
    """Interleaved sample bytes -> (frames, channels) int16."""
    if fmt.encoding == "float":
        values = np.frombuffer(data, dtype="<f4" if fmt.bits == 32 else "<f8")
        samples = float_to_int16(np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=-1.0))
    elif fmt.bits == 8:
        samples = ((np.frombuffer(data, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    elif fmt.bits == 16:
        samples = np.frombuffer(data, dtype="<i2").astype(np.int16)
    elif fmt.bits == 24:
        raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        value = np.where(value >= 1 << 23, value - (1 << 24), value)
        samples = (value >> 8).astype(np.int16)
    else:  # 32-bit integer
        samples = (np.frombuffer(data, dtype="<i4") >> 16).astype(np.int16)
    return samples.reshape(-1, fmt.channels)


def read_wav(path: str | Path, rate: int | None = None) -> WavAudio:
    """Read a WAV file as int16 mono, converted to `rate` Hz when given (else at the file's rate)."""
    path = Path(path)
    try:
        blob = path.read_bytes()
    except OSError as error:
        raise WavError(f"cannot read {path}: {error.strerror or error}") from None
    if len(blob) < 12 or blob[:4] not in (b"RIFF", b"RIFX", b"RF64") or blob[8:12] != b"WAVE":
        head = blob[:12]
        raise WavError(
            f"{path} is not a WAV file: it starts with {head!r}, a WAV file with b'RIFF....WAVE'",
            hint="give a .wav file (PCM or float samples)",
        )
    if blob[:4] != b"RIFF":
        raise WavError(f"{path}: {blob[:4].decode()} WAV files are not supported", hint="convert it to a plain RIFF WAV")

    warnings: list[str] = []
    fmt: WavFormat | None = None
    data: bytes | None = None
    pos = 12
    while pos + 8 <= len(blob):
        chunk_id = blob[pos : pos + 4]
        (size,) = struct.unpack("<I", blob[pos + 4 : pos + 8])
        body_start = pos + 8
        available = len(blob) - body_start
        if chunk_id == b"fmt ":
            if size > available:
                raise WavError(f"{path}: the file ends inside its fmt chunk (at byte {len(blob)})")
            fmt = _parse_fmt(path, blob[body_start : body_start + size])
        elif chunk_id == b"data":
            if fmt is None:
                raise WavError(f"{path}: the data chunk (at byte {pos}) comes before the fmt chunk")
            if size in (0, 0xFFFFFFFF) and available:
                size = available  # written by a streaming writer that never went back to fill it in
            if size > available:
                warnings.append(
                    f"{path}: truncated: the data chunk says {size} bytes but the file holds {available}; "
                    f"reading the {available} there are"
                )
                size = available
            data = blob[body_start : body_start + size]
            break
        pos = body_start + size + (size & 1)
    if fmt is None:
        raise WavError(f"{path}: no fmt chunk (the file is damaged or truncated after {len(blob)} bytes)")
    if data is None:
        raise WavError(f"{path}: no data chunk (the file is damaged or truncated after {len(blob)} bytes)")

    block = fmt.channels * fmt.bits // 8
    usable = len(data) // block * block
    if usable != len(data):
        if not warnings:
            warnings.append(f"{path}: truncated: the last sample frame is incomplete and was dropped")
        data = data[:usable]
    samples = to_mono(_decode(data, fmt))
    if rate is not None and rate != fmt.rate:
        samples = resample(samples, fmt.rate, rate)
    return WavAudio(np.ascontiguousarray(samples, dtype=np.int16), rate or fmt.rate, fmt, warnings)


class WavWriter:
    """Writes int16 mono samples to a 16-bit mono WAV file as they come; `close()` finishes the header."""

    def __init__(self, path: str | Path, rate: int) -> None:
        self.path = Path(path)
        self.rate = rate
        self.frames = 0
        try:
            self._raw = open(self.path, "wb")  # noqa: SIM115 - closed in close()
        except OSError as error:
            raise WavError(f"cannot write {self.path}: {error.strerror or error}") from None
        self._file = wave.open(self._raw, "wb")
        self._file.setnchannels(1)
        self._file.setsampwidth(2)
        self._file.setframerate(rate)

    def write(self, samples: np.ndarray) -> None:
        if samples.size:
            self._file.writeframes(np.asarray(samples, dtype="<i2").tobytes())
            self.frames += samples.size

    def close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            finally:
                self._raw.close()
                self._file = None  # type: ignore[assignment]

    @property
    def duration(self) -> float:
        return self.frames / self.rate


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> None:
    """Write int16 mono samples as a 16-bit mono WAV file."""
    writer = WavWriter(path, rate)
    try:
        writer.write(samples)
    finally:
        writer.close()
