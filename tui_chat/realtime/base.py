"""Bidirectional sessions: talk and listen at once, with a model that speaks.

A `BidiSession` is one live connection. The person's side goes in with `send_text`,
`send_audio` / `send_chunk` and `end_turn` (and `interrupt` when they talk over the reply); the
model's side comes out of `output()`, one async iterator of chunks for the whole session:

  TextDelta        reply text (models that answer in text)
  TranscriptChunk  what was said aloud, by the user (role USER) or the assistant (role ASSISTANT);
                   `final=True` carries the whole text of that utterance
  AudioChunk       reply audio, 16-bit mono PCM at `chunk.rate`
  ToolCallChunk    the model wants a tool run
  Interrupted      the reply in progress was cut off (barge-in); no more audio of it follows
  Done             the reply to one turn is finished (the session goes on)
  ErrorChunk       something went wrong that did not end the session (bad audio from the
                   provider, say): the bad part is dropped and the session continues

`output()` ends when the session ends: after `close()`, or when the connection failed, in
which case `error` says why (and an `ErrorChunk` with the same message came last). Several sessions
can run at once; they share nothing.

A provider module subclasses `BidiSession`: it implements `_connect`, `_send_audio`,
`_send_text`, `_end_turn`, `_interrupt` and `_disconnect`, and reports what it receives with
`_emit`, `_emit_audio_base64` and `_fail`. Wire formats stay in the provider module.

How a session is set up besides its provider settings is a `BidiConfig` (`open_bidi(...,
config=...)`): the system prompt, hands-free or push-to-talk turn taking, the voice, whether the
user may talk over a reply, the tools it may call (`realtime.tools.SessionTools`), and the
conversation so far (`history`), which each provider gives the model when the session opens, so
that voice goes on from a text chat, or from an earlier voice session, instead of starting blank.

A provider whose own voice detection hears the user start speaking over a reply calls
`on_user_speech` (set by the front end that plays the audio), so that playback is flushed at once
and `interrupt` is told how much of the reply was heard.

A `threaded` session (the WebSocket providers) does all its I/O on a thread of its own
(`io_thread.IoThread`), so that a front end whose loop is held up by a busy screen still gets its
reply audio in time: the public methods are awaited from the front end's loop and run there, the
chunks come back to `output()` on the front end's loop in the order they were made, and
`on_chunk`, when set, sees each chunk first, on the session's own thread (a voice front end plays
audio from there). The front end's hooks (`on_user_speech`, the tools' approval) run on its loop.
"""

from __future__ import annotations

import abc
import asyncio
import base64
import binascii
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, Coroutine, Final, Iterable, TypeVar

from ..chunks import AudioChunk, Chunk, ErrorChunk, Message, Role, TextDelta
from ..errors import ProviderError, TuiChatError
from .io_thread import IoThread

T = TypeVar("T")

class SessionClosedError(ProviderError):
    """Something was sent to a session that has ended."""


_END: Final = object()

TURN_DETECTIONS = ("server", "manual")


@dataclass(frozen=True, slots=True)
class BidiConfig:
    """How a voice session is set up, besides the provider settings. Every field is optional.

    `turn_detection`:
      manual  the front end says where each turn ends with `end_turn()` (its own voice detection,
              hands-free, or push-to-talk); audio sent between two `end_turn()` calls is one turn,
              and each `end_turn()` is answered by one reply (`Done` or `Interrupted`)
      server  hands-free by the provider's own voice detection: it decides where turns end and
              answers each; `end_turn()` only makes sure the end of the audio is heard (the input
              ended). The front end then counts replies by the `Done`/`Interrupted` it receives (a
              reply may come before, or without, an `end_turn()`), and should send all the audio
    `barge_in`: the user may talk over a reply and cut it (with server turn detection the provider
    stops the reply by itself when it hears the user). `tools`: a `realtime.tools.SessionTools`; the
    session then offers its tools, puts each call through its approval policy and approver, runs
    the approved ones and gives the model the results. Without it the model is offered no tools.
    `history`: the conversation so far, which the model is given as context (not answered) when the
    session opens; see `spoken_history` for what of it is sent.
    """

    instructions: str = ""
    """The system prompt (a pack's, rendered)."""
    turn_detection: str = "manual"
    voice: str | None = None
    """The provider's voice name; None: the provider option `voice`, else the provider's default."""
    barge_in: bool = True
    tools: Any = None
    history: tuple[Message, ...] = ()
    """The chat's messages before this session (any iterable of `Message`s is kept as a tuple)."""

    def __post_init__(self) -> None:
        if self.turn_detection not in TURN_DETECTIONS:
            raise ValueError(f"turn_detection must be one of {', '.join(TURN_DETECTIONS)}, not {self.turn_detection!r}")
        if not isinstance(self.history, tuple):
            # Frozen: a list handed in must not change under the session after it is set up.
            object.__setattr__(self, "history", tuple(self.history))


