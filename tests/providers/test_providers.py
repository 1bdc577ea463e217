"""One behavioural suite, run against every HTTP provider and its loopback fake.

Each test scripts the fake server (tests/fakes/) with its protocol's real event shapes, runs the
real provider class over a real socket, and checks what came out: chunks, the reply's status, the
requests the server saw and the connections it counted. Nothing of httpx or the providers is mocked;
backoff waits go through a recording `sleep` instead of the clock, and the only real waits are the
tiny configured timeouts of the timeout tests.
"""

from __future__ import annotations

import asyncio
import json
import socket
import tracemalloc

import pytest

from tests.fakes.clock import Sleeps
from tests.fakes.server import Drop, FakeServer, Repeat, Respond, Send, Status, Wait, json_response, stream
from tests.fakes.wire import Wire
from tui_chat.chunks import (
    Done,
    ErrorChunk,
    FinishReason,
    Interrupted,
    Message,
    OpaqueBlock,
    ReplyStatus,
    RetryNotice,
    Role,
    TextDelta,
    ToolCall,
    ToolCallChunk,
    ToolSpec,
    Usage,
    UsageChunk,
)
from tui_chat.conversation import Conversation
from tui_chat.errors import ProviderError
from tui_chat.providers.base import ChatRequest, Provider
from tui_chat.providers.registry import PROVIDERS, ProviderSettings, create_provider

from .conftest import KEY, SAFETY, collect

TOOL = ToolSpec(
    "get_weather",
    "Weather for a city",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)
PARAMETERS = {"temperature": 0.3, "max_tokens": 99, "top_p": 0.9, "top_k": 40, "stop": "END", "seed": 7}


def hello(wire: Wire, text: str = "Hi") -> ChatRequest:
    return ChatRequest(model=wire.model, messages=(Message(Role.USER, text),))


def texts(chunks: list) -> str:
    return "".join(chunk.text for chunk in chunks if isinstance(chunk, TextDelta))


def needs_tools(wire: Wire) -> None:
    if not wire.tools:
        pytest.skip(f"{wire.provider} has no tool calls")


async def run_reply(provider: Provider, text: str = "Hi"):
    """Send `text` through a Conversation and consume the reply; returns (reply, chunks)."""
    conversation = Conversation(provider)
    reply = conversation.send(text)
    chunks = []
    async with asyncio.timeout(SAFETY):
        async for chunk in reply:
            chunks.append(chunk)
    return reply, chunks


# --- replies ----------------------------------------------------------------------------------


async def test_plain_reply(wire: Wire, server: FakeServer, make) -> None:
    server.enqueue(stream(wire.reply(["Hel", "lo, ", "wörld"])))
    provider = make()
    chunks = await collect(provider, hello(wire))
    assert texts(chunks) == "Hello, wörld"
    assert chunks[-1] == Done(FinishReason.STOP)
    if wire.usage:
        assert UsageChunk(Usage(11, 7)) in chunks
    assert not any(isinstance(chunk, (ErrorChunk, Interrupted, RetryNotice)) for chunk in chunks)
    requests = wire.stream_requests(server)
    assert len(requests) == 1
    wire.check_request(requests[0], KEY)


async def test_multibyte_utf8_split_across_reads(wire: Wire, server: FakeServer, make) -> None:
    body = b"".join(wire.reply(["héllo 🌍 ", "日本語 ✓"]))
    # One HTTP chunk per byte: every multi-byte character arrives in several reads.
    server.enqueue([Status()] + [Send(body[i : i + 1]) for i in range(len(body))])
    chunks = await collect(make(), hello(wire))
    assert texts(chunks) == "héllo 🌍 日本語 ✓"
    assert isinstance(chunks[-1], Done)


async def test_crlf_line_endings(wire: Wire, server: FakeServer, make) -> None:
    events = [event.replace(b"\n", b"\r\n") for event in wire.reply(["a", "b"])]
    server.enqueue(stream(events))
    chunks = await collect(make(), hello(wire))
    assert texts(chunks) == "ab"
    assert isinstance(chunks[-1], Done)


