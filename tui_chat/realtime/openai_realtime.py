"""OpenAI Realtime over a WebSocket (the GA protocol), as a `BidiSession`.

Wire reference: the OpenAI Realtime API reference, "Client events" and "Server events" (GA, the
`gpt-realtime` models; developers.openai.com/api/reference/resources/realtime), and the event
types of the openai-python SDK (`types/realtime`). The GA service refuses the old beta header
(`OpenAI-Beta: realtime=v1`), which is never sent.

Connection: `wss://api.openai.com/v1/realtime?model=MODEL` with `Authorization: Bearer KEY`. The
server opens with `session.created`; the client sends `session.update` in the GA shape:
`{"type": "realtime", "output_modalities": ["audio"], "instructions", "audio": {"input":
{"format": {"type": "audio/pcm", "rate": 24000}, "transcription": {"model"}, "turn_detection":
{"type": "server_vad", "create_response", "interrupt_response", ...} | null}, "output": {"format",
"voice"}}, "tools": [{"type": "function", name, description, parameters}], "tool_choice"}` and
waits for `session.updated` (an `error` instead fails the set-up with the server's message).

Turns: audio goes as `input_audio_buffer.append` (base64 16-bit PCM at 24 kHz; other rates are
converted). Hands-free (`turn_detection` "server"): the server's VAD commits each turn and answers
it; `end_turn()` only sends enough silence for the server to hear the end of the speech (the input
ended). Push-to-talk ("manual", turn detection null): `end_turn()` sends
`input_audio_buffer.commit` and `response.create`. Text: `conversation.item.create` (a user
message with `input_text`) and `response.create`. A `response.create` is held back while a
response is active and sent when it is done.

Server events, GA names and the older beta names alike: audio (`response.output_audio.delta` /
`response.audio.delta`), assistant transcript (`response.output_audio_transcript.delta|done` /
`response.audio_transcript.*`), text (`response.output_text.*` / `response.text.*`), user
transcript (`conversation.item.input_audio_transcription.delta|completed`), function calls
(`response.output_item.done` with a `function_call` item, `response.function_call_arguments.done`),
`response.done` (status completed / cancelled / failed / incomplete, usage), `error`.

Function calls run through `config.tools` (`realtime.tools.SessionTools`: the policy, the approver,
the registry); each gets a `function_call_output` item, then `response.create`. One user turn
ends with one `Done`, after the tool rounds.

Barge-in: on `input_audio_buffer.speech_started` the front end's `on_user_speech` is called (it
flushes playback and calls `interrupt`), and on `interrupt(played=...)`: `response.cancel` when a
response is active, `conversation.item.truncate` of the reply's audio item at the milliseconds
actually played (later items at 0), `Interrupted`; deltas of the cancelled response that arrive
afterwards are dropped. The service deletes the transcript of a truncated item past that point
(so that nothing is in the context the user did not hear); the history kept here for a reconnect
keeps the words heard likewise (`heard.SpokenWords`, the transcript pieces stamped with the audio
they came with). `error` events are shown (`ErrorChunk`) and the session goes on.

The conversation so far goes to the service as text items (`conversation.item.create`, a user
message with `input_text`, an assistant message with `output_text`, as the GA reference has them)
right after `session.updated`, before any audio, and gets no response: on opening, the config's
`history` (the text chat before voice; see `base.spoken_history`), and after a dropped connection
(see `ws.py`; OpenAI cannot resume a session) that plus the user and assistant transcripts of
this session. Both are one list, of which the last `history_replay` entries (40 by default) go.

Options (besides those of `ws.py`): `voice` (default "marin"), `transcription_model`
("gpt-4o-mini-transcribe"; "" for no user transcripts), `vad` (a table merged into
`turn_detection`: `type` "server_vad" | "semantic_vad", `threshold`, `prefix_padding_ms`,
`silence_duration_ms`, `idle_timeout_ms`, `eagerness`), `noise_reduction` ("near_field" |
"far_field"), `history_replay`.
"""

