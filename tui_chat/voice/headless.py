"""`tui-chat voice`: a voice session without the TUI.

`run_voice(...)` opens a voice session with a provider, listens to the microphone or a WAV file,
plays replies on the speaker or records them to a WAV file, and prints what happens: readable
lines, or with `json_out` one JSON object per line (turns with their audio times, transcripts,
replies with their audio durations, barge-ins, warnings, errors). It ends when the input ends and
the last reply is done, and returns the exit code (0, or 1 after an error). Unless history is
off (`[history] enabled = false`, `--no-history`) the session is saved as a chat as it happens,
each message marked spoken (`VoiceHistory` -> `Recorder.spoken`, as the chat screen does).
`--continue` / `--chat ID` go on with a saved chat as `ask -c` does: the provider is given its
history (text and earlier spoken turns) when the session opens, and the new turns join it (a
resumed chat is read even with history off; it keeps its own provider, model and pack).

The runner is hands-free: with a provider that detects turns itself (OpenAI Realtime, Gemini Live)
the provider takes the turns (`turn_detection="server"`, unless "local" is asked for); otherwise
the local voice activity detector does.

`run_voice_from_args(args, provider, settings, voice=...)` runs it from the options that
`voice.arguments.add_voice_arguments` defined and the `[voice]` table of the config (the flags
win), for the CLI.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..chunks import (
    Chunk,
    Done,
    ErrorChunk,
    Message,
    TextDelta,
    TranscriptChunk,
    UsageChunk,
)
from ..errors import TuiChatError
from ..providers.registry import ProviderSettings
from ..safe_text import clean
from .dispatch import VoiceEventHandler, dispatch
from .events import (
    BargeIn,
    InputWarning,
    LevelReading,
    ProviderChunk,
    ReplyEnded,
    SessionEnded,
    SessionError,
    TurnEnded,
    TurnStarted,
    VoiceEvent,
    event_to_dict,
)
from .history import VoiceHistory
from .settings import VoiceConfig

if TYPE_CHECKING:
    from ..store.recorder import Recorder

EXIT_OK, EXIT_FAILED = 0, 1


def voice_config_from_args(args: argparse.Namespace, voice: VoiceConfig | None = None) -> VoiceConfig:
    """The `[voice]` settings `voice` with the command line's flags put over them."""
    return (voice or VoiceConfig()).with_overrides(
        voice=getattr(args, "voice", None),
        input_device=getattr(args, "input_device", None),
        output_device=getattr(args, "output_device", None),
        interruption=getattr(args, "interruption", None),
        turn_detection=getattr(args, "turn_detection", None),
        vad_threshold=getattr(args, "vad_threshold", None),
        vad_start=getattr(args, "vad_start", None),
        vad_stop=getattr(args, "vad_stop", None),
        vad_min_volume=getattr(args, "vad_min_volume", None),
    )


def options_from_args(args: argparse.Namespace, voice: VoiceConfig | None = None) -> Any:
    """`VoiceOptions` from the parsed command line over the `[voice]` settings `voice`."""
    return voice_config_from_args(args, voice).voice_options(levels=False, max_input_s=getattr(args, "max_seconds", None))


async def run_voice_from_args(
    args: argparse.Namespace,
    provider: str,
    settings: ProviderSettings | None = None,
    *,
    instructions: str = "",
    voice: VoiceConfig | None = None,
    history: bool = True,
) -> int:
    """Run `tui-chat voice` with the options `add_voice_arguments` defined, over the `[voice]` settings
    `voice`; saved as a chat when `history` (the config's `[history] enabled`) and not `--no-history`,
    going on with the saved chat `--continue` / `--chat ID` name (the common options), if any."""
    chosen = voice_config_from_args(args, voice)
    try:
        options = chosen.voice_options(levels=False, max_input_s=getattr(args, "max_seconds", None))
    except ValueError as error:  # flags that do not go together (a bad number is refused by its check)
        raise TuiChatError(f"voice settings: {error}") from None
    save = history and not getattr(args, "no_history", False)
    recorder, earlier = await _open_history(args, provider, settings, save=save)
    try:
        return await run_voice(
            provider,
            settings=settings,
            instructions=instructions,
            audio_in=args.audio_in,
            audio_out=args.audio_out,
            fast=args.fast,
            json_out=args.json,
            input_device=chosen.input_device,
            output_device=chosen.output_device,
            play=not args.no_playback,
            options=options,
            voice=chosen.voice,
            turn_detection=chosen.turn_detection,
            recorder=recorder,
            history=earlier,
        )
    finally:
        if recorder is not None:
            await asyncio.to_thread(recorder.close)


