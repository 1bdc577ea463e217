"""The voice tests share the audio tests' synthesized speech and the realtime tests' fake servers."""

from tests.audio.conftest import espeak_phrases, synth_two_phrases, two_phrases  # noqa: F401 - fixtures, made visible to tests/voice
from tests.realtime.conftest import gemini_server, openai_server, sleeps  # noqa: F401
