"""A chat with one provider: the history, the active prompt, and one `Reply` per turn.

`Conversation.send(text)` returns a `Reply`, an async iterator of chunks. While it is iterated it
collects the reply text; when it ends, however it ends (finished, failed, cut off, cancelled by the
consumer), the assistant message goes into the history with its status, so nothing is lost.
Model text is cleaned of terminal control sequences here, once, for every consumer.

Before a message is added, `send` checks that the request would fit the model's context window
(estimated from the service's last count and the text added since) and refuses it with
`ContextWindowFull` if not, so nothing is sent that the service would refuse for its length.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, AsyncGenerator, AsyncIterator, Iterable, Mapping

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
from .errors import ProviderError, TuiChatError
from .providers.base import ChatRequest, Provider
from .safe_text import clean_chunk


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


CONTEXT_HINT = "start a new chat (Ctrl+L in the chat), or pick a model with a larger window (Ctrl+N, or --model)"
"""What to do when a message would not fit the model's context window."""


class ContextWindowFull(TuiChatError):
    """The next request would not fit the model's context window (an estimate); nothing was sent."""

    def __init__(self, model: str, tokens: int, window: int) -> None:
        super().__init__(
            f"this message would not fit {model}'s context window: about {tokens:,} tokens of {window:,}",
            hint=CONTEXT_HINT,
        )
        self.tokens = tokens
        self.window = window


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


class Conversation:
    """History plus the active prompt, talking to one provider."""

    def __init__(self, provider: Provider, prompt: PromptSettings | None = None) -> None:
        self.provider = provider
        self.prompt = prompt or PromptSettings()
        self.history: list[Message] = []
        self.usage = Usage()
        self._counted: tuple[int, int] | None = None
        """(tokens, history length): the last reply's input and output as the service counted them,
        and how many messages the history held then; None before any reply reported usage."""

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

    def context_problem(self, text: str) -> ContextWindowFull | None:
        """Why `text` cannot be sent (the request would not fit the model's context window), or None.

        The first call for a model may load the catalog's price table: off the event loop, call it
        in a thread (a UI does so before `send`, whose own check then finds the card cached).
        """
        from .models.catalog import card_for
        from .models.usage import context_use, next_input_tokens

        if self._counted is None:
            measured, added = 0, [self.prompt.system or "", *(m.content for m in self.history)]
        else:
            measured, since = self._counted
            added = [m.content for m in self.history[since:]]
        use = context_use(card_for(self.provider), next_input_tokens(measured, sum(map(len, added)) + len(text)))
        if use.fits() or use.window is None:
            return None
        return ContextWindowFull(self.provider.model, use.used, use.window)

    def send(self, text: str, *, tools: tuple[ToolSpec, ...] | None = None, tool_choice: str | None = None) -> Reply:
        """Add the user's message and return the reply stream for it; `ContextWindowFull`, with
        nothing added or sent, when it would not fit the model's context window."""
        if problem := self.context_problem(text):
            raise problem
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

    def clear(self) -> None:
        """Forget the history (the prompt stays)."""
        self.history.clear()
        self.usage = Usage()
        self._counted = None

    def _record(self, reply: Reply) -> None:
        self.usage = self.usage + reply.usage
        message = reply.as_message()
        if message.content or message.tool_calls or reply.status is not ReplyStatus.COMPLETE:
            self.history.append(message)
        if reply.usage.input_tokens:
            self._counted = (reply.usage.input_tokens + reply.usage.output_tokens, len(self.history))
