"""Voice mode for the chat screen: a `VoiceSession` run in a worker, its events posted as messages.

`VoiceController.run()` is the body of the screen's voice worker. It opens a bidirectional session
(the `[voice]` provider, else the chat's provider when it has one, else the offline voice demo),
the microphone and the speaker (or what a `VoiceSetup` injects: tests give generated audio and a
virtual speaker), runs a `VoiceSession`, and posts what happens to the screen: what the user is
heard saying (growing as the provider transcribes it, then whole), reply text for the chat log,
meter readings (about 30 a second out of the session's 50), notices, and why voice stopped.
It never touches a widget itself. Each finished exchange is handed to `record` (the chat's
`Conversation.append`), so text chat after talking goes on with the same history; and the session
is opened with that history (`BidiConfig.history`), so talking after text chat, or after a restart
for another voice mode, goes on with it too.

Voice modes, carried out by `ModalTurns`, the session's turn taker:
  push-to-talk  the talk key toggles talking; the microphone is muted otherwise (nothing of it is
                sent; the meter still shows its level, greyed, so a dead microphone shows)
  hold          every talk key event (the terminal's auto-repeat while the key is held down)
                keeps talking; talking ends `KeyTiming.release_s` after the last one, or
                `first_s` after a lone first press (covering the delay before auto-repeat starts)
  hands-free    the voice activity detector takes the turns; the talk key mutes and unmutes.
                With a provider that detects turns itself (OpenAI Realtime, Gemini Live) the
                session is opened with `turn_detection="server"` and the provider takes them
                (unless the `[voice]` table says `turn_detection = "local"`); switching between
                hands-free and the keyed modes then needs a new session (`needs_restart`)
In a terminal with the kitty keyboard protocol, hold mode asks for key releases (`ui.key_release`:
Textual itself reports none) and, once the terminal confirms, talking ends when the key is
released (`VoiceController.release`) and not by a timeout, so a slow auto-repeat never cuts a turn.
Elsewhere hold mode works from auto-repeat timing. The same timing tells a held key's auto-repeat
from a new press in the other modes, so holding the key there does not toggle on and off. Times are audio time (seconds of microphone input): a microphone is a clock, and tests drive
the timing with the audio they feed, never with sleeps.

Importing this module loads numpy and the audio layer: the chat screen imports it only when voice
mode is turned on.
"""

from __future__ import annotations

import math
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from typing import Any, Awaitable, Callable, Iterable, Protocol

from textual.message import Message

from ..audio.playback import PlaybackSink
from ..audio.sources import AudioSource
from ..audio.vad import EnergyVad
from ..chunks import ErrorChunk, Message as ChatMessage, ReplyStatus, Role, TextDelta, TranscriptChunk
from ..errors import TuiChatError
from ..providers.registry import ProviderSettings
from ..voice.events import (
    SILENCE,
    BargeIn,
    InputWarning,
    LevelReading,
    MeterLevels,
    ProviderChunk,
    ReplyEnded,
    ReplyStarted,
    SessionError,
    TurnEnded,
    TurnStarted,
    VoiceEvent,
)
from ..voice.metered_sink import MeteredSink
from ..voice.modal_turns import MODES, PUSH_TO_TALK, KeyTiming, ModalTurns
from ..voice.session import VoiceOptions, VoiceSession
from ..voice.settings import VoiceConfig, turn_detection_for

UNTRANSCRIBED = "(said aloud; no transcript)"
"""The user message recorded for a voice turn the provider gave no transcript of."""


# --- what the controller posts -------------------------------------------------------------------


class VoiceMessage(Message, bubble=False):
    """Something from a voice controller; `controller` says which (an old one may still report)."""

    def __init__(self, controller: VoiceController) -> None:
        super().__init__()
        self.controller = controller


class VoiceStarted(VoiceMessage):
    """The session is open and listening."""

    def __init__(self, controller: VoiceController, provider: str, note: str) -> None:
        super().__init__(controller)
        self.provider = provider
        self.note = note
        """Why this provider (the chat's has no voice), or empty."""


