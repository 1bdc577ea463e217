"""A fake OpenAI Realtime server (GA protocol) over a real WebSocket.

Shapes follow the OpenAI Realtime API reference, "Client events" and "Server events" pages
(developers.openai.com/api/reference/resources/realtime/client-events and .../server-events, GA
`gpt-realtime` interface), and the event types of the openai-python SDK (`src/openai/types/
realtime/*`: e.g. `realtime_audio_input_turn_detection_param.py` for `server_vad` with
`create_response` / `interrupt_response` / `silence_duration_ms`, `response_audio_delta_event.py`):

- Handshake: `GET /v1/realtime?model=M` with `Authorization: Bearer KEY`; a wrong key gets 401 with
  `{"error": {"message", "type": "invalid_request_error", "code": "invalid_api_key"}}`. The beta
  header `OpenAI-Beta: realtime=v1` is refused (400), as the GA service no longer serves the beta.
- First server event `session.created`; `session.update` with `session.type == "realtime"` and the
  GA `audio.input/output.format {"type": "audio/pcm", "rate": 24000}` is answered by
  `session.updated`; beta-shaped fields (`modalities`, `input_audio_format`, a top-level `voice` or
  `turn_detection`, ...) get an `error` event (`unknown_parameter`), as the GA service does.
- `input_audio_buffer.append` (base64 PCM16 24 kHz). With `turn_detection.type == "server_vad"`
  a simple energy VAD in 20 ms blocks sends `input_audio_buffer.speech_started` {audio_start_ms,
  item_id}, `speech_stopped` after `silence_duration_ms` (default 500) of quiet, then
  `input_audio_buffer.committed` and, with `create_response`, a response; speech while a response
  is active cancels it (`interrupt_response`, status_details.reason "turn_detected").
  `input_audio_buffer.commit` of less than 100 ms gets `error` code `input_audio_buffer_commit_empty`.
- After a commit, with `audio.input.transcription` set: `conversation.item.input_audio_transcription
  .delta` (one, or with `Reply(heard_by_word=True)` one per word, as the streaming transcription
  models send them) and `.completed` {item_id, content_index, transcript} (or `.failed` {item_id,
  content_index, error} with `Reply(transcription_fails=True)`).
- A response: `response.created` {response: {id, status: "in_progress"}}, `response.output_item.added`,
  `conversation.item.added`, `response.content_part.added`, then `response.output_audio_transcript.delta`
  and `response.output_audio.delta` {response_id, item_id, output_index, content_index, delta},
  `response.output_audio.done`, `response.output_audio_transcript.done` {transcript},
  `response.content_part.done`, `response.output_item.done`, `conversation.item.done`,
  `response.done` {response: {id, status, status_details, output, usage: {total_tokens,
  input_tokens, output_tokens}}}. `Reply(beta_names=True)` uses the older beta names
  (`response.audio.delta`, `response.audio_transcript.*`). A function call response has
  `function_call` items {call_id, name, arguments} with `response.function_call_arguments.delta|done`.
- `response.cancel` ends the active response with status "cancelled" (after `late_deltas` more
  audio deltas already "in flight"); with none active, `error` code `response_cancel_not_active`.
  `response.create` while one is active: `error` code `conversation_already_has_active_response`.
- `conversation.item.truncate` {item_id, content_index, audio_end_ms} answers
  `conversation.item.truncated`; past the audio sent, `error` (invalid_value).
- `conversation.item.create` (messages, `function_call_output`) answers `conversation.item.added`.
  A message's content parts must be of the types the GA reference allows its role: user
  `input_text` / `input_audio` / `input_image`, assistant `output_text` / `output_audio`, system
  `input_text`; another type (the beta's assistant `text`, say) gets `error` code `invalid_value`.
- What the conversation holds, in order, is kept per connection in `conn.state["conversation"]`:
  (role, text) of each message item created, each committed user turn (its transcript) and each
  finished assistant reply (its transcript).
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

RATE = 24000
BLOCK = RATE // 50  # 20 ms


@dataclass
class Reply:
    """What the fake model answers with, for one response."""

    text: str = "Hello from the fake model."
    audio_s: float = 0.5
    chunk_ms: int = 100
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    """(call_id, name, arguments): a function-call response instead of speech."""
    heard: str | None = None
    """The user transcript of the turn answered (default: its length)."""
    heard_by_word: bool = False
    """Send the user transcript as one delta per word (before the completed event), not one."""
    transcription_fails: bool = False
    """End the user transcript with `conversation.item.input_audio_transcription.failed` (after its
    deltas) instead of `.completed`: {item_id, content_index, error: {type, code, message, param}}."""
    hold_after_s: float | None = None
    """Stop after this much audio until cancelled (or `release` is set)."""
    release: asyncio.Event | None = None
    late_deltas: int = 0
    """Audio deltas still sent after a cancel arrives (in flight), before `response.done`."""
    delay: float = 0.0
    """Seconds before the first audio (the model's own latency; benchmarks subtract it)."""
    beta_names: bool = False
    paced: bool = False
    """Send audio in real time (one chunk per chunk_ms) rather than as fast as possible."""


VOICES = {"alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"}
CONTENT_TYPES = {
    "user": {"input_text", "input_audio", "input_image"},
    "assistant": {"output_text", "output_audio"},
    "system": {"input_text"},
}
"""The content part types a message item of each role may have (GA reference, `conversation.item.create`)."""
SESSION_KEYS = {
    "type", "model", "output_modalities", "instructions", "audio", "include", "tracing", "tools", "tool_choice",
    "max_output_tokens", "truncation", "prompt",
}


class FakeOpenAIRealtime(FakeWsServer):
    """The fake service (see the module text). `replies` are used in order; then `Reply()`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.replies: deque[Reply] = deque()
        self.holds = 0
        """Replies that have stopped at their `hold_after_s`, waiting to be cut (or released)."""
        self.default_reply: Any = Reply
        """Makes the reply used when `replies` is empty."""
        self.vad_threshold = 800.0
        self.ids = itertools.count(1)
        self.timings: list[dict[str, float]] = []
        """Per response: `end` (the turn's end arrived), `first_audio` (first audio delta sent)."""
        self.sessions: list[dict[str, Any]] = []

    @property
    def url(self) -> str:
        return self.base + "/v1"

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.ids):04d}"

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        code = "invalid_api_key" if status == 401 else None
        return {"error": {"message": message, "type": "invalid_request_error", "code": code, "param": None}}

    def check_handshake(self, handshake: Handshake) -> tuple[int, str] | None:
        if handshake.path != "/v1/realtime":
            return 404, f"Invalid URL (GET {handshake.path})"
        if handshake.headers.get("authorization") != f"Bearer {self.key}":
            return 401, "Incorrect API key provided."
        if "openai-beta" in handshake.headers:
            return 400, "The Realtime beta interface is no longer available; use the GA interface."
        if "model=" not in handshake.query:
            return 400, "Missing required parameter: 'model'."
        return None

    # --- a connection ----------------------------------------------------------------------------

    async def serve(self, conn: Conn) -> None:
        st = conn.state
        st.update(
            session={
                "type": "realtime", "id": self.new_id("sess"), "object": "realtime.session", "output_modalities": ["audio"],
                "instructions": "", "tools": [], "tool_choice": "auto",
                "audio": {
                    "input": {"format": {"type": "audio/pcm", "rate": RATE}, "transcription": None,
                              "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                                                 "silence_duration_ms": 500, "create_response": True, "interrupt_response": True}},
                    "output": {"format": {"type": "audio/pcm", "rate": RATE}, "voice": "alloy"},
                },
            },
            buffer=bytearray(), vad_rest=np.zeros(0, np.int16), speaking=False, quiet_ms=0, position_ms=0,
            active=None, items={}, calls=set(), truncations=[], cancels=0, responses=0, turn_end_at=None, conversation=[],
        )
        await conn.send({"type": "session.created", "event_id": self.new_id("event"), "session": st["session"]})
        tasks: set[asyncio.Task[Any]] = set()
        try:
            async for message in self.messages(conn):
                await self.handle(conn, message, tasks)
        finally:
            for task in tasks:
                task.cancel()

    async def error(self, conn: Conn, code: str, message: str, event_id: str | None = None, param: str | None = None) -> None:
        await conn.send({
            "type": "error", "event_id": self.new_id("event"),
            "error": {"type": "invalid_request_error", "code": code, "message": message, "param": param, "event_id": event_id},
        })

    async def handle(self, conn: Conn, message: dict[str, Any], tasks: set[asyncio.Task[Any]]) -> None:
        st = conn.state
        kind = message.get("type")
        event_id = message.get("event_id")
        if kind == "session.update":
            session = message.get("session") or {}
            unknown = sorted(set(session) - SESSION_KEYS)
            if unknown:
                await self.error(conn, "unknown_parameter", f"Unknown parameter: 'session.{unknown[0]}'.", event_id, f"session.{unknown[0]}")
                return
            if session.get("type") != "realtime":
                await self.error(conn, "missing_required_parameter", "Missing required parameter: 'session.type'.", event_id)
                return
            audio = session.get("audio") or {}
            voice = (audio.get("output") or {}).get("voice")
            if voice is not None and voice not in VOICES:
                await self.error(conn, "invalid_value", f"Invalid value: '{voice}'. Supported values are: {', '.join(sorted(VOICES))}.",
                                 event_id, "session.audio.output.voice")
                return
            for side in ("input", "output"):
                fmt = (audio.get(side) or {}).get("format")
                if fmt is not None and fmt != {"type": "audio/pcm", "rate": RATE}:
                    await self.error(conn, "invalid_value", f"Invalid audio format for {side}: {fmt}", event_id)
                    return
            merged = st["session"]
            for key, value in session.items():
                if key == "audio":
                    for side, conf in value.items():
                        merged["audio"][side].update(conf)
                else:
                    merged[key] = value
            self.sessions.append(session)
            await conn.send({"type": "session.updated", "event_id": self.new_id("event"), "session": merged})
        elif kind == "input_audio_buffer.append":
            pcm = base64.b64decode(message["audio"], validate=True)
            assert len(pcm) % 2 == 0
            st["buffer"] += pcm
            turn = st["session"]["audio"]["input"]["turn_detection"]
            if turn and turn.get("type") == "server_vad":
                await self.vad(conn, np.frombuffer(pcm, "<i2"), turn, tasks)
        elif kind == "input_audio_buffer.commit":
            if len(st["buffer"]) < RATE // 10 * 2:
                ms = len(st["buffer"]) // 2 * 1000 // RATE
                await self.error(conn, "input_audio_buffer_commit_empty",
                                 f"Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has {ms}.00ms of audio.",
                                 event_id)
                return
            st["turn_end_at"] = time.monotonic()
            await self.commit(conn)
        elif kind == "input_audio_buffer.clear":
            st["buffer"] = bytearray()
            await conn.send({"type": "input_audio_buffer.cleared", "event_id": self.new_id("event")})
        elif kind == "conversation.item.create":
            item = dict(message.get("item") or {})
            item.setdefault("id", self.new_id("item"))
            if item.get("type") == "function_call_output" and item.get("call_id") not in st["calls"]:
                await self.error(conn, "invalid_value", f"Tool call ID '{item.get('call_id')}' not found in conversation.", event_id)
                return
            if item.get("type") == "message":
                role, parts = item.get("role"), item.get("content") or []
                allowed = CONTENT_TYPES.get(role, set())
                for index, part in enumerate(parts):
                    if part.get("type") not in allowed:
                        await self.error(conn, "invalid_value",
                                         f"Invalid value: '{part.get('type')}'. Supported values are: {', '.join(sorted(allowed))}.",
                                         event_id, f"item.content[{index}].type")
                        return
                st["conversation"].append((role, "".join(part.get("text", "") for part in parts)))
            await conn.send({"type": "conversation.item.added", "event_id": self.new_id("event"), "previous_item_id": None, "item": item})
            await conn.send({"type": "conversation.item.done", "event_id": self.new_id("event"), "previous_item_id": None, "item": item})
        elif kind == "response.create":
            if st["active"] is not None:
                await self.error(conn, "conversation_already_has_active_response",
                                 f"Conversation already has an active response in progress: {st['active']['id']}.", event_id)
                return
            if st["turn_end_at"] is None:
                st["turn_end_at"] = time.monotonic()
            self.start_response(conn, tasks)
        elif kind == "response.cancel":
            active = st["active"]
            if active is None:
                await self.error(conn, "response_cancel_not_active", "Cancellation failed: no active response found", event_id)
                return
            st["cancels"] += 1
            active["cancel"].set()
        elif kind == "conversation.item.truncate":
            item_id, end = message.get("item_id"), message.get("audio_end_ms")
            sent = st["items"].get(item_id)
            if sent is None:
                await self.error(conn, "invalid_value", f"Item with item_id '{item_id}' not found.", event_id)
                return
            if not isinstance(end, int) or end > sent:
                await self.error(conn, "invalid_value", f"Audio content of {sent}ms is already shorter than {end}ms", event_id, "audio_end_ms")
                return
            st["truncations"].append((item_id, end))
            await conn.send({"type": "conversation.item.truncated", "event_id": self.new_id("event"), "item_id": item_id,
                             "content_index": message.get("content_index", 0), "audio_end_ms": end})
        else:
            await self.error(conn, "invalid_value", f"Invalid value: '{kind}'. Supported values are: ...", event_id, "type")

    async def vad(self, conn: Conn, samples: np.ndarray, turn: dict[str, Any], tasks: set[asyncio.Task[Any]]) -> None:
        st = conn.state
        data = np.concatenate((st["vad_rest"], samples))
        whole = data.size // BLOCK * BLOCK
        st["vad_rest"] = data[whole:]
        silence_ms = int(turn.get("silence_duration_ms", 500))
        for first in range(0, whole, BLOCK):
            loud = rms(data[first : first + BLOCK]) > self.vad_threshold
            st["position_ms"] += 20
            if loud and not st["speaking"]:
                st["speaking"], st["quiet_ms"] = True, 0
                st["speech_item"] = self.new_id("item")
                await conn.send({"type": "input_audio_buffer.speech_started", "event_id": self.new_id("event"),
                                 "audio_start_ms": max(0, st["position_ms"] - 20), "item_id": st["speech_item"]})
                active = st["active"]
                if active is not None and turn.get("interrupt_response", True):
                    active["reason"] = "turn_detected"
                    active["cancel"].set()
            elif st["speaking"]:
                st["quiet_ms"] = 0 if loud else st["quiet_ms"] + 20
                if st["quiet_ms"] >= silence_ms:
                    st["speaking"] = False
                    st["turn_end_at"] = time.monotonic()
                    await conn.send({"type": "input_audio_buffer.speech_stopped", "event_id": self.new_id("event"),
                                     "audio_end_ms": st["position_ms"], "item_id": st["speech_item"]})
                    await self.commit(conn, st["speech_item"])
                    if turn.get("create_response", True) and st["active"] is None:
                        self.start_response(conn, tasks)

    async def commit(self, conn: Conn, item_id: str | None = None) -> None:
        st = conn.state
        item_id = item_id or self.new_id("item")
        seconds = len(st["buffer"]) / 2 / RATE
        st["buffer"] = bytearray()
        await conn.send({"type": "input_audio_buffer.committed", "event_id": self.new_id("event"), "previous_item_id": None, "item_id": item_id})
        item = {"id": item_id, "type": "message", "role": "user", "status": "completed", "content": [{"type": "input_audio", "transcript": None}]}
        await conn.send({"type": "conversation.item.added", "event_id": self.new_id("event"), "previous_item_id": None, "item": item})
        if st["session"]["audio"]["input"].get("transcription"):
            upcoming = self.replies[0] if self.replies else None
            heard = upcoming.heard if upcoming is not None and upcoming.heard else f"({seconds:.1f} s of audio)"
            deltas = word_pieces(heard) if upcoming is not None and upcoming.heard_by_word else [heard]
            base = {"event_id": "", "item_id": item_id, "content_index": 0}
            for delta in deltas:
                await conn.send({**base, "type": "conversation.item.input_audio_transcription.delta", "event_id": self.new_id("event"), "delta": delta})
            if upcoming is not None and upcoming.transcription_fails:
                error = {"type": "transcription_error", "code": "audio_unintelligible", "message": "The audio could not be transcribed.", "param": None}
                await conn.send({**base, "type": "conversation.item.input_audio_transcription.failed", "event_id": self.new_id("event"), "error": error})
                st["conversation"].append(("user", ""))
            else:
                await conn.send({**base, "type": "conversation.item.input_audio_transcription.completed", "event_id": self.new_id("event"),
                                 "transcript": heard, "usage": {"type": "duration", "seconds": seconds}})
                st["conversation"].append(("user", heard))
        else:
            st["conversation"].append(("user", ""))

    def start_response(self, conn: Conn, tasks: set[asyncio.Task[Any]]) -> None:
        reply = self.replies.popleft() if self.replies else self.default_reply()
        st = conn.state
        st["active"] = {"id": self.new_id("resp"), "cancel": asyncio.Event(), "reason": "client_cancelled"}
        task = asyncio.create_task(self.respond(conn, reply, st["active"]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    async def respond(self, conn: Conn, reply: Reply, active: dict[str, Any]) -> None:
        st = conn.state
        rid = active["id"]
        st["responses"] += 1
        timing = {"end": st["turn_end_at"] or time.monotonic()}
        st["turn_end_at"] = None
        ev = lambda: self.new_id("event")  # noqa: E731
        await conn.send({"type": "response.created", "event_id": ev(), "response": {"id": rid, "object": "realtime.response",
                                                                                     "status": "in_progress", "output": []}})
        usage = {"total_tokens": 30, "input_tokens": 20, "output_tokens": 10}
        if reply.calls:
            output = []
            for index, (call_id, name, arguments) in enumerate(reply.calls):
                item_id = self.new_id("item")
                st["calls"].add(call_id)
                item = {"id": item_id, "type": "function_call", "status": "in_progress", "call_id": call_id, "name": name, "arguments": ""}
                await conn.send({"type": "response.output_item.added", "event_id": ev(), "response_id": rid, "output_index": index, "item": item})
                await conn.send({"type": "response.function_call_arguments.delta", "event_id": ev(), "response_id": rid, "item_id": item_id,
                                 "output_index": index, "call_id": call_id, "delta": arguments})
                await conn.send({"type": "response.function_call_arguments.done", "event_id": ev(), "response_id": rid, "item_id": item_id,
                                 "output_index": index, "call_id": call_id, "name": name, "arguments": arguments})
                done = {**item, "status": "completed", "arguments": arguments}
                await conn.send({"type": "response.output_item.done", "event_id": ev(), "response_id": rid, "output_index": index, "item": done})
                output.append(done)
            st["active"] = None
            await conn.send({"type": "response.done", "event_id": ev(), "response": {"id": rid, "object": "realtime.response",
                             "status": "completed", "status_details": None, "output": output, "usage": usage}})
            self.notify()
            return
        audio_name = "response.audio.delta" if reply.beta_names else "response.output_audio.delta"
        transcript_name = "response.audio_transcript" if reply.beta_names else "response.output_audio_transcript"
        item_id = self.new_id("item")
        st["items"][item_id] = 0
        item = {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress", "content": []}
        where = {"response_id": rid, "item_id": item_id, "output_index": 0, "content_index": 0}
        await conn.send({"type": "response.output_item.added", "event_id": ev(), "response_id": rid, "output_index": 0, "item": item})
        await conn.send({"type": "conversation.item.added", "event_id": ev(), "previous_item_id": None, "item": item})
        await conn.send({"type": "response.content_part.added", "event_id": ev(), **where, "part": {"type": "audio", "transcript": ""}})
        if reply.delay:
            await asyncio.sleep(reply.delay)
        audio = tone(reply.audio_s)
        size = RATE * reply.chunk_ms // 1000
        pieces = [audio[i : i + size] for i in range(0, audio.size, size)]
        words = reply.text.split()
        per = max(1, -(-len(words) // max(1, len(pieces))))
        sent_samples = 0
        said: list[str] = []

        async def send_audio(piece: np.ndarray) -> None:
            nonlocal sent_samples
            if "first_audio" not in timing:
                timing["first_audio"] = time.monotonic()
                self.timings.append(timing)
            await conn.send({"type": audio_name, "event_id": ev(), **where, "delta": base64.b64encode(piece.tobytes()).decode()})
            sent_samples += piece.size
            st["items"][item_id] = sent_samples * 1000 // RATE

        cancelled = False
        for index, piece in enumerate(pieces):
            if active["cancel"].is_set():
                cancelled = True
                break
            if reply.hold_after_s is not None and sent_samples / RATE >= reply.hold_after_s - 1e-9:
                self.holds += 1
                self.notify()
                waiters = [asyncio.ensure_future(active["cancel"].wait())]
                if reply.release is not None:
                    waiters.append(asyncio.ensure_future(reply.release.wait()))
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
                if active["cancel"].is_set():
                    cancelled = True
                    break
            chunk_words = words[index * per : (index + 1) * per]
            if chunk_words:
                delta = (" " if said else "") + " ".join(chunk_words)
                said.append(delta)
                await conn.send({"type": f"{transcript_name}.delta", "event_id": ev(), **where, "delta": delta})
            await send_audio(piece)
            self.notify()
            await asyncio.sleep(reply.chunk_ms / 1000 if reply.paced else 0)
        if cancelled:
            for piece in pieces[len(pieces) - reply.late_deltas :] if reply.late_deltas else []:
                await send_audio(piece)
                await conn.send({"type": f"{transcript_name}.delta", "event_id": ev(), **where, "delta": " late"})
            st["active"] = None
            details = {"type": "cancelled", "reason": active["reason"]}
            await conn.send({"type": "response.done", "event_id": ev(), "response": {"id": rid, "object": "realtime.response",
                             "status": "cancelled", "status_details": details, "output": [item], "usage": usage}})
            self.notify()
            return
        transcript = "".join(said)
        await conn.send({"type": audio_name.replace(".delta", ".done"), "event_id": ev(), **where})
        await conn.send({"type": f"{transcript_name}.done", "event_id": ev(), **where, "transcript": transcript})
        await conn.send({"type": "response.content_part.done", "event_id": ev(), **where, "part": {"type": "audio", "transcript": transcript}})
        done = {**item, "status": "completed", "content": [{"type": "output_audio", "transcript": transcript}]}
        await conn.send({"type": "response.output_item.done", "event_id": ev(), "response_id": rid, "output_index": 0, "item": done})
        await conn.send({"type": "conversation.item.done", "event_id": ev(), "previous_item_id": None, "item": done})
        st["conversation"].append(("assistant", transcript))
        st["active"] = None
        await conn.send({"type": "response.done", "event_id": ev(), "response": {"id": rid, "object": "realtime.response",
                         "status": "completed", "status_details": None, "output": [done], "usage": usage}})
        self.notify()
