"""Speech for the audio tests: espeak-ng phrases with known boundaries, and synthesized stand-ins.

Signals are built here, from numpy and espeak-ng, never from committed files. The truth of each
test signal is the sample positions where its pieces were concatenated.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from tui_chat.audio.synth import speech_like
from tui_chat.audio.wav import read_wav

RATE = 16000
PHRASES = ("The quick brown fox jumps over the lazy dog.", "Please tell me the weather for tomorrow morning.")


@dataclass(frozen=True)
class Spoken:
    """A test signal and the true (start, end) seconds of each stretch of speech in it."""

    samples: np.ndarray
    rate: int
    truth: list[tuple[float, float]]

    @property
    def duration(self) -> float:
        return self.samples.size / self.rate


def silence(seconds: float, rate: int = RATE) -> np.ndarray:
    return np.zeros(int(round(seconds * rate)), dtype=np.int16)


def trim(samples: np.ndarray, threshold: int = 64) -> np.ndarray:
    """The samples from the first to the last one louder than `threshold` (espeak pads with silence)."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    return samples[loud[0] : loud[-1] + 1]


def concatenate(pieces: list[tuple[str, np.ndarray]], rate: int = RATE) -> Spoken:
    """Join ("speech" | "gap", samples) pieces; the speech pieces' positions are the truth."""
    truth = []
    position = 0
    for kind, samples in pieces:
        if kind == "speech":
            truth.append((position / rate, (position + samples.size) / rate))
        position += samples.size
    return Spoken(np.concatenate([s for _, s in pieces]).astype(np.int16), rate, truth)


ESPEAK = shutil.which("espeak-ng")


@pytest.fixture(scope="session")
def espeak_phrases(tmp_path_factory: pytest.TempPathFactory) -> list[np.ndarray]:
    """The PHRASES spoken by espeak-ng at 16 kHz, trimmed of espeak's own leading and trailing silence."""
    if ESPEAK is None:
        pytest.skip("espeak-ng is not installed (apt install espeak-ng): no real speech to test with")
    folder = tmp_path_factory.mktemp("speech")
    phrases = []
    for index, text in enumerate(PHRASES):
        path = folder / f"phrase{index}.wav"
        subprocess.run([ESPEAK, "-w", str(path), text], check=True, capture_output=True, timeout=60)
        phrases.append(trim(read_wav(path, RATE).samples))
    return phrases


@pytest.fixture(scope="session")
def two_phrases(espeak_phrases: list[np.ndarray]) -> Spoken:
    """0.5 s silence, phrase 1, 1.2 s silence, phrase 2, 1.5 s silence."""
    first, second = espeak_phrases
    return concatenate(
        [("gap", silence(0.5)), ("speech", first), ("gap", silence(1.2)), ("speech", second), ("gap", silence(1.5))]
    )


@pytest.fixture(scope="session")
def synth_two_phrases() -> Spoken:
    """Like `two_phrases`, with the demo's synthesized voice (no espeak needed)."""
    first = trim(speech_like("Hello there, how are you today?", RATE))
    second = trim(speech_like("Tell me a story about the sea.", RATE))
    return concatenate(
        [("gap", silence(0.5)), ("speech", first), ("gap", silence(1.2)), ("speech", second), ("gap", silence(1.5))]
    )


def write_file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