async def test_usage_reaches_the_conversation(wire: Wire, server: FakeServer, make) -> None:
    if not wire.usage:
        pytest.skip("no usage on this wire")
    server.enqueue(stream(wire.reply(["ok"], usage=(120, 34))))
    reply, _ = await run_reply(make())
    assert reply.status is ReplyStatus.COMPLETE
    assert reply.usage == Usage(120, 34)


async def test_length_finish_reason(wire: Wire, server: FakeServer, make) -> None:
    if wire.provider == "replicate":
        pytest.skip("Replicate reports no finish reason")
    server.enqueue(stream(wire.start() + wire.text("cut") + wire.finish(reason="length")))
    chunks = await collect(make(), hello(wire))
    assert chunks[-1] == Done(FinishReason.LENGTH)


# --- tool calls -------------------------------------------------------------------------------


async def test_tool_call_split_across_many_deltas(wire: Wire, server: FakeServer, make) -> None:
    needs_tools(wire)
    arguments = '{"city": "Paris", "unit": "celsius", "note": "naïve ✓"}'
    calls = [("call_1", "get_weather", arguments)]
    server.enqueue(stream(wire.start() + wire.tool_calls(calls, split=12) + wire.finish(tool_calls=True)))
    chunks = await collect(make(), ChatRequest(wire.model, (Message(Role.USER, "Weather?"),), tools=(TOOL,)))
    found = [chunk.call for chunk in chunks if isinstance(chunk, ToolCallChunk)]
    assert len(found) == 1
    assert found[0].name == "get_weather"
    assert json.loads(found[0].arguments) == json.loads(arguments)
    if wire.provider not in ("gemini", "vertex"):  # Gemini sends args as an object, the rest as exact text
        assert found[0].arguments == arguments
        assert found[0].id == "call_1"
    assert found[0].id
    assert chunks[-1] == Done(FinishReason.TOOL_CALLS)


async def test_two_parallel_tool_calls(wire: Wire, server: FakeServer, make) -> None:
    needs_tools(wire)
    calls = [("call_a", "get_weather", '{"city":"Paris"}'), ("call_b", "get_time", '{"zone":"CET"}')]
    server.enqueue(stream(wire.start() + wire.tool_calls(calls, split=3) + wire.finish(tool_calls=True)))
    reply, chunks = await run_reply(make(), "Weather and time?")
    assert reply.status is ReplyStatus.COMPLETE
    found = [chunk.call for chunk in chunks if isinstance(chunk, ToolCallChunk)]
    assert [(call.name, json.loads(call.arguments)) for call in found] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"zone": "CET"}),
    ]
    assert len({call.id for call in found}) == 2
    if wire.provider not in ("gemini", "vertex"):
        assert [call.id for call in found] == ["call_a", "call_b"]
    assert reply.tool_calls == found


# --- request encoding -------------------------------------------------------------------------


async def test_request_encoding(wire: Wire, server: FakeServer, make) -> None:
    server.enqueue(stream(wire.reply(["ok"])))
    request = ChatRequest(
        wire.model,
        (Message(Role.USER, "Hi there"),),
        system="Be brief.",
        parameters=PARAMETERS,
        tools=(TOOL,) if wire.tools else (),
    )
    await collect(make(), request)
    [sent] = wire.stream_requests(server)
    wire.check_request(sent, KEY)
    wire.check_body(sent.json())


async def test_tool_history_encoding(wire: Wire, server: FakeServer, make) -> None:
    server.enqueue(stream(wire.reply(["It failed."])))
    # A block only another provider understands (as after a switch of provider) is left out.
    foreign = OpaqueBlock("elsewhere", "thinking", '{"type": "reasoning", "text": "hm"}')
    history = (
        Message(Role.USER, "Weather in Paris?"),
        Message(Role.ASSISTANT, "", (ToolCall("call_1", "get_weather", '{"city":"Paris"}'),), opaque=(foreign,)),
        Message(Role.TOOL, "no such city", tool_call_id="call_1", name="get_weather", is_error=True),
    )
    await collect(make(), ChatRequest(wire.model, history, system="Be brief.", tools=(TOOL,) if wire.tools else ()))
    [sent] = wire.stream_requests(server)
    wire.check_tool_history(sent.json())


