"""A chat recorded by `tui-chat voice` exported: the Markdown marks each spoken turn (where it sat
in the session's audio, the speech that cut in on a reply, the reply that was cut and kept only
the words heard), and the JSON carries the same in `voice` and brings it back on import.
The chat is recorded through the real voice path (the demo's synthesized speech, real SQLite)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.audio.conftest import Spoken
from tui_chat.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def clock(ms: int) -> str:
    """Milliseconds of audio as the Markdown writes them: minutes, seconds and tenths."""
    tenths = round(ms / 100)
    return f"{tenths // 600}:{tenths % 600 / 10:04.1f}"


def when(message: dict[str, Any]) -> str:
    voice = message["voice"]
    return f"spoken {clock(voice['started_ms'])}–{clock(voice['ended_ms'])} in the voice session"


async def test_a_recorded_voice_chat_exports_its_spoken_turns(
    speech_file: Path, synth_two_phrases: Spoken, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two spoken turns with the demo; the second is said over the first reply, which is cut."""
    code = await asyncio.to_thread(main, ["voice", "--audio-in", str(speech_file), "--fast", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert [e["status"] for e in events if e["type"] == "reply_ended"] == ["interrupted", "complete"]

    code, out, err = run(capsys, "history", "list", "--json")
    [chat] = json.loads(out)
    exported = tmp_path / "voice.json"
    assert run(capsys, "history", "export", chat["id"], "--format", "json", "-o", str(exported))[0] == 0
    messages = json.loads(exported.read_text())["messages"]
    assert [(m["role"], m["status"]) for m in messages] == [
        ("user", "complete"), ("assistant", "interrupted"), ("user", "complete"), ("assistant", "complete"),
    ]
    assert [m["voice"]["barge_in"] for m in messages] == [False, False, True, False]
    (start, end), _ = synth_two_phrases.truth
    assert messages[0]["voice"]["started_ms"] == pytest.approx(start * 1000, abs=100)
    assert messages[0]["voice"]["ended_ms"] == pytest.approx(end * 1000, abs=100)

    code, markdown, err = run(capsys, "history", "export", chat["id"][:8], "--format", "md")
    assert code == 0, err
    you, cut, over, reply = messages
    model = cut["model"]
    assert model == "demo-voice-1"
    title, about = markdown.split("\n\n")[:2]
    assert title == f"# {chat['title']}" and about.startswith("*demo · started ") and about.endswith(" · 4 messages, 4 spoken*")
    sections = markdown.split("\n## ")[1:]
    assert sections == [
        f"You (spoken)\n\n{you['text']}\n\n<sub>{when(you)}</sub>\n",
        (
            f"Assistant ({model}, spoken) — interrupted\n\n{cut['text']}\n\n"
            f"<sub>{when(cut)} · cut off: only the words heard are kept</sub>\n"
        ),
        f"You (spoken over the reply)\n\n{over['text']}\n\n<sub>{when(over)}</sub>\n",
        f"Assistant ({model}, spoken)\n\n{reply['text']}\n\n<sub>{when(reply)}</sub>\n",
    ]

    # The JSON brings the spoken turns back: deleted and imported, the chat exports the same.
    assert run(capsys, "history", "delete", chat["id"])[0] == 0
    assert run(capsys, "history", "import", str(exported))[0] == 0
    assert run(capsys, "history", "export", chat["id"], "--format", "md")[1] == markdown