def spoken_history(messages: Iterable[Message], last: int | None = None) -> list[tuple[str, str]]:
    """The user and assistant text of `messages`, in order, as ("user" | "assistant", text).

    This is what a voice session is given of the conversation so far; `last` keeps only that many
    of the latest entries (a long chat would otherwise fill the voice model's smaller context).
    Left out: system messages (the session has its own instructions), tool calls and their results
    (the voice APIs would need the calls' ids and the tools offered, and the text around them says
    what they gave), and messages with no text. A reply that was cut off is given with the part of
    it that was said.
    """
    turns: list[tuple[str, str]] = []
    for message in messages:
        if message.role in (Role.USER, Role.ASSISTANT) and message.content.strip():
            turns.append((message.role.value, message.content))
    if last is not None:
        turns = turns[max(0, len(turns) - max(0, last)) :]
    return turns


def decode_audio_base64(data: object, rate: int) -> AudioChunk:
    """A provider's base64 audio payload as an `AudioChunk`; `ProviderError` for anything malformed.

    The payload must be valid base64 of 16-bit PCM: an odd number of bytes is an error.
    """
    if not isinstance(data, str):
        raise ProviderError(f"the provider sent audio that is not a base64 string but {type(data).__name__}")
    try:
        pcm = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as error:
        raise ProviderError(f"the provider sent audio that is not valid base64 ({error})") from None
    if len(pcm) % 2:
        raise ProviderError(
            f"the provider sent {len(pcm)} bytes of 16-bit audio, an odd number; the piece was dropped"
        )
    return AudioChunk(pcm, rate)