async def test_key_is_read_per_request(wire: Wire, server: FakeServer, make) -> None:
    keys = iter(["first-key-1111", "second-key-2222"])
    current = {"key": next(keys)}
    provider = create_provider(
        wire.provider,
        ProviderSettings(wire.model, wire.base_url(server), lambda: current["key"], wire.settings(server, None).options),
    )
    try:
        server.enqueue(stream(wire.reply(["one"])), stream(wire.reply(["two"])))
        await collect(provider, hello(wire))
        current["key"] = next(keys)
        await collect(provider, hello(wire))
    finally:
        await provider.aclose()
    first, second = wire.stream_requests(server)
    wire.check_request(first, "first-key-1111")
    wire.check_request(second, "second-key-2222")
    assert server.connections == 1


async def test_missing_key_fails_before_any_request(wire: Wire, server: FakeServer, make) -> None:
    if not wire.key_env or wire.provider == "vertex":
        pytest.skip("this provider works without a key")
    with pytest.raises(ProviderError) as caught:
        await collect(make(key=None), hello(wire))
    assert wire.key_env in str(caught.value)
    assert server.requests == []


async def test_list_models(wire: Wire, server: FakeServer, make) -> None:
    if wire.models_path:
        server.enqueue(json_response(wire.models_body))
    models = await make().list_models()
    assert [model.id for model in models] == wire.models_expected
    assert all(model.provider == wire.provider for model in models)
    if wire.models_path:
        # Ollama's provider then asks /api/show about each model (test_endpoint_learning.py).
        [request] = [request for request in server.requests if request.path != "/api/show"]
        assert request.method == "GET"
        assert request.path == wire.models_path
        assert KEY not in request.target
    else:
        assert server.requests == []


async def test_info_and_repr_keep_the_key_out(wire: Wire, server: FakeServer, make) -> None:
    provider = make()
    info = provider.info()
    assert info.provider == wire.provider
    assert info.capabilities.streaming
    assert info.capabilities.tools is wire.tools
    server.enqueue(stream(wire.reply(["ok"])))
    await collect(provider, hello(wire))  # the key has been used
    assert KEY not in repr(provider)
    assert KEY not in repr(vars(provider))
    assert KEY not in repr(provider.settings)  # type: ignore[attr-defined]


# --- retries ----------------------------------------------------------------------------------


async def test_retry_then_success(wire: Wire, server: FakeServer, make, sleeps: Sleeps) -> None:
    server.enqueue(json_response(wire.error_body(503, "try later"), 503), stream(wire.reply(["fine"])))
    chunks = await collect(make(), hello(wire))
    notices = [chunk for chunk in chunks if isinstance(chunk, RetryNotice)]
    assert len(notices) == 1
    assert (notices[0].attempt, notices[0].attempts) == (2, 3)
    assert "503" in notices[0].reason and "try later" in notices[0].reason
    assert 0.375 <= notices[0].delay <= 0.5  # 0.5 s base, at most 25 % jitter
    assert sleeps.delays == [notices[0].delay]
    assert texts(chunks) == "fine"
    assert chunks[0] == notices[0]
    assert len(wire.stream_requests(server)) == 2
    assert server.connections == 1


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 529])
async def test_retryable_statuses(wire: Wire, server: FakeServer, make, status: int) -> None:
    server.enqueue(json_response(wire.error_body(status, "busy"), status), stream(wire.reply(["ok"])))
    chunks = await collect(make(), hello(wire))
    assert isinstance(chunks[0], RetryNotice)
    assert texts(chunks) == "ok"


async def test_retry_exhausted(wire: Wire, server: FakeServer, make, sleeps: Sleeps) -> None:
    for _ in range(3):
        server.enqueue(json_response(wire.error_body(500, "kaput"), 500))
    notices = []
    with pytest.raises(ProviderError) as caught:
        async with asyncio.timeout(SAFETY):
            async for chunk in make().stream(hello(wire)):
                notices.append(chunk)
    assert [(n.attempt, n.attempts) for n in notices] == [(2, 3), (3, 3)]
    assert 0.375 <= sleeps.delays[0] <= 0.5 and 0.75 <= sleeps.delays[1] <= 1.0
    error = caught.value
    assert error.status == 500 and error.retryable
    assert "kaput" in str(error) and "gave up after 3 attempts" in str(error)
    assert len(wire.stream_requests(server)) == 3


