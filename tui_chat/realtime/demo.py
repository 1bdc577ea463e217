"""The offline voice demo: a bidirectional session that needs no network and no key.

Each audio turn is answered with speech-like audio (see `audio.synth`) at 24 kHz and an assistant
transcript saying what was heard: how long and how loud. A user transcript describes the turn
(the demo cannot recognise words). Text sent with `send_text` is answered the same way. An
interrupted reply stops at once: no more of its audio is sent, and `Interrupted` is emitted (also
for each turn still waiting for its reply, which is dropped). The conversation so far
(`BidiConfig.history`) is only counted: the first reply ends by saying how many earlier messages
the session was given, when there were any.

Audio goes through the same path a real provider's does: base64 "wire" payloads decoded by
`BidiSession._emit_audio_base64`, so malformed audio is handled the way it will be for real.

Turns are always the front end's (`turn_detection` "manual"; `realtime.BIDI_PROVIDERS` says so):
the demo has no voice detection of its own, and one built from the local VAD would only repeat
the turns the front end already takes, while hiding them behind a second, slower path.

Options (`ProviderSettings.options`):
- `audio_speed`: reply audio is sent at this multiple of real time; 0 (default) sends it as fast
  as it is taken, giving the loop back between pieces (deterministic: tests, `--fast`).
- `latency`: seconds before a reply starts (default 0).
- `chunk_ms`: length of each audio piece (default 100).
- `reply`: always answer with this text.
- `hold_after_s`: after this many seconds of a reply's audio, wait (until interrupted or closed).
- `fault`: `odd_pcm`, `bad_base64` (the second audio piece of each reply is malformed) or
  `disconnect` (the connection drops after the first piece).
"""

from __future__ import annotations

import asyncio
import base64
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio.synth import speech_pieces, speech_tokens
from ..chunks import Done, Interrupted, Message, Role, ToolCall, ToolCallChunk, TranscriptChunk
from ..errors import ProviderError
from ..providers.registry import ProviderSettings
from .base import BidiSession, spoken_history

FAULTS = ("odd_pcm", "bad_base64", "disconnect")


@dataclass(slots=True)
class _Request:
    reply: str
    heard: str | None  # the user transcript, for audio turns
    call: ToolCall | None = None  # a tool to use first; the reply then says what it gave


def describe_turn(seconds: float, rms_db: float) -> tuple[str, str]:
    """(user transcript, assistant reply) for an audio turn of `seconds` at `rms_db` dBFS."""
    if seconds <= 0:
        return "(no audio)", "I heard nothing in that turn."
    level = "silence" if rms_db <= -99 else f"{rms_db:.0f} dBFS"
    return (
        f"({seconds:.1f} s of audio, {level})",
        f"I heard {seconds:.1f} seconds of audio at {level}.",
    )