async def _open_history(
    args: argparse.Namespace, provider: str, settings: ProviderSettings | None, *, save: bool
) -> tuple[Recorder | None, list[Message]]:
    """The recorder the session is saved with (None when not `save`) and the conversation it goes
    on from: with `--continue` / `--chat ID`, the saved chat's history, and the recorder adds to
    that chat under its own settings; else a new chat named after the voice provider. The store
    is opened off the loop and its notice goes to stderr; an unknown chat is a `StoreError`."""
    given: str | None = getattr(args, "chat", None)
    resume = getattr(args, "continue_chat", False) or given is not None
    if not (save or resume):
        return None, []
    from ..store.history import open_store
    from ..store.recorder import ChatSettings, Recorder
    from ..store.resume import chat_to_go_on_with, history_messages

    store = await asyncio.to_thread(open_store)
    if store.notice:
        sys.stderr.write(f"tui-chat: warning: {clean(store.notice)}\n")
    try:
        record = await asyncio.wrap_future(store.run(chat_to_go_on_with, given)) if resume else None
    except BaseException:
        await asyncio.to_thread(store.close)
        raise
    earlier = history_messages(record) if record is not None else []
    if not save:
        await asyncio.to_thread(store.close)
        return None, earlier
    if record is None:
        model = settings.model if settings is not None else None
        return Recorder(store, lambda: ChatSettings(provider=provider, model=model)), earlier
    info = record.info
    kept = ChatSettings(info.provider or provider, info.model, info.pack, info.prompt, info.variables)
    return Recorder(store, lambda: kept, chat_id=info.id), earlier


def _stamp(at: float) -> str:
    return f"[{at:7.2f}]"


class _Printer(VoiceEventHandler):
    """Prints a session's events: one JSON object a line (`json_out`), else readable lines."""

    def __init__(self, out: TextIO, err: TextIO, json_out: bool) -> None:
        self.out, self.err, self.json_out = out, err, json_out

    def _line(self, stream: TextIO, text: str) -> None:
        # File names, transcripts and provider messages are untrusted: no control sequences out.
        stream.write(clean(text) + "\n")
        stream.flush()

    def event(self, event: VoiceEvent) -> None:
        if not self.json_out:
            dispatch(event, self)
        elif not _unprinted(event):
            self._line(self.out, json.dumps(event_to_dict(event), ensure_ascii=False))
            if isinstance(event, SessionError):  # as `ask --json` does: the person is told too
                self._line(self.err, _error_line(event))

    def _json(self, at: float, chunk: Chunk) -> None:
        """A chunk with no line of its own, as JSON after its time."""
        event = ProviderChunk(at, chunk)
        if not _unprinted(event):
            self._line(self.out, f"{_stamp(at)} {json.dumps(event_to_dict(event), ensure_ascii=False)}")

    def on_turn_started(self, event: TurnStarted) -> None:
        self._line(self.out, f"{_stamp(event.at)} you: speaking")

    def on_turn_ended(self, event: TurnEnded) -> None:
        self._line(self.out, f"{_stamp(event.at)} you: turn of {event.duration:.2f} s ended ({event.reason})")

    def on_reply_ended(self, event: ReplyEnded) -> None:
        line = f"{_stamp(event.at)} reply {event.reply}: {event.audio_s:.2f} s of audio, {event.status}"
        if event.status != "complete":
            line += f" after {event.played_s:.2f} s heard: {event.text!r}"
        self._line(self.out, line)

    def on_barge_in(self, event: BargeIn) -> None:
        by = ", heard by the provider" if event.cause == "server" else ""
        self._line(self.out, f"{_stamp(event.at)} barge-in ({event.strategy}{by}): {event.flushed_s:.2f} s of reply audio dropped")

    def on_warning(self, event: InputWarning) -> None:
        self._line(self.err, f"tui-chat: warning: {event.message}")

    def on_error(self, event: SessionError) -> None:
        self._line(self.err, _error_line(event))

    def on_session_ended(self, event: SessionEnded) -> None:
        self._line(self.out, f"{_stamp(event.at)} session ended: {event.turns} turns, {event.replies} replies")

    def on_user_words(self, at: float, chunk: TranscriptChunk) -> None:
        self._said(at, "you (heard)", chunk)

    def on_reply_words(self, at: float, chunk: TranscriptChunk | TextDelta) -> None:
        if isinstance(chunk, TranscriptChunk):
            self._said(at, "assistant", chunk)
        else:
            self._json(at, chunk)

    def _said(self, at: float, who: str, chunk: TranscriptChunk) -> None:
        if chunk.final and chunk.text.strip():  # (an empty one: a transcription that failed, its warning says so)
            self._line(self.out, f"{_stamp(at)} {who}: {chunk.text}")

    def on_provider_error(self, at: float, chunk: ErrorChunk) -> None:
        hint = f" ({chunk.hint})" if chunk.hint else ""
        self._line(self.err, f"tui-chat: warning: {chunk.message}{hint}")

    def on_other_chunk(self, at: float, chunk: Chunk) -> None:
        self._json(at, chunk)