async def test_retry_after_is_honoured(wire: Wire, server: FakeServer, make, sleeps: Sleeps) -> None:
    server.enqueue(
        json_response(wire.error_body(429, "slow down"), 429, {"retry-after": "3"}),
        json_response(wire.error_body(503, "busy"), 503, {"retry-after-ms": "250"}),
        stream(wire.reply(["ok"])),
    )
    chunks = await collect(make(), hello(wire))
    assert [chunk.delay for chunk in chunks if isinstance(chunk, RetryNotice)] == [3.0, 0.25]
    assert sleeps.delays == [3.0, 0.25]
    assert texts(chunks) == "ok"


async def test_retry_after_too_long_is_not_slept(wire: Wire, server: FakeServer, make, sleeps: Sleeps) -> None:
    server.enqueue(json_response(wire.error_body(429, "quota"), 429, {"retry-after": "600"}))
    chunks = []
    with pytest.raises(ProviderError) as caught:
        async for chunk in make().stream(hello(wire)):
            chunks.append(chunk)
    assert chunks == [] and sleeps.delays == []
    assert "retry after 10 min" in str(caught.value)
    assert caught.value.status == 429
    assert len(wire.stream_requests(server)) == 1


async def test_connect_error_is_retried(wire: Wire, make, sleeps: Sleeps) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = wire.settings(FakeServer(), KEY, sleep=sleeps)
    settings.base_url = f"http://127.0.0.1:{port}" + settings.base_url.removeprefix("http://127.0.0.1:0")
    provider = create_provider(wire.provider, settings)
    notices = []
    try:
        with pytest.raises(ProviderError) as caught:
            async for chunk in provider.stream(hello(wire)):
                notices.append(chunk)
    finally:
        await provider.aclose()
    assert len(notices) == 2 and all(isinstance(n, RetryNotice) for n in notices)
    assert "could not connect" in str(caught.value)
    assert KEY not in str(caught.value)


# --- failures that are not retried ------------------------------------------------------------


async def test_unauthorized_names_the_key_setting_without_the_key(wire: Wire, server: FakeServer, make) -> None:
    server.enqueue(json_response(wire.error_body(401, f"Incorrect API key provided: {KEY}."), 401))
    with pytest.raises(ProviderError) as caught:
        await collect(make(), hello(wire))
    error = caught.value
    assert error.status == 401 and not error.retryable
    assert "Incorrect API key provided" in error.message
    assert KEY not in str(error) and KEY not in error.hint
    if wire.key_env:
        assert wire.key_env in error.hint
    assert len(wire.stream_requests(server)) == 1


@pytest.mark.parametrize("status", [400, 403, 404, 422])
async def test_client_errors_fail_at_once_with_the_provider_message(wire: Wire, server: FakeServer, make, sleeps: Sleeps, status: int) -> None:
    server.enqueue(json_response(wire.error_body(status, f"model 'nope' problem {status}"), status))
    reply, chunks = await run_reply(make())
    assert reply.status is ReplyStatus.ERROR
    assert f"model 'nope' problem {status}" in reply.error
    assert str(status) in reply.error
    assert isinstance(chunks[-1], ErrorChunk)
    assert sleeps.delays == []
    assert len(wire.stream_requests(server)) == 1


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("text/html", b"<html><body><h1>502 Bad Gateway</h1> from the proxy</body></html>", "502 Bad Gateway"),
        ("application/json", b'{"id": "x", "note": "not a stream"}', "not a stream"),
    ],
)
async def test_non_sse_reply_is_reported_with_status_and_body(
    wire: Wire, server: FakeServer, make, content_type: str, body: bytes, expected: str
) -> None:
    server.enqueue([Respond(200, body, content_type=content_type)])
    with pytest.raises(ProviderError) as caught:
        await collect(make(), hello(wire))
    message = str(caught.value)
    assert content_type in message and "status 200" in message and expected in message


