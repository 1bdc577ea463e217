"""Gemini Live (`BidiGenerateContent`) over a WebSocket, as a `BidiSession`.

Wire reference: the Gemini API "Live API - WebSockets API reference" (ai.google.dev/api/live) and
the google-genai SDK (`google/genai/live.py`, `types.LiveServerMessage` and friends).

Connection: `wss://generativelanguage.googleapis.com/ws/google.ai.generativelanguage.v1beta.
GenerativeService.BidiGenerateContent` with the key in the `x-goog-api-key` header (as the SDK
sends it; never in the URL). The first client message is `{"setup": {"model": "models/M",
"generationConfig": {"responseModalities": ["AUDIO"], "speechConfig": {"voiceConfig":
{"prebuiltVoiceConfig": {"voiceName"}}}}, "systemInstruction": {"parts": [{"text"}]}, "tools":
[{"functionDeclarations": [...]}], "realtimeInputConfig": {"automaticActivityDetection":
{"disabled"}, "activityHandling"}, "inputAudioTranscription": {}, "outputAudioTranscription": {},
"sessionResumption": {"handle"?}}}`; the session waits for `setupComplete` (`setup_timeout`).

Turns: audio goes as `realtimeInput.audio` {data, mimeType "audio/pcm;rate=16000"} (other rates
are converted). Hands-free ("server"): the service's activity detection ends turns; `end_turn()`
sends `audioStreamEnd` so the end of the audio is heard (the input ended). Push-to-talk
("manual", detection disabled): `activityStart` goes before the first audio of each turn (that
audio begins with the pre-roll the turn detector kept, so the pre-roll follows the activityStart)
and `end_turn()` sends `activityEnd`. Text: `clientContent` {turns: [{role: "user", parts:
[{text}]}], turnComplete: true}, or with the option `text_input = "realtime"` `realtimeInput.text`
(newer models take text only that way).

Server messages (frames may be binary: UTF-8 JSON): `serverContent` with `modelTurn.parts[].
inlineData` (audio, "audio/pcm;rate=24000"), `inputTranscription` / `outputTranscription`
{text}, `interrupted` (the service heard the user: the front end's `on_user_speech` flushes
playback, the reply ends `Interrupted`), `generationComplete`, `turnComplete` (the reply ends:
`Done`, with the whole assistant transcript); `toolCall.functionCalls` [{id, name, args}] ->
`config.tools` (policy, approver) -> `toolResponse.functionResponses` [{id, name, response:
{output | error}}]; `toolCallCancellation.ids` (those calls are withdrawn: their approval is
cancelled and no response is sent); `usageMetadata`; `sessionResumptionUpdate` {newHandle,
resumable}; `goAway` {timeLeft}: a new connection is opened with the latest resumption handle
before the deadline (after the reply in progress, if there is time), and the old one closed, so
the conversation goes on. A dropped connection (1006, 1011, ...) is re-established the same way,
with backoff; the policy and invalid-argument closes (1007, 1008) end the session with the
service's reason.

The conversation so far (the config's `history`, see `base.spoken_history`; the last
`history_replay` entries) goes right after `setupComplete`, before any audio, as one
`clientContent` {turns: [{role: "user" | "model", parts: [{text}]}], turnComplete: false}: the
turns are added to the context and, the turn not being complete, the model waits for more input
instead of answering them. A connection that resumes with a handle is not given it again (the
service has the conversation); one that reconnects without a handle is.

Barge-in without the service noticing (push-to-talk, or the local detector heard the user first):
`interrupt()` ends the reply with `Interrupted` at once and drops what the service still sends of it
(until its `interrupted` or `turnComplete`). Gemini has no way to cut the model's memory of the
reply at the point heard: on `interrupted` the service stops generating and keeps in its context
what it had already sent (generated faster than it is played, so more than was heard), and once
`generationComplete` has come an interruption cuts nothing there. The words heard are known only
on this side (`voice.session`, `heard.SpokenWords`): they are what the chat and its history keep,
and what a new session is given (`BidiConfig.history`).

Options (besides those of `ws.py`): `voice` (default "Puck"), `api_version` ("v1beta"),
`text_input` ("client_content" | "realtime"), `vad` (a table merged into
`automaticActivityDetection`: `startOfSpeechSensitivity`, `endOfSpeechSensitivity`,
`prefixPaddingMs`, `silenceDurationMs`), `context_compression` (true: a sliding window, for
sessions longer than the context), `history_replay` (40).
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..chunks import Done, Interrupted, Role, TextDelta, ToolCall, ToolCallChunk, TranscriptChunk, Usage, UsageChunk
from ..errors import ProviderError
from ..providers.encoding import is_generated_id, new_call_id
from ..providers.registry import ProviderSettings
from .base import decode_audio_base64, spoken_history
from .tools import run_calls
from .ws import RequestFailed, WsBidiSession, dumps, ws_url

DEFAULT_BASE_URL = "wss://generativelanguage.googleapis.com"
DEFAULT_MODEL = "gemini-2.5-flash-native-audio-preview-12-2025"
DEFAULT_VOICE = "Puck"
IN_RATE = 16000
OUT_RATE = 24000
_RATE = re.compile(r"rate=(\d+)")
_AUDIO_HEAD = b'{"realtimeInput":{"audio":{"mimeType":"audio/pcm;rate=16000","data":"'


def _audio(pcm: bytes) -> bytes:
    return _AUDIO_HEAD + base64.b64encode(pcm) + b'"}}}'


def parse_duration(value: Any) -> float | None:
    """A protobuf JSON Duration ("10s", "1.5s") or a number of seconds, as seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and value.endswith("s"):
        try:
            return float(value[:-1])
        except ValueError:
            return None
    if isinstance(value, dict):
        try:
            return float(value.get("seconds", 0)) + float(value.get("nanos", 0)) / 1e9
        except (TypeError, ValueError):
            return None
    return None


