"""`run_voice`, the headless voice runner behind `tui-chat voice`."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tui_chat.voice.arguments import add_voice_arguments
from tui_chat.voice.headless import options_from_args, run_devices, run_voice
from tui_chat.audio.pcm import resample
from tui_chat.audio.wav import read_wav
from tui_chat.providers.registry import ProviderSettings

from tests.audio.conftest import RATE, Spoken
from tests.audio.fake_sounddevice import FakeDevice, FakeSoundDevice


async def voice(*args: object, **kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_voice(*args, out=out, err=err, **kwargs)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


async def test_json_events_from_a_file(speech_file: Path, synth_two_phrases: Spoken, tmp_path: Path) -> None:
    code, out, err = await voice("demo", audio_in=speech_file, audio_out=tmp_path / "out.wav", fast=True, json_out=True)
    assert code == 0 and err == ""
    events = lines(out)
    kinds = [e["type"] for e in events]
    assert kinds.count("turn_started") == 2 and kinds.count("turn_ended") == 2
    assert kinds[-1] == "session_ended" and events[-1] == {"type": "session_ended", "at": pytest.approx(events[-1]["at"]), "turns": 2, "replies": 2, "error": None}
    ended = [e for e in events if e["type"] == "turn_ended"]
    for event, (start, end) in zip(ended, synth_two_phrases.truth):
        assert abs(event["start"] - start) <= 0.1 and abs(event["at"] - end) <= 0.1
        assert event["reason"] == "silence" and event["sent"] is True
        assert event["detected_at"] == pytest.approx(event["at"] + 0.8, abs=0.021)
    transcripts = [e for e in events if e["type"] == "transcript"]
    assert all(e["final"] for e in transcripts)
    assert [e["role"] for e in transcripts if e["role"] == "user"] == ["user", "user"]
    replies = [e for e in events if e["type"] == "reply_ended"]
    assert [r["status"] for r in replies] == ["interrupted", "complete"] and all(r["audio_s"] > 0 for r in replies)
    barge = [e for e in events if e["type"] == "barge_in"]
    assert len(barge) == 1 and barge[0]["strategy"] == "immediate" and barge[0]["reply"] == 1
    assert [e["type"] for e in events if e["type"] == "interrupted"] == ["interrupted"]
    assert "level" not in kinds and "audio" not in kinds and "done" not in kinds
    # The recording covers the input and then the rest of the last reply.
    recording = read_wav(tmp_path / "out.wav")
    assert recording.rate == 24000 and recording.duration > synth_two_phrases.duration


async def test_readable_lines(speech_file: Path) -> None:
    code, out, err = await voice("demo", audio_in=speech_file, fast=True, options=None)
    assert code == 0
    assert "you: speaking" in out and "you: turn of" in out and "(silence)" in out
    assert "assistant: I heard" in out
    assert "barge-in (immediate)" in out and "reply 1:" in out and "interrupted after" in out
    assert out.rstrip().splitlines()[-1].endswith("session ended: 2 turns, 2 replies")


async def test_paced_in_real_time_by_an_injected_clock(speech_file: Path, synth_two_phrases: Spoken) -> None:
    now = [100.0]
    slept: list[float] = []

    def clock() -> float:
        return now[0]

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds
        await asyncio.sleep(0)

    code, paced, _ = await voice("demo", audio_in=speech_file, json_out=True, play=False, clock=clock, sleep=sleep)
    _, fast, _ = await voice("demo", audio_in=speech_file, json_out=True, fast=True)
    assert code == 0
    assert now[0] - 100.0 == pytest.approx(synth_two_phrases.duration, abs=0.02)  # one frame of padding at most
    assert all(s == pytest.approx(0.02) for s in slept)
    assert paced == fast  # pacing changes when, not what


async def test_any_wav_format_goes_in(tmp_path: Path, synth_two_phrases: Spoken) -> None:
    cd = resample(synth_two_phrases.samples, RATE, 44100)
    stereo = np.column_stack((cd, cd)).astype("<i2").tobytes()
    import struct

    fmt = struct.pack("<HHIIHH", 1, 2, 44100, 44100 * 4, 4, 16)
    body = b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(stereo)) + stereo
    path = tmp_path / "cd.wav"
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    code, out, _ = await voice("demo", audio_in=path, fast=True, json_out=True)
    assert code == 0 and [e["type"] for e in lines(out)].count("turn_ended") == 2


async def test_a_truncated_file_warns_and_runs(tmp_path: Path, speech_file: Path) -> None:
    data = speech_file.read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) * 2 // 5])
    code, out, _ = await voice("demo", audio_in=cut, fast=True, json_out=True)
    events = lines(out)
    assert code == 0
    assert events[0]["type"] == "warning" and "truncated" in events[0]["message"]
    assert [e["type"] for e in events].count("turn_ended") == 1
    assert [e["reason"] for e in events if e["type"] == "turn_ended"] == ["input_end"]


async def test_not_a_wav_file(tmp_path: Path) -> None:
    path = tmp_path / "song.wav"
    path.write_bytes(b"ID3\x03\x00" + bytes(100))
    code, out, err = await voice("demo", audio_in=path, fast=True)
    assert code == 1 and out == ""
    assert err.startswith("tui-chat: error: ") and "song.wav is not a WAV file" in err
    code, out, _ = await voice("demo", audio_in=path, fast=True, json_out=True)
    assert code == 1 and lines(out)[0]["type"] == "error" and lines(out)[0]["fatal"] is True


async def test_fast_needs_a_file() -> None:
    code, _, err = await voice("demo", fast=True)
    assert code == 1 and "--fast needs --audio-in" in err


async def test_a_provider_without_voice(speech_file: Path) -> None:
    code, _, err = await voice("anthropic", audio_in=speech_file, fast=True)
    assert code == 1 and "no bidirectional (voice) sessions" in err and "voice works with: demo" in err


async def test_no_microphone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", FakeSoundDevice([FakeDevice("Speakers", outputs=2)]))
    code, out, err = await voice("demo", play=False)
    assert code == 1
    assert "no microphone (input device) found" in err and "--audio-in" in err


async def test_no_speaker(monkeypatch: pytest.MonkeyPatch, speech_file: Path) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", FakeSoundDevice([FakeDevice("Mic", inputs=1)]))
    code, _, err = await voice("demo", audio_in=speech_file)
    assert code == 1 and "no speaker (output device) found" in err and "--audio-out" in err


async def test_the_provider_failing_mid_session(speech_file: Path) -> None:
    settings = ProviderSettings(options={"fault": "disconnect"})
    code, out, err = await voice("demo", settings=settings, audio_in=speech_file, fast=True)
    assert code == 1 and "tui-chat: error: the demo voice connection dropped on purpose" in err


def test_command_line_options() -> None:
    parser = argparse.ArgumentParser()
    add_voice_arguments(parser)
    args = parser.parse_args(["--audio-in", "a.wav", "--fast", "--json", "--interruption", "deferred", "--vad-threshold", "9", "--vad-stop", "0.5", "--max-seconds", "10"])
    options = options_from_args(args)
    assert args.audio_in == Path("a.wav") and args.fast and args.json
    assert options.interruption == "deferred" and options.vad.threshold_db == 9 and options.vad.stop_s == 0.5
    assert options.max_input_s == 10 and options.levels is False
    with pytest.raises(SystemExit):
        parser.parse_args(["--interruption", "never"])


def test_devices_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", FakeSoundDevice([FakeDevice("Mic", inputs=1)]))
    out = io.StringIO()
    assert run_devices(out) == 0
    assert "Mic" in out.getvalue()


async def test_untrusted_text_reaches_the_terminal_without_control_sequences(tmp_path: Path) -> None:
    path = tmp_path / "evil\x1b[2J\u202e.wav"
    path.write_bytes(b"nope")
    _, _, err = await voice("demo", audio_in=path, fast=True)
    assert "\x1b" not in err and "\u202e" not in err and "is not a WAV file" in err


async def test_untrusted_transcripts_are_cleaned(speech_file: Path) -> None:
    settings = ProviderSettings(options={"reply": "hi \x1b]0;pwned\x07 there \u202egnp.exe"})
    code, out, _ = await voice("demo", settings=settings, audio_in=speech_file, fast=True)
    assert code == 0 and "assistant: hi ]0;pwned there gnp.exe" in out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
