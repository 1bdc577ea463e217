"""Speech-like sound from text, offline: the voice of the demo provider.

Not speech: each syllable of the text becomes a voiced sound (harmonics of a falling pitch,
shaped by the three formants of a vowel read from the letters) with a syllable-shaped amplitude
envelope and, where the syllable starts with a consonant, a short noise burst. Words and sentences
are separated by short and long pauses. The same text always gives the same samples.

It is loud, non-stationary and band-limited like speech, so a VAD treats it as speech: the tests
and the benchmark use it as a speaker where espeak-ng is not installed.
"""

from __future__ import annotations

import re
from typing import Iterator

import numpy as np

from .pcm import float_to_int16

VOWEL_FORMANTS: dict[str, tuple[float, float, float]] = {
    "a": (730.0, 1090.0, 2440.0),
    "e": (530.0, 1840.0, 2480.0),
    "i": (390.0, 1990.0, 2550.0),
    "o": (570.0, 840.0, 2410.0),
    "u": (440.0, 1020.0, 2240.0),
    "y": (300.0, 2100.0, 2700.0),
}
SYLLABLE_S = 0.17
_TABLE_SIZE = 2048
WORD_GAP_S = 0.06
SENTENCE_GAP_S = 0.32
_WORD = re.compile(r"[A-Za-z0-9']+|[.,;:!?]")
_SYLLABLE = re.compile(r"[^aeiouy]*[aeiouy]+|[^aeiouy]+$")


def _syllables(word: str) -> list[tuple[bool, str]]:
    """(starts with a consonant, vowel letter) for each syllable of `word`."""
    word = word.lower()
    if word.isdigit():
        word = "ti" * max(1, len(word))  # numbers: a syllable per digit
    out: list[tuple[bool, str]] = []
    for part in _SYLLABLE.findall(word) or [word]:
        vowel = next((c for c in part if c in VOWEL_FORMANTS), "e")
        out.append((part[0] not in VOWEL_FORMANTS, vowel))
    return out


def _syllable(rate: int, vowel: str, consonant: bool, f0_start: float, f0_end: float, seed: int) -> np.ndarray:
    n = int(SYLLABLE_S * rate)
    t = np.arange(n) / rate
    f0 = np.linspace(f0_start, f0_end, n)
    phase = 2.0 * np.pi * np.cumsum(f0) / rate
    formants = VOWEL_FORMANTS[vowel]
    harmonics = np.arange(1, int(3800.0 / max(f0_start, f0_end)) + 1)
    mean_f0 = (f0_start + f0_end) / 2.0
    freqs = harmonics * mean_f0
    gains = sum(
        (0.9**i) / (1.0 + ((freqs - f) / (60.0 + 0.06 * f)) ** 2) for i, f in enumerate(formants)
    ) / np.sqrt(harmonics)
    # One period of the voiced wave, then read at the gliding phase: the cost is one table, not
    # one sine per harmonic per sample.
    table_phase = np.linspace(0.0, 2.0 * np.pi, _TABLE_SIZE, endpoint=False)
    table = (gains[:, None] * np.sin(harmonics[:, None] * table_phase[None, :])).sum(axis=0)
    index = (phase * (_TABLE_SIZE / (2.0 * np.pi))).astype(np.int64) % _TABLE_SIZE
    voiced = table[index]
    # Envelope: 25 ms rise, a slow decay, 50 ms fall.
    envelope = np.ones(n)
    rise, fall = int(0.025 * rate), int(0.05 * rate)
    envelope[:rise] = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, rise))
    envelope[n - fall :] = 0.5 + 0.5 * np.cos(np.linspace(0, np.pi, fall))
    envelope *= 1.0 - 0.35 * t / SYLLABLE_S
    sound = voiced * envelope
    if consonant:
        burst_n = int(0.035 * rate)
        noise = np.random.default_rng(seed).standard_normal(burst_n)
        noise = np.diff(noise, prepend=0.0)  # tilt up: a fricative hiss
        burst = noise * np.hanning(burst_n) * 0.25 * np.abs(voiced).max()
        sound = np.concatenate((burst, sound))
    return sound


def speech_tokens(text: str) -> list[str]:
    """The words and punctuation marks `speech_pieces` makes a piece of audio for, in order."""
    return _WORD.findall(text)


def speech_pieces(text: str, rate: int = 24000, *, level_db: float = -16.0, pitch: float = 125.0) -> Iterator[tuple[str, np.ndarray]]:
    """(token, int16 audio) for each word or punctuation mark of `text`, in order, made as they are taken.

    Each syllable's RMS is `level_db` dBFS; a word's audio ends with the short pause after it.
    Producing the audio word by word lets a caller send it as it is made, without one long stall.
    """
    tokens = _WORD.findall(text) or ["hm"]
    words = [tok for tok in tokens if tok[0].isalnum()]
    total = max(1, sum(len(_syllables(w)) for w in words))
    gain = 10.0 ** (level_db / 20.0)
    index = 0
    for n, token in enumerate(tokens):
        if not token[0].isalnum():
            yield token, np.zeros(int((SENTENCE_GAP_S if token in ".!?" else WORD_GAP_S * 2) * rate), dtype=np.int16)
            continue
        parts = []
        for position, (consonant, vowel) in enumerate(_syllables(token)):
            # Declination over the utterance, with an accent on the first syllable of each word.
            base = pitch * (1.15 - 0.3 * index / total)
            accent = 1.08 if position == 0 else 1.0
            sound = _syllable(rate, vowel, consonant, base * accent, base * 0.94, seed=index * 7 + n)
            parts.append(sound * (gain / max(1e-9, float(np.sqrt(np.mean(sound**2))))))
            index += 1
        parts.append(np.zeros(int(WORD_GAP_S * rate)))
        yield token, float_to_int16(np.concatenate(parts))


def speech_like(text: str, rate: int = 24000, *, level_db: float = -16.0, pitch: float = 125.0) -> np.ndarray:
    """Int16 mono speech-like audio for `text` at `rate`, each syllable's RMS at `level_db` dBFS."""
    return np.concatenate([audio for _token, audio in speech_pieces(text, rate, level_db=level_db, pitch=pitch)])