class BidiSession(abc.ABC):
    """One live two-way session with a model (see the module text)."""

    provider: str = ""
    """The registry name of the provider."""
    input_rate: int = 16000
    """The sample rate the model wants its audio in; `send_audio` at another rate is converted."""
    output_rate: int = 24000
    """The sample rate the model's audio usually comes at."""
    threaded: bool = False
    """The session's I/O runs on a thread of its own (see the module text)."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._home: asyncio.AbstractEventLoop | None = None  # the front end's loop: `output()` is read there
        self._io: IoThread | None = None
        self._opened = False
        self._closed = False
        self._disconnected = False
        self.error: TuiChatError | None = None
        """The error that ended the session, or None while it runs and after a clean close."""
        self.config = BidiConfig()
        """Set before `open()` (`open_bidi` does); providers read it when they connect."""
        self.on_user_speech: Callable[[], Awaitable[None]] | None = None
        """Called when the provider hears the user start speaking over a reply (server voice detection).

        The front end that plays the reply sets it: it should flush playback at once and call
        `interrupt(played=...)` with the seconds of the reply heard (so the provider can cut the
        model's memory of the reply there), or do nothing if it lets the reply go on. Without it
        the session calls `interrupt()` itself, knowing nothing of what was heard.
        """
        self.on_chunk: Callable[[Chunk], Chunk | None] | None = None
        """Sees every chunk first, in order, before `output()` does, on the thread that made it (the
        session's own, for a `threaded` one): it returns the chunk `output()` gets, or None to drop
        it. Set by a voice front end before `open()`, to play reply audio without waiting for its loop."""

    # --- the public side ------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    async def open(self) -> BidiSession:
        """Connect; `open_bidi` calls this. Raises `ProviderError` when the connection fails."""
        if not self._opened:
            self._opened = True
            self._home = asyncio.get_running_loop()
            if self.threaded:
                self._io = IoThread(f"{self.provider or 'voice'}-io")
            try:
                await self._on_io(self._connect())
            except BaseException:
                await self._stop_io()
                raise
        return self

    async def send_text(self, text: str) -> None:
        """Say something in text; the model answers it as one turn."""
        self._check_open()
        await self._on_io(self._send_text(text))

    async def send_audio(self, pcm: bytes, rate: int) -> None:
        """Send 16-bit mono PCM of the current user turn (any rate; converted if the model needs it)."""
        self._check_open()
        if len(pcm) % 2:
            raise ValueError(f"16-bit PCM has an even number of bytes, not {len(pcm)}")
        if rate <= 0:
            raise ValueError(f"sample rate must be positive, not {rate}")
        if pcm:
            await self._on_io(self._send_audio(bytes(pcm), rate))

    async def send_chunk(self, chunk: Chunk) -> None:
        """Send an `AudioChunk` (as `send_audio`) or a `TextDelta` (as `send_text`)."""
        if isinstance(chunk, AudioChunk):
            await self.send_audio(chunk.pcm, chunk.rate)
        elif isinstance(chunk, TextDelta):
            await self.send_text(chunk.text)
        else:
            raise TypeError(f"a session takes audio or text chunks, not {type(chunk).__name__}")

    async def end_turn(self) -> None:
        """The user has finished speaking: the model should answer the audio sent since the last turn."""
        self._check_open()
        await self._on_io(self._end_turn())

    async def interrupt(self, *, played: float | None = None) -> None:
        """The user talked over the reply: stop it. `played` is how many seconds of it were heard.

        A reply in progress ends with `Interrupted`; when no reply is in progress nothing is emitted.
        """
        if not self._closed:
            await self._on_io(self._interrupt(played))

    async def output(self) -> AsyncIterator[Chunk]:
        """Everything the model sends, until the session ends.

        One consumer at a time: each chunk is delivered once. A consumer may stop (break out of
        its loop) and call `output()` again later to go on where it stopped.
        """
        while True:
            item = await self._queue.get()
            if item is _END:
                self._queue.put_nowait(_END)  # every later iteration ends too
                return
            yield item  # type: ignore[misc]

    async def close(self) -> None:
        """End the session (idempotent); `output()` ends after what was already received.

        After a failure (`error` set) this still releases the connection and the session's tasks.
        """
        if self._disconnected:
            return
        self._disconnected = True
        self._closed = True
        try:
            await self._on_io(self._disconnect())
        finally:
            await self._stop_io()
            self._queue.put_nowait(_END)

    async def __aenter__(self) -> BidiSession:
        return await self.open()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- the session's thread ---------------------------------------------------------------------

    async def _on_io(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run one of the provider's coroutines where its I/O lives (its own thread when `threaded`)."""
        io = self._io
        if io is None:
            return await coro
        return await io.run(coro)

    async def _at_home(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a front-end coroutine (a hook, a tool's approval) on the front end's loop and wait for it."""
        home = self._home
        if self._io is None or home is None or not self._io.here:
            return await coro
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, home))

    async def _stop_io(self) -> None:
        io, self._io = self._io, None
        if io is not None:
            await io.stop()

    def _put(self, item: object) -> None:
        """Queue `item` for `output()`, from the front end's loop or the session's thread, in order."""
        io, home = self._io, self._home
        if io is None or home is None or not io.here:
            self._queue.put_nowait(item)
            return
        try:
            home.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the front end's loop is closed: nobody reads any more
            pass

    # --- for provider modules -------------------------------------------------------------------

    def _emit(self, chunk: Chunk) -> None:
        """Deliver a chunk to `output()` (through `on_chunk`). Audio with an odd byte count loses its last byte, with an error."""
        if self._closed:
            return
        if isinstance(chunk, AudioChunk) and len(chunk.pcm) % 2:
            self._deliver(
                ErrorChunk(f"the provider sent {len(chunk.pcm)} bytes of 16-bit audio, an odd number; the last byte was dropped")
            )
            chunk = AudioChunk(chunk.pcm[:-1], chunk.rate)
        self._deliver(chunk)

    def _deliver(self, chunk: Chunk) -> None:
        hook = self.on_chunk
        if hook is not None:
            kept = hook(chunk)
            if kept is None:
                return
            chunk = kept
        self._put(chunk)

    def _emit_audio_base64(self, data: object, rate: int) -> None:
        """Deliver a base64 audio payload; a malformed one becomes an `ErrorChunk` and is dropped."""
        try:
            chunk = decode_audio_base64(data, rate)
        except ProviderError as error:
            self._emit(ErrorChunk(error.message, error.hint))
            return
        self._emit(chunk)

    async def _user_speech(self) -> None:
        """The provider heard the user start speaking: let the front end act (`on_user_speech`)."""
        if self._closed or not self.config.barge_in:
            return
        hook = self.on_user_speech
        if hook is None:
            await self.interrupt()
            return
        try:
            await self._at_home(hook())
        except Exception as error:  # noqa: BLE001 - a broken front-end hook must not end the session
            self._emit(ErrorChunk(f"handling the user's speech over the reply failed: {type(error).__name__}: {error}"))

    def _fail(self, error: TuiChatError) -> None:
        """The session cannot go on: report `error` and end `output()`. Call `close()` afterwards."""
        if self._closed:
            return
        self.error = error
        hint = getattr(error, "hint", "")
        self._deliver(ErrorChunk(error.message, hint, bool(getattr(error, "retryable", False))))
        self._closed = True
        self._put(_END)

    def _check_open(self) -> None:
        if self._closed:
            reason = f": {self.error}" if self.error else ""
            raise SessionClosedError(f"the {self.provider or 'voice'} session has ended{reason}")

    # --- what a provider implements -------------------------------------------------------------

    @abc.abstractmethod
    async def _connect(self) -> None: ...

    @abc.abstractmethod
    async def _send_audio(self, pcm: bytes, rate: int) -> None: ...

    @abc.abstractmethod
    async def _send_text(self, text: str) -> None: ...

    @abc.abstractmethod
    async def _end_turn(self) -> None: ...

    @abc.abstractmethod
    async def _interrupt(self, played: float | None) -> None: ...

    @abc.abstractmethod
    async def _disconnect(self) -> None: ...
