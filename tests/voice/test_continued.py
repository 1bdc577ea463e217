"""`tui-chat voice --continue` / `-c` / `--chat ID` go on with a saved chat, as `ask -c` does:
the realtime service is given the chat's text and earlier voice turns before any audio, the new
spoken turns join that chat, `--no-history` and `[history] enabled = false` save nothing, and an
unknown id is the one-line error `ask --chat` gives. Through the real command line, with the
OpenAI Realtime and Gemini Live loopback fakes, real PCM and a real SQLite file in tmp."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.fakes.realtime_gemini import FakeGeminiLive
from tests.fakes.realtime_openai import FakeOpenAIRealtime
from tui_chat.audio.synth import speech_like
from tui_chat.audio.wav import write_wav
from tui_chat.cli import main
from tui_chat.providers.demo import compose_reply

ASK = ["ask", "--provider", "demo", "--speed", "0"]


@pytest.fixture(autouse=True)
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")


def spoken_turn(folder: Path, rate: int) -> Path:
    """One spoken phrase between silences, at the service's input rate."""
    path = folder / f"turn-{rate}.wav"
    silence = np.zeros(rate // 2, np.int16)
    write_wav(path, np.concatenate((silence, speech_like("Hello again", rate), silence, silence)), rate)
    return path


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """The real entry point, on a thread: it runs its own event loop; the fakes run on this one."""
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def saved(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """Every saved chat, as `history show --json` exports it."""
    code, out, err = await run(capsys, "history", "list", "--json")
    assert code == 0, err
    chats = []
    for chat in json.loads(out):
        code, out, err = await run(capsys, "history", "show", chat["id"], "--json")
        assert code == 0, err
        chats.append(json.loads(out))
    return chats


def said(chat: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(role, text, spoken) of each message of an exported chat."""
    return [(m["role"], m["text"], m["voice"] is not None) for m in chat["messages"]]


def replies(out: str) -> list[dict[str, Any]]:
    return [e for e in map(json.loads, out.splitlines()) if e["type"] == "reply_ended"]


async def test_voice_goes_on_with_a_saved_chat_and_saves_into_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = await run(capsys, *ASK, "My name is Ada.")
    assert code == 0, err
    [chat] = await saved(capsys)
    text_turns = [("user", "My name is Ada."), ("assistant", compose_reply("My name is Ada.", 1))]
    assert [(role, text) for role, text, _ in said(chat)] == text_turns

    # -c with OpenAI Realtime: the service is given the text turns before any audio.
    async with FakeOpenAIRealtime() as openai:
        code, out, err = await run(
            capsys, "voice", "--provider", "openai-realtime", "--base-url", openai.url,
            "--audio-in", str(spoken_turn(tmp_path, 24000)), "--fast", "--json", "-c",
        )  # fmt: skip
        conversation = openai.conns[0].state["conversation"]
        kinds = [m["type"] for m in openai.conns[0].received]
    assert code == 0, err
    assert [r["status"] for r in replies(out)] == ["complete"]
    heard = conversation[2][1]
    assert heard and conversation == [*text_turns, ("user", heard), ("assistant", "Hello from the fake model.")]
    assert kinds[1:3] == ["conversation.item.create"] * 2 and kinds[3] == "input_audio_buffer.append"
    [chat] = await saved(capsys)  # the same chat, not a new one
    first_voice = [("user", heard, True), ("assistant", "Hello from the fake model.", True)]
    assert said(chat) == [(role, text, False) for role, text in text_turns] + first_voice
    assert chat["chat"]["provider"] == "demo"  # the chat keeps its own settings for `ask -c`

    # --chat ID with Gemini Live: given the text turns and the earlier voice turns.
    async with FakeGeminiLive() as gemini:
        code, out, err = await run(
            capsys, "voice", "--provider", "gemini-live", "--base-url", gemini.url,
            "--audio-in", str(spoken_turn(tmp_path, 16000)), "--fast", "--json", "--chat", chat["chat"]["id"][:6],
        )  # fmt: skip
        history = gemini.conns[0].state["history"]
    assert code == 0, err
    assert [r["text"] for r in replies(out)] == ["Turn 3 of this conversation."]  # two user turns before this one
    spoken_before = [f"{'model' if role == 'assistant' else role}: {text}" for role, text in conversation]
    assert history[:4] == spoken_before
    [chat] = await saved(capsys)
    gemini_heard = history[4].removeprefix("user: ")
    assert said(chat)[4:] == [("user", gemini_heard, True), ("assistant", "Turn 3 of this conversation.", True)]
    assert len(chat["messages"]) == 6

    # `ask -c` after voice goes on with the whole chat.
    code, out, err = await run(capsys, *ASK, "-c", "What is my name?")
    assert code == 0, err
    assert out == compose_reply("What is my name?", 4)


async def test_continuing_without_history_reads_the_chat_but_saves_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    await run(capsys, *ASK, "Remember the number 7.")
    [before] = await saved(capsys)
    off = tmp_path / "config.toml"
    off.write_text("[history]\nenabled = false\n")
    for unsaved in (["--no-history"], ["--config", str(off)]):
        async with FakeGeminiLive() as gemini:
            code, out, err = await run(
                capsys, "voice", "--provider", "gemini-live", "--base-url", gemini.url,
                "--audio-in", str(spoken_turn(tmp_path, 16000)), "--fast", "--json", "--continue", *unsaved,
            )  # fmt: skip
            history = gemini.conns[0].state["history"]
        assert code == 0, err
        assert history[0] == "user: Remember the number 7."
        assert [r["text"] for r in replies(out)] == ["Turn 2 of this conversation."]
        assert await saved(capsys) == [before]


@pytest.mark.parametrize("given", [["--chat", "feedbeef"], ["-c"]])
async def test_an_unknown_chat_is_the_one_line_error_ask_gives(
    given: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if given == ["--chat", "feedbeef"]:
        await run(capsys, *ASK, "a saved chat, not that one")
    expected = await run(capsys, *ASK, *given, "hello")
    assert expected[0] == 1 and expected[2].startswith("tui-chat: error: ")
    async with FakeOpenAIRealtime() as openai:
        code, out, err = await run(
            capsys, "voice", "--provider", "openai-realtime", "--base-url", openai.url,
            "--audio-in", str(spoken_turn(tmp_path, 24000)), "--fast", "--json", *given,
        )  # fmt: skip
        assert openai.conns == []  # refused before any connection
    assert (code, out, err) == expected
    assert "Traceback" not in err and err.count("\n") == 1