from __future__ import annotations

import base64
import itertools
from collections import deque
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ..chunks import Done, FinishReason, Interrupted, Role, TextDelta, ToolCall, ToolCallChunk, TranscriptChunk, Usage, UsageChunk
from ..errors import ProviderError
from ..providers.registry import ProviderSettings
from .base import decode_audio_base64, spoken_history
from .heard import SpokenWords
from .tools import run_calls
from .ws import WsBidiSession, ws_url

DEFAULT_BASE_URL = "wss://api.openai.com/v1"
DEFAULT_MODEL = "gpt-realtime"
DEFAULT_VOICE = "marin"
DEFAULT_TRANSCRIPTION_MODEL = "gpt-4o-mini-transcribe"
RATE = 24000
MIN_COMMIT_BYTES = RATE // 10 * 2
"""The service commits no less than 100 ms of audio."""
DEFAULT_SILENCE_MS = 500

AUDIO_DELTA = frozenset({"response.output_audio.delta", "response.audio.delta"})
TRANSCRIPT_DELTA = frozenset({"response.output_audio_transcript.delta", "response.audio_transcript.delta"})
TRANSCRIPT_DONE = frozenset({"response.output_audio_transcript.done", "response.audio_transcript.done"})
TEXT_DELTA = frozenset({"response.output_text.delta", "response.text.delta"})
TEXT_DONE = frozenset({"response.output_text.done", "response.text.done"})
IGNORED_ERRORS = frozenset({"response_cancel_not_active"})
"""Errors that only say a cancel came after the response had ended (the server cut it first)."""

_APPEND_HEAD = b'{"type":"input_audio_buffer.append","audio":"'


def _append(pcm: bytes) -> bytes:
    # Built by hand: base64 needs no JSON escaping, and this is the hot path of the input.
    return _APPEND_HEAD + base64.b64encode(pcm) + b'"}'


def _user_item(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def _assistant_item(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]}