class GeminiLiveSession(WsBidiSession):
    """A voice session with a Gemini Live model (see the module text)."""

    provider = "gemini-live"
    label = "Gemini Live"
    text_provider = "gemini"
    input_rate = IN_RATE
    output_rate = OUT_RATE
    exact_markers = (b'"toolCall"',)

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        super().__init__(settings)
        options = self.options
        self.model = self.settings.model or DEFAULT_MODEL
        self.base_url = self.settings.base_url or DEFAULT_BASE_URL
        self.api_version = str(options.get("api_version") or "v1beta")
        self.text_input = str(options.get("text_input") or "client_content")
        if self.text_input not in ("client_content", "realtime"):
            raise ProviderError(f"gemini-live option text_input={self.text_input!r} is unknown", hint="use client_content or realtime")
        vad = options.get("vad") or {}
        if not isinstance(vad, dict):
            raise ProviderError("gemini-live option 'vad' must be a table (silenceDurationMs, prefixPaddingMs, ...)")
        self.vad: dict[str, Any] = dict(vad)
        self.context_compression = bool(options.get("context_compression", False))
        self.history_limit = int(options.get("history_replay", 40))
        self._resamplers: dict[int, Any] = {}
        self.handle: str | None = None
        """The latest session resumption handle."""
        self.resumptions = 0
        """How many times the session moved to a new connection after a `goAway`."""
        self._activity_open = False
        self._audio_since_end = False
        self._in_reply = False
        self._generating = False
        self._discard = False
        self._heard: list[str] = []
        self._said: list[str] = []
        self._tool_calls: dict[asyncio.Task[Any], set[str]] = {}
        self._cancelled_calls: set[str] = set()
        self._settled = asyncio.Event()
        self._settled.set()

    # --- connection ------------------------------------------------------------------------------

    def _url(self) -> str:
        parts = urlsplit(ws_url(self.base_url))
        if "BidiGenerateContent" in parts.path:
            return urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
        last = parts.path.rstrip("/").rsplit("/", 1)[-1]
        version = last if re.fullmatch(r"v\d+\w*", last) else self.api_version
        path = f"/ws/google.ai.generativelanguage.{version}.GenerativeService.BidiGenerateContent"
        return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))

    def _headers(self, key: str) -> dict[str, str]:
        return {"x-goog-api-key": key}

    @property
    def voice(self) -> str:
        return self.config.voice or str(self.options.get("voice") or DEFAULT_VOICE)

    def setup_message(self, *, handle: str | None = None) -> dict[str, Any]:
        """The `setup` message this session sends (with `handle`, to resume)."""
        config = self.config
        manual = config.turn_detection == "manual"
        detection: dict[str, Any] = {"disabled": True} if manual else {"disabled": False, **self.vad}
        setup: dict[str, Any] = {
            "model": self.model if self.model.startswith("models/") else f"models/{self.model}",
            "generationConfig": {
                "responseModalities": ["AUDIO"],
                "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": self.voice}}},
            },
            "realtimeInputConfig": {
                "automaticActivityDetection": detection,
                "activityHandling": "START_OF_ACTIVITY_INTERRUPTS" if config.barge_in else "NO_INTERRUPTION",
            },
            "inputAudioTranscription": {},
            "outputAudioTranscription": {},
            "sessionResumption": {"handle": handle} if handle else {},
        }
        if config.instructions:
            setup["systemInstruction"] = {"parts": [{"text": config.instructions}]}
        tools = config.tools.offered() if config.tools is not None else ()
        if tools:
            setup["tools"] = [{"functionDeclarations": [
                {"name": t.name, "description": t.description, "parametersJsonSchema": dict(t.parameters)} for t in tools
            ]}]
        if self.context_compression:
            setup["contextWindowCompression"] = {"slidingWindow": {}}
        return {"setup": setup}

    def history_message(self) -> dict[str, Any] | None:
        """The `clientContent` that gives the model the conversation so far; None when there is none.

        Adjacent entries of one role become one turn of several parts, so the turns alternate.
        """
        turns: list[dict[str, Any]] = []
        for role, text in spoken_history(self.config.history, last=self.history_limit):
            who = "model" if role == "assistant" else "user"
            if turns and turns[-1]["role"] == who:
                turns[-1]["parts"].append({"text": text})
            else:
                turns.append({"role": who, "parts": [{"text": text}]})
        return {"clientContent": {"turns": turns, "turnComplete": False}} if turns else None

    async def _handshake(self, ws: Any, resume: bool) -> None:
        handle = self.handle if resume else None
        if resume and handle is None:
            self._warn(f"{self.label} gave no resumption handle yet: the new connection starts without what was said on the old one")
        await ws.send(dumps(self.setup_message(handle=handle)), text=True)
        while True:
            message = await self._recv_message(ws)
            if message is None:
                continue
            if "setupComplete" in message:
                break
            await self._on_message(message)
        history = self.history_message() if handle is None else None
        if history is not None:
            await ws.send(dumps(history), text=True)

    def _connection_lost(self, reason: str) -> None:
        for task in list(self._tool_calls):
            task.cancel()
        self._activity_open = False
        self._generating = self._discard = False
        self._settled.set()
        if self._in_reply:
            self._close_reply(Interrupted(f"{reason}: the reply was cut off"))

    # --- the user's side -------------------------------------------------------------------------

    def _to_rate(self, pcm: bytes, rate: int) -> bytes:
        if rate == IN_RATE:
            return pcm
        import numpy as np

        from ..audio.pcm import StreamResampler

        resampler = self._resamplers.get(rate)
        if resampler is None:
            resampler = self._resamplers[rate] = StreamResampler(rate, IN_RATE)
        return resampler.process(np.frombuffer(pcm, dtype="<i2")).astype("<i2").tobytes()

    @property
    def _manual(self) -> bool:
        return self.config.turn_detection == "manual"

    async def _open_activity(self) -> None:
        if not self._activity_open:
            self._activity_open = True
            self._user_turn()
            await self._send({"realtimeInput": {"activityStart": {}}})

    async def _send_audio(self, pcm: bytes, rate: int) -> None:
        pcm = self._to_rate(pcm, rate)
        if not pcm:
            return
        if self._manual:
            await self._open_activity()
        self._audio_since_end = True
        await self._send(_audio(pcm), droppable=True)

    async def _end_turn(self) -> None:
        if not self._manual:
            if self._audio_since_end:
                self._audio_since_end = False
                await self._send({"realtimeInput": {"audioStreamEnd": True}})
            return
        if not self._activity_open:
            self._emit(Done())  # nothing was said: an empty reply
            return
        self._activity_open = False
        self._audio_since_end = False
        self._in_reply = True
        await self._send({"realtimeInput": {"activityEnd": {}}})

    async def _send_text(self, text: str) -> None:
        self._user_turn()
        if self.text_input == "realtime":
            if self._manual:
                await self._open_activity()
                await self._send({"realtimeInput": {"text": text}})
                self._activity_open = False
                await self._send({"realtimeInput": {"activityEnd": {}}})
            else:
                await self._send({"realtimeInput": {"text": text}})
        else:
            await self._send({"clientContent": {"turns": [{"role": "user", "parts": [{"text": text}]}], "turnComplete": True}})
        self._in_reply = True

    def _user_turn(self) -> None:
        if self.config.tools is not None:
            self.config.tools.new_turn()

    async def _interrupt(self, played: float | None) -> None:
        if self._in_reply:
            if self._generating:
                self._discard = True  # what the service still sends of this reply is dropped
            self._close_reply(Interrupted("the user spoke over the reply"))

    # --- the model's side ------------------------------------------------------------------------

    def _close_reply(self, chunk: Any) -> None:
        self._in_reply = False
        self._said = []
        self._emit(chunk)

    def _user_final(self) -> None:
        if self._heard:
            self._emit(TranscriptChunk("".join(self._heard).strip(), Role.USER, final=True))
            self._heard = []

    def _begin_output(self) -> None:
        self._user_final()
        self._generating = True
        self._in_reply = True
        self._settled.clear()

    def _check_settled(self) -> None:
        if not self._generating and not self._tool_calls:
            self._settled.set()

    async def _on_message(self, message: dict[str, Any]) -> None:
        content = message.get("serverContent")
        if isinstance(content, dict):
            await self._server_content(content)
        if "toolCall" in message:
            self._tool_call(message["toolCall"])
        if "toolCallCancellation" in message:
            self._cancel_calls(message["toolCallCancellation"])
        usage = message.get("usageMetadata")
        if isinstance(usage, dict):
            output = usage.get("responseTokenCount", usage.get("candidatesTokenCount"))
            self._emit(UsageChunk(Usage(int(usage.get("promptTokenCount") or 0), int(output or 0))))
        update = message.get("sessionResumptionUpdate")
        if isinstance(update, dict) and update.get("resumable", True) and isinstance(update.get("newHandle"), str) and update["newHandle"]:
            self.handle = update["newHandle"]
        if "goAway" in message:
            away = message["goAway"] if isinstance(message["goAway"], dict) else {}
            left = parse_duration(away.get("timeLeft"))
            self._going_away(left if left is not None else 10.0)

    async def _server_content(self, content: dict[str, Any]) -> None:
        if content.get("interrupted"):
            cut_here = not self._discard
            self._discard = self._generating = False
            if cut_here:
                await self._user_speech()  # the front end flushes playback (and calls interrupt)
            if self._in_reply:
                self._close_reply(Interrupted("the user started speaking"))
            self._check_settled()
        heard = content.get("inputTranscription")
        if isinstance(heard, dict) and isinstance(heard.get("text"), str) and heard["text"]:
            self._heard.append(heard["text"])
            self._emit(TranscriptChunk(heard["text"], Role.USER))
        if not self._discard:
            turn = content.get("modelTurn")
            parts = turn.get("parts") if isinstance(turn, dict) else None
            for part in parts if isinstance(parts, list) else ():
                if not isinstance(part, dict):
                    continue
                inline = part.get("inlineData")
                if isinstance(inline, dict) and str(inline.get("mimeType", "audio/pcm")).startswith("audio/"):
                    found = _RATE.search(str(inline.get("mimeType", "")))
                    try:
                        chunk = decode_audio_base64(inline.get("data"), int(found.group(1)) if found else OUT_RATE)
                    except ProviderError as error:
                        self._warn(error.message, error.hint)
                        continue
                    self._begin_output()
                    self._emit(chunk)
                elif isinstance(part.get("text"), str) and part["text"] and not part.get("thought"):
                    self._begin_output()
                    self._emit(TextDelta(part["text"]))
            said = content.get("outputTranscription")
            if isinstance(said, dict) and isinstance(said.get("text"), str) and said["text"]:
                self._begin_output()
                self._said.append(said["text"])
                self._emit(TranscriptChunk(said["text"], Role.ASSISTANT))
        if content.get("turnComplete"):
            self._turn_complete()

    def _turn_complete(self) -> None:
        self._user_final()
        if self._discard:
            self._discard = self._generating = False
            self._check_settled()
            return
        self._generating = False
        if not self._tool_calls and self._in_reply:
            if self._said:
                self._emit(TranscriptChunk("".join(self._said), Role.ASSISTANT, final=True))
            self._close_reply(Done())
        self._check_settled()

    def _tool_call(self, body: Any) -> None:
        calls = []
        for call in (body.get("functionCalls") if isinstance(body, dict) else None) or ():
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                continue
            call_id = call.get("id") if isinstance(call.get("id"), str) and call.get("id") else new_call_id()
            args = call.get("args") if call.get("args") is not None else {}
            calls.append(ToolCall(call_id, call["name"], json.dumps(args, ensure_ascii=False)))
        if not calls:
            return
        self._user_final()
        self._in_reply = True
        self._settled.clear()
        for call in calls:
            self._emit(ToolCallChunk(call))
        task = self._spawn(self._answer_calls(calls), name="gemini-live-tools")
        self._tool_calls[task] = {call.id for call in calls}

    async def _answer_calls(self, calls: list[ToolCall]) -> None:
        task = asyncio.current_task()
        try:
            results = await self._at_home(run_calls(self.config.tools, calls))  # the approval is the front end's
            responses = []
            for call, result in zip(calls, results):
                if call.id in self._cancelled_calls:
                    continue
                answer: dict[str, Any] = {"name": call.name, "response": {"error" if result.is_error else "output": result.content}}
                if not is_generated_id(call.id):
                    answer["id"] = call.id
                responses.append(answer)
            if responses:
                await self._send({"toolResponse": {"functionResponses": responses}})
        finally:
            self._tool_calls.pop(task, None)  # type: ignore[arg-type]
            self._check_settled()

    def _cancel_calls(self, body: Any) -> None:
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list):
            return
        self._cancelled_calls.update(i for i in ids if isinstance(i, str))
        for task, calls in list(self._tool_calls.items()):
            if calls <= self._cancelled_calls:
                task.cancel()

    # --- moving to a new connection before the service closes this one ---------------------------

    def _going_away(self, time_left: float) -> None:
        self._away = True
        if self._moving is None or self._moving.done():
            self._moving = self._spawn(self._move(time_left), name="gemini-live-move")

    async def _move(self, time_left: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + time_left
        margin = min(1.0, time_left / 4)
        old = self._ws
        # Let the reply in progress finish on the old connection when there is time for it (and
        # the old connection is still open).
        if not self._settled.is_set() and old is not None:
            waiters = {asyncio.ensure_future(self._settled.wait()), asyncio.ensure_future(old.wait_closed())}
            try:
                await asyncio.wait(waiters, timeout=max(0.0, deadline - margin - loop.time()), return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
        if self._closed or self._reconnecting:
            return
        try:
            ws = await self._establish(resume=True)
        except (ProviderError, RequestFailed) as error:
            self._warn(f"could not move to a new {self.label} connection before the old one closes: {error.message}; reconnecting when it does")
            return
        old, self._ws = self._ws, ws
        self._away = False
        self.resumptions += 1
        if self._activity_open:
            self._activity_open = False  # a turn begun on the old connection is begun again on the new one
        if old is not None:
            await self._abandon(old)


__all__ = ["GeminiLiveSession", "parse_duration"]