class VoiceMeter(VoiceMessage):
    """New readings for the meter."""

    def __init__(self, controller: VoiceController, input: MeterLevels, output: MeterLevels, state: str) -> None:
        super().__init__(controller)
        self.input, self.output, self.state = input, output, state


class VoiceHearing(VoiceMessage):
    """The user's words so far, while the provider transcribes them (`text` grows; untrusted)."""

    def __init__(self, controller: VoiceController, text: str) -> None:
        super().__init__(controller)
        self.text = text


class VoiceHeard(VoiceMessage):
    """The user's words, transcribed (a whole utterance; empty when nothing was made out of it)."""

    def __init__(self, controller: VoiceController, text: str) -> None:
        super().__init__(controller)
        self.text = text


class VoiceReplyStarted(VoiceMessage):
    def __init__(self, controller: VoiceController, reply: int) -> None:
        super().__init__(controller)
        self.reply = reply


class VoiceReplyText(VoiceMessage):
    """Text of the reply in progress: a piece of it, or (`final`) the whole of it."""

    def __init__(self, controller: VoiceController, reply: int | None, text: str, final: bool = False) -> None:
        super().__init__(controller)
        self.reply, self.text, self.final = reply, text, final


class VoiceReplyEnded(VoiceMessage):
    """Reply `reply` ended; for an interrupted one `cause` says who cut it (see `VoiceInterrupted`)."""

    def __init__(
        self, controller: VoiceController, reply: int, status: str, text: str, audio_s: float, played_s: float, cause: str = ""
    ) -> None:
        super().__init__(controller)
        self.reply, self.status, self.text = reply, status, text
        self.audio_s, self.played_s = audio_s, played_s
        self.cause = cause


class VoiceInterrupted(VoiceMessage):
    """Reply `reply` (None: no reply was playing) was cut and its audio flushed.

    `cause`: "speech" or "server" (the user spoke over it, heard here or by the provider), "stop"
    (the person stopped it: Esc).
    """

    def __init__(self, controller: VoiceController, reply: int | None, played_s: float, cause: str = "speech") -> None:
        super().__init__(controller)
        self.reply, self.played_s, self.cause = reply, played_s, cause


class VoiceNotice(VoiceMessage):
    """Something to tell the person that does not stop voice (a warning, a provider's error)."""

    def __init__(self, controller: VoiceController, message: str, severity: str = "warning") -> None:
        super().__init__(controller)
        self.message, self.severity = message, severity


class VoiceToolEvent(VoiceMessage):
    """A tool call of the voice session changed state (asked, running, done, denied...)."""

    def __init__(self, controller: VoiceController, event: Any) -> None:
        super().__init__(controller)
        self.event = event


class VoiceStopped(VoiceMessage):
    """The voice session is over: turned off (`error` None) or failed (`error`, `hint`)."""

    def __init__(self, controller: VoiceController, error: str | None, hint: str = "") -> None:
        super().__init__(controller)
        self.error, self.hint = error, hint


# --- the controller ------------------------------------------------------------------------------


class _Poster(Protocol):
    def post_message(self, message: Message) -> bool: ...