# --- failures after the first chunk -----------------------------------------------------------


async def test_mid_stream_error_event_keeps_the_partial_reply(wire: Wire, server: FakeServer, make) -> None:
    server.enqueue(stream(wire.start() + wire.text("Partial ") + wire.error_event("Overloaded right now")))
    reply, chunks = await run_reply(make())
    assert reply.status is ReplyStatus.ERROR
    assert reply.text == "Partial "
    assert isinstance(chunks[-1], ErrorChunk) and "Overloaded right now" in chunks[-1].message
    assert reply.as_message().content == "Partial "


async def test_error_event_before_any_content_is_retried(wire: Wire, server: FakeServer, make) -> None:
    if wire.provider in ("replicate", "cohere"):
        pytest.skip("this wire's error event is final")
    server.enqueue(stream(wire.start() + wire.error_event("Overloaded")), stream(wire.reply(["second time"])))
    chunks = await collect(make(), hello(wire))
    assert isinstance(chunks[0], RetryNotice) and "Overloaded" in chunks[0].reason
    assert texts(chunks) == "second time"


async def test_drop_after_first_chunk_is_interrupted(wire: Wire, server: FakeServer, make, sleeps: Sleeps) -> None:
    server.enqueue(stream(wire.start() + wire.text("Half a ")) + [Drop()])
    reply, chunks = await run_reply(make())
    assert reply.status is ReplyStatus.INTERRUPTED
    assert reply.text == "Half a "
    assert isinstance(chunks[-1], Interrupted) and "dropped" in chunks[-1].reason
    assert sleeps.delays == []  # never retried once something reached the consumer


async def test_drop_before_any_content_is_retried(wire: Wire, server: FakeServer, make) -> None:
    server.enqueue(stream(wire.start()) + [Drop()], stream(wire.reply(["whole"])))
    chunks = await collect(make(), hello(wire))
    assert isinstance(chunks[0], RetryNotice)
    assert texts(chunks) == "whole"


async def test_clean_end_without_terminal_event_is_interrupted(wire: Wire, server: FakeServer, make) -> None:
    server.enqueue(stream(wire.start() + wire.text("No ending")))
    reply, chunks = await run_reply(make())
    assert reply.status is ReplyStatus.INTERRUPTED
    assert reply.text == "No ending"
    assert isinstance(chunks[-1], Interrupted) and "ended before" in chunks[-1].reason


# --- timeouts and limits ----------------------------------------------------------------------


@pytest.mark.usefixtures("no_full_collection")
async def test_idle_timeout_is_not_reset_by_keepalives(wire: Wire, server: FakeServer, make) -> None:
    # Keep-alives every 20 ms would keep a naive read timeout of 250 ms from ever firing.
    server.enqueue(stream(wire.start() + wire.text("Waiting")) + [Repeat(wire.keepalive(), 0.02)])
    reply, chunks = await run_reply(make(idle_timeout=0.25))
    assert reply.status is ReplyStatus.ERROR
    assert reply.text == "Waiting"
    assert isinstance(chunks[-1], ErrorChunk)
    assert "0.25 s (idle_timeout)" in chunks[-1].message and chunks[-1].retryable
    await server.wait_for(lambda: server.closed_connections == 1)


@pytest.mark.usefixtures("no_full_collection")
async def test_idle_timeout_before_any_content(wire: Wire, server: FakeServer, make, sleeps: Sleeps) -> None:
    server.enqueue(stream(wire.start()) + [Repeat(wire.keepalive(), 0.02)])
    with pytest.raises(ProviderError) as caught:
        await collect(make(idle_timeout=0.25), hello(wire))
    assert "sent nothing more for 0.25 s (idle_timeout)" in str(caught.value)
    assert sleeps.delays == []


@pytest.mark.usefixtures("no_full_collection")
async def test_idle_timeout_waiting_for_headers(wire: Wire, server: FakeServer, make) -> None:
    never = asyncio.Event()
    server.enqueue([Wait(never)])
    if wire.provider == "replicate":
        pytest.skip("the stream request comes after the prediction request")
    with pytest.raises(ProviderError) as caught:
        await collect(make(idle_timeout=0.25), hello(wire))
    assert "sent nothing for 0.25 s (idle_timeout)" in str(caught.value)


