"""`Recorder`: tells the store of every event of a conversation, as the tool loop's turn streams it.

Both front ends (the TUI and `tui-chat ask`) run their turns through `tools.loop.Turn`, which
calls the recorder at each point of the stream: the user's message, each reply's start, each
chunk, each reply's end, each tool event. The recorder only tells: every store method is a
queue put (see `history.Store`), so the stream never waits on SQLite, and nothing the store does
can change what the person sees. A streamed chunk costs a list append and a clock read: its
text goes on the reply's list in the store (which the writer thread writes twice a second), and
the chunk timings a replay plays back are kept in milliseconds, so a time is written down only
for the first chunk of each millisecond (at 100,000 chunks a second, 1 chunk in 100); the writer
thread spells the timings out when the reply ends. That is the whole of what saving adds to the
event loop per chunk (counted: one call, one append, one clock reading); in bench/saving.py's
stream of ~150,000 chunks a second, where the loop spends ~6 us a chunk, it is ~0.45 us (the
call ~0.09, the append and its checks ~0.18, the clock reading and its check ~0.19), ~8% of
chunks/s there; at a model's real rate, a few hundred chunks a second, nothing to see.

The recorder is given names (provider, model, pack, prompt, variables), never a provider's
settings, so API keys, tokens and header values cannot reach the store.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from ..chunks import Chunk, Message, Role, TextDelta, ToolCall, ToolCallChunk, Usage
from .opening import StoreOpening, call_soon

if TYPE_CHECKING:
    from ..conversation import Reply
    from .history import Store
    from .records import VoiceTurn


class ToolEventView(Protocol):
    """What the recorder reads of a `tools.loop.ToolEvent` (the store sits below the tools: it names
    no type of theirs, and reads the status by its value)."""

    call: ToolCall
    arguments: str

    @property
    def status(self) -> Any: ...

    @property
    def result(self) -> Any: ...

    @property
    def final(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """The settings in force for a message: saved with the chat and with each message."""

    provider: str
    model: str | None = None
    pack: str | None = None
    prompt: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)


class Recorder:
    """Saves one chat as it happens. `chat_id` is None until the first message starts a new chat
    (a resumed chat passes its id, so what follows joins it). `clock` times the chunks (seconds).

    `store` may still be opening (the TUI opens it on a thread once its first screen has settled;
    an old big file's migration can take seconds): the first event, or `opened()`, calls
    `open_now` (which lets a waiting opener start at once). On an event loop nothing waits for it:
    until it opens, what is told goes to a `StoreOpening`, which tells the store all of it, in
    order, as soon as it opens. With no loop running (a caller that may wait), it is waited for.
    """

    def __init__(
        self,
        store: Store | concurrent.futures.Future[Store],
        settings: Callable[[], ChatSettings],
        *,
        chat_id: str | None = None,
        cost: Callable[[Usage], float | None] | None = None,
        open_now: Callable[[], None] = lambda: None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._opening = store if isinstance(store, concurrent.futures.Future) else None
        self._open_now = open_now
        self._handing_over = False
        """Whether the store's opening will hand what waits for it over (`_ready`)."""
        self.store: Store | StoreOpening = StoreOpening() if self._opening is not None else store  # type: ignore[assignment]
        self.chat_id = chat_id
        self._settings = settings
        self._cost = cost
        self._clock = clock
        self._user_id: str | None = None
        """The latest user message: a retried reply is another version answering it."""
        self._retrying = False
        self._reply_id: str | None = None
        """The reply streaming now."""
        self._tools_of: str | None = None
        """The latest finished reply: the tool events that follow are about its calls."""
        self._started = 0.0
        self._text: list[str] | None = None
        """The streaming reply's text, chunk by chunk: the store's list (see `Store.stream_text`)."""
        self._marks: list[tuple[int, int]] = []
        """Where each millisecond of the reply that had chunks begins: (index of its first chunk in
        `_text`, milliseconds since the reply started). Every chunk up to the next mark came in it."""
        self._next_mark = -math.inf
        """The clock reading from which a chunk may come in a later millisecond than the latest mark."""
        self._ran: set[str] = set()
        """Tool calls seen running: their approval (or edit) is already recorded."""
        self._spoken_reply: str | None = None
        """The voice reply streaming now (see `spoken_replies`)."""
        self._spoken_text: list[str] = []
        self._spoken_calls: set[str] = set()
        """Tool calls of voice replies already saved."""

    def user(self, text: str) -> None:
        """The person sent `text`: start the chat if there is none yet, and save the message."""
        self._ready()
        settings = self._settings()
        if self.chat_id is None:
            self.chat_id = self.store.new_chat(
                provider=settings.provider, model=settings.model, pack=settings.pack,
                prompt=settings.prompt, variables=settings.variables,
            )  # fmt: skip
        else:
            self.store.update_chat(
                self.chat_id, provider=settings.provider, model=settings.model, pack=settings.pack,
                prompt=settings.prompt, variables=settings.variables,
            )  # fmt: skip
        self._user_id = self.store.add_message(
            self.chat_id, Role.USER, text, provider=settings.provider, model=settings.model, pack=settings.pack,
            prompt=settings.prompt, variables=settings.variables,
        )  # fmt: skip

    def _ready(self) -> None:
        """Go on with the store if it has opened. While it opens, on an event loop, what is told
        waits in the `StoreOpening`, handed over on the loop as soon as the store opens; with no
        loop running, the store is waited for."""
        opening = self._opening
        if opening is None:
            return
        if not opening.done():
            self._open_now()
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                concurrent.futures.wait([opening])
            else:
                if not self._handing_over:
                    self._handing_over = True
                    opening.add_done_callback(lambda _: call_soon(loop, self._take_store))
                return
        self._take_store()

    def _take_store(self) -> None:
        """The store has opened: tell it what waited, and go on with it (on the recorder's thread)."""
        if self._opening is None:
            return  # (taken already)
        store = self._opening.result()
        waiting, self.store, self._opening = self.store, store, None
        assert isinstance(waiting, StoreOpening)
        waiting.hand_over(store)
        if self.chat_id is not None:
            self.chat_id = waiting.chat(self.chat_id)
        if self._text is not None and self._reply_id is not None:  # streaming still: its text goes on in the store's list
            self._text = store.stream_text(self._reply_id)
        if self._spoken_reply is not None:
            self._spoken_text = store.stream_text(self._spoken_reply)

    async def opened(self) -> Store:
        """The store, once it is open (awaited: the event loop goes on while it opens)."""
        if self._opening is not None:
            self._open_now()
            await asyncio.wrap_future(self._opening)
            self._take_store()
        return self.store  # type: ignore[return-value]  (open, so the store itself)

    def switch_to(self, chat_id: str | None) -> None:
        """What follows joins chat `chat_id` (a chat reopened from the list), or starts a new chat (None)."""
        self.chat_id = chat_id
        self._user_id = self._tools_of = None
        self._retrying = False

    def close(self) -> None:
        """Commit what is queued and close the store (waiting for it if it is still opening)."""
        if self._opening is not None:
            self._open_now()
            concurrent.futures.wait([self._opening])
            self._take_store()
        self.store.close()  # type: ignore[union-attr]  (open, so the store itself)

    def retry(self) -> None:
        """The next reply answers the latest user message again (a new version; the old one is kept)."""
        self._retrying = True

    def reply_started(self) -> None:
        """A model reply begins streaming."""
        if self.chat_id is None:
            return  # a turn without a user message of ours (nothing to hang it on)
        self._ready()
        settings = self._settings()
        parent = self._user_id if self._retrying else None
        self._retrying = False
        self._reply_id = self.store.start_reply(
            self.chat_id, provider=settings.provider, model=settings.model, pack=settings.pack, parent_id=parent
        )
        self._text, self._marks, self._next_mark = self.store.stream_text(self._reply_id), [], -math.inf
        self._started = self._clock()

    def chunk(self, chunk: Chunk) -> None:
        """A chunk of the reply arrived (already cleaned by the conversation). Called per chunk, so
        kept to a list append and a clock reading (see the module docstring)."""
        if type(chunk) is TextDelta:
            if chunk.text and (parts := self._text) is not None:
                parts.append(chunk.text)
                if (now := self._clock()) >= self._next_mark:
                    self._mark(now, len(parts) - 1)
        elif isinstance(chunk, ToolCallChunk) and self._reply_id is not None:
            self.store.add_tool_call(self._reply_id, chunk.call)

    def _mark(self, now: float, index: int) -> None:
        """Chunk `index` came at `now`: when that is a later millisecond than the latest mark's, it
        begins a new one. Each chunk's millisecond is `int((now - started) * 1000)` of its own
        reading; a chunk before the next mark has a reading below `_next_mark`, which lies
        `_MARK_EARLY` before the next millisecond (further than float rounding ever moves a reading),
        so it is in the latest mark's."""
        ms = int((now - self._started) * 1000)
        if not self._marks or self._marks[-1][1] != ms:
            self._marks.append((index, ms))
        self._next_mark = self._started + (ms + 1) / 1000 - _MARK_EARLY

    def reply_ended(self, reply: Reply) -> None:
        """The reply ended, however it ended: its status, error, usage, cost and provider blocks."""
        if self._reply_id is None or self._text is None:
            return
        usage = reply.usage if reply.usage != Usage() else None
        self.store.finish_message(
            self._reply_id, reply.status, error=reply.error, usage=usage,
            cost_usd=self._cost(usage) if usage is not None and self._cost is not None else None,
            opaque=reply.opaque, chunks=partial(_timings_json, self._marks, self._text),
        )  # fmt: skip
        self._tools_of, self._reply_id, self._text = self._reply_id, None, None

    def added(self, message: Message, *, provider: str | None = None, model: str | None = None) -> str | None:
        """A whole, final message put into the conversation outside a turn (an MCP server's prompt
        picked in Ctrl+O, a voice exchange): saved at once, so a reopened chat gives the model the
        same history. A user message is saved as `user` saves one (it may start the chat); any other
        names the `provider` and `model` it came from, if any. Returns the saved message's id (None
        when there is no chat to hang it on)."""
        if message.role is Role.USER:
            self.user(message.content)
            return self._user_id
        if self.chat_id is None:
            return None
        self._ready()
        return self.store.add_message(
            self.chat_id, message.role, message.content, status=message.status, provider=provider, model=model
        )

    def spoken(self, message: Message, voice: VoiceTurn | None, *, provider: str | None = None, model: str | None = None) -> None:
        """A whole message of a voice session, final (`voice.history` hands them over in order, each
        reply once it has ended): saved as `added` saves it and, when `voice` says where it sat in
        the audio, marked spoken (typed text has None). A reply names the voice provider and model
        that spoke it; a reply that was streaming (`spoken_replies`) is finished with its status
        and the words that were heard of it."""
        if message.role is Role.ASSISTANT and self._spoken_reply is not None:
            message_id: str | None = self._spoken_reply
            self.store.finish_message(self._spoken_reply, message.status, text=message.content)
            self._spoken_reply = None
        else:
            message_id = self.added(message, provider=provider, model=model)
        if voice is not None and message_id is not None:
            self.store.mark_voice(message_id, started_ms=voice.started_ms, ended_ms=voice.ended_ms, barge_in=voice.barge_in)

    def spoken_replies(self, names: Callable[[], tuple[str | None, str | None]]) -> SpokenReplies:
        """A `voice.history.ReplyStream` saving each voice reply as it streams; `names` gives the
        voice provider and model speaking (asked as each reply begins); `spoken` finishes each."""
        return SpokenReplies(self, names)

    def _spoken_reply_began(self, provider: str | None, model: str | None) -> None:
        if self.chat_id is None:
            return  # (a voice history puts the user's place before every reply)
        self._ready()
        self._spoken_reply = self.store.start_reply(self.chat_id, provider=provider, model=model)
        self._spoken_text = self.store.stream_text(self._spoken_reply)

    def _spoken_words(self, text: str) -> None:
        if self._spoken_reply is not None:
            self._spoken_text.append(text)

    def tool_event(self, event: ToolEventView) -> None:
        """A tool call changed status: record the decision when it is known, and the result when final."""
        if self._tools_of is not None:
            self._tool_event(self._tools_of, event)

    def _spoken_tool_event(self, event: ToolEventView) -> None:
        """A tool call of the voice reply streaming now: saved on it when first seen, then as `tool_event`."""
        if self._spoken_reply is None:
            return
        if event.call.id not in self._spoken_calls:
            self._spoken_calls.add(event.call.id)
            self.store.add_tool_call(self._spoken_reply, event.call)
        self._tool_event(self._spoken_reply, event)

    def _tool_event(self, message_id: str, event: ToolEventView) -> None:
        # The records' types load with the first tool call, not at start-up.
        from .records import ToolDecision

        call = event.call
        edited = event.arguments != call.arguments
        status = event.status.value
        if status == "running":
            self._ran.add(call.id)
            self.store.decide_tool_call(
                message_id, call.id, ToolDecision.EDITED if edited else ToolDecision.APPROVED,
                edited_arguments=event.arguments if edited else None,
            )  # fmt: skip
        elif status == "denied":
            reason = event.result.content if event.result is not None else None
            self.store.decide_tool_call(message_id, call.id, ToolDecision.DENIED, reason=reason)
        elif status == "done" and call.id not in self._ran:
            self.store.decide_tool_call(message_id, call.id, ToolDecision.APPROVED)  # answered by the person
        if event.final and event.result is not None:
            self.store.set_tool_result(message_id, call.id, event.result.content, is_error=event.result.is_error)


@dataclass(frozen=True, slots=True)
class SpokenReplies:
    """Voice replies saved while they stream (a `voice.history.ReplyStream`; see `Recorder.spoken_replies`)."""

    recorder: Recorder
    names: Callable[[], tuple[str | None, str | None]]

    def began(self) -> None:
        self.recorder._spoken_reply_began(*self.names())

    def words(self, text: str) -> None:
        self.recorder._spoken_words(text)

    def tool_event(self, event: ToolEventView) -> None:
        self.recorder._spoken_tool_event(event)


_MARK_EARLY = 1e-6
"""Seconds before the next millisecond from which a chunk's reading is looked at (see `Recorder._mark`)."""


def _timings_json(marks: list[tuple[int, int]], texts: list[str]) -> str:
    """A reply's chunk timings as the store keeps them, JSON `[[milliseconds since it started,
    characters], ...]` (one pair a chunk), from its marks (see `Recorder._marks`) and its text.

    Called on the writer thread as the reply is finished: the chunks of each millisecond are
    spelled out in one `join`, with no Python loop and no container per chunk (so nothing for the
    garbage collector), a sixth of the time a list of pairs and `json.dumps` take.
    """
    if not marks:
        return "[]"  # (no text came)
    ends = [index for index, _ in marks[1:]] + [len(texts)]
    runs = (
        f"[{ms}, " + f"], [{ms}, ".join(map(str, map(len, texts[index:end]))) + "]"
        for (index, ms), end in zip(marks, ends, strict=True)
    )
    return "[" + ", ".join(runs) + "]"


def cost_of(current: Callable[[], Any]) -> Callable[[Usage], float | None]:
    """The cost in dollars of a reply's usage on the model of the provider `current()` gives when
    the reply ends (None when a price is unknown): the chat may have moved to another provider or
    model since it began (the model picker, a reopened chat's own)."""

    def cost(usage: Usage) -> float | None:
        from ..models import default_catalog
        from ..models.usage import cost as spent

        provider = current()
        catalog = getattr(provider, "catalog", None) or default_catalog()
        value = spent(catalog.lookup(provider.name, provider.model), usage)
        return None if value is None else float(value)

    return cost