def _unprinted(event: VoiceEvent) -> bool:
    """Events not printed: level readings, partial transcripts, `Done` and usage."""
    if isinstance(event, LevelReading):
        return True
    if isinstance(event, ProviderChunk):
        chunk = event.chunk
        return isinstance(chunk, (Done, UsageChunk)) or (isinstance(chunk, TranscriptChunk) and not chunk.final)
    return False


async def run_voice(
    provider: str = "demo",
    *,
    settings: ProviderSettings | None = None,
    instructions: str = "",
    audio_in: str | Path | None = None,
    audio_out: str | Path | None = None,
    fast: bool = False,
    json_out: bool = False,
    input_device: int | str | None = None,
    output_device: int | str | None = None,
    play: bool = True,
    options: Any = None,
    voice: str | None = None,
    turn_detection: str | None = None,
    recorder: Recorder | None = None,
    history: Iterable[Message] = (),
    out: TextIO | None = None,
    err: TextIO | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[object]] | None = None,
) -> int:
    """Run a voice session without the TUI; the exit code (see the module text).

    Without `audio_in` the microphone (`input_device`) is listened to; without `audio_out` replies
    are played on the speaker (`output_device`), unless `fast` or not `play`. `clock`/`sleep` pace
    a file in real time (tests inject their own). `instructions` is the system prompt, `voice` the
    provider's voice; `turn_detection` "local" keeps the turns here even with a provider that
    could take them (see the module text). With `recorder` every exchange is saved as it becomes
    final (see `VoiceHistory`). `history` is the conversation the session goes on from.
    """
    from ..audio.playback import ClockedSink
    from .opening import open_voice
    from .session import VoiceOptions, VoiceSession

    printer = _Printer(out or sys.stdout, err or sys.stderr, json_out)
    options = options or VoiceOptions(levels=False)
    try:
        if fast and audio_in is None:
            raise TuiChatError("--fast needs --audio-in: a microphone cannot be read faster than it hears")
        # Hands-free: the provider's own turn detection when it has one, else this loop's VAD;
        # barge-in follows --interruption.
        bidi = await open_voice(
            provider,
            settings,
            mode="hands-free",
            turn_detection=turn_detection,
            interruption=options.interruption,
            instructions=instructions,
            voice=voice,
            history=history,
        )
    except TuiChatError as error:
        _report_start_failure(printer, error)
        return EXIT_FAILED

    sink: Any = None
    try:
        if audio_in is not None:
            from ..audio.sources import open_wav_source

            pacing: dict[str, Any] = {}
            if clock is not None:
                pacing["clock"] = clock
            if sleep is not None:
                pacing["sleep"] = sleep
            source: Any = open_wav_source(audio_in, bidi.input_rate, fast=fast, **pacing)
        else:
            from ..audio.devices import MicrophoneSource

            source = MicrophoneSource(input_device, bidi.input_rate)
        if audio_out is not None:
            from ..audio.wav import WavWriter

            sink = ClockedSink(bidi.output_rate, WavWriter(audio_out, bidi.output_rate))
        elif fast or not play:
            sink = ClockedSink(bidi.output_rate)
        else:
            from ..audio.devices import SpeakerSink

            sink = await SpeakerSink.open(output_device, bidi.output_rate)
            for warning in sink.warnings:
                printer._line(printer.err, f"tui-chat: warning: {warning}")
    except TuiChatError as error:
        await bidi.close()
        if sink is not None:
            await sink.aclose()
        _report_start_failure(printer, error)
        return EXIT_FAILED

    voice = VoiceSession(bidi, source, sink, options)
    saved = None
    if recorder is not None:
        model = getattr(bidi, "model", None)
        saved = VoiceHistory(
            lambda message, spoken: recorder.spoken(message, spoken, provider=bidi.provider or provider, model=model),
            recorder.spoken_replies(lambda: (bidi.provider or provider, model)),
        )
    async for event in voice.run():
        printer.event(event)
        if saved is not None:
            dispatch(event, saved)
    if saved is not None:
        saved.close("error" if voice.error is not None else "cancelled")
    return EXIT_OK if voice.error is None else EXIT_FAILED


def _report_start_failure(printer: _Printer, error: TuiChatError) -> None:
    printer.event(SessionError(0.0, error.message, error.hint))


def _error_line(error: Any) -> str:
    """The one line a fatal `SessionError` gets on stderr."""
    hint = f" ({error.hint})" if error.hint else ""
    return f"tui-chat: error: {error.message}{hint}"


def run_devices(out: TextIO | None = None) -> int:
    """`tui-chat devices`: print the sound devices ('<' default input, '>' default output)."""
    from ..audio.devices import format_devices, list_devices

    (out or sys.stdout).write(clean(format_devices(list_devices())))
    return EXIT_OK
