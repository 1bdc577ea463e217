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


async def test_a_refused_session_with_json_says_so_on_stderr_too_and_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Like `ask --json`: the JSON line for the program, one clean line for the person, exit 1."""
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-wrong")
    speech = tmp_path / "turn.wav"
    write_wav(speech, np.zeros(16000, np.int16), 16000)
    async with FakeGeminiLive() as server:  # closes with 1007 "API key not valid..."
        argv = ["voice", "--provider", "gemini-live", "--base-url", server.url, "--audio-in", str(speech), "--fast", "--json"]
        code = await asyncio.to_thread(main, argv)
    out, err = capsys.readouterr()
    assert code == 1
    [event] = [json.loads(line) for line in out.splitlines()]
    assert event["type"] == "error" and event["fatal"] is True and "API key not valid" in event["message"]
    [line] = err.splitlines()
    assert line.startswith("tui-chat: error: ") and "API key not valid" in line and "\x1b" not in line


async def test_a_session_closed_by_the_service_midway_with_json_says_so_on_stderr_too_and_fails(
    gemini_server: FakeGeminiLive, tmp_path: Path
) -> None:
    """The service closes the WebSocket with 1008 while the input is still being read."""
    import io

    from tests.realtime.conftest import settings_for
    from tui_chat.voice.headless import run_voice

    speech = tmp_path / "long.wav"
    write_wav(speech, np.zeros(16000 * 5, np.int16), 16000)
    reading = asyncio.Event()
    never = asyncio.Event()

    async def held_sleep(seconds: float) -> None:  # the file's pacing: the input stops after its first frame
        reading.set()
        await never.wait()

    out, err = io.StringIO(), io.StringIO()
    run = asyncio.ensure_future(run_voice(
        "gemini-live", settings=settings_for(gemini_server), audio_in=speech, json_out=True, play=False,
        out=out, err=err, clock=lambda: 0.0, sleep=held_sleep,
    ))
    await reading.wait()
    await gemini_server.wait_for(lambda: bool(gemini_server.conns))
    await gemini_server.conns[0].close(1008, "Policy violation: \x1b]52;c;ZXZpbA==\x07 bye")
    code = await run
    assert code == 1
    fatal = [e for e in map(json.loads, out.getvalue().splitlines()) if e.get("fatal")]
    assert len(fatal) == 1 and "Policy violation" in fatal[0]["message"]
    [line] = [x for x in err.getvalue().splitlines() if x.startswith("tui-chat: error: ")]
    assert "Policy violation" in line and "\x1b" not in line and "\x07" not in line
