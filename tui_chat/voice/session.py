"""A voice session: microphone frames -> VAD -> turns -> a `BidiSession`, and its replies -> speaker.

`VoiceSession(bidi, source, sink, options).run()` is an async iterator of `VoiceEvent`s for a UI
or the headless runner; it ends when the input has ended and the last reply is done (and heard),
when the model's session ends, or when a device fails (a `SessionError` says why). Whatever way
it ends, the source, the sink and the model's session are closed.

Time is audio time: the samples taken from the source, so a file read fast behaves as it would
live. The sink is advanced by the input (a virtual speaker) or keeps its own time (a device).

Reply audio goes to the sink as it arrives, on the model session's own thread, not after waiting
for this loop (`playback_lane.PlaybackLane`, the model session's `on_chunk`): a front end whose
loop is held up by a busy screen keeps its speaker fed. The sink's tags are the lane's segments;
`_heard_s(reply)` is how much of a reply was heard.

Interruption, when the user starts speaking while the assistant is talking (a reply in progress
or reply audio still queued):
  ignore     nothing happens; the user's speech is still a turn
  immediate  playback is flushed at once and the model told to stop (`BidiSession.interrupt`)
  deferred   the piece of audio being played plays to its end, the rest is flushed; the model
             is told at once
Audio and assistant transcript of the interrupted reply that arrive afterwards are dropped.
`interrupt()` does the same at the front end's request (Esc in the TUI), whatever the strategy.

How a reply ends is decided here, from playback, for every provider: the model being done with it
(`Done`) makes it whole, not over. One whose audio is still playing ends (`ReplyEnded`) when it
has been heard out, `complete`, or when it is cut first, `interrupted`, with what was heard of it:
its words are stamped with the reply's audio position as they arrive, and a cut one keeps those
heard by where playback stopped (`realtime.heard.SpokenWords`; chunk-granular, to a word).

Who says where turns end follows the model's session (`bidi.config.turn_detection`):
  manual  the turn detector here: each turn's audio is sent, and its end (`end_turn`) is answered
          by one reply. With `auto_complete` the end of each turn is sent as soon as the detector
          reports it; without it the front end calls `end_turn()` (push-to-talk style). The end of
          the input always ends an open turn and sends it.
  server  the provider's own voice detection: every frame is streamed while the turn taker is
          listening (not muted), and the provider decides where turns end and answers them;
          replies are counted by their `Done`/`Interrupted`. The provider calls `on_user_speech`
          when it hears the user start speaking, which interrupts per the strategy above; a reply
          the provider cuts by itself (`Interrupted`) is flushed from playback at once. The local
          detector still runs, for the level readings, the turn events, to know how many replies
          to wait for at the end of the input, and to cut the audio of a reply the provider has
          already finished (only this side knows it is still playing).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import AsyncIterator

import numpy as np

from ..chunks import AudioChunk, Done, ErrorChunk, Interrupted, Role, TextDelta, TranscriptChunk
from ..errors import TuiChatError
from ..realtime.base import BidiSession
from ..realtime.heard import SpokenWords
from ..safe_text import clean, clean_chunk
from .events import (
    BargeIn,
    InputWarning,
    LevelReading,
    ProviderChunk,
    ReplyEnded,
    ReplyStarted,
    SessionEnded,
    SessionError,
    TurnEnded,
    TurnStarted,
    VoiceEvent,
)
from ..audio.clock import AudioClock
from ..audio.levels import LevelMeter
from ..audio.pcm import array_to_pcm
from ..audio.playback import PlaybackSink
from .playback_lane import PlaybackLane
from .settings import INTERRUPTIONS
from ..audio.sources import AudioSource
from .turns import TurnAudio, TurnDetector, TurnEnd, TurnParams, TurnStart, TurnTaker
from ..audio.vad import EnergyVad, VadParams, VadState, VoiceActivityDetector


@dataclass(frozen=True, slots=True)
class VoiceOptions:
    """How a voice session listens and when it lets itself be interrupted."""

    vad: VadParams = field(default_factory=VadParams)
    turns: TurnParams = field(default_factory=TurnParams)
    interruption: str = "immediate"
    auto_complete: bool = True
    levels: bool = True
    """Report a `LevelReading` for every frame (a meter needs them; the headless runner does not)."""
    max_input_s: float | None = None
    """Stop listening after this much input audio (None: until the input ends or `stop()`)."""
    reply_timeout: float = 60.0
    """Wall-clock seconds, once the input has ended, that a reply owed may go without a word
    from the model before the session fails as stalled."""
    answer_timeout: float = 15.0
    """Server turn detection: wall-clock seconds to wait, once the input has ended, for the
    answer to speech the local detector heard; the provider's detector may not have taken it
    for a turn, so running out is only a warning."""
    silence_warning_s: float = 2.0
    clipping_warning_s: float = 0.5

    def __post_init__(self) -> None:
        if self.interruption not in INTERRUPTIONS:
            raise ValueError(f"interruption must be one of {', '.join(INTERRUPTIONS)}, not {self.interruption!r}")


_END = object()


class VoiceSession:
    """Runs one voice conversation over `bidi` (see the module text)."""

    def __init__(
        self,
        bidi: BidiSession,
        source: AudioSource,
        sink: PlaybackSink,
        options: VoiceOptions | None = None,
        *,
        vad: VoiceActivityDetector | None = None,
        turns: TurnTaker | None = None,
    ) -> None:
        self.bidi = bidi
        self.source = source
        self.sink = sink
        self.options = options or VoiceOptions()
        self.rate = source.rate
        self.vad = vad or EnergyVad(self.rate, self.options.vad)
        self.turns: TurnTaker = turns or TurnDetector(self.vad, self.options.turns)
        self.meter = LevelMeter(self.rate)
        self.error: TuiChatError | None = None
        self.turn_count = 0
        self.reply_count = 0
        self.server_turns = bidi.config.turn_detection == "server"
        """The provider takes the turns (see the module text)."""
        bidi.on_user_speech = self._user_speech
        self._lane = PlaybackLane(sink, server_turns=self.server_turns)
        bidi.on_chunk = self._lane.take
        self._segment = 1  # the lane's segment of the chunks read here: 1 + the reply ends read
        self._segments: dict[int, int] = {}  # reply -> the segment its audio is tagged with
        self._clock = AudioClock(self.rate)
        self._events: asyncio.Queue[object] = asyncio.Queue()
        self._changed = asyncio.Event()  # set with every event: the end of the input waits on it
        self._pending = 0  # turns and texts sent and not yet answered
        self._owed = 0  # server turns: turns heard and texts sent, each owed a reply
        self._streaming = False  # server turns: frames are going to the provider
        self._reply: int | None = None  # the number of the reply in progress
        self._reply_audio = 0.0
        self._words = SpokenWords()  # the reply in progress's words, stamped with its audio position
        self._playing_out: dict[int, tuple[float, SpokenWords]] = {}  # reply -> (audio_s, words): all came, not all heard
        self._unsent_audio = False
        self._stop = False
        self._heard_sound = False
        self._silence_warned = False
        self._clipped_s = 0.0
        self._clip_warned = False
        self._ran = False
        self._abandoned = False

    # --- the front end's side -------------------------------------------------------------------

    @property
    def now(self) -> float:
        """Audio time: seconds of input taken so far."""
        return self._clock.now

    @property
    def replying(self) -> bool:
        """A reply is in progress: it has begun and its `Done`/`Interrupted` has not come."""
        return self._reply is not None

    @property
    def reply_text(self) -> str:
        """The text of the reply in progress so far (its final transcript once that came)."""
        return self._words.text

    def unended(self, status: str) -> list[ReplyEnded]:
        """How the replies begun and not ended (in progress, or all come and still playing) end when
        the front end stops the session, now or by leaving `run()` early: with `status` ("cancelled",
        "error"). A session that ends by itself ends them itself."""
        ends = [
            self._ended(reply, status, audio_s, self._heard_s(reply), words)
            for reply, (audio_s, words) in self._playing_out.items()
        ]
        if self._reply is not None:
            ends.append(self._ended(self._reply, status, self._reply_audio, self._heard_s(self._reply), self._words))
        return ends

    @property
    def assistant_active(self) -> bool:
        """A reply is owed or in progress, or its audio is still playing."""
        return self._pending > 0 or self._reply is not None or self.sink.pending_s > 0

    async def end_turn(self) -> None:
        """Send the end of the user's turn now (when `auto_complete` is off)."""
        if self._unsent_audio:
            await self._commit_turn()

    async def send_text(self, text: str) -> None:
        """Say something in text in the middle of the voice session."""
        await self.bidi.send_text(text)
        self._expect_reply()
        self._owed += 1

    async def interrupt(self) -> bool:
        """Stop the assistant at once (the person asked: Esc in the TUI), whatever the strategy.

        Playback is flushed, the model is told how much of the reply was heard
        (`bidi.interrupt(played=...)`), what still arrives of that reply is dropped, and a
        `BargeIn` with cause "stop" reports it. Returns False, doing nothing, when the assistant
        was neither speaking nor about to.
        """
        if not self.assistant_active:
            return False
        await self._barge_in("stop", "immediate")
        return True

    def stop(self) -> None:
        """Stop listening; the session ends once the outstanding replies are done."""
        self._stop = True

    async def run(self) -> AsyncIterator[VoiceEvent]:
        """The session's events until it ends (see the module text). Iterate once."""
        if self._ran:
            raise RuntimeError("a VoiceSession runs only once")
        self._ran = True
        runner = asyncio.create_task(self._main(), name="voice-session")
        try:
            while True:
                event = await self._events.get()
                if event is _END:
                    break
                yield event  # type: ignore[misc]
        finally:
            if not runner.done():
                self._abandoned = True  # the front end stopped reading
                runner.cancel()
            await asyncio.wait({runner})

    # --- inside ---------------------------------------------------------------------------------

    def _emit(self, event: VoiceEvent) -> None:
        self._events.put_nowait(event)
        self._changed.set()

    def _heard_s(self, reply: int | None) -> float:
        """Seconds of reply `reply`'s audio played so far (0 for none)."""
        segment = self._segments.get(reply) if reply is not None else None
        return self.sink.played_s(segment) if segment is not None else 0.0

    def _reply_of(self, segment: object) -> int | None:
        """The reply whose audio is tagged `segment` (None: one not yet read here, or none)."""
        return next((reply for reply, seg in self._segments.items() if seg == segment), None)

    def _fail(self, message: str, hint: str = "", error: TuiChatError | None = None) -> None:
        if self.error is None:
            self.error = error or TuiChatError(message, hint=hint)
            self._emit(SessionError(self.now, message, hint))

    async def _main(self) -> None:
        listening = asyncio.create_task(self._input(), name="voice-input")
        answering = asyncio.create_task(self._output(), name="voice-output")
        try:
            await asyncio.wait({listening, answering}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (listening, answering):
                task.cancel()
            await asyncio.wait({listening, answering})
            for task in (listening, answering):
                if not task.cancelled() and (bug := task.exception()) is not None:  # not a TuiChatError: those are reported
                    self._fail(f"the voice session stopped on an unexpected error: {type(bug).__name__}: {bug}", "this is a bug; please report it")
            for close in (self.source.aclose, self.sink.aclose, self.bidi.close):
                try:
                    await close()
                except Exception as error:  # noqa: BLE001 - closing must not hide how the session ended
                    self._emit(InputWarning(self.now, f"while closing: {error}"))
            if self.bidi.error is not None and self.error is None:
                self._fail(self.bidi.error.message, self.bidi.error.hint, self.bidi.error)
            if not self._abandoned:  # (else the front end ends them: `unended`)
                self._settle_playback(cut=True)  # the session ended before they were heard out
            self._emit(SessionEnded(self.now, self.turn_count, self.reply_count, str(self.error) if self.error else None))
            self._events.put_nowait(_END)

    async def _input(self) -> None:
        try:
            first = True
            async for frame in self.source.frames():
                if first:
                    for warning in self.source.warnings:
                        self._emit(InputWarning(self.now, warning))
                    first = False
                await self._frame(frame)
                if self._stop or (self.options.max_input_s is not None and self.now >= self.options.max_input_s):
                    break
            for event in self.turns.finish():
                await self._turn_event(event)
            if self.server_turns:
                if self._streaming:
                    await self._pause_stream()
            elif self._unsent_audio:
                await self._commit_turn()
            if not await self._await_replies():
                return
            await self.sink.drain()
            if self.sink.error is not None:
                raise self.sink.error
            self._settle_playback()
        except TuiChatError as error:  # a device lost, a bad file, a send on a dead session
            if self.bidi.error is None:
                self._fail(error.message, error.hint, error)

    def _settled(self) -> bool:
        """Every reply owed has come and ended (server turns: as many replies as turns heard)."""
        if self._reply is not None:
            return False
        return self.reply_count >= self._owed if self.server_turns else self._pending == 0

    async def _await_replies(self) -> bool:
        """Wait, once the input has ended, until `_settled`. False after a stall (reported)."""
        while not self._settled():
            answer = self.server_turns and self._reply is None
            limit = self.options.answer_timeout if answer else self.options.reply_timeout
            self._changed.clear()
            try:
                async with asyncio.timeout(limit):  # not wait_for: on 3.11 it can swallow a cancellation
                    await self._changed.wait()
            except TimeoutError:
                provider = self.bidi.provider or "the provider"
                if answer:
                    missing = self._owed - self.reply_count
                    self._emit(InputWarning(
                        self.now,
                        f"{provider} did not answer the last {missing} turn{'s' if missing != 1 else ''} within {limit:g} s: "
                        "its own voice detection may not have taken it for speech",
                    ))
                    return True
                self._fail(f"no reply from {provider} within {limit:g} s", hint="the connection may be stalled; try again")
                return False
        return True

    async def _frame(self, frame: np.ndarray) -> None:
        self._clock.advance(frame.size)
        self.sink.advance(frame.size, self.rate)
        if self.sink.error is not None:
            raise self.sink.error
        self._settle_playback()
        level = self.meter.measure(frame)
        self._watch_input(frame, level.clipped)
        events = self.turns.process(frame)
        if self.options.levels:
            speaking = self.vad.state is not VadState.QUIET
            self._emit(LevelReading(self.now, level.rms_db, level.peak_db, level.hold_db, level.clipped, speaking))
        if self.server_turns:
            await self._stream(frame)
        for event in events:
            await self._turn_event(event)

    async def _stream(self, frame: np.ndarray) -> None:
        """Server turns: the frame goes to the provider while the turn taker listens (a muted one does not)."""
        if getattr(self.turns, "listening", True):  # `ModalTurns` has it; a plain detector always listens
            await self.bidi.send_audio(array_to_pcm(frame), self.rate)
            self._streaming = True
        elif self._streaming:
            await self._pause_stream()

    async def _pause_stream(self) -> None:
        """The audio stops (muted, input ended): `end_turn` lets the provider hear the end of the speech."""
        self._streaming = False
        await self.bidi.end_turn()

    def _watch_input(self, frame: np.ndarray, clipped: bool) -> None:
        duration = frame.size / self.rate
        if not self._heard_sound:
            if frame.any():
                self._heard_sound = True
            elif not self._silence_warned and self.now >= self.options.silence_warning_s:
                self._silence_warned = True
                self._emit(InputWarning(self.now, f"the input has been digital silence for {self.now:.1f} s: is the microphone muted?"))
        self._clipped_s = self._clipped_s + duration if clipped else 0.0
        if self._clipped_s >= self.options.clipping_warning_s and not self._clip_warned:
            self._clip_warned = True
            self._emit(InputWarning(self.now, "the input is clipping: lower the microphone's gain or move it away"))

    async def _turn_event(self, event: object) -> None:
        if isinstance(event, TurnStart):
            self.turn_count += 1
            self._emit(TurnStarted(event.at, event.detected_at))
            # With server turns the provider says when the user talks over a reply in progress; audio
            # of a reply it has finished is only here, so speech over that is for this side to cut.
            ours = not self.server_turns or self._reply is None
            if ours and self.options.interruption != "ignore" and self.assistant_active and not event.continued:
                await self._barge_in("speech")
        elif isinstance(event, TurnAudio):
            if event.samples.size and not self.server_turns:
                await self.bidi.send_audio(array_to_pcm(event.samples), self.rate)
                self._unsent_audio = True
        elif isinstance(event, TurnEnd):
            if self.server_turns:
                if event.reason != "max_length":  # (speech that goes on is one utterance to the provider)
                    self._owed += 1
                self._emit(TurnEnded(event.at, event.start, event.detected_at, event.reason, False))
                return
            send = (self.options.auto_complete or event.reason == "input_end") and self._unsent_audio
            self._emit(TurnEnded(event.at, event.start, event.detected_at, event.reason, send))
            if send:
                await self._commit_turn()

    async def _commit_turn(self) -> None:
        self._unsent_audio = False
        await self.bidi.end_turn()
        self._expect_reply()

    def _expect_reply(self) -> None:
        self._pending += 1

    def _reply_answered(self) -> None:
        self._pending = max(0, self._pending - 1)

    async def _user_speech(self) -> None:
        """`bidi.on_user_speech`: the provider heard the user start speaking (server turn detection).

        Over a reply (or its audio) this is a barge-in, per the strategy; otherwise the provider is
        still told, as it would tell itself without this hook, so its idea of the reply stays right.
        """
        if self.options.interruption == "ignore":
            return
        if self.assistant_active:
            await self._barge_in("server")
        else:
            await self.bidi.interrupt()

    async def _barge_in(self, cause: str, strategy: str | None = None) -> None:
        """Cut the reply: flush playback (all, or all but the piece playing for "deferred"),
        drop what still arrives of it, report a `BargeIn` and tell the model how much was heard."""
        strategy = strategy or self.options.interruption
        playing = self.sink.playing  # a segment: its reply may not have been read here yet
        reply = self._reply_of(playing) if playing is not None else None
        if reply is None:
            reply = self._reply
        played = self.sink.played_s(playing) if playing is not None else self._heard_s(reply)
        self._settle_playback()
        heard = {cut: self._heard_s(cut) for cut in self._playing_out}
        # What is still on its way of the reply being cut is dropped (by the lane, as it comes).
        flushed = self._lane.cut(keep_current=strategy == "deferred")
        self._emit(BargeIn(self.now, strategy, reply, flushed, played, cause))
        self._settle_playback(cut=True, heard=heard)
        await self.bidi.interrupt(played=played)

    def _start_reply(self) -> None:
        if self._reply is None:
            self.reply_count += 1
            self._reply = self.reply_count
            self._segments[self._reply] = self._segment
            self._reply_audio = 0.0
            self._words = SpokenWords()
            self._emit(ReplyStarted(self.now, self._reply))

    def _end_reply(self, status: str) -> None:
        """The model is done with the reply in progress. A complete one whose audio is still
        playing ends when it has been heard out, or as interrupted when it is cut first
        (`_settle_playback`): how a reply ends is decided by what was heard, for every provider."""
        if self._reply is None:
            self._start_reply()
        reply, self._reply = self._reply, None
        assert reply is not None
        if status == "complete" and self._heard_s(reply) < self._reply_audio - 0.01:
            if self.sink.pending_s > 0:
                self._playing_out[reply] = (self._reply_audio, self._words)
                return
            status = "interrupted"  # its audio was cut (flushed) before its end was read here
        self._emit(self._ended(reply, status, self._reply_audio, self._heard_s(reply), self._words))

    def _ended(self, reply: int, status: str, audio_s: float, played_s: float, words: SpokenWords) -> ReplyEnded:
        """How reply `reply` ended: complete with all its words, else with the words heard of it
        (`SpokenWords.heard`: what the chat shows and the history keeps) beside all that came."""
        text = words.text if status == "complete" else words.heard(played_s, audio_s)
        return ReplyEnded(self.now, reply, status, audio_s, played_s, text, words.text)

    def _still_playing(self, reply: int, audio_s: float) -> bool:
        return self.sink.pending_s > 0 and self._heard_s(reply) < audio_s - 0.01

    def _settle_playback(self, *, cut: bool = False, heard: dict[int, float] | None = None) -> None:
        """End the replies that all came while their audio played: complete once heard out; with
        `cut` (their audio was flushed, or the session ends) interrupted, after `heard` seconds."""
        for reply, (audio_s, words) in list(self._playing_out.items()):
            played = (heard or {}).get(reply, self._heard_s(reply))
            if cut or not self._still_playing(reply, audio_s):
                del self._playing_out[reply]
                status = "complete" if played >= audio_s - 0.01 else "interrupted"
                self._emit(self._ended(reply, status, audio_s, played, words))

    async def _output(self) -> None:
        async for raw in self.bidi.output():
            chunk = clean_chunk(raw)
            if isinstance(chunk, ErrorChunk) and self.bidi.error is not None and chunk.message == clean(self.bidi.error.message):
                continue  # the error that ended the session: reported once, as a SessionError
            if isinstance(chunk, AudioChunk):  # (the lane has queued it for the sink)
                self._start_reply()
                self._reply_audio += len(chunk.pcm) // 2 / chunk.rate
                continue
            if isinstance(chunk, (TranscriptChunk, TextDelta)):
                assistant = isinstance(chunk, TextDelta) or chunk.role is Role.ASSISTANT
                if assistant:
                    self._start_reply()
                    if isinstance(chunk, TranscriptChunk) and chunk.final:
                        self._words.final = chunk.text
                    else:
                        self._words.add(self._reply_audio, chunk.text)
            self._emit(ProviderChunk(self.now, chunk))
            if isinstance(chunk, Done):
                self._end_reply("complete")
                self._segment += 1
                self._reply_answered()
            elif isinstance(chunk, Interrupted):
                after_done = self._reply is None and bool(self._playing_out)  # the cut reply had all come
                if self.server_turns:
                    # Cut by the provider (the lane flushed their audio) or by us (already settled).
                    self._settle_playback(cut=True)
                if not after_done:
                    self._end_reply("interrupted")
                    self._reply_answered()
                self._segment += 1
        if self._reply is not None:
            self._end_reply("error")
        if self.bidi.error is not None:
            self._fail(self.bidi.error.message, self.bidi.error.hint, self.bidi.error)