@dataclass(slots=True)
class VoiceSetup:
    """What voice mode uses besides the chat's provider; every field has a working default."""

    source_factory: Callable[[int], AudioSource] | None = None
    """rate -> the input; None: the microphone (`input_device`). May raise `AudioDeviceError`."""
    sink_factory: Callable[[int], Awaitable[PlaybackSink]] | None = None
    """rate -> where replies are played; None: the speaker (`output_device`)."""
    input_device: int | str | None = None
    output_device: int | str | None = None
    provider: str | None = None
    """The voice provider; None: the chat's provider when it has voice, else the offline demo."""
    model: str | None = None
    """The voice provider's model; None: its default (the chat's model is a text model)."""
    voice: str | None = None
    """The provider's voice; None: its default."""
    provider_options: dict[str, Any] = field(default_factory=dict)
    """Options for the voice provider (the demo's `audio_speed`, `hold_after_s`...)."""
    options: VoiceOptions | None = None
    """VAD, turn and interruption settings; levels and auto-complete are always on."""
    turn_detection: str | None = None
    """Hands-free: "server" (the provider's own detection, when it has one; the default) or "local"."""
    timing: KeyTiming = field(default_factory=KeyTiming)
    meter_rate: float = 30.0
    """Meter updates per second of audio (the session reads the level every 20 ms)."""
    interrupted_s: float = 1.5
    """How long the meter says "interrupted" after a barge-in."""

    def with_config(self, voice: VoiceConfig) -> VoiceSetup:
        """A copy with the `[voice]` table's settings where this setup leaves them unset."""
        timing = self.timing
        if voice.hold_release is not None and timing == KeyTiming():
            timing = KeyTiming(first_s=max(timing.first_s, voice.hold_release), release_s=voice.hold_release)
        return replace(
            self,
            input_device=self.input_device if self.input_device is not None else voice.input_device,
            output_device=self.output_device if self.output_device is not None else voice.output_device,
            provider=self.provider or voice.provider,
            model=self.model or voice.model,
            voice=self.voice or voice.voice,
            options=self.options or voice.voice_options(),
            turn_detection=self.turn_detection or voice.turn_detection,
            timing=timing,
        )


