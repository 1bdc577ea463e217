"""A spoken reply cut by barge-in ends with the words that were heard (issue 12, point 16), for
OpenAI Realtime and Gemini Live alike, through their fakes: in the `ReplyEnded` event, in
`tui-chat voice --json`, and in the history the model is given next.

The fakes send each piece of a reply's transcript just before its 0.1 s of audio, one word a
piece, so a cut after `played_s` seconds heard leaves the words whose audio had begun to play:
`floor(played_s / 0.1) + 1` of them (`realtime.heard.SpokenWords`).
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.fakes.realtime_gemini import FakeGeminiLive
from tests.fakes.realtime_gemini import Reply as GeminiReply
from tests.fakes.realtime_openai import FakeOpenAIRealtime
from tests.fakes.realtime_openai import Reply as OpenAIReply
from tests.realtime.conftest import settings_for
from tests.voice.test_voice_path import GatedSource
from tui_chat.audio.playback import ClockedSink
from tui_chat.audio.synth import speech_like
from tui_chat.audio.wav import write_wav
from tui_chat.chunks import Message, ReplyStatus, Role
from tui_chat.realtime import open_bidi
from tui_chat.realtime.base import BidiConfig
from tui_chat.voice.dispatch import dispatch
from tui_chat.voice.events import BargeIn, ReplyEnded
from tui_chat.voice.headless import run_voice
from tui_chat.voice.history import VoiceHistory
from tui_chat.voice.session import VoiceOptions, VoiceSession

OUT_RATE = 24000
WORDS = " ".join(f"word{n}" for n in range(1, 41))
"""A reply of 40 words, one to each 0.1 s piece of its 4 s of audio."""
PROVIDERS = {
    "openai-realtime": (FakeOpenAIRealtime, 24000, OpenAIReply),
    "gemini-live": (FakeGeminiLive, 16000, GeminiReply),
}


def quiet(seconds: float, rate: int) -> np.ndarray:
    return np.zeros(round(seconds * rate), np.int16)


def words_heard(played_s: float) -> str:
    """The words whose 0.1 s of audio had begun to play after `played_s` seconds."""
    return " ".join(WORDS.split()[: int(played_s / 0.1 + 1e-6) + 1])


def given_as_context(provider: str, server: Any) -> list[tuple[str, str]]:
    """What the fake's latest connection was given as the conversation so far: (role, text)."""
    conn = server.last
    if provider == "openai-realtime":
        return list(conn.state["conversation"])
    return [(role.replace("model", "assistant"), text) for role, text in (h.split(": ", 1) for h in conn.state["history"])]


async def cut_reply(provider: str, *, all_came: bool) -> tuple[list[Any], list[Message], Any]:
    """One turn answered by a 40-word reply, cut by the person speaking again: while its words
    still come (`all_came` False: the fake holds after 2 s of it), or once they all came and 1 s
    of its audio is still to be heard. Returns the events, the history the session left, and a
    second session opened on that history (the next request), still open."""
    server_type, rate, reply_type = PROVIDERS[provider]
    async with server_type() as server:
        return await _cut_reply(provider, server, rate, reply_type, all_came)


async def _cut_reply(provider: str, server: Any, rate: int, reply_type: Any, all_came: bool) -> tuple[list[Any], list[Message], Any]:
    server.replies.append(reply_type(text=WORDS, audio_s=4.0, hold_after_s=None if all_came else 2.0))
    sink = ClockedSink(OUT_RATE)
    voice_ref: list[VoiceSession] = []

    def ready() -> bool:
        if all_came:
            return voice_ref[0].reply_count == 1 and not voice_ref[0].replying and sink.pending_s >= 1.0
        return sink.pending_s >= 1.0

    source = GatedSource(
        np.concatenate((quiet(0.4, rate), speech_like("Please count to forty for me.", rate), quiet(0.8, rate))),
        np.concatenate((quiet(0.4, rate), speech_like("Wait, stop.", rate), quiet(1.5, rate))),
        ready,
    )
    source.rate, source.frame_samples = rate, rate // 50
    bidi = await open_bidi(provider, settings_for(server), config=BidiConfig(turn_detection="server"))
    voice = VoiceSession(bidi, source, sink, VoiceOptions(levels=False, interruption="immediate"))
    voice_ref.append(voice)
    history: list[Message] = []
    recorder = VoiceHistory(lambda message, spoken: history.append(message))
    events = []
    async for event in voice.run():
        events.append(event)
        dispatch(event, recorder)
    recorder.close("cancelled")
    following = await open_bidi(provider, settings_for(server), config=BidiConfig(turn_detection="server", history=tuple(history)))
    await server.wait_for(lambda: len(server.conns) == 2 and len(given_as_context(provider, server)) >= 3)
    await following.close()
    return events, history, server


