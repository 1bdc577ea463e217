"""A fake Gemini Live (`BidiGenerateContent`) service over a real WebSocket.

Shapes follow the Gemini API "Live API - WebSockets API reference" (ai.google.dev/api/live:
`BidiGenerateContentSetup`, `...RealtimeInput`, `...ClientContent`, `...ToolResponse`,
`...ServerContent`, `...ToolCall`, `...ToolCallCancellation`, `GoAway`, `SessionResumptionUpdate`,
`UsageMetadata`) and the google-genai SDK (`google/genai/live.py`: the endpoint
`/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent`, the key in the
`x-goog-api-key` header, the first reply `setupComplete`):

- The service sends binary frames holding UTF-8 JSON (`binary_frames = True`).
- The first client message must be `{"setup": {...}}`; anything else, or a setup with an unknown
  field, closes with 1007 and the service's "Invalid JSON payload received. Unknown name ..."
  wording. A wrong key closes with 1007 "API key not valid. Please pass a valid API key." after the
  setup (the handshake itself is accepted), as the service does.
- `setup.sessionResumption.handle` resumes a stored conversation; an unknown handle closes 1008.
  After every `turnComplete` the fake sends `sessionResumptionUpdate` {newHandle, resumable: true}.
- `realtimeInput.audio` {data, mimeType "audio/pcm;rate=16000"}. With automatic activity detection
  (the default) an energy VAD over 20 ms blocks ends a turn after `silence_ms` of quiet (or at
  `audioStreamEnd`); speech during a reply interrupts it (`serverContent.interrupted: true`) unless
  `activityHandling` is NO_INTERRUPTION. With `automaticActivityDetection.disabled`, audio counts only
  between `activityStart` and `activityEnd` (audio outside is counted in `state["outside"]`), and an
  `activityStart` during a reply interrupts it.
- A reply: `serverContent.inputTranscription` {text} (one message, or with `Reply(heard_by_word=True)`
  one per word, as the service sends the transcript in pieces), then `serverContent.modelTurn.parts[].inlineData`
  {mimeType "audio/pcm;rate=24000", data} with `serverContent.outputTranscription` {text} pieces,
  `serverContent.generationComplete`, `serverContent.turnComplete`, `usageMetadata`
  {promptTokenCount, responseTokenCount, totalTokenCount}.
- Tool calls: `toolCall.functionCalls` [{id, name, args}]; the turn waits for `toolResponse.
  functionResponses` [{id, name, response}] and goes on with the next scripted reply;
  `Reply(cancel_calls=True)` sends `toolCallCancellation.ids` instead of waiting.
- `clientContent` {turns: [{role: "user" | "model", parts: [{text}]}], turnComplete}: each turn must
  have one of those roles and text parts (else 1007, as the service refuses an invalid argument).
  The turns are appended to the conversation; with `turnComplete: true` the last one is answered,
  with false (or none: false is the default) nothing is answered and the model waits for more.
  `realtimeInput.text` is answered as a turn.
- What the conversation holds is kept per connection in `conn.state["history"]` ("user: text",
  "model: text", in order; a resumed connection starts with the stored one); the default reply
  counts its user entries ("Turn N of this conversation."), so a test hears what the model knew.
- `go_away(conn, "5s")` sends `goAway` {timeLeft} and closes the connection when the time is up.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .realtime_server import Conn, FakeWsServer, Handshake, rms, tone, word_pieces

IN_RATE = 16000
OUT_RATE = 24000
BLOCK = IN_RATE // 50
PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
SETUP_KEYS = {
    "model", "generationConfig", "systemInstruction", "tools", "realtimeInputConfig", "sessionResumption",
    "contextWindowCompression", "inputAudioTranscription", "outputAudioTranscription", "proactivity",
}


@dataclass
class Reply:
    """What the fake model answers one turn with."""

    text: str | None = None
    """The words said (default: "Turn N of this conversation.", N counting the resumed history)."""
    heard: str | None = None
    """The input transcription of the turn answered (default: its length, or the text sent)."""
    heard_by_word: bool = False
    """Send the input transcription as one `inputTranscription` message per word, not one."""
    audio_s: float = 0.5
    chunk_ms: int = 100
    calls: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    """(id, name, args): function calls made before anything is said."""
    cancel_calls: bool = False
    cancel_when: asyncio.Event | None = None
    """With `cancel_calls`: send the cancellation once this is set (default: at once)."""
    hold_after_s: float | None = None
    release: asyncio.Event | None = None
    delay: float = 0.0
    paced: bool = False


class FakeGeminiLive(FakeWsServer):
    """The fake service (see the module text). `replies` are used in order; then `Reply()`."""

    binary_frames = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.replies: deque[Reply] = deque()
        self.holds = 0
        """Replies that have stopped at their `hold_after_s`, waiting to be cut (or released)."""
        self.default_reply: Any = Reply
        """Makes the reply used when `replies` is empty."""
        self.handles: dict[str, list[str]] = {}
        self.ids = itertools.count(1)
        self.vad_threshold = 800.0
        self.silence_ms = 500
        self.send_setup_complete = True
        self.timings: list[dict[str, float]] = []
        self.setups: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return self.base

    def check_handshake(self, handshake: Handshake) -> tuple[int, str] | None:
        if handshake.path != PATH:
            return 404, "Not Found"
        return None

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": {"code": status, "message": message, "status": "NOT_FOUND" if status == 404 else "UNKNOWN"}}

    async def go_away(self, conn: Conn, time_left: str = "5s") -> None:
        await conn.send({"goAway": {"timeLeft": time_left}})

        async def close_later() -> None:
            await asyncio.sleep(float(time_left[:-1]))
            if not conn.closed.is_set():
                await conn.close(1000, "the session's time is up")

        conn.state["deadline"] = asyncio.ensure_future(close_later())

    # --- a connection ----------------------------------------------------------------------------

    async def serve(self, conn: Conn) -> None:
        st = conn.state
        st.update(
            history=[], manual=False, interrupts=True, activity=False, buffer=[], outside=0, speaking=False, quiet_ms=0,
            vad_rest=np.zeros(0, np.int16), generating=None, tool_answer=None, tool_responses=[], turns=0, resumed=False,
        )
        messages = self.messages(conn)
        try:
            first = await anext(messages)
        except StopAsyncIteration:
            return
        setup = first.get("setup") if set(first) == {"setup"} else None
        if not isinstance(setup, dict):
            await conn.close(1007, "Request contains an invalid argument.")
            return
        unknown = sorted(set(setup) - SETUP_KEYS)
        if unknown:
            await conn.close(1007, f"Invalid JSON payload received. Unknown name \"{unknown[0]}\" at 'setup': Cannot find field.")
            return
        if not str(setup.get("model", "")).startswith("models/"):
            await conn.close(1007, "Request contains an invalid argument.")
            return
        if conn.handshake.headers.get("x-goog-api-key") != self.key:
            await conn.close(1007, "API key not valid. Please pass a valid API key.")
            return
        self.setups.append(setup)
        handle = (setup.get("sessionResumption") or {}).get("handle")
        if handle:
            if handle not in self.handles:
                await conn.close(1008, "Session resumption handle is invalid or has expired.")
                return
            st["history"] = list(self.handles[handle])
            st["resumed"] = True
        config = setup.get("realtimeInputConfig") or {}
        st["manual"] = bool((config.get("automaticActivityDetection") or {}).get("disabled"))
        st["interrupts"] = config.get("activityHandling", "START_OF_ACTIVITY_INTERRUPTS") != "NO_INTERRUPTION"
        if not self.send_setup_complete:
            await conn.ws.wait_closed()
            return
        await conn.send({"setupComplete": {}})
        tasks: set[asyncio.Task[Any]] = set()
        try:
            async for message in messages:
                await self.handle(conn, message, tasks)
        finally:
            for task in tasks:
                task.cancel()
            if "deadline" in st:
                st["deadline"].cancel()

    async def handle(self, conn: Conn, message: dict[str, Any], tasks: set[asyncio.Task[Any]]) -> None:
        st = conn.state
        if len(message) != 1:
            await conn.close(1007, "Request contains an invalid argument.")
            return
        if "realtimeInput" in message:
            body = message["realtimeInput"]
            if "audio" in body:
                blob = body["audio"]
                assert blob["mimeType"] == "audio/pcm;rate=16000", blob["mimeType"]
                samples = np.frombuffer(base64.b64decode(blob["data"], validate=True), "<i2")
                if st["manual"]:
                    if st["activity"]:
                        st["buffer"].append(samples)
                    else:
                        st["outside"] += samples.size
                else:
                    await self.vad(conn, samples, tasks)
            elif "activityStart" in body:
                if not st["manual"]:
                    await conn.close(1007, "activityStart is only allowed when automatic activity detection is disabled.")
                    return
                st["activity"], st["buffer"] = True, []
                await self.interrupt(conn)
            elif "activityEnd" in body:
                st["activity"] = False
                seconds = sum(s.size for s in st["buffer"]) / IN_RATE
                self.start(conn, f"({seconds:.1f} s of audio)", tasks)
            elif "audioStreamEnd" in body:
                if st["speaking"]:
                    st["speaking"] = False
                    self.start(conn, f"({sum(s.size for s in st['buffer']) / IN_RATE:.1f} s of audio)", tasks)
            elif "text" in body:
                self.start(conn, body["text"], tasks)
        elif "clientContent" in message:
            body = message["clientContent"]
            turns = body.get("turns", [])
            valid = isinstance(turns, list) and all(
                isinstance(turn, dict) and turn.get("role") in ("user", "model") and isinstance(turn.get("parts"), list)
                and all(isinstance(part, dict) and isinstance(part.get("text"), str) for part in turn["parts"])
                for turn in turns
            )
            if not valid:
                await conn.close(1007, "Request contains an invalid argument.")
                return
            said = [(turn["role"], " ".join(part["text"] for part in turn["parts"])) for turn in turns]
            asked = said.pop() if body.get("turnComplete") and said else None
            st["history"].extend(f"{role}: {text}" for role, text in said)
            if asked is not None:
                self.start(conn, asked[1], tasks)
        elif "toolResponse" in message:
            st["tool_responses"].append(message["toolResponse"])
            if st["tool_answer"] is not None:
                st["tool_answer"].set()
        else:
            await conn.close(1007, f"Invalid JSON payload received. Unknown name \"{next(iter(message))}\": Cannot find field.")

    async def vad(self, conn: Conn, samples: np.ndarray, tasks: set[asyncio.Task[Any]]) -> None:
        st = conn.state
        data = np.concatenate((st["vad_rest"], samples))
        whole = data.size // BLOCK * BLOCK
        st["vad_rest"] = data[whole:]
        for first in range(0, whole, BLOCK):
            block = data[first : first + BLOCK]
            loud = rms(block) > self.vad_threshold
            if loud and not st["speaking"]:
                st["speaking"], st["quiet_ms"], st["buffer"] = True, 0, []
                if st["interrupts"]:
                    await self.interrupt(conn)
            if st["speaking"]:
                st["buffer"].append(block)
                st["quiet_ms"] = 0 if loud else st["quiet_ms"] + 20
                if st["quiet_ms"] >= self.silence_ms:
                    st["speaking"] = False
                    spoken = sum(s.size for s in st["buffer"]) / IN_RATE - st["quiet_ms"] / 1000
                    self.start(conn, f"({spoken:.1f} s of audio)", tasks)

    async def interrupt(self, conn: Conn) -> None:
        generating = conn.state["generating"]
        if generating is not None and not generating["cancel"].is_set():
            generating["cancel"].set()
            await generating["done"].wait()

    def start(self, conn: Conn, heard: str, tasks: set[asyncio.Task[Any]]) -> None:
        st = conn.state
        reply = self.replies.popleft() if self.replies else self.default_reply()
        generating = {"cancel": asyncio.Event(), "done": asyncio.Event(), "end": time.monotonic()}
        st["generating"] = generating
        task = asyncio.create_task(self.respond(conn, reply, heard, generating))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def respond(self, conn: Conn, reply: Reply, heard: str, generating: dict[str, Any]) -> None:
        st = conn.state
        try:
            await self._respond(conn, reply, heard, generating)
        finally:
            generating["done"].set()
            if st["generating"] is generating:
                st["generating"] = None
            self.notify()

    async def _respond(self, conn: Conn, reply: Reply, heard: str, generating: dict[str, Any]) -> None:
        st = conn.state
        cancel = generating["cancel"]
        heard = reply.heard if reply.heard is not None else heard
        for piece in word_pieces(heard) if reply.heard_by_word else [heard]:
            await conn.send({"serverContent": {"inputTranscription": {"text": piece}}})
        st["history"].append(f"user: {heard}")
        if reply.calls:
            calls = [{"id": cid, "name": name, "args": args} for cid, name, args in reply.calls]
            st["tool_answer"] = asyncio.Event()
            await conn.send({"toolCall": {"functionCalls": calls}})
            if reply.cancel_calls:
                if reply.cancel_when is not None:
                    await reply.cancel_when.wait()
                await conn.send({"toolCallCancellation": {"ids": [c["id"] for c in calls]}})
                await conn.send({"serverContent": {"interrupted": True}})
                return
            else:
                waiters = [asyncio.ensure_future(st["tool_answer"].wait()), asyncio.ensure_future(cancel.wait())]
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
            st["tool_answer"] = None
            if cancel.is_set():
                await conn.send({"serverContent": {"interrupted": True}})
                return
            reply = self.replies.popleft() if self.replies else self.default_reply()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        text = reply.text if reply.text is not None else f"Turn {sum(1 for h in st['history'] if h.startswith('user:'))} of this conversation."
        audio = tone(reply.audio_s, OUT_RATE)
        size = OUT_RATE * reply.chunk_ms // 1000
        pieces = [audio[i : i + size] for i in range(0, audio.size, size)]
        words = text.split()
        per = max(1, -(-len(words) // max(1, len(pieces))))
        sent = 0
        for index, piece in enumerate(pieces):
            if reply.hold_after_s is not None and sent / OUT_RATE >= reply.hold_after_s - 1e-9:
                self.holds += 1
                self.notify()
                waiters = [asyncio.ensure_future(cancel.wait())]
                if reply.release is not None:
                    waiters.append(asyncio.ensure_future(reply.release.wait()))
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
            if cancel.is_set():
                await conn.send({"serverContent": {"interrupted": True}})
                st["history"].append("model: (interrupted)")
                return
            chunk_words = words[index * per : (index + 1) * per]
            if chunk_words:
                await conn.send({"serverContent": {"outputTranscription": {"text": (" " if index else "") + " ".join(chunk_words)}}})
            if "first_audio" not in generating:
                generating["first_audio"] = time.monotonic()
                self.timings.append({"end": generating["end"], "first_audio": generating["first_audio"]})
            data = base64.b64encode(piece.tobytes()).decode()
            await conn.send({"serverContent": {"modelTurn": {"parts": [{"inlineData": {"mimeType": "audio/pcm;rate=24000", "data": data}}]}}})
            sent += piece.size
            self.notify()
            await asyncio.sleep(reply.chunk_ms / 1000 if reply.paced else 0)
        st["history"].append(f"model: {text}")
        await conn.send({"serverContent": {"generationComplete": True}})
        await conn.send({"serverContent": {"turnComplete": True}})
        await conn.send({"usageMetadata": {"promptTokenCount": 21, "responseTokenCount": 13, "totalTokenCount": 34}})
        handle = f"handle-{next(self.ids)}"
        self.handles[handle] = list(st["history"])
        await conn.send({"sessionResumptionUpdate": {"newHandle": handle, "resumable": True}})
        st["turns"] += 1


def frames_of(conn: Conn) -> list[str]:
    """The kinds of client messages received, in order ("audio", "activityStart", "clientContent", ...)."""
    kinds = []
    for message in conn.received:
        key = next(iter(message))
        if key == "realtimeInput":
            kinds.append(next(iter(message[key])))
        else:
            kinds.append(key)
    return kinds


__all__ = ["FakeGeminiLive", "Reply", "frames_of"]
