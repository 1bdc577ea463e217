"""Bidirectional sessions: opening, the demo voice provider, interruption, bad provider audio."""

from __future__ import annotations

import asyncio
import base64

import numpy as np
import pytest

from tui_chat.audio.levels import rms_dbfs
from tui_chat.audio.synth import speech_like
from tui_chat.chunks import AudioChunk, Done, ErrorChunk, Interrupted, Role, TextDelta, ToolCall, ToolCallChunk, TranscriptChunk
from tui_chat.errors import ProviderError, UnknownProviderError
from tui_chat.providers.registry import ProviderSettings
from tui_chat.realtime import bidi_provider_names, open_bidi
from tui_chat.realtime.base import BidiSession, SessionClosedError, decode_audio_base64

RATE = 16000


def demo_settings(**options: object) -> ProviderSettings:
    return ProviderSettings(options=dict(options))


async def reply_of(session: BidiSession) -> list:
    """The chunks of one reply, up to and including its Done, Interrupted or fatal end."""
    out = []
    async for chunk in session.output():
        out.append(chunk)
        if isinstance(chunk, (Done, Interrupted)):
            break
    return out


async def one_reply(session: BidiSession, iterator) -> list:  # type: ignore[no-untyped-def]
    out = []
    async for chunk in iterator:
        out.append(chunk)
        if isinstance(chunk, (Done, Interrupted)):
            return out
    return out


