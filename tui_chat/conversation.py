"""A chat with one provider: the history, the active prompt, and one `Reply` per turn.

`Conversation.send(text)` returns a `Reply`, an async iterator of chunks. While it is iterated it
collects the reply text; when it ends, however it ends (finished, failed, cut off, cancelled by the
consumer), the assistant message goes into the history with its status, so nothing is lost.
Model text is cleaned of terminal control sequences here, once, for every consumer.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncGenerator, AsyncIterator, Iterable, Mapping

from .chunks import (
    Chunk,
    Done,
    ErrorChunk,
    FinishReason,
    Interrupted,
    Message,
    OpaqueBlock,
    OpaqueChunk,
    ReplyStatus,
    Role,
    TextDelta,
    ToolCall,
    ToolCallChunk,
    ToolSpec,
    Usage,
    UsageChunk,
)
from .errors import ProviderError
from .providers.base import ChatRequest, Provider
from .safe_text import clean_chunk

if TYPE_CHECKING:
    from .providers.registry import ProviderSettings
    from .realtime.base import BidiConfig, BidiSession


@dataclass(slots=True)
class PromptSettings:
    """The active system prompt and the parameters that go with it (usually from a prompt pack)."""

    system: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    tools: tuple[ToolSpec, ...] = ()
    tool_policy: Mapping[str, Any] | None = None
    label: str = ""


def _answered(messages: Iterable[Message]) -> tuple[Message, ...]:
    """`messages` with a "cancelled" error result after each tool call that has none."""
    out: list[Message] = []
    pending: dict[str, ToolCall] = {}

    def close_pending() -> None:
        for call in pending.values():
            out.append(Message(Role.TOOL, "cancelled: no result", tool_call_id=call.id, name=call.name, is_error=True))
        pending.clear()

    for message in messages:
        if message.role is Role.TOOL and message.tool_call_id is not None:
            pending.pop(message.tool_call_id, None)
        else:
            close_pending()
        out.append(message)
        if message.role is Role.ASSISTANT:
            pending = {call.id: call for call in message.tool_calls}
    close_pending()
    return tuple(out)


class Reply:
    """One assistant turn. Iterate it (once) for its chunks; afterwards it keeps what came.

    `status` is STREAMING while it runs, then COMPLETE, CANCELLED, INTERRUPTED or ERROR.
    """

    def __init__(self, conversation: Conversation, request: ChatRequest) -> None:
        self._conversation = conversation
        self.request = request
        self._parts: list[str] = []
        self.status = ReplyStatus.STREAMING
        self.finish_reason: FinishReason | None = None
        self.error: str | None = None
        self.usage = Usage()
        self.tool_calls: list[ToolCall] = []
        self.opaque: list[OpaqueBlock] = []
        """The provider-specific blocks of the reply (signed thinking), kept for the history."""
        self._stream: AsyncGenerator[Chunk, None] | None = None

    @property
    def text(self) -> str:
        """The reply text received so far."""
        return "".join(self._parts)

    def __aiter__(self) -> AsyncIterator[Chunk]:
        if self._stream is not None:
            raise RuntimeError("a Reply can be iterated only once")
        self._stream = self._run()
        return self._stream

    async def aclose(self) -> None:
        """Stop the reply early (a consumer that breaks out of its loop calls this); it is kept as cancelled."""
        if self._stream is not None:
            await self._stream.aclose()

    async def _run(self) -> AsyncGenerator[Chunk, None]:
        try:
            async with aclosing(self._conversation.provider.stream(self.request)) as stream:
                async for raw in stream:
                    chunk = clean_chunk(raw)
                    self._take(chunk)
                    yield chunk
                    if isinstance(chunk, (Done, ErrorChunk, Interrupted)):
                        break
            if self.status is ReplyStatus.STREAMING:
                self._fail(ReplyStatus.INTERRUPTED, "the stream ended before the reply was finished")
                yield Interrupted(self.error or "")
        except ProviderError as error:
            self._fail(ReplyStatus.ERROR, str(error))
            yield ErrorChunk(error.message, error.hint, error.retryable)
        except (asyncio.CancelledError, GeneratorExit):
            self._fail(ReplyStatus.CANCELLED, "cancelled")
            raise
        except Exception as error:  # noqa: BLE001 - a bug or an unwrapped library error must not crash the UI
            self._fail(ReplyStatus.ERROR, f"unexpected error: {type(error).__name__}: {error}")
            yield ErrorChunk(self.error or "", "this is a bug in tui-chat; please report it")
        finally:
            if self.status is ReplyStatus.STREAMING:
                # The consumer stopped iterating before the end (it broke out of its loop).
                self._fail(ReplyStatus.CANCELLED, "cancelled")
            self._conversation._record(self)

    def _take(self, chunk: Chunk) -> None:
        if isinstance(chunk, TextDelta):
            self._parts.append(chunk.text)
        elif isinstance(chunk, ToolCallChunk):
            self.tool_calls.append(chunk.call)
        elif isinstance(chunk, OpaqueChunk):
            self.opaque.append(chunk.block)
        elif isinstance(chunk, UsageChunk):
            self.usage = self.usage + chunk.usage
        elif isinstance(chunk, Done):
            self.finish_reason = chunk.finish_reason
            self.status = ReplyStatus.COMPLETE
        elif isinstance(chunk, ErrorChunk):
            self._fail(ReplyStatus.ERROR, chunk.message)
        elif isinstance(chunk, Interrupted):
            self._fail(ReplyStatus.INTERRUPTED, chunk.reason)

    def _fail(self, status: ReplyStatus, reason: str) -> None:
        self.status = status
        self.error = reason
        self.finish_reason = FinishReason.CANCELLED if status is ReplyStatus.CANCELLED else FinishReason.ERROR

    def as_message(self) -> Message:
        """The assistant message this reply leaves in the history."""
        return Message(Role.ASSISTANT, self.text, tuple(self.tool_calls), status=self.status, opaque=tuple(self.opaque))


async def _check_voice_model(provider: str, settings: ProviderSettings) -> None:
    """Refuse, before any connection, a voice session with a model the catalog knows has no realtime API."""
    from .models import default_catalog, problems

    catalog = settings.catalog or default_catalog()
    card = await asyncio.to_thread(catalog.lookup, provider, settings.model or "")
    if found := problems(card, voice=True, catalog=catalog):
        raise ProviderError(str(found[0]), hint=f"pick a realtime model of {provider}, or another provider")


class Conversation:
    """History plus the active prompt, talking to one provider."""

    def __init__(self, provider: Provider, prompt: PromptSettings | None = None) -> None:
        self.provider = provider
        self.prompt = prompt or PromptSettings()
        self.history: list[Message] = []
        self.usage = Usage()

    def use_prompt(self, prompt: PromptSettings) -> None:
        """Switch the system prompt and parameters; the history stays."""
        self.prompt = prompt

    def use_provider(self, provider: Provider) -> None:
        """Talk to another provider from the next turn on; the history stays."""
        self.provider = provider

    def request(self, *, tools: tuple[ToolSpec, ...] | None = None, tool_choice: str | None = None) -> ChatRequest:
        """The request for the next model call, built from the history and the active prompt.

        `tools` replaces the prompt's tools (the tool loop offers only what its policy allows).
        A tool call left without a result (a turn stopped half-way) gets a "cancelled" error
        result here, since providers refuse a history with an unanswered call.
        """
        return ChatRequest(
            model=self.provider.model,
            messages=_answered(m for m in self.history if m.role is not Role.ASSISTANT or m.content or m.tool_calls),
            system=self.prompt.system,
            parameters=dict(self.prompt.parameters),
            tools=self.prompt.tools if tools is None else tools,
            tool_choice=tool_choice,
        )

    def send(self, text: str, *, tools: tuple[ToolSpec, ...] | None = None, tool_choice: str | None = None) -> Reply:
        """Add the user's message and return the reply stream for it."""
        self.history.append(Message(Role.USER, text))
        return Reply(self, self.request(tools=tools, tool_choice=tool_choice))

    def retry(self, *, tools: tuple[ToolSpec, ...] | None = None, tool_choice: str | None = None) -> Reply:
        """Ask again for the last user message, dropping everything that followed it."""
        while self.history and self.history[-1].role is not Role.USER:
            self.history.pop()
        if not self.history:
            raise ValueError("there is no message to retry")
        return Reply(self, self.request(tools=tools, tool_choice=tool_choice))

    def continue_reply(
        self, *, tools: tuple[ToolSpec, ...] | None = None, tool_choice: str | None = None
    ) -> Reply:
        """A reply to the history as it stands, with no new user message (after tool results)."""
        return Reply(self, self.request(tools=tools, tool_choice=tool_choice))

    def append(self, message: Message) -> None:
        """Add a message that is not a model reply, such as a tool result."""
        self.history.append(message)

    def revise(self, old: Message, new: Message) -> None:
        """Put `new` where `old` is in the history (the same object); nothing if it is gone.

        For what is learnt about a message after it went in: a spoken reply recorded whole when its
        text had come, then stopped while its audio still played, becomes interrupted.
        """
        for index, message in enumerate(self.history):
            if message is old:
                self.history[index] = new
                return

    async def open_bidi(self, settings: ProviderSettings | None = None, *, config: BidiConfig | None = None) -> BidiSession:
        """Open a bidirectional (voice) session with this conversation's provider.

        Without `config`, the session is given this conversation's system prompt as its
        instructions and its history as context, so talking goes on from what was typed. Fails with
        a `ProviderError` naming the providers that have such sessions when this one has none, and,
        before connecting, naming the provider's realtime models when `settings` names a model
        that has no realtime API.
        """
        from .realtime import open_bidi
        from .realtime.base import BidiConfig

        if settings is not None and settings.model:
            await _check_voice_model(self.provider.name, settings)
        if config is None:
            config = BidiConfig(instructions=self.prompt.system or "", history=tuple(self.history))
        return await open_bidi(self.provider.name, settings, config=config)

    def clear(self) -> None:
        """Forget the history (the prompt stays)."""
        self.history.clear()
        self.usage = Usage()

    def _record(self, reply: Reply) -> None:
        self.usage = self.usage + reply.usage
        message = reply.as_message()
        if message.content or message.tool_calls or reply.status is not ReplyStatus.COMPLETE:
            self.history.append(message)
