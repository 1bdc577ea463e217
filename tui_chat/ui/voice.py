"""Voice mode for the chat screen: a `VoiceSession` run in a worker, its events posted as messages
(`ui.voice_messages`).

`VoiceController.run()` is the body of the screen's voice worker. It opens a bidirectional session
(the `[voice]` provider, else the chat's provider when it has one, else the offline voice demo),
the microphone and the speaker (or what a `VoiceSetup` injects: tests give generated audio and a
virtual speaker), runs a `VoiceSession`, and posts what happens to the screen: what the user is
heard saying (growing as the provider transcribes it, then whole), reply text for the chat log,
meter readings (about 30 a second out of the session's 50), notices, and why voice stopped.
It never touches a widget itself. Each exchange is handed to `record` (the chat's
`Conversation.append` and the saved chat's `Recorder.spoken`) through a `VoiceHistory`, in order,
each reply once it has ended (heard out, or cut: with the words heard), so text chat after talking
goes on with the same history, and a reopened chat shows it; and the session
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
from ..chunks import ErrorChunk, Message as ChatMessage, TextDelta, TranscriptChunk
from ..errors import TuiChatError
from ..providers.registry import ProviderSettings
from ..store.records import VoiceTurn
from ..tools.loop import ToolEvent
from ..voice.dispatch import VoiceEventHandler, dispatch
from ..voice.events import (
    BargeIn,
    InputWarning,
    LevelReading,
    ReplyEnded,
    ReplyStarted,
    SessionError,
    TurnEnded,
    TurnStarted,
)
from ..voice.history import ReplyStream, VoiceHistory
from ..voice.meter import SILENCE, MeterLevels
from ..voice.metered_sink import MeteredSink
from ..voice.modal_turns import MODES, PUSH_TO_TALK, KeyTiming, ModalTurns
from ..voice.session import VoiceOptions, VoiceSession
from ..voice.settings import VoiceConfig, turn_detection_for
from .voice_messages import (
    VoiceHeard,
    VoiceHearing,
    VoiceMeter,
    VoiceNotice,
    VoiceReplyDone,
    VoiceReplyEnded,
    VoiceReplyStarted,
    VoiceReplyText,
    VoiceStarted,
    VoiceStopped,
    VoiceToolEvent,
)


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


class VoiceController(VoiceEventHandler):
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
        record: Callable[[ChatMessage, VoiceTurn | None], None] | None = None,
        history: Callable[[], Iterable[ChatMessage]] | None = None,
        stream: ReplyStream | None = None,
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
        self.recorded = VoiceHistory(record, stream) if record is not None else None
        """Where each voice exchange goes as messages (`record`: to the chat's conversation and saved
        chat; `stream`: each reply's words to the saved chat as they come)."""
        self.history = history
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
        self._reply: int | None = None  # the reply whose words are coming
        self._interrupted_until = -math.inf
        self._next_meter = 0.0
        self._error: tuple[str, str] | None = None
        self._hearing = ""  # the user's words so far, from partial transcripts
        self._cuts: dict[int, str] = {}  # reply -> who cut it
        self.releases_reported = False
        """The terminal reports key releases (see `report_releases`)."""

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
        if self.recorded is not None:
            self.recorded.typed(text)  # first: its reply may begin before the send returns
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
                    dispatch(event, self)
        except Exception as failure:  # noqa: BLE001 - a bug here must not end the app
            self._error = (f"voice stopped on an unexpected error: {failure!r}", "text chat goes on; please report this")
        finally:
            self.ended = True
            status = "error" if self._error else "cancelled"
            if self.session is not None:  # voice went off mid-reply, or while one played: keep what came
                for end in self.session.unended(status):
                    self.on_reply_ended(end)
            if self.recorded is not None:
                self.recorded.close(status)
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

            tools = SessionTools.from_loop(self.tool_loop, on_event=self._tool_event)
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

    # --- events -> messages (`VoiceEventHandler`) ------------------------------------------------

    def on_level(self, event: LevelReading) -> None:
        self._input = MeterLevels(event.rms_db, event.peak_db, event.hold_db, event.clipped)
        self._speaking = event.speaking
        self._now = event.at
        if event.at + 1e-9 >= self._next_meter:
            self._next_meter = max(self._next_meter + 1.0 / self.setup.meter_rate, event.at)
            self._post_meter()

    def on_turn_started(self, event: TurnStarted) -> None:
        if self.recorded is not None:
            self.recorded.on_turn_started(event)
        self._post_meter()

    def on_turn_ended(self, event: TurnEnded) -> None:
        if self.recorded is not None:
            self.recorded.on_turn_ended(event)
        self._post_meter()

    def on_reply_started(self, event: ReplyStarted) -> None:
        self._reply = event.reply
        if self.recorded is not None:
            self.recorded.on_reply_started(event)
        self.post(VoiceReplyStarted(self, event.reply))
        self._post_meter()

    def on_reply_done(self, at: float) -> None:
        if self._reply is not None:
            self.post(VoiceReplyDone(self, self._reply))
            self._reply = None

    def on_reply_ended(self, event: ReplyEnded) -> None:
        if self._reply == event.reply:
            self._reply = None
        cause = self._cuts.pop(event.reply, "")
        if event.status == "interrupted":
            self._interrupted_until = max(self._interrupted_until, event.at + self.setup.interrupted_s)
        if self.recorded is not None:
            self.recorded.on_reply_ended(event)
        self.post(VoiceReplyEnded(self, event.reply, event.status, event.text, event.audio_s, event.played_s, cause))
        self._post_meter()

    def on_barge_in(self, event: BargeIn) -> None:
        if self.recorded is not None:
            self.recorded.on_barge_in(event)
        self._interrupted_until = event.at + self.setup.interrupted_s
        if event.reply is not None:
            self._cuts[event.reply] = event.cause
        self._post_meter()

    def on_warning(self, event: InputWarning) -> None:
        self.post(VoiceNotice(self, event.message))
        self._post_meter()

    def on_error(self, event: SessionError) -> None:
        self._error = (event.message, event.hint)
        self._post_meter()

    def on_user_words(self, at: float, chunk: TranscriptChunk) -> None:
        if not chunk.final:
            self._hearing += chunk.text
            self.post(VoiceHearing(self, self._hearing))
            return
        shown, self._hearing = self._hearing, ""
        if chunk.text.strip() or shown:  # (an empty one takes the words shown so far away)
            self.post(VoiceHeard(self, chunk.text))
        if self.recorded is not None:
            self.recorded.on_user_words(at, chunk)

    def _tool_event(self, event: Any) -> None:
        """A tool call of the session changed status (or a note about it): shown, and saved with its reply."""
        self.post(VoiceToolEvent(self, event))
        if self.recorded is not None and isinstance(event, ToolEvent):
            self.recorded.tool_event(event)

    def on_reply_words(self, at: float, chunk: TranscriptChunk | TextDelta) -> None:
        self.post(VoiceReplyText(self, self._reply, chunk.text, final=isinstance(chunk, TranscriptChunk) and chunk.final))
        if self.recorded is not None:
            self.recorded.on_reply_words(at, chunk)

    def on_provider_error(self, at: float, chunk: ErrorChunk) -> None:
        self.post(VoiceNotice(self, f"{chunk.message} ({chunk.hint})" if chunk.hint else chunk.message))

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