class DemoBidiSession(BidiSession):
    """Answers audio and text turns with synthesized speech and a transcript, fully offline."""

    provider = "demo"
    input_rate = 16000
    output_rate = 24000

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        super().__init__()
        settings = settings or ProviderSettings()
        options: dict[str, Any] = dict(settings.options)
        self.model = settings.model or "demo-voice-1"
        self.audio_speed = float(options.get("audio_speed", 0.0))
        self.latency = float(options.get("latency", 0.0))
        self.chunk_ms = int(options.get("chunk_ms", 100))
        self.fixed_reply: str | None = options.get("reply")
        self.hold_after_s: float | None = options.get("hold_after_s")
        self.fault: str | None = options.get("fault")
        if self.audio_speed < 0 or self.latency < 0 or self.chunk_ms <= 0:
            raise ProviderError("demo voice options: audio_speed and latency must be >= 0, chunk_ms > 0")
        if self.fault is not None and self.fault not in FAULTS:
            raise ProviderError(f"demo voice option fault={self.fault!r} is unknown", hint=f"use one of {', '.join(FAULTS)}")
        self._seconds = 0.0
        self._sum_squares = 0.0
        self._samples = 0
        self._requests: asyncio.Queue[_Request] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._current: asyncio.Task[None] | None = None
        self.turns = 0
        self.interruptions = 0
        self._pieces_sent = 0  # of the reply being sent
        self._seconds_sent = 0.0
        self.earlier = 0
        """How many messages of the conversation so far the session was given (`config.history`)."""
        self._told_earlier = False

    async def _connect(self) -> None:
        self.earlier = len(spoken_history(self.config.history))
        self._worker = asyncio.create_task(self._work(), name="demo-voice")

    async def _send_audio(self, pcm: bytes, rate: int) -> None:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        self._seconds += samples.size / rate
        self._sum_squares += float(np.dot(samples, samples))
        self._samples += samples.size

    async def _send_text(self, text: str) -> None:
        words = len(text.split())
        reply = self.fixed_reply or f"You wrote {words} word{'s' if words != 1 else ''}. This is the offline voice demo."
        self._requests.put_nowait(_Request(reply, None, self._tool_call_for(text)))

    def _tool_call_for(self, text: str) -> ToolCall | None:
        """The tool the demo uses for `text`, when the session offers one that fits (as the text demo does)."""
        tools = self.config.tools
        if tools is None:
            return None
        from ..providers.base import ChatRequest
        from ..providers.demo import tool_call_for

        request = ChatRequest(self.model, (Message(Role.USER, text),), tools=tools.offered())
        return tool_call_for(request)

    async def _use_tool(self, call: ToolCall) -> str:
        """Run `call` through the session's tools (policy, approval) and say in a sentence what it gave."""
        assert self.config.tools is not None
        self._emit(ToolCallChunk(call))
        [result] = await self.config.tools.run([call])
        said = " ".join(result.content.split())
        if len(said) > 200:
            said = said[:199] + "…"
        if result.is_error:
            return f"I could not use the {call.name} tool: {said}"
        return f"The {call.name} tool says: {said}"

    async def _end_turn(self) -> None:
        mean_square = self._sum_squares / self._samples if self._samples else 0.0
        rms_db = 10 * math.log10(mean_square / 32768.0**2) if mean_square > 0 else -100.0
        heard, reply = describe_turn(self._seconds, rms_db)
        self._seconds, self._sum_squares, self._samples = 0.0, 0.0, 0
        self.turns += 1
        self._requests.put_nowait(_Request(self.fixed_reply or reply, heard))

    async def _interrupt(self, played: float | None) -> None:
        # Turns still waiting for their reply are dropped too (taken first, so the worker cannot
        # start one once the current reply is cancelled): after the current reply's `Interrupted`,
        # each ends with one, as a reply asked for and not yet begun does with the real services.
        waiting = 0
        while not self._requests.empty():
            self._requests.get_nowait()
            waiting += 1
        task = self._current
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait({task})
            self.interruptions += 1
            self._emit(Interrupted("the user spoke over the reply"))
        for _ in range(waiting):
            self.interruptions += 1
            self._emit(Interrupted("stopped before the reply began"))

    async def _disconnect(self) -> None:
        for task in (self._current, self._worker):
            if task is not None and not task.done():
                task.cancel()
        tasks = {t for t in (self._current, self._worker) if t is not None}
        if tasks:
            await asyncio.wait(tasks)

    async def _work(self) -> None:
        while True:
            request = await self._requests.get()
            self._current = asyncio.create_task(self._reply(request))
            await asyncio.wait({self._current})

    async def _send_piece(self, samples: np.ndarray) -> bool:
        """Send one piece of reply audio as a base64 wire payload; False when the session dropped."""
        rate = self.output_rate
        index = self._pieces_sent
        payload = base64.b64encode(samples.astype("<i2").tobytes()).decode()
        if index == 1 and self.fault == "odd_pcm":
            payload = base64.b64encode(samples.astype("<i2").tobytes() + b"\x00").decode()
        elif index == 1 and self.fault == "bad_base64":
            payload = "not//base64!!" + payload[:20]
        self._emit_audio_base64(payload, rate)
        self._pieces_sent += 1
        if index == 0 and self.fault == "disconnect":
            self._fail(ProviderError("the demo voice connection dropped on purpose", hint="this is the demo's fault option"))
            return False
        self._seconds_sent += samples.size / rate
        if self.hold_after_s is not None and self._seconds_sent >= self.hold_after_s:
            await asyncio.Event().wait()
        await asyncio.sleep(samples.size / rate / self.audio_speed if self.audio_speed else 0)
        return True

    async def _reply(self, request: _Request) -> None:
        if self.latency:
            await asyncio.sleep(self.latency)
        if request.heard is not None:
            self._emit(TranscriptChunk(request.heard, Role.USER, final=True))
        if request.call is not None:
            request = _Request(await self._use_tool(request.call), request.heard)
        if self.earlier and not self._told_earlier and self.fixed_reply is None:
            self._told_earlier = True
            plural = "s" if self.earlier != 1 else ""
            request = _Request(f"{request.reply} I was given {self.earlier} earlier message{plural} of this conversation.", request.heard)
        rate = self.output_rate
        size = rate * self.chunk_ms // 1000
        # The audio is made word by word as it is sent, so a long reply never stalls the loop.
        made = speech_pieces(request.reply, rate)
        pending = np.zeros(0, dtype=np.int16)
        self._pieces_sent = 0
        self._seconds_sent = 0.0
        for position, word in enumerate(request.reply.split()):
            audio = [next(made)[1] for _ in speech_tokens(word)]
            self._emit(TranscriptChunk((" " if position else "") + word, Role.ASSISTANT))
            pending = np.concatenate([pending, *audio])
            while pending.size >= size:
                if not await self._send_piece(pending[:size]):
                    return
                pending = pending[size:]
        pending = np.concatenate([pending, *(audio for _token, audio in made)])
        for first in range(0, pending.size, size):
            if not await self._send_piece(pending[first : first + size]):
                return
        self._emit(TranscriptChunk(request.reply, Role.ASSISTANT, final=True))
        self._emit(Done())