@pytest.mark.parametrize("all_came", [False, True], ids=["while-its-words-come", "after-its-words-came"])
@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_a_cut_reply_ends_with_the_words_heard_and_the_next_request_gets_them(provider: str, all_came: bool) -> None:
    events, history, server = await cut_reply(provider, all_came=all_came)
    [barge] = [e for e in events if isinstance(e, BargeIn)]
    cut = next(e for e in events if isinstance(e, ReplyEnded) and e.reply == 1)
    assert cut.status == "interrupted" and 0.3 < cut.played_s < cut.audio_s - 0.5
    came = WORDS if all_came else " ".join(WORDS.split()[:20])  # held after 2 s: 20 of its words came
    assert cut.full_text == came
    # What was heard: a strict prefix of what came, ending on a whole word, by where playback stopped.
    assert cut.text == words_heard(cut.played_s)
    assert came.startswith(cut.text) and len(cut.text) < len(came) and came[len(cut.text)] == " "
    assert cut.played_s == pytest.approx(barge.played_s)
    # The conversation keeps the heard words, marked interrupted...
    [reply] = [m for m in history if m.role is Role.ASSISTANT and m.status is ReplyStatus.INTERRUPTED]
    assert reply.content == cut.text
    # ...and the next request (a session opened on that history) is given them, not the rest.
    context = given_as_context(provider, server)
    assert ("assistant", cut.text) in context
    assert not any(text == came for _role, text in context)


@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_voice_json_shows_the_words_heard_of_a_cut_reply(provider: str, tmp_path: Path) -> None:
    """`tui-chat voice --json` over a file: the person speaks again while the reply is held half
    way; the input waits (its clock is the test's) until the fake holds, as a live one would go on."""
    server_type, rate, reply_type = PROVIDERS[provider]
    first = np.concatenate((quiet(0.4, rate), speech_like("Please count to forty for me.", rate), quiet(0.8, rate)))
    second = np.concatenate((quiet(0.6, rate), speech_like("Wait, stop.", rate), quiet(1.5, rate)))
    path = tmp_path / "in.wav"
    write_wav(path, np.concatenate((first, second)), rate)
    async with server_type() as server:
        server.replies.append(reply_type(text=WORDS, audio_s=4.0, hold_after_s=2.0))
        now = [0.0]

        def clock() -> float:
            return now[0]

        async def sleep(seconds: float) -> None:
            if now[0] + seconds > first.size / rate + 1e-9:  # the second part waits for the reply to be held
                await server.wait_for(lambda: server.holds == 1)
            now[0] += seconds
            await asyncio.sleep(0)

        out, err = io.StringIO(), io.StringIO()
        code = await run_voice(provider, settings=settings_for(server), audio_in=path, play=False, json_out=True,
                               out=out, err=err, clock=clock, sleep=sleep)
    assert code == 0, out.getvalue() + err.getvalue()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    cut = next(line for line in lines if line["type"] == "reply_ended" and line["reply"] == 1)
    assert cut["status"] == "interrupted" and cut["full_text"] == " ".join(WORDS.split()[:20])
    assert cut["text"] == words_heard(cut["played_s"]) and 0 < len(cut["text"]) < len(cut["full_text"])
