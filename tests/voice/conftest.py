"""The voice tests share the audio tests' synthesized speech and the realtime tests' fake servers."""

from pathlib import Path

import pytest

from tests.audio.conftest import RATE, Spoken
from tests.audio.conftest import espeak_phrases, synth_two_phrases, two_phrases  # noqa: F401 - fixtures, made visible to tests/voice
from tests.realtime.conftest import gemini_server, openai_server, sleeps  # noqa: F401
from tui_chat.audio.wav import write_wav


@pytest.fixture
def speech_file(tmp_path: Path, synth_two_phrases: Spoken) -> Path:
    """Two phrases with the demo's synthesized voice, as a WAV file (`synth_two_phrases`)."""
    path = tmp_path / "in.wav"
    write_wav(path, synth_two_phrases.samples, RATE)
    return path
