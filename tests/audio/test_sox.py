"""WAV files written by sox, a tool people really record and convert with, as input to our reader.

sox makes the formats a person is likely to hand `tui-chat voice --audio-in`: CD-rate stereo at
8 bits (unsigned) and 24 bits (which sox writes with a WAVE_FORMAT_EXTENSIBLE header), and speech
converted to them. Each must come out as 16-bit mono at the rate asked for, with its content intact.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tui_chat.voice.headless import run_voice
from tui_chat.audio.levels import rms_dbfs
from tui_chat.audio.wav import read_wav

from .conftest import ESPEAK, PHRASES

SOX = shutil.which("sox")
pytestmark = pytest.mark.skipif(SOX is None, reason="sox is not installed (apt install sox): no sox-made files to read")


def sox(*args: str | Path) -> None:
    assert SOX is not None
    subprocess.run([SOX, *map(str, args)], check=True, capture_output=True, timeout=60)


def peak_frequencies(samples: np.ndarray, rate: int, count: int) -> list[float]:
    """The `count` strongest frequencies of `samples`, rounded to 1 Hz, lowest first."""
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(samples.size)))
    freqs = np.fft.rfftfreq(samples.size, 1 / rate)
    strongest: list[float] = []
    for index in np.argsort(spectrum)[::-1]:
        if all(abs(freqs[index] - f) > 20 for f in strongest):
            strongest.append(round(float(freqs[index])))
        if len(strongest) == count:
            break
    return sorted(strongest)


@pytest.mark.parametrize(
    ("bits", "encoding", "described"),
    [
        ("8", "unsigned-integer", "8-bit unsigned, stereo, 44100 Hz"),
        ("16", "signed-integer", "16-bit signed, stereo, 44100 Hz"),
        ("24", "signed-integer", "24-bit signed, stereo, 44100 Hz"),
        ("32", "floating-point", "32-bit float, stereo, 44100 Hz"),
    ],
)
def test_a_cd_rate_stereo_tone_made_by_sox(tmp_path: Path, bits: str, encoding: str, described: str) -> None:
    """Left 440 Hz, right 660 Hz, each at half scale: mixed down, both are there at a quarter."""
    path = tmp_path / f"tone{bits}.wav"
    sox("-n", "-r", "44100", "-c", "2", "-b", bits, "-e", encoding, path, "synth", "1.0", "sine", "440", "sine", "660", "vol", "0.5")
    audio = read_wav(path, 16000)
    assert audio.format.describe() == described and audio.warnings == []
    assert audio.rate == 16000 and audio.samples.dtype == np.int16 and abs(audio.samples.size - 16000) <= 2
    assert peak_frequencies(audio.samples, 16000, 2) == [440, 660]
    # Two sines of amplitude 0.25: an RMS of 0.25, -12.0 dBFS (8 bits adds its quantisation noise).
    assert rms_dbfs(audio.samples[200:-200]) == pytest.approx(-12.04, abs=0.3 if bits == "8" else 0.1)


async def test_speech_converted_by_sox_is_a_turn_for_the_voice_command(tmp_path: Path) -> None:
    """espeak-ng's speech, padded with silence and made 44.1 kHz stereo 24-bit by sox, as a
    recording from a sound editor would be: `tui-chat voice` hears one turn of it."""
    if ESPEAK is None:
        pytest.skip("espeak-ng is not installed (apt install espeak-ng): no real speech to convert")
    spoken = tmp_path / "spoken.wav"
    subprocess.run([ESPEAK, "-w", str(spoken), PHRASES[0]], check=True, capture_output=True, timeout=60)
    studio = tmp_path / "studio.wav"
    sox(spoken, "-r", "44100", "-c", "2", "-b", "24", studio, "pad", "0.5", "1.5")
    assert read_wav(studio).format.describe() == "24-bit signed, stereo, 44100 Hz"
    out, err = io.StringIO(), io.StringIO()
    code = await run_voice("demo", audio_in=studio, fast=True, json_out=True, out=out, err=err)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 0, err.getvalue()
    [turn] = [e for e in events if e["type"] == "turn_ended"]
    speech_s = read_wav(spoken).duration
    assert turn["start"] == pytest.approx(0.5, abs=0.15) and turn["duration"] == pytest.approx(speech_s, abs=0.4)
    assert [e["status"] for e in events if e["type"] == "reply_ended"] == ["complete"]