class OpenAIRealtimeSession(WsBidiSession):
    """A voice session with an OpenAI Realtime model (see the module text)."""

    provider = "openai-realtime"
    label = "OpenAI Realtime"
    text_provider = "openai"
    input_rate = RATE
    output_rate = RATE

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        super().__init__(settings)
        options = self.options
        self.model = self.settings.model or DEFAULT_MODEL
        self.base_url = self.settings.base_url or DEFAULT_BASE_URL
        transcription = options.get("transcription_model", DEFAULT_TRANSCRIPTION_MODEL)
        self.transcription_model = str(transcription) if transcription else ""
        vad = options.get("vad") or {}
        if not isinstance(vad, dict):
            raise ProviderError("openai-realtime option 'vad' must be a table (threshold, silence_duration_ms, ...)")
        self.vad: dict[str, Any] = dict(vad)
        self.noise_reduction = options.get("noise_reduction")
        self.history_limit = int(options.get("history_replay", 40))
        self._resamplers: dict[int, Any] = {}
        self._event_ids = itertools.count(1)
        # the input
        self._uncommitted = 0  # bytes appended since the last commit
        # responses
        self._active: str | None = None  # the response the server is producing
        self._requested = False  # a response.create is on its way
        self._want_response = False  # one is to be sent when the active response is done
        self._cancel_next = False  # the reply was interrupted before its response was created
        self._cancelled: set[str] = set()
        self._turn_events: set[str] = set()
        self._calls: dict[str, ToolCall] = {}
        self._tool_tasks: set[Any] = set()
        # the reply (all the responses that answer one user turn)
        self._in_reply = False
        self._reply_items: list[list[Any]] = []  # [item id, seconds of audio received] of the reply
        self._reply_closed = True
        self._truncated = False
        self._said = SpokenWords()  # assistant transcript of the reply so far, stamped with its audio position
        self._said_heard: str | None = None  # the reply in progress was cut: the words of it heard
        self._said_last: SpokenWords | None = None  # the last reply ended, whose audio may still be cut
        self._history: deque[tuple[str, str]] = deque(maxlen=max(0, self.history_limit))
        """("user" | "assistant", text) of the conversation, given to each new connection."""
        self.truncations: list[tuple[str, int]] = []
        """(item id, audio_end_ms) of each truncation sent, for tests and diagnostics."""

    # --- connection ------------------------------------------------------------------------------

    def _url(self) -> str:
        parts = urlsplit(ws_url(self.base_url, default_path="/v1"))
        path = parts.path if parts.path.endswith("/realtime") else parts.path + "/realtime"
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "model"] + [("model", self.model)]
        return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))

    def _headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    @property
    def voice(self) -> str:
        return self.config.voice or str(self.options.get("voice") or DEFAULT_VOICE)

    def session_update(self) -> dict[str, Any]:
        """The `session.update` event this session sends (GA shape)."""
        config = self.config
        turn: dict[str, Any] | None = None
        if config.turn_detection == "server":
            turn = {"type": "server_vad", "create_response": True, "interrupt_response": config.barge_in}
            turn.update(self.vad)
        audio_in: dict[str, Any] = {"format": {"type": "audio/pcm", "rate": RATE}, "turn_detection": turn}
        if self.transcription_model:
            audio_in["transcription"] = {"model": self.transcription_model}
        if self.noise_reduction:
            audio_in["noise_reduction"] = {"type": str(self.noise_reduction)}
        session: dict[str, Any] = {
            "type": "realtime",
            "output_modalities": ["audio"],
            "audio": {"input": audio_in, "output": {"format": {"type": "audio/pcm", "rate": RATE}, "voice": self.voice}},
        }
        if config.instructions:
            session["instructions"] = config.instructions
        tools = config.tools.offered() if config.tools is not None else ()
        if tools:
            session["tools"] = [
                {"type": "function", "name": t.name, "description": t.description, "parameters": dict(t.parameters)} for t in tools
            ]
            session["tool_choice"] = "auto"
        return {"type": "session.update", "session": session}

    async def _handshake(self, ws: Any, resume: bool) -> None:
        from .ws import RequestFailed, dumps

        while True:  # the server speaks first
            message = await self._recv_message(ws)
            if message is None:
                continue
            if message.get("type") == "session.created":
                break
            if message.get("type") == "error":
                raise RequestFailed(f"{self.label} refused the session: {self._error_text(message)}")
        await ws.send(dumps(self.session_update()), text=True)
        while True:
            message = await self._recv_message(ws)
            if message is None:
                continue
            if message.get("type") == "session.updated":
                break
            if message.get("type") == "error":
                raise RequestFailed(
                    f"{self.label} refused the session set-up: {self._error_text(message)}",
                    hint="check the model, the voice and the provider options",
                )
        if not resume:
            # (Set here rather than in __init__: the config comes after construction, and a retried
            # first connection must not add it twice.)
            self._history = deque(spoken_history(self.config.history), maxlen=self._history.maxlen)
        for role, text in self._history:
            item = _user_item(text) if role == "user" else _assistant_item(text)
            await ws.send(dumps({"type": "conversation.item.create", "item": item}), text=True)

    def _connection_lost(self, reason: str) -> None:
        for task in list(self._tool_tasks):
            task.cancel()
        self._active = None
        self._requested = self._want_response = self._cancel_next = False
        self._cancelled.clear()
        self._turn_events.clear()
        self._uncommitted = 0
        self._reply_items = []
        self._reply_closed = True
        if self._in_reply:
            self._close_reply(Interrupted(f"{reason}: the reply was cut off"))

    # --- the user's side -------------------------------------------------------------------------

    def _event_id(self) -> str:
        return f"tui_{next(self._event_ids)}"

    def _to_rate(self, pcm: bytes, rate: int) -> bytes:
        if rate == RATE:
            return pcm
        import numpy as np

        from ..audio.pcm import StreamResampler

        resampler = self._resamplers.get(rate)
        if resampler is None:
            resampler = self._resamplers[rate] = StreamResampler(rate, RATE)
        return resampler.process(np.frombuffer(pcm, dtype="<i2")).astype("<i2").tobytes()

    async def _send_audio(self, pcm: bytes, rate: int) -> None:
        pcm = self._to_rate(pcm, rate)
        if pcm:
            self._uncommitted += len(pcm)
            await self._send(_append(pcm), droppable=True)

    async def _end_turn(self) -> None:
        if self.config.turn_detection == "server":
            if self._uncommitted:
                # Let the server's VAD hear the end of the speech (the input may have stopped mid-word).
                silence_ms = int(self.vad.get("silence_duration_ms", DEFAULT_SILENCE_MS)) + 200
                await self._send(_append(bytes(RATE * silence_ms // 1000 * 2)), droppable=True)
                self._uncommitted = 0
            return
        if not self._uncommitted:
            self._emit(Done())  # nothing was said: an empty reply
            return
        if self._uncommitted < MIN_COMMIT_BYTES:
            await self._send(_append(bytes(MIN_COMMIT_BYTES - self._uncommitted)), droppable=True)
        self._uncommitted = 0
        self._user_turn()
        event_id = self._event_id()
        self._turn_events.add(event_id)
        await self._send({"type": "input_audio_buffer.commit", "event_id": event_id})
        self._in_reply = True
        await self._request_response()

    async def _send_text(self, text: str) -> None:
        self._user_turn()
        await self._send({"type": "conversation.item.create", "event_id": self._event_id(), "item": _user_item(text)})
        self._history.append(("user", text))
        self._in_reply = True
        await self._request_response()

    async def _request_response(self, **response: Any) -> None:
        if self._active is not None or self._requested:
            self._want_response = True
            return
        event_id = self._event_id()
        self._turn_events.add(event_id)
        self._requested = True
        message: dict[str, Any] = {"type": "response.create", "event_id": event_id}
        if response:
            message["response"] = response
        await self._send(message)

    def _user_turn(self) -> None:
        if self.config.tools is not None:
            self.config.tools.new_turn()

    async def _interrupt(self, played: float | None) -> None:
        active = self._active
        if active is not None and active not in self._cancelled:
            self._cancelled.add(active)
            await self._send({"type": "response.cancel", "response_id": active})
        elif active is None and self._requested and self._in_reply:
            self._cancel_next = True  # asked for, not begun: cancel it as soon as it is
        self._want_response = False
        if played is not None and not self._truncated and self._reply_items:
            self._truncated = True
            position = max(0.0, played)
            for item_id, seconds in self._reply_items:
                if position < seconds - 0.0005:
                    end_ms = int(round(position * 1000))
                    self.truncations.append((item_id, end_ms))
                    await self._send(
                        {"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": end_ms}
                    )
                    position = 0.0
                else:
                    position -= seconds
            self._forget_unheard(played)
        if self._in_reply:
            self._close_reply(Interrupted("the user spoke over the reply"))

    async def _disconnect(self) -> None:
        for task in list(self._tool_tasks):
            task.cancel()
        await super()._disconnect()

    # --- the model's side ------------------------------------------------------------------------

    def _forget_unheard(self, played: float) -> None:
        """The reply was truncated at `played` seconds: the service drops the transcript of what
        was not heard, and so does the history replayed after a reconnect (it keeps the words heard)."""
        audio_s = sum(seconds for _item, seconds in self._reply_items)
        if self._in_reply:
            self._said_heard = self._said.heard(played, audio_s)
        elif self._said_last is not None:
            whole = ("assistant", self._said_last.text)
            at = next((i for i in range(len(self._history) - 1, -1, -1) if self._history[i] == whole), None)
            if at is not None:
                self._history[at] = ("assistant", self._said_last.heard(played, audio_s))
            self._said_last = None

    def _close_reply(self, chunk: Any) -> None:
        """End the reply in progress with `chunk` (`Done` or `Interrupted`)."""
        said = self._said.text if self._said_heard is None else self._said_heard
        if said:
            self._history.append(("assistant", said))
        self._said_last = self._said if self._said_heard is None else None
        self._said, self._said_heard = SpokenWords(), None
        self._in_reply = False
        self._reply_closed = True
        self._emit(chunk)

    def _start_reply_audio(self) -> None:
        self._reply_items = []
        self._reply_closed = False
        self._truncated = False

    def _note_audio(self, item_id: Any, seconds: float) -> None:
        if self._reply_closed:
            self._start_reply_audio()
        if self._reply_items and self._reply_items[-1][0] == item_id:
            self._reply_items[-1][1] += seconds
        else:
            self._reply_items.append([item_id, seconds])

    def _error_text(self, message: dict[str, Any]) -> str:
        error = message.get("error")
        if isinstance(error, dict):
            text = error.get("message") or error.get("code") or error.get("type")
            if text:
                return self.redact(str(text))
        return "unknown error"

    async def _on_message(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind in AUDIO_DELTA:
            if message.get("response_id") in self._cancelled:
                return
            try:
                chunk = decode_audio_base64(message.get("delta"), RATE)
            except ProviderError as error:
                self._warn(error.message, error.hint)
                return
            if self._reply_closed and not self._in_reply:
                self._in_reply = True  # audio with no response.created seen: a reply all the same
            self._note_audio(message.get("item_id"), len(chunk.pcm) / 2 / RATE)
            self._emit(chunk)
        elif kind in TRANSCRIPT_DELTA or kind in TEXT_DELTA:
            delta = message.get("delta")
            if message.get("response_id") in self._cancelled or not isinstance(delta, str) or not delta:
                return
            self._said.add(sum(seconds for _item, seconds in self._reply_items), delta)
            self._emit(TranscriptChunk(delta, Role.ASSISTANT) if kind in TRANSCRIPT_DELTA else TextDelta(delta))
        elif kind in TRANSCRIPT_DONE:
            transcript = message.get("transcript")
            if message.get("response_id") not in self._cancelled and isinstance(transcript, str):
                self._emit(TranscriptChunk(transcript, Role.ASSISTANT, final=True))
        elif kind in TEXT_DONE:
            pass
        elif kind == "input_audio_buffer.speech_started":
            await self._user_speech()
        elif kind == "input_audio_buffer.committed":
            self._uncommitted = 0
            if self.config.turn_detection == "server":
                self._user_turn()
        elif kind == "conversation.item.input_audio_transcription.delta":
            delta = message.get("delta")
            if isinstance(delta, str) and delta:
                self._emit(TranscriptChunk(delta, Role.USER))
        elif kind == "conversation.item.input_audio_transcription.completed":
            transcript = message.get("transcript")
            if isinstance(transcript, str):
                self._history.append(("user", transcript))
                self._emit(TranscriptChunk(transcript, Role.USER, final=True))
        elif kind == "conversation.item.input_audio_transcription.failed":
            self._warn(f"{self.label} could not transcribe what was said: {self._error_text(message)}")
            self._emit(TranscriptChunk("", Role.USER, final=True))  # the words shown so far were not it
        elif kind == "response.created":
            response = message.get("response") or {}
            self._active = response.get("id") if isinstance(response, dict) else None
            self._requested = False
            self._calls = {}
            if self._cancel_next and self._active is not None:
                self._cancel_next = False
                self._cancelled.add(self._active)
                await self._send({"type": "response.cancel", "response_id": self._active})
                return
            if self._reply_closed and not self._in_reply:
                self._start_reply_audio()  # a new reply: the last one's audio is no longer what plays
            self._in_reply = True
        elif kind == "response.output_item.done":
            self._take_call(message.get("item"))
        elif kind == "response.function_call_arguments.done":
            if message.get("name"):
                self._take_call({"type": "function_call", **message}, replace=False)
        elif kind == "response.done":
            await self._response_done(message.get("response"))
        elif kind == "error":
            await self._on_error(message)

    def _take_call(self, item: Any, *, replace: bool = True) -> None:
        if not isinstance(item, dict) or item.get("type") != "function_call":
            return
        call_id, name, arguments = item.get("call_id"), item.get("name"), item.get("arguments")
        if not isinstance(call_id, str) or not isinstance(name, str):
            return
        if replace or call_id not in self._calls:
            self._calls[call_id] = ToolCall(call_id, name, arguments if isinstance(arguments, str) else "")

    async def _response_done(self, response: Any) -> None:
        response = response if isinstance(response, dict) else {}
        response_id = response.get("id")
        status = response.get("status")
        if response_id is None or response_id == self._active:
            self._active = None
        self._requested = False
        usage = response.get("usage")
        if isinstance(usage, dict):
            self._emit(UsageChunk(Usage(int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0))))
        for item in response.get("output") or ():
            self._take_call(item, replace=False)
        calls, self._calls = list(self._calls.values()), {}
        details = response.get("status_details") if isinstance(response.get("status_details"), dict) else {}
        if response_id in self._cancelled:
            self._cancelled.discard(response_id)  # its Interrupted went out when it was cut
        elif status == "cancelled":
            if self._in_reply:
                reason = details.get("reason")
                said = "the user started speaking" if reason == "turn_detected" else "the reply was cancelled"
                self._close_reply(Interrupted(said))
        elif status == "failed":
            error = details.get("error") if isinstance(details.get("error"), dict) else {}
            text = error.get("message") or error.get("code") or "no reason given"
            self._warn(f"{self.label} could not answer: {self.redact(str(text))}")
            self._close_reply(Done(FinishReason.ERROR))
        elif calls and status in (None, "completed"):
            for call in calls:
                self._emit(ToolCallChunk(call))
            task = self._spawn(self._answer_calls(calls), name="openai-realtime-tools")
            self._tool_tasks.add(task)
            task.add_done_callback(self._tool_tasks.discard)
        else:
            reason = FinishReason.STOP
            if status == "incomplete":
                why = details.get("reason")
                reason = FinishReason.CONTENT_FILTER if why == "content_filter" else FinishReason.LENGTH
            if self._in_reply:
                self._close_reply(Done(reason))
        if self._want_response and self._active is None:
            self._want_response = False
            await self._request_response()

    async def _answer_calls(self, calls: list[ToolCall]) -> None:
        results = await self._at_home(run_calls(self.config.tools, calls))  # the approval is the front end's
        for call, result in zip(calls, results):
            output = {"type": "function_call_output", "call_id": call.id, "output": result.content}
            await self._send({"type": "conversation.item.create", "item": output})
        self._in_reply = True
        await self._request_response()

    async def _on_error(self, message: dict[str, Any]) -> None:
        error = message.get("error") if isinstance(message.get("error"), dict) else {}
        code = error.get("code")
        if code in IGNORED_ERRORS:
            return
        if code == "conversation_already_has_active_response":
            self._requested = False  # the server began one of its own (its voice detection): it answers
            return
        self._warn(f"{self.label}: {self._error_text(message)}", "the session goes on")
        if error.get("event_id") in self._turn_events and self._active is None:
            # The turn's commit or response.create was refused: no reply will come for it.
            self._requested = False
            if self._in_reply:
                self._close_reply(Done(FinishReason.ERROR))


__all__ = ["OpenAIRealtimeSession"]
