"""The conversation keeps every reply, however it ends, with its status and cleaned text.

The model is scripted here, not replayed from a recorded chat: these tests need what a recording
cannot hold (an exception raised mid-stream, a stream held open by a gate, one that stops without
an ending, exact chunk sequences) and read the requests the model was sent.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes.scripted import ScriptedProvider
from tui_chat.chunks import (
    Chunk,
    Done,
    ErrorChunk,
    FinishReason,
    Interrupted,
    Message,
    ReplyStatus,
    Role,
    TextDelta,
    Usage,
    UsageChunk,
)
from tui_chat.conversation import Conversation, PromptSettings
from tui_chat.errors import ProviderError
from tui_chat.providers.demo import DemoProvider
from tui_chat.providers.registry import ProviderSettings


async def drain(reply) -> list[Chunk]:
    return [chunk async for chunk in reply]


async def test_complete_reply_goes_into_history_with_usage() -> None:
    provider = ScriptedProvider([TextDelta("Hel"), TextDelta("lo"), UsageChunk(Usage(3, 2)), Done()])
    conversation = Conversation(provider)
    reply = conversation.send("hi")
    chunks = await drain(reply)
    assert [type(c) for c in chunks] == [TextDelta, TextDelta, UsageChunk, Done]
    assert reply.status is ReplyStatus.COMPLETE and reply.finish_reason is FinishReason.STOP
    assert [(m.role, m.content, m.status) for m in conversation.history] == [
        (Role.USER, "hi", ReplyStatus.COMPLETE),
        (Role.ASSISTANT, "Hello", ReplyStatus.COMPLETE),
    ]
    assert conversation.usage == Usage(3, 2)


async def test_model_text_is_cleaned_of_control_sequences() -> None:
    provider = ScriptedProvider([TextDelta("a\x1b]52;c;ZXZpbA==\x07b\x1b[2J\u202e"), Done()])
    conversation = Conversation(provider)
    chunks = await drain(conversation.send("x"))
    assert chunks[0] == TextDelta("a]52;c;ZXZpbA==b[2J")
    assert conversation.history[-1].content == "a]52;c;ZXZpbA==b[2J"


async def test_cancelling_mid_stream_keeps_the_partial_reply_as_cancelled() -> None:
    gate = asyncio.Event()  # never set: the stream hangs after its first chunk
    provider = ScriptedProvider([TextDelta("partial"), TextDelta(" never"), Done()], gate=gate)
    conversation = Conversation(provider)
    reply = conversation.send("hi")
    first = asyncio.Event()

    async def consume() -> None:
        async for _ in reply:
            first.set()

    task = asyncio.create_task(consume())
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert reply.status is ReplyStatus.CANCELLED
    assert conversation.history[-1].content == "partial"
    assert conversation.history[-1].status is ReplyStatus.CANCELLED
    assert provider.closed_streams == 1


async def test_breaking_out_and_closing_marks_the_reply_cancelled() -> None:
    provider = ScriptedProvider([TextDelta("one"), TextDelta("two"), Done()])
    conversation = Conversation(provider)
    reply = conversation.send("hi")
    async for _ in reply:
        break
    await reply.aclose()
    assert reply.status is ReplyStatus.CANCELLED
    assert conversation.history[-1].content == "one"
    assert provider.closed_streams == 1


async def test_provider_error_before_the_first_chunk_becomes_an_error_chunk() -> None:
    provider = ScriptedProvider([ProviderError("bad key", hint="set OPENAI_API_KEY", status=401)])
    conversation = Conversation(provider)
    reply = conversation.send("hi")
    chunks = await drain(reply)
    assert chunks == [ErrorChunk("bad key", "set OPENAI_API_KEY", False)]
    assert reply.status is ReplyStatus.ERROR
    assert conversation.history[0].content == "hi"
    assert conversation.history[-1].status is ReplyStatus.ERROR


async def test_error_chunk_after_text_keeps_the_partial_text() -> None:
    provider = ScriptedProvider([TextDelta("half"), ErrorChunk("overloaded")])
    conversation = Conversation(provider)
    reply = conversation.send("hi")
    await drain(reply)
    assert (reply.status, reply.error, reply.text) == (ReplyStatus.ERROR, "overloaded", "half")
    assert conversation.history[-1].content == "half"


async def test_stream_ending_without_done_is_interrupted() -> None:
    provider = ScriptedProvider([TextDelta("cut")])
    conversation = Conversation(provider)
    reply = conversation.send("hi")
    chunks = await drain(reply)
    assert isinstance(chunks[-1], Interrupted)
    assert reply.status is ReplyStatus.INTERRUPTED
    assert conversation.history[-1].status is ReplyStatus.INTERRUPTED


async def test_unexpected_exception_is_an_error_not_a_crash() -> None:
    provider = ScriptedProvider([TextDelta("x"), KeyError("boom")])
    conversation = Conversation(provider)
    reply = conversation.send("hi")
    chunks = await drain(reply)
    assert isinstance(chunks[-1], ErrorChunk)
    assert "KeyError" in chunks[-1].message
    assert reply.status is ReplyStatus.ERROR


async def test_request_carries_history_system_prompt_and_parameters() -> None:
    provider = ScriptedProvider([TextDelta("ok"), Done()])
    prompt = PromptSettings(system="Be brief.", parameters={"temperature": 0.2}, label="p")
    conversation = Conversation(provider, prompt)
    await drain(conversation.send("one"))
    await drain(conversation.send("two"))
    request = provider.requests[-1]
    assert request.system == "Be brief."
    assert request.parameters == {"temperature": 0.2}
    assert request.model == "script-1"
    assert [(m.role, m.content) for m in request.messages] == [
        (Role.USER, "one"),
        (Role.ASSISTANT, "ok"),
        (Role.USER, "two"),
    ]


async def test_retry_replaces_the_failed_reply() -> None:
    provider = ScriptedProvider([TextDelta("half"), ErrorChunk("overloaded")], [TextDelta("whole"), Done()])
    conversation = Conversation(provider)
    await drain(conversation.send("question"))
    reply = conversation.retry()
    await drain(reply)
    assert [(m.role, m.content) for m in provider.requests[-1].messages] == [(Role.USER, "question")]
    assert [m.content for m in conversation.history] == ["question", "whole"]


async def test_retry_without_history_is_refused() -> None:
    with pytest.raises(ValueError):
        Conversation(ScriptedProvider()).retry()


async def test_a_reply_iterates_only_once() -> None:
    reply = Conversation(ScriptedProvider([Done()])).send("x")
    await drain(reply)
    with pytest.raises(RuntimeError):
        reply.__aiter__()


async def test_demo_conversation_end_to_end() -> None:
    conversation = Conversation(DemoProvider(ProviderSettings(options={"speed": 0})))
    reply = conversation.send("hello demo")
    await drain(reply)
    assert reply.status is ReplyStatus.COMPLETE
    assert "hello demo" in reply.text
    assert reply.usage.output_tokens > 0


async def test_unanswered_tool_call_gets_a_cancelled_result_in_the_next_request() -> None:
    from tui_chat.chunks import Message, ToolCall, ToolCallChunk

    call = ToolCall("call-1", "run_shell", '{"command": "ls"}')
    provider = ScriptedProvider([ToolCallChunk(call), Done(FinishReason.TOOL_CALLS)], [TextDelta("ok"), Done()])
    conversation = Conversation(provider)
    await drain(conversation.send("list files"))
    await drain(conversation.send("never mind"))
    messages = provider.requests[-1].messages
    assert [(m.role, m.tool_call_id, m.is_error) for m in messages] == [
        (Role.USER, None, False),
        (Role.ASSISTANT, None, False),
        (Role.TOOL, "call-1", True),
        (Role.USER, None, False),
    ]
    assert conversation.history[2] == Message(Role.USER, "never mind")  # the history itself is untouched


async def test_continue_reply_sends_no_new_user_message_and_offers_given_tools() -> None:
    from tui_chat.chunks import Message, ToolSpec

    provider = ScriptedProvider([TextDelta("ok"), Done()])
    conversation = Conversation(provider, PromptSettings(tools=(ToolSpec("pack_tool"),)))
    conversation.append(Message(Role.USER, "hi"))
    await drain(conversation.continue_reply(tools=(ToolSpec("calculator"),), tool_choice="auto"))
    request = provider.requests[-1]
    assert [m.content for m in request.messages] == ["hi"]
    assert [t.name for t in request.tools] == ["calculator"] and request.tool_choice == "auto"
    await drain(conversation.send("again"))
    assert [t.name for t in provider.requests[-1].tools] == ["pack_tool"]


def _windowed(provider: ScriptedProvider, window: int) -> ScriptedProvider:
    """`provider` with a catalog that gives its model a context window of `window` tokens."""
    from tui_chat.models import Catalog

    provider.catalog = Catalog({provider.model: {"context_window": window}})  # type: ignore[attr-defined]
    return provider


async def test_a_first_message_too_long_for_the_window_is_refused_before_anything_is_sent() -> None:
    from tui_chat.conversation import ContextWindowFull

    provider = _windowed(ScriptedProvider([TextDelta("ok"), Done()]), 100)
    conversation = Conversation(provider, PromptSettings(system="s" * 40))  # 10 tokens at 4 characters each
    with pytest.raises(ContextWindowFull) as refused:
        conversation.send("x" * 361)  # 40 + 361 = 401 characters: about 101 tokens
    assert refused.value.tokens == 101 and refused.value.window == 100
    assert "script-1's context window: about 101 tokens of 100" in str(refused.value)
    assert "Ctrl+L" in refused.value.hint and "Ctrl+N" in refused.value.hint
    assert conversation.history == [] and provider.requests == []
    await drain(conversation.send("x" * 360))  # exactly 100 tokens: it fits
    assert len(provider.requests) == 1


async def test_the_estimate_starts_from_the_services_last_count_and_adds_the_new_text() -> None:
    from tui_chat.conversation import ContextWindowFull

    provider = _windowed(ScriptedProvider([TextDelta("ok"), UsageChunk(Usage(900, 60)), Done()]), 1_000)
    conversation = Conversation(provider)
    await drain(conversation.send("short"))
    # The service counted 900 in + 60 out: 40 tokens (160 characters) are left.
    assert conversation.context_problem("y" * 160) is None
    problem = conversation.context_problem("y" * 161)
    assert isinstance(problem, ContextWindowFull) and problem.tokens == 1_001
    conversation.append(Message(Role.USER, "z" * 80))  # a message added since the count: 20 tokens
    assert conversation.context_problem("y" * 80) is None
    assert conversation.context_problem("y" * 81) is not None
    with pytest.raises(ContextWindowFull):
        conversation.send("y" * 200)
    assert [m.content for m in conversation.history] == ["short", "ok", "z" * 80]
    conversation.clear()  # a new chat starts from nothing
    assert conversation.context_problem("y" * 3_000) is None


async def test_a_model_without_a_known_window_is_never_refused() -> None:
    conversation = Conversation(ScriptedProvider([TextDelta("ok"), Done()]))
    assert conversation.context_problem("x" * 10_000_000) is None