def audio_seconds(chunks: list) -> float:
    return sum(len(c.pcm) // 2 / c.rate for c in chunks if isinstance(c, AudioChunk))


async def test_open_bidi_with_a_provider_without_voice_names_those_that_have_it() -> None:
    with pytest.raises(ProviderError) as caught:
        await open_bidi("anthropic")
    assert "'anthropic' has no bidirectional (voice) sessions" in str(caught.value)
    assert "voice works with: demo" in caught.value.hint
    assert bidi_provider_names() == ["demo", "openai-realtime", "gemini-live"]


async def test_open_bidi_with_an_unknown_name_suggests() -> None:
    with pytest.raises(UnknownProviderError) as caught:
        await open_bidi("dmeo")
    assert "did you mean demo" in caught.value.hint


async def test_demo_answers_an_audio_turn_with_speech_and_says_what_it_heard() -> None:
    session = await open_bidi("demo")
    speech = speech_like("hello, can you hear me?", RATE)
    for first in range(0, speech.size, 320):
        await session.send_audio(speech[first : first + 320].tobytes(), RATE)
    await session.end_turn()
    chunks = await reply_of(session)
    await session.close()

    heard = [c for c in chunks if isinstance(c, TranscriptChunk) and c.role is Role.USER]
    said = [c for c in chunks if isinstance(c, TranscriptChunk) and c.role is Role.ASSISTANT and c.final]
    seconds = speech.size / RATE
    assert heard[0].text == f"({seconds:.1f} s of audio, {rms_dbfs(speech):.0f} dBFS)"
    assert said[0].text == f"I heard {seconds:.1f} seconds of audio at {rms_dbfs(speech):.0f} dBFS."
    deltas = "".join(c.text for c in chunks if isinstance(c, TranscriptChunk) and c.role is Role.ASSISTANT and not c.final)
    assert deltas == said[0].text
    assert isinstance(chunks[-1], Done)

    audio = np.concatenate([np.frombuffer(c.pcm, "<i2") for c in chunks if isinstance(c, AudioChunk)])
    assert {c.rate for c in chunks if isinstance(c, AudioChunk)} == {24000}
    assert 1.0 < audio.size / 24000 < 8.0
    # Spoken-style, not silence: loud, with syllable-like ups and downs of level.
    levels = [rms_dbfs(audio[i : i + 480]) for i in range(0, audio.size - 480, 480)]
    assert max(levels) > -25 and min(levels) < -60
    assert sum(1 for a, b in zip(levels, levels[1:]) if a < -40 <= b) >= 5  # syllable onsets


async def test_demo_answers_text() -> None:
    async with await open_bidi("demo") as session:
        await session.send_chunk(TextDelta("what a nice day"))
        chunks = await reply_of(session)
    said = [c.text for c in chunks if isinstance(c, TranscriptChunk) and c.final]
    assert said == ["You wrote 4 words. This is the offline voice demo."]
    assert audio_seconds(chunks) > 1.0
    assert not [c for c in chunks if isinstance(c, TranscriptChunk) and c.role is Role.USER]


async def test_send_chunk_takes_audio_and_refuses_other_chunks() -> None:
    async with await open_bidi("demo") as session:
        await session.send_chunk(AudioChunk(b"\x01\x00" * 1600, 16000))
        with pytest.raises(TypeError):
            await session.send_chunk(ToolCallChunk(ToolCall("1", "x", "{}")))
        with pytest.raises(ValueError, match="even number"):
            await session.send_audio(b"\x00\x00\x00", 16000)
        with pytest.raises(ValueError, match="positive"):
            await session.send_audio(b"\x00\x00", 0)
        await session.end_turn()
        chunks = await reply_of(session)
    assert chunks[0] == TranscriptChunk("(0.1 s of audio, -90 dBFS)", Role.USER, final=True)


async def test_interrupting_the_demo_stops_its_audio_and_emits_interrupted() -> None:
    session = await open_bidi("demo", demo_settings(hold_after_s=0.5))
    await session.send_text("tell me something long")
    output = session.output()
    before = []
    async for chunk in output:
        before.append(chunk)
        if audio_seconds(before) >= 0.5:
            break
    await session.interrupt(played=0.2)
    await session.send_text("again")
    after = []
    async for chunk in output:
        after.append(chunk)
        if audio_seconds(after) >= 0.5:  # the second reply is held too
            break
    await session.close()
    assert isinstance(after[0], Interrupted) and "spoke over" in after[0].reason
    # Nothing of the first reply follows the Interrupted: the next chunk starts the second reply.
    assert after[1] == TranscriptChunk("You", Role.ASSISTANT)
    assert not any(isinstance(c, (Done, Interrupted)) for c in after[1:])
    assert session.interruptions == 1  # type: ignore[attr-defined]
    assert [c async for c in output] == []  # closed: the output ends


async def test_interrupt_with_no_reply_in_progress_emits_nothing() -> None:
    async with await open_bidi("demo") as session:
        await session.send_text("hi")
        await reply_of(session)
        await session.interrupt()
        await session.send_text("hi")
        chunks = await reply_of(session)
    assert not any(isinstance(c, Interrupted) for c in chunks)


async def test_several_sessions_run_at_once_independently() -> None:
    sessions = [await open_bidi("demo") for _ in range(3)]
    lengths = (0.5, 1.0, 1.5)

    async def talk(session: BidiSession, seconds: float) -> list:
        await session.send_audio(np.full(int(seconds * RATE), 1000, np.int16).tobytes(), RATE)
        await session.end_turn()
        return await reply_of(session)

    replies = await asyncio.gather(*(talk(s, n) for s, n in zip(sessions, lengths)))
    await sessions[0].close()  # closing one leaves the others running
    await sessions[1].send_text("still there?")
    assert isinstance((await reply_of(sessions[1]))[-1], Done)
    for session in sessions[1:]:
        await session.close()
    for chunks, seconds in zip(replies, lengths):
        heard = next(c for c in chunks if isinstance(c, TranscriptChunk) and c.role is Role.USER)
        assert heard.text.startswith(f"({seconds:.1f} s of audio")


@pytest.mark.parametrize("fault", ["odd_pcm", "bad_base64"])
async def test_bad_audio_from_the_provider_is_an_error_and_the_session_goes_on(fault: str) -> None:
    session = await open_bidi("demo", demo_settings(fault=fault))
    await session.send_text("hello")
    chunks = await reply_of(session)
    errors = [c for c in chunks if isinstance(c, ErrorChunk)]
    assert len(errors) == 1
    assert ("odd number" in errors[0].message) if fault == "odd_pcm" else ("not valid base64" in errors[0].message)
    assert isinstance(chunks[-1], Done)
    assert all(len(c.pcm) % 2 == 0 for c in chunks if isinstance(c, AudioChunk))
    await session.send_text("and again")
    assert isinstance((await reply_of(session))[-1], Done)
    assert session.error is None
    await session.close()


async def test_a_dropped_connection_ends_the_session_with_its_error() -> None:
    session = await open_bidi("demo", demo_settings(fault="disconnect"))
    await session.send_text("hello")
    chunks = [c async for c in session.output()]  # ends by itself
    assert isinstance(chunks[-1], ErrorChunk) and "dropped" in chunks[-1].message
    assert session.closed and session.error is not None and "dropped" in str(session.error)
    with pytest.raises(SessionClosedError, match="session has ended: the demo voice connection dropped"):
        await session.send_text("anyone?")
    await session.close()  # still harmless


async def test_output_goes_on_where_a_consumer_stopped_and_ends_for_everyone() -> None:
    session = await open_bidi("demo")
    await session.send_text("x")
    first = await session.output().__anext__()
    rest = await reply_of(session)
    assert first == TranscriptChunk("You", Role.ASSISTANT) and isinstance(rest[-1], Done)
    await session.close()
    assert [c async for c in session.output()] == [] == [c async for c in session.output()]


def test_decode_audio_base64() -> None:
    assert decode_audio_base64(base64.b64encode(b"\x01\x00\x02\x00").decode(), 24000) == AudioChunk(b"\x01\x00\x02\x00", 24000)
    with pytest.raises(ProviderError, match="odd number"):
        decode_audio_base64(base64.b64encode(b"\x01\x00\x02").decode(), 24000)
    with pytest.raises(ProviderError, match="not valid base64"):
        decode_audio_base64("abc$", 24000)
    with pytest.raises(ProviderError, match="not a base64 string"):
        decode_audio_base64(None, 24000)


async def test_odd_audio_emitted_directly_is_trimmed_with_an_error() -> None:
    async with await open_bidi("demo") as session:
        session._emit(AudioChunk(b"\x01\x00\x02", 24000))
        first = await session.output().__anext__()
        assert isinstance(first, ErrorChunk) and "odd number" in first.message


async def test_demo_options_are_checked() -> None:
    with pytest.raises(ProviderError, match="fault='nope'"):
        await open_bidi("demo", demo_settings(fault="nope"))
    with pytest.raises(ProviderError):
        await open_bidi("demo", demo_settings(audio_speed=-1))
