"""`tui-chat voice --provider openai-realtime|gemini-live` through the real command line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from tests.fakes.realtime_gemini import FakeGeminiLive
from tests.fakes.realtime_openai import FakeOpenAIRealtime
from tui_chat.audio.wav import write_wav
from tui_chat.cli import main
from tui_chat.packs import find_pack, load_pack

from tests.voice.test_voice_path import speech_like


@pytest.mark.parametrize(
    ("provider", "server_type", "rate", "key_env"),
    [
        ("openai-realtime", FakeOpenAIRealtime, 24000, "OPENAI_API_KEY"),
        ("gemini-live", FakeGeminiLive, 16000, "GEMINI_API_KEY"),
    ],
)
async def test_voice_command_talks_to_the_service_with_the_voice_pack(
    provider: str, server_type: type, rate: int, key_env: str, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(key_env, "test-key")
    speech = tmp_path / "turn.wav"
    write_wav(speech, np.concatenate((np.zeros(rate // 2, np.int16), speech_like("Hello", rate), np.zeros(rate, np.int16))), rate)
    async with server_type() as server:
        argv = ["voice", "--provider", provider, "--base-url", server.url, "--audio-in", str(speech), "--fast", "--json"]
        code = await asyncio.to_thread(main, argv)  # the command runs its own event loop; the fake runs on this one
        first_messages = server.conns[0].received[:2]
    out, err = capsys.readouterr()
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["status"] for e in events if e["type"] == "reply_ended"] == ["complete"]
    # With no pack chosen, the voice command speaks with the voice-assistant pack's system prompt.
    system = load_pack(find_pack("voice-assistant")).render().system
    assert system and system in strings(first_messages)


def strings(value: object) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []
