"""WAV input in every common format becomes 16-bit mono at the rate wanted; bad files say what is wrong."""

from __future__ import annotations

import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from tui_chat.audio.errors import WavError
from tui_chat.audio.levels import rms_dbfs
from tui_chat.audio.wav import WavWriter, read_wav, write_wav


def riff(fmt: bytes, data: bytes, *, data_size: int | None = None, extra_chunks: bytes = b"") -> bytes:
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra_chunks
    body += b"data" + struct.pack("<I", len(data) if data_size is None else data_size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def fmt_chunk(tag: int, channels: int, rate: int, bits: int) -> bytes:
    align = channels * bits // 8
    return struct.pack("<HHIIHH", tag, channels, rate, rate * align, align, bits)


def extensible_fmt(sub_tag: int, channels: int, rate: int, bits: int) -> bytes:
    base = fmt_chunk(0xFFFE, channels, rate, bits)
    guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    return base + struct.pack("<HHI", 22, bits, 0x4 if channels == 1 else 0x3) + struct.pack("<H", sub_tag) + guid_tail


def sine(rate: int, seconds: float = 0.5, freq: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


def expect_sine(audio, rate: int, seconds: float = 0.5, amplitude: float = 0.5) -> None:  # type: ignore[no-untyped-def]
    assert audio.rate == rate
    assert audio.samples.dtype == np.int16
    assert abs(audio.samples.size - rate * seconds) <= 2
    # A sine of amplitude 0.5 has an RMS of 0.5/sqrt(2): -9.03 dBFS.
    expected = 20 * np.log10(amplitude / np.sqrt(2))
    assert rms_dbfs(audio.samples[100:-100]) == pytest.approx(expected, abs=0.2)


def test_16_bit_mono_at_the_same_rate_is_read_as_is(tmp_path: Path) -> None:
    samples = (sine(16000) * 32767).astype(np.int16)
    path = tmp_path / "a.wav"
    write_wav(path, samples, 16000)
    audio = read_wav(path, 16000)
    assert np.array_equal(audio.samples, samples)
    assert audio.format.describe() == "16-bit signed, mono, 16000 Hz"
    assert audio.warnings == []


def test_8_bit_unsigned(tmp_path: Path) -> None:
    data = np.clip(np.rint(sine(16000) * 127 + 128), 0, 255).astype(np.uint8).tobytes()
    path = tmp_path / "u8.wav"
    path.write_bytes(riff(fmt_chunk(1, 1, 16000, 8), data))
    audio = read_wav(path, 16000)
    assert audio.format.describe() == "8-bit unsigned, mono, 16000 Hz"
    expect_sine(audio, 16000)
    assert abs(int(audio.samples.mean())) < 300  # centred: 128 is zero


def test_stereo_is_mixed_down(tmp_path: Path) -> None:
    left = (sine(16000) * 32767).astype(np.int16)
    right = left.copy()
    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(16000)
        out.writeframes(np.column_stack((left, right)).astype("<i2").tobytes())
    audio = read_wav(path, 16000)
    assert audio.format.channels == 2
    expect_sine(audio, 16000)


def test_stereo_with_one_silent_side_is_half_as_loud(tmp_path: Path) -> None:
    left = (sine(16000) * 32767).astype(np.int16)
    path = tmp_path / "stereo.wav"
    path.write_bytes(riff(fmt_chunk(1, 2, 16000, 16), np.column_stack((left, np.zeros_like(left))).astype("<i2").tobytes()))
    expect_sine(read_wav(path, 16000), 16000, amplitude=0.25)


def test_44_1_khz_is_resampled(tmp_path: Path) -> None:
    samples = (sine(44100) * 32767).astype(np.int16)
    path = tmp_path / "cd.wav"
    write_wav(path, samples, 44100)
    audio = read_wav(path, 16000)
    expect_sine(audio, 16000)
    # The frequency survives the conversion: the spectrum peaks at 440 Hz.
    spectrum = np.abs(np.fft.rfft(audio.samples.astype(float)))
    assert np.fft.rfftfreq(audio.samples.size, 1 / 16000)[spectrum.argmax()] == pytest.approx(440, abs=4)


def test_rate_is_kept_when_none_is_asked(tmp_path: Path) -> None:
    path = tmp_path / "cd.wav"
    write_wav(path, (sine(44100) * 32767).astype(np.int16), 44100)
    assert read_wav(path).rate == 44100


@pytest.mark.parametrize(
    ("label", "fmt", "encode"),
    [
        ("24-bit", fmt_chunk(1, 1, 48000, 24), lambda x: b"".join(int(v).to_bytes(3, "little", signed=True) for v in np.rint(x * 8388607))),
        ("32-bit", fmt_chunk(1, 1, 48000, 32), lambda x: np.rint(x * 2147483647).astype("<i4").tobytes()),
        ("float32", fmt_chunk(3, 1, 48000, 32), lambda x: x.astype("<f4").tobytes()),
        ("float64", fmt_chunk(3, 1, 48000, 64), lambda x: x.astype("<f8").tobytes()),
        ("extensible 24-bit", extensible_fmt(1, 1, 48000, 24), lambda x: b"".join(int(v).to_bytes(3, "little", signed=True) for v in np.rint(x * 8388607))),
        ("extensible float", extensible_fmt(3, 1, 48000, 32), lambda x: x.astype("<f4").tobytes()),
    ],
)
def test_wide_and_float_formats(tmp_path: Path, label: str, fmt: bytes, encode) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "wide.wav"
    path.write_bytes(riff(fmt, encode(sine(48000, 0.3)), extra_chunks=b"LIST" + struct.pack("<I", 3) + b"abc\x00"))
    expect_sine(read_wav(path, 16000), 16000, seconds=0.3)


def test_not_a_wav_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.wav"
    path.write_text("these are my notes, not audio")
    with pytest.raises(WavError) as caught:
        read_wav(path, 16000)
    assert "notes.wav is not a WAV file" in str(caught.value)
    assert "RIFF" in str(caught.value)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(WavError, match="is not a WAV file"):
        read_wav(path, 16000)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WavError, match="cannot read .*missing.wav"):
        read_wav(tmp_path / "missing.wav", 16000)


def test_truncated_data_is_read_as_far_as_it_goes_with_a_warning(tmp_path: Path) -> None:
    samples = (sine(16000, 1.0) * 32767).astype(np.int16)
    whole = riff(fmt_chunk(1, 1, 16000, 16), samples.astype("<i2").tobytes())
    path = tmp_path / "cut.wav"
    path.write_bytes(whole[: len(whole) // 2 + 1])  # cut in the middle of a sample, too
    audio = read_wav(path, 16000)
    assert 0.45 < audio.duration < 0.5
    assert np.array_equal(audio.samples, samples[: audio.samples.size])
    assert len(audio.warnings) == 1 and "truncated" in audio.warnings[0] and "cut.wav" in audio.warnings[0]


def test_truncated_in_the_header(tmp_path: Path) -> None:
    whole = riff(fmt_chunk(1, 1, 16000, 16), b"\x00\x00" * 100)
    path = tmp_path / "head.wav"
    path.write_bytes(whole[:30])
    with pytest.raises(WavError, match="head.wav: the file ends inside its fmt chunk"):
        read_wav(path, 16000)
    path.write_bytes(whole[:36])
    with pytest.raises(WavError, match="head.wav: no data chunk"):
        read_wav(path, 16000)


def test_compressed_wav_says_what_it_is_and_how_to_convert(tmp_path: Path) -> None:
    path = tmp_path / "law.wav"
    path.write_bytes(riff(fmt_chunk(7, 1, 8000, 8), b"\x00" * 100))
    with pytest.raises(WavError) as caught:
        read_wav(path, 16000)
    assert "mu-law" in str(caught.value) and "sox" in caught.value.hint


def test_zero_channels_or_rate(tmp_path: Path) -> None:
    path = tmp_path / "zero.wav"
    path.write_bytes(riff(struct.pack("<HHIIHH", 1, 0, 16000, 0, 0, 16), b""))
    with pytest.raises(WavError, match="0 channels"):
        read_wav(path)


def test_writer_writes_as_it_goes_and_finishes_the_header(tmp_path: Path) -> None:
    path = tmp_path / "out.wav"
    writer = WavWriter(path, 24000)
    for _ in range(3):
        writer.write(np.full(2400, 1000, dtype=np.int16))
    writer.close()
    writer.close()  # twice is harmless
    audio = read_wav(path)
    assert audio.rate == 24000 and audio.samples.size == 7200 and writer.duration == pytest.approx(0.3)


def test_writer_to_an_unwritable_place(tmp_path: Path) -> None:
    with pytest.raises(WavError, match="cannot write"):
        WavWriter(tmp_path / "no" / "such" / "dir.wav", 16000)