class VoiceController:
    """One voice session for the chat screen (see the module text). Run `run()` in a worker."""

    def __init__(
        self,
        target: _Poster,
        setup: VoiceSetup | None = None,
        *,
        chat_provider: str = "demo",
        chat_settings: Callable[[str], ProviderSettings] | None = None,
        instructions: str = "",
        mode: str = PUSH_TO_TALK,
        tool_loop: Any = None,
        record: Callable[[ChatMessage], None] | None = None,
        history: Callable[[], Iterable[ChatMessage]] | None = None,
        revise: Callable[[ChatMessage, ChatMessage], None] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"voice mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.target = target
        self.setup = setup or VoiceSetup()
        self.chat_provider = chat_provider
        self.chat_settings = chat_settings
        self.instructions = instructions
        self.mode = mode
        self.tool_loop = tool_loop
        """The chat's `ToolLoop`: its tools, policy and approver (the modal) serve voice turns too."""
        self.record = record
        """Where each voice exchange goes as text messages (the chat's `Conversation.append`)."""
        self.history = history
        self.revise = revise
        """Where a recorded message is replaced (the chat's `Conversation.revise`): a reply whose
        audio is cut after its text was recorded complete becomes interrupted."""
        """The conversation so far (the chat's `Conversation.history`), read each time a session opens."""
        self.provider = ""
        self.note = ""
        self.turn_detection = ""
        """What the session was opened with: "server" or "manual" ("" before it is open)."""
        self.session: VoiceSession | None = None
        self.turns: ModalTurns | None = None
        self.sink: MeteredSink | None = None
        self.ended = False
        self.state = "muted"
        self._input = SILENCE
        self._speaking = False
        self._now = 0.0
        self._reply: int | None = None
        self._interrupted_until = -math.inf
        self._next_meter = 0.0
        self._error: tuple[str, str] | None = None
        self._hearing = ""  # the user's words so far, from partial transcripts
        self._user_recorded = False  # a user message went to `record` since the last reply did
        self._held: ChatMessage | None = None  # a reply waiting for the transcript of its turn
        self._cuts: dict[int, str] = {}  # reply -> who cut it
        self.releases_reported = False
        """The terminal reports key releases (see `report_releases`)."""
        self._recorded: dict[int, ChatMessage] = {}  # reply -> the message it went in as, complete

    @property
    def running(self) -> bool:
        return self.session is not None and not self.ended

    def post(self, message: Message) -> None:
        self.target.post_message(message)

    # --- the person's side ----------------------------------------------------------------------

    def talk(self) -> str:
        """The talk key: "press", "repeat" or "unsure" (see `ModalTurns`); "" while not running."""
        if self.turns is None:
            return ""
        kind = self.turns.key()
        self._post_meter()
        return kind

    def release(self) -> None:
        """The talk key was released (see `ui.key_release`): hold mode stops talking."""
        if self.turns is not None:
            self.turns.release()
            self._post_meter()

    def report_releases(self, reported: bool) -> None:
        """Whether the terminal reports the talk key's release: if so, hold mode waits for it."""
        self.releases_reported = reported
        if self.turns is not None:
            self.turns.releases_reported = reported

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"voice mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        if self.turns is not None:
            self.turns.set_mode(mode)
            self._post_meter()

    async def send_text(self, text: str) -> None:
        """Say something in text to the voice session (raises `TuiChatError` when it has ended)."""
        if self.session is None or self.ended:
            raise TuiChatError("the voice session is not running")
        self._record_user(text)  # first: its reply may end before the send returns
        await self.session.send_text(text)

    @property
    def assistant_active(self) -> bool:
        """The assistant is speaking, or about to (a reply owed, in progress or still playing)."""
        return self.running and self.session is not None and self.session.assistant_active

    async def interrupt(self) -> bool:
        """Stop the assistant speaking now (Esc): see `VoiceSession.interrupt`. False if it was not."""
        if not self.running or self.session is None:
            return False
        stopped = await self.session.interrupt()
        self._post_meter()
        return stopped

    def needs_restart(self, mode: str) -> bool:
        """Voice mode `mode` needs a session opened another way (server vs. local turn detection)."""
        if not self.running or not self.turn_detection:
            return False
        return turn_detection_for(self.provider, mode, self.setup.turn_detection) != self.turn_detection

    # --- the worker -----------------------------------------------------------------------------

    async def run(self) -> None:
        """Open everything, run the session, post what happens; ends with `VoiceStopped`.

        A failure to open (no voice provider, PortAudio missing, no device) or a failed session
        (device lost, connection dropped) is reported in `VoiceStopped`; so is an unexpected
        error, which must not take the chat down with it. Cancelling the worker stops everything.
        """
        try:
            try:
                session = await self._open()
            except TuiChatError as failure:
                self._error = (failure.message, failure.hint)
                return
            self.session = session
            self.post(VoiceStarted(self, self.provider, self.note))
            self._post_meter()
            async with aclosing(session.run()) as events:
                async for event in events:
                    self._handle(event)
        except Exception as failure:  # noqa: BLE001 - a bug here must not end the app
            self._error = (f"voice stopped on an unexpected error: {failure!r}", "text chat goes on; please report this")
        finally:
            self.ended = True
            if self._reply is not None and self.session is not None:  # voice went off mid-reply: keep what came
                self._record_reply(self.session.reply_text, "error" if self._error else "cancelled")
            self._release_held()
            self.post(VoiceStopped(self, *(self._error or (None, ""))))

    def _choose_provider(self) -> tuple[str, ProviderSettings, str]:
        """(voice provider, its settings, a note when it is not the chat's provider)."""
        from ..realtime import bidi_spec_for

        options = dict(self.setup.provider_options)
        if self.setup.provider:
            spec = bidi_spec_for(self.setup.provider)
            return spec.name, self._settings(spec.text_provider, options), ""
        try:
            spec = bidi_spec_for(self.chat_provider)
        except TuiChatError:
            note = f"{self.chat_provider} has no voice sessions: using the offline voice demo"
            return "demo", ProviderSettings(options=options), note
        return spec.name, self._settings(spec.text_provider, options), ""

    def _settings(self, text_provider: str, options: dict[str, Any]) -> ProviderSettings:
        model = self.setup.model  # the chat's model is a text model: the voice provider picks its own
        if self.chat_settings is None or not text_provider:
            return ProviderSettings(model=model, options=options)
        base = self.chat_settings(text_provider)
        return ProviderSettings(model=model, base_url=base.base_url, api_key=base.api_key, options=options)

    async def _open_bidi(self, name: str, settings: ProviderSettings, options: VoiceOptions) -> Any:
        from ..voice.opening import open_voice

        # ModalTurns takes the turns in every mode, except hands-free with a provider that takes
        # them itself (see the module text); then the session streams and the provider answers.
        self.turn_detection = turn_detection_for(name, self.mode, self.setup.turn_detection)
        tools = None
        if self.tool_loop is not None:
            from ..realtime.tools import SessionTools

            tools = SessionTools.from_loop(self.tool_loop, on_event=lambda event: self.post(VoiceToolEvent(self, event)))
        return await open_voice(
            name,
            settings,
            mode=self.mode,
            turn_detection=self.setup.turn_detection,
            interruption=options.interruption,
            instructions=self.instructions,
            voice=self.setup.voice,
            tools=tools,
            history=self._history_so_far(),
        )

    def _history_so_far(self) -> tuple[ChatMessage, ...]:
        """The conversation the session starts from: the text chat and earlier voice sessions."""
        return tuple(self.history()) if self.history is not None else ()

    async def _open(self) -> VoiceSession:
        name, settings, self.note = self._choose_provider()
        options = replace(self.setup.options or VoiceOptions(), levels=True, auto_complete=True)
        bidi = await self._open_bidi(name, settings, options)
        self.provider = bidi.provider or name
        source: Any = None
        sink: Any = None
        try:
            if self.setup.source_factory is not None:
                source = self.setup.source_factory(bidi.input_rate)
            else:
                from ..audio.devices import MicrophoneSource

                source = MicrophoneSource(self.setup.input_device, bidi.input_rate)
            if self.setup.sink_factory is not None:
                sink = await self.setup.sink_factory(bidi.output_rate)
            else:
                from ..audio.devices import SpeakerSink

                sink = await SpeakerSink.open(self.setup.output_device, bidi.output_rate)
        except BaseException:
            for thing in (sink, source):
                if thing is not None:
                    await thing.aclose()
            await bidi.close()
            raise
        for warning in [*getattr(source, "warnings", ()), *getattr(sink, "warnings", ())]:
            self.post(VoiceNotice(self, warning))
        vad = EnergyVad(source.rate, options.vad)
        self.turns = ModalTurns(vad, options.turns, self.mode, self.setup.timing)
        self.turns.releases_reported = self.releases_reported
        self.sink = MeteredSink(sink)
        return VoiceSession(bidi, source, self.sink, options, vad=vad, turns=self.turns)

    # --- events -> messages ---------------------------------------------------------------------

    def _handle(self, event: VoiceEvent) -> None:
        if isinstance(event, LevelReading):
            self._input = MeterLevels(event.rms_db, event.peak_db, event.hold_db, event.clipped)
            self._speaking = event.speaking
            self._now = event.at
            if event.at + 1e-9 >= self._next_meter:
                self._next_meter = max(self._next_meter + 1.0 / self.setup.meter_rate, event.at)
                self._post_meter()
            return
        if isinstance(event, ProviderChunk):
            self._chunk(event.chunk)
            return
        if isinstance(event, ReplyStarted):
            self._release_held()  # a new reply: the transcript of the last one's turn is not coming
            self._reply = event.reply
            self.post(VoiceReplyStarted(self, event.reply))
        elif isinstance(event, ReplyEnded):
            self._reply = None
            cause = self._cuts.pop(event.reply, "")
            if event.status == "interrupted":
                self._interrupted_until = max(self._interrupted_until, event.at + self.setup.interrupted_s)
            self._record_reply(event.text, event.status, event.reply)
            self.post(VoiceReplyEnded(self, event.reply, event.status, event.text, event.audio_s, event.played_s, cause))
        elif isinstance(event, BargeIn):
            self._interrupted_until = event.at + self.setup.interrupted_s
            if event.reply is not None:
                self._cuts[event.reply] = event.cause
                self._cut_recorded(event.reply)
            self.post(VoiceInterrupted(self, event.reply, event.played_s, event.cause))
        elif isinstance(event, InputWarning):
            self.post(VoiceNotice(self, event.message))
        elif isinstance(event, SessionError):
            self._error = (event.message, event.hint)
        elif not isinstance(event, (TurnStarted, TurnEnded)):
            return
        self._post_meter()

    def _chunk(self, chunk: Any) -> None:
        if isinstance(chunk, TranscriptChunk) and chunk.role is Role.USER:
            if not chunk.final:
                self._hearing += chunk.text
                self.post(VoiceHearing(self, self._hearing))
                return
            shown, self._hearing = self._hearing, ""
            if chunk.text.strip() or shown:  # (an empty one takes the words shown so far away)
                self.post(VoiceHeard(self, chunk.text))
            if chunk.text.strip():
                self._record_user(chunk.text, transcript=True)
        elif isinstance(chunk, TranscriptChunk):
            self.post(VoiceReplyText(self, self._reply, chunk.text, final=chunk.final))
        elif isinstance(chunk, TextDelta):
            self.post(VoiceReplyText(self, self._reply, chunk.text))
        elif isinstance(chunk, ErrorChunk):
            self.post(VoiceNotice(self, f"{chunk.message} ({chunk.hint})" if chunk.hint else chunk.message))

    # --- the conversation -----------------------------------------------------------------------

    def _record_user(self, text: str, *, transcript: bool = False) -> None:
        """What the user said (`transcript`) or typed, for the history; a reply held for the
        transcript of its turn goes in after a transcript."""
        if self.record is None:
            return
        if transcript and self._held is not None:
            held, self._held = self._held, None
            self.record(ChatMessage(Role.USER, text))
            self.record(held)
            self._user_recorded = False
            return
        self._release_held()
        self.record(ChatMessage(Role.USER, text))
        self._user_recorded = True

    def _cut_recorded(self, reply: int) -> None:
        """Reply `reply` was cut while its audio played, after it went in complete: now interrupted."""
        recorded = self._recorded.pop(reply, None)
        if recorded is None:
            return
        cut = replace(recorded, status=ReplyStatus.INTERRUPTED)
        if self._held is recorded:
            self._held = cut
        elif self.revise is not None:
            self.revise(recorded, cut)

    def _record_reply(self, text: str, status: str, reply_id: int | None = None) -> None:
        """The reply as an assistant message; an interrupted one keeps its partial text, marked.

        A reply with nothing of the user's before it is held: the transcript of its turn may come
        after it (transcription runs beside the reply). If none comes before the next reply, typed
        text or the end of voice, it goes in after a stand-in, so the history still alternates.
        """
        if self.record is None:
            return
        try:
            ended = ReplyStatus(status)
        except ValueError:
            ended = ReplyStatus.ERROR
        if not text and ended is ReplyStatus.COMPLETE:
            return  # nothing said: nothing to remember (as the text chat does)
        reply = ChatMessage(Role.ASSISTANT, text, status=ended)
        if reply_id is not None and ended is ReplyStatus.COMPLETE:
            self._recorded[reply_id] = reply  # its audio may still be playing, and be cut
            while len(self._recorded) > 4:  # long since heard to the end
                del self._recorded[next(iter(self._recorded))]
        if self._user_recorded:
            self.record(reply)
            self._user_recorded = False
        else:
            self._release_held()
            self._held = reply

    def _release_held(self) -> None:
        """A held reply whose turn's transcript did not come: in, after a stand-in user message."""
        if self._held is not None and self.record is not None:
            held, self._held = self._held, None
            self.record(ChatMessage(Role.USER, UNTRANSCRIBED))
            self.record(held)

    def _meter_state(self) -> str:
        turns = self.turns
        if turns is None:
            return "muted"
        if self._now < self._interrupted_until:
            return "interrupted"
        if turns.listening and self._speaking:
            return "speaking"
        if self._reply is not None or (self.sink is not None and self.sink.pending_s > 0):
            return "assistant"
        return "listening" if turns.listening else "muted"

    def _post_meter(self) -> None:
        output = self.sink.reading(self._now) if self.sink is not None else SILENCE
        self.state = self._meter_state()
        self.post(VoiceMeter(self, self._input, output, self.state))