@pytest.mark.usefixtures("no_full_collection")
async def test_total_timeout(wire: Wire, server: FakeServer, make) -> None:
    server.enqueue(stream(wire.start() + wire.text("a")) + [Repeat(wire.text("b")[-1], 0.02)])
    reply, chunks = await run_reply(make(total_timeout=0.3))
    assert reply.status is ReplyStatus.ERROR
    assert reply.text.startswith("ab")
    assert "0.3 s (total_timeout)" in chunks[-1].message


async def test_oversized_event_stops_the_stream(wire: Wire, server: FakeServer, make) -> None:
    big = wire.text("x" * 5000)[-1]
    server.enqueue(stream(wire.start() + wire.text("fine so far ") + [big] + wire.finish()))
    reply, chunks = await run_reply(make(max_event_bytes=2048))
    assert reply.status is ReplyStatus.ERROR
    assert reply.text == "fine so far "
    assert "larger than 2048 bytes (max_event_bytes)" in chunks[-1].message


async def test_endless_line_is_refused_in_bounded_memory(wire: Wire, server: FakeServer, make) -> None:
    # 64 MiB of one `data:` line without a newline, sent as fast as the socket takes it.
    block = b"x" * 65536
    server.enqueue([Status(), Send(b"data: ")] + [Send(block)] * 1024)
    tracemalloc.start()
    try:
        with pytest.raises(ProviderError) as caught:
            await collect(make(max_event_bytes=1024 * 1024), hello(wire))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "larger than 1048576 bytes" in str(caught.value)
    assert peak < 8 * 1024 * 1024


# --- connections ------------------------------------------------------------------------------


async def test_twenty_turns_use_one_connection(wire: Wire, server: FakeServer, make) -> None:
    provider = make()
    conversation = Conversation(provider)
    for turn in range(20):
        server.enqueue(stream(wire.reply([f"reply {turn}"])))
        reply = conversation.send(f"message {turn}")
        async with asyncio.timeout(SAFETY):
            async for _ in reply:
                pass
        assert reply.status is ReplyStatus.COMPLETE, reply.error
        assert reply.text == f"reply {turn}"
    assert len(wire.stream_requests(server)) == 20
    assert server.connections == 1
    assert server.closed_connections == 0


async def test_consumer_stopping_closes_the_connection(wire: Wire, server: FakeServer, make) -> None:
    never = asyncio.Event()
    server.enqueue(stream(wire.start() + wire.text("First words")) + [Wait(never)])
    provider = make()
    conversation = Conversation(provider)
    reply = conversation.send("Hi")
    async with asyncio.timeout(SAFETY):
        async for chunk in reply:
            if isinstance(chunk, TextDelta):
                break
        await reply.aclose()
    assert reply.status is ReplyStatus.CANCELLED
    assert conversation.history[-1].content == "First words"
    await server.wait_for(lambda: server.closed_connections == 1)
    # The provider still works afterwards, on a new connection.
    server.enqueue(stream(wire.reply(["again"])))
    chunks = await collect(provider, hello(wire))
    assert texts(chunks) == "again"
    assert server.connections == 2


async def test_cancelled_task_closes_the_connection(wire: Wire, server: FakeServer, make) -> None:
    never = asyncio.Event()
    server.enqueue(stream(wire.start() + wire.text("Some text")) + [Wait(never)])
    conversation = Conversation(make())
    got_text = asyncio.Event()

    async def consume() -> None:
        async for chunk in conversation.send("Hi"):
            if isinstance(chunk, TextDelta):
                got_text.set()

    task = asyncio.create_task(consume())
    async with asyncio.timeout(SAFETY):
        await got_text.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await server.wait_for(lambda: server.closed_connections == 1)
    assert conversation.history[-1].status is ReplyStatus.CANCELLED
    assert conversation.history[-1].content == "Some text"


async def test_registry_names_match(wire: Wire) -> None:
    assert wire.provider in PROVIDERS
