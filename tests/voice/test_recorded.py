"""Voice turns are saved in the history as they happen (issue 14, point 1), by `tui-chat voice`:
each transcript and reply a message marked spoken, with its audio times, a cut reply with its
status and the words heard, the speech that cut it marked a barge-in. Real SQLite files in tmp."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from tests.audio.conftest import Spoken
from tests.voice.test_headless import lines, voice
from tui_chat.chunks import ReplyStatus, Role
from tui_chat.store.database import default_path
from tui_chat.store.history import open_store
from tui_chat.store.reads import list_chats, load_chat
from tui_chat.store.recorder import ChatSettings, Recorder
from tui_chat.store.resume import history_messages
from tui_chat.voice.arguments import add_voice_arguments
from tui_chat.voice.headless import run_voice_from_args


async def test_a_voice_session_is_saved_turn_by_turn_marked_spoken(tmp_path: Path, speech_file: Path, synth_two_phrases: Spoken) -> None:
    """Two turns with the demo; the second is spoken over the first reply, which is cut."""
    store = open_store(tmp_path / "chats.db")
    recorder = Recorder(store, lambda: ChatSettings(provider="demo"))
    code, out, _err = await voice("demo", audio_in=speech_file, fast=True, json_out=True, recorder=recorder)
    recorder.close()
    assert code == 0
    printed = lines(out)
    ended = {e["reply"]: e for e in printed if e["type"] == "reply_ended"}
    assert ended[1]["status"] == "interrupted" and ended[2]["status"] == "complete"
    heard = [e["text"] for e in printed if e["type"] == "transcript" and e["role"] == "user"]

    reopened = open_store(tmp_path / "chats.db")  # the file as the next run finds it
    [chat] = reopened.run(list_chats, None).result()
    record = reopened.run(load_chat, chat.id).result()
    reopened.close()
    said = [(m.role, m.text, m.status, m.provider) for m in record.messages]
    assert said == [
        (Role.USER, heard[0], ReplyStatus.COMPLETE, "demo"),
        (Role.ASSISTANT, ended[1]["text"], ReplyStatus.INTERRUPTED, "demo"),
        (Role.USER, heard[1], ReplyStatus.COMPLETE, "demo"),
        (Role.ASSISTANT, ended[2]["text"], ReplyStatus.COMPLETE, "demo"),
    ]
    assert chat.title == heard[0][:60] and record.messages[1].model == "demo-voice-1"
    # The cut reply keeps the words heard: a strict prefix of all that came.
    assert ended[1]["text"] and ended[1]["full_text"].startswith(ended[1]["text"]) and ended[1]["text"] != ended[1]["full_text"]
    # Every message is marked spoken, where it sat in the audio; the second turn cut the first reply.
    voices = [m.voice for m in record.messages]
    assert all(v is not None for v in voices)
    (start1, end1), (start2, end2) = synth_two_phrases.truth
    assert voices[0].started_ms == pytest.approx(start1 * 1000, abs=100) and voices[0].ended_ms == pytest.approx(end1 * 1000, abs=100)
    assert voices[2].started_ms == pytest.approx(start2 * 1000, abs=100) and voices[2].ended_ms == pytest.approx(end2 * 1000, abs=100)
    assert [v.barge_in for v in voices] == [False, False, True, False]
    assert voices[0].ended_ms <= voices[1].started_ms <= voices[1].ended_ms <= voices[3].started_ms <= voices[3].ended_ms
    # Reopened, the model is given the heard words of the cut reply.
    assert [(m.role, m.content, m.status) for m in history_messages(record)][1] == (Role.ASSISTANT, ended[1]["text"], ReplyStatus.INTERRUPTED)


def voice_args(*flags: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_voice_arguments(parser)
    parser.add_argument("--no-history", action="store_true")
    return parser.parse_args(list(flags))


async def test_the_voice_command_saves_to_the_history_unless_it_is_off(speech_file: Path) -> None:
    """`tui-chat voice` saves in the user data folder; `--no-history` or `[history] enabled = false`
    (the `history` the command passes) save nothing."""
    args = ["--audio-in", str(speech_file), "--fast", "--json"]
    assert await run_voice_from_args(voice_args(*args, "--no-history"), "demo") == 0
    assert await run_voice_from_args(voice_args(*args), "demo", history=False) == 0
    assert not default_path().exists()
    assert await run_voice_from_args(voice_args(*args), "demo") == 0
    store = open_store()
    [chat] = store.run(list_chats, None).result()
    record = store.run(load_chat, chat.id).result()
    store.close()
    assert [m.role for m in record.messages] == [Role.USER, Role.ASSISTANT] * 2 and chat.provider == "demo"
    assert all(m.voice is not None for m in record.messages)
