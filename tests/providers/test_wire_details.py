"""Details of single providers that the shared suite does not cover."""

from __future__ import annotations

import asyncio
import json
import sys

import httpx
import pytest

from tests.fakes import gemini_wire
from tests.fakes.gemini_wire import GeminiWire, VertexWire
from tests.fakes.openai_wire import chunk
from tests.fakes.server import FakeServer, json_response, stream
from tui_chat.chunks import Done, FinishReason, Message, ReplyStatus, Role, TextDelta, ToolCall, ToolCallChunk
from tui_chat.conversation import Conversation, Reply
from tui_chat.errors import ProviderError
from tui_chat.providers.base import ChatRequest
from tui_chat.providers.failures import error_message
from tui_chat.providers.openai import OpenAIDecoder
from tui_chat.providers.options import TransportOptions
from tui_chat.providers.redaction import redact
from tui_chat.providers.registry import ProviderSettings, create_provider
from tui_chat.providers.retry import parse_retry_after
from tui_chat.providers.sse import SSEEvent


def decode(events: list[bytes]) -> list:
    decoder = OpenAIDecoder()
    out = []
    for raw in events:
        data = raw.decode().removeprefix("data: ").strip()
        out += decoder.feed(SSEEvent("message", data))
    return out + list(decoder.finish())


# --- OpenAI tool call assembly ----------------------------------------------------------------


def test_openai_fragments_without_index_or_id_continue_the_call_at_their_position() -> None:
    chunks = decode([
        chunk({"tool_calls": [{"id": "a", "function": {"name": "one", "arguments": ""}},
                              {"id": "b", "function": {"name": "two", "arguments": ""}}]}),
        chunk({"tool_calls": [{"function": {"arguments": '{"x":'}}, {"function": {"arguments": '{"y":'}}]}),
        chunk({"tool_calls": [{"function": {"arguments": "1}"}}, {"function": {"arguments": "2}"}}]}),
        chunk({}, "tool_calls"),
    ])
    assert [c.call for c in chunks if isinstance(c, ToolCallChunk)] == [
        ToolCall("a", "one", '{"x":1}'),
        ToolCall("b", "two", '{"y":2}'),
    ]
    assert chunks[-1] == Done(FinishReason.TOOL_CALLS)


def test_openai_server_reusing_index_zero_for_every_call_is_told_apart_by_id() -> None:
    chunks = decode([
        chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "one", "arguments": "{}"}}]}),
        chunk({"tool_calls": [{"index": 0, "id": "b", "function": {"name": "two", "arguments": '{"k":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": "3}"}}]}),
        chunk({}, "tool_calls"),
    ])
    assert [c.call for c in chunks if isinstance(c, ToolCallChunk)] == [ToolCall("a", "one", "{}"), ToolCall("b", "two", '{"k":3}')]


def test_openai_call_without_id_gets_one_and_empty_arguments_become_an_object() -> None:
    chunks = decode([chunk({"tool_calls": [{"index": 0, "function": {"name": "now"}}]}), chunk({}, "tool_calls")])
    [call] = [c.call for c in chunks if isinstance(c, ToolCallChunk)]
    assert call.id and call.name == "now" and call.arguments == "{}"


# --- transport helpers ------------------------------------------------------------------------


def test_error_message_shapes() -> None:
    assert error_message('{"error": {"message": "bad model", "type": "x"}}') == "bad model"
    assert error_message('{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}') == "Overloaded"
    assert error_message('[{"error": {"code": 400, "message": "API key not valid", "status": "INVALID_ARGUMENT"}}]') == "API key not valid"
    assert error_message('{"message": "invalid api token"}') == "invalid api token"
    assert error_message('{"title": "Unauthenticated", "detail": "You did not pass a valid token", "status": 401}') == "You did not pass a valid token"
    assert error_message('{"detail": [{"loc": ["body"], "msg": "field required"}]}') == "field required"
    assert error_message("<html>  gateway\n timeout </html>") == "<html> gateway timeout </html>"


def test_retry_after_forms() -> None:
    assert parse_retry_after(httpx.Headers({"retry-after": "7"})) == 7.0
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "1500", "retry-after": "9"})) == 1.5
    assert parse_retry_after(httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:30 GMT"}), now=1445412500.0) == 10.0
    assert parse_retry_after(httpx.Headers({"retry-after": "soon"})) is None
    assert parse_retry_after(httpx.Headers({})) is None


def test_backoff_doubles_to_the_cap_with_jitter_below() -> None:
    high = TransportOptions(random=lambda: 0.0)
    low = TransportOptions(random=lambda: 0.999999)
    assert [high.backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert all(0.75 * high.backoff(n) <= low.backoff(n) < high.backoff(n) for n in range(1, 7))


def test_bad_options_are_reported() -> None:
    with pytest.raises(ProviderError, match="idle_timeout"):
        TransportOptions.from_options({"idle_timeout": "soon"})
    with pytest.raises(ProviderError, match="retries"):
        TransportOptions.from_options({"retries": -1})


def test_redact() -> None:
    assert redact("key sk-abcdef was refused (sk-abcdef)", ["sk-abcdef", ""]) == "key *** was refused (***)"


# --- Gemini -----------------------------------------------------------------------------------


async def test_gemini_generated_ids_are_not_sent_back_and_signatures_are() -> None:
    wire = GeminiWire()
    async with FakeServer() as server:
        provider = create_provider("gemini", wire.settings(server, "g-key"))
        conversation = Conversation(provider)
        calls = [("x", "get_weather", '{"city":"Oslo"}'), ("keep-2", "get_time", "{}")]
        server.enqueue(stream(wire.tool_calls(calls) + wire.finish(tool_calls=True)))
        reply = conversation.send("weather and time")
        async for _ in reply:
            pass
        generated, kept = reply.tool_calls
        assert generated.id.startswith("tc_") and kept.id == "keep-2"
        conversation.history.append(Message(Role.TOOL, '{"temp": 3}', tool_call_id=generated.id))
        conversation.history.append(Message(Role.TOOL, "12:00", tool_call_id=kept.id))
        server.enqueue(stream(wire.reply(["Cold, noon."])))
        async for _ in _replay(conversation):
            pass
        await provider.aclose()
    body = server.requests[-1].json()
    model_turn = body["contents"][1]
    assert model_turn == {"role": "model", "parts": [
        {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}, "thoughtSignature": "sig-get_weather"},
        {"functionCall": {"name": "get_time", "args": {}, "id": "keep-2"}, "thoughtSignature": "sig-get_time"},
    ]}
    assert body["contents"][2] == {"role": "user", "parts": [
        {"functionResponse": {"name": "get_weather", "response": {"temp": 3}}},
        {"functionResponse": {"name": "get_time", "response": {"output": "12:00"}, "id": "keep-2"}},
    ]}


def _replay(conversation: Conversation) -> Reply:
    """The reply that continues a conversation after tool results (what the tool loop does)."""
    return Reply(conversation, conversation.request())


async def test_gemini_prompt_blocked_is_an_error() -> None:
    wire = GeminiWire()
    async with FakeServer() as server:
        provider = create_provider("gemini", wire.settings(server, "g-key"))
        server.enqueue(stream([gemini_wire.sse({"promptFeedback": {"blockReason": "SAFETY"}})]))
        with pytest.raises(ProviderError, match="refused the prompt"):
            async for _ in provider.stream(ChatRequest("m", (Message(Role.USER, "x"),))):
                pass
        await provider.aclose()


async def test_vertex_token_command_runs_once_and_is_cached() -> None:
    wire = VertexWire()
    command = [sys.executable, "-c", "print('token-from-command')"]
    async with FakeServer() as server:
        settings = ProviderSettings(wire.model, wire.base_url(server), None, {"project": "p1", "location": "us-central1", "token_command": command})
        provider = create_provider("vertex", settings)
        for _ in range(2):
            server.enqueue(stream(wire.reply(["ok"])))
            async for _ in provider.stream(ChatRequest(wire.model, (Message(Role.USER, "x"),))):
                pass
        await provider.aclose()
    assert [r.headers["authorization"] for r in server.requests] == ["Bearer token-from-command"] * 2


async def test_vertex_failing_token_command_is_reported() -> None:
    command = [sys.executable, "-c", "import sys; sys.stderr.write('not logged in'); sys.exit(1)"]
    settings = ProviderSettings("gemini-2.5-flash", "http://127.0.0.1:9/v1", None, {"project": "p1", "token_command": command})
    provider = create_provider("vertex", settings)
    with pytest.raises(ProviderError, match="not logged in"):
        async for _ in provider.stream(ChatRequest("gemini-2.5-flash", (Message(Role.USER, "x"),))):
            pass
    await provider.aclose()


async def test_vertex_lists_gemini_models_of_every_page() -> None:
    wire = VertexWire()
    first = {"publisherModels": [{"name": "publishers/google/models/gemini-2.5-flash"}, {"name": "publishers/google/models/veo-3.0-generate-001"}],
             "nextPageToken": "page-2"}
    second = {"publisherModels": [{"name": "publishers/google/models/gemini-2.5-pro"}]}
    async with FakeServer() as server:
        server.enqueue(json_response(first), json_response(second))
        provider = create_provider("vertex", wire.settings(server, "ya29.vertex-token"))
        models = await provider.list_models()
        await provider.aclose()
    assert [model.id for model in models] == ["gemini-2.5-flash", "gemini-2.5-pro"]
    one, two = server.requests
    assert one.path == two.path == "/v1beta1/publishers/google/models"
    assert "pageToken" not in one.query and two.query["pageToken"] == "page-2"
    assert one.headers["authorization"] == "Bearer ya29.vertex-token" and one.headers["x-goog-user-project"] == "p1"

# --- construction -----------------------------------------------------------------------------


def test_azure_needs_a_deployment_and_vertex_a_project() -> None:
    with pytest.raises(ProviderError, match="deployment"):
        create_provider("azure", ProviderSettings(base_url="https://x.openai.azure.com"))
    with pytest.raises(ProviderError, match="project"):
        create_provider("vertex", ProviderSettings())


def test_environment_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "10.0.0.5:11434")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com/")
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-01-01-preview")
    assert create_provider("ollama").base_url == "http://10.0.0.5:11434/v1"  # type: ignore[attr-defined]
    azure = create_provider("azure", ProviderSettings(model="gpt4o-prod"))
    assert azure.url(ChatRequest("x", ())) == (  # type: ignore[attr-defined]
        "https://res.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions?api-version=2025-01-01-preview"
    )


def test_replicate_version_form() -> None:
    provider = create_provider("replicate", ProviderSettings(model="meta/llama:" + "a" * 64))
    url, body = provider.prediction(ChatRequest("", (Message(Role.USER, "hi"),)), {})  # type: ignore[attr-defined]
    assert url.endswith("/v1/predictions") and body["version"] == "a" * 64
    with pytest.raises(ProviderError, match="owner/name"):
        provider.prediction(ChatRequest("nonsense", (Message(Role.USER, "hi"),)), {})  # type: ignore[attr-defined]


async def test_anthropic_overloaded_529_then_success() -> None:
    from tests.fakes.anthropic_wire import AnthropicWire

    wire = AnthropicWire()
    async with FakeServer() as server:
        sleeps: list[float] = []

        async def sleep(delay: float) -> None:
            sleeps.append(delay)

        provider = create_provider("anthropic", wire.settings(server, "a-key", sleep=sleep))
        server.enqueue(json_response(wire.error_body(529, "Overloaded"), 529), stream(wire.reply(["hi"])))
        chunks = [c async for c in provider.stream(ChatRequest(wire.model, (Message(Role.USER, "x"),)))]
        await provider.aclose()
    assert "529" in chunks[0].reason and "Overloaded" in chunks[0].reason
    assert len(sleeps) == 1
    assert json.loads(server.requests[0].body)["stream"] is True


# --- Mistral ----------------------------------------------------------------------------------


async def test_mistral_gets_tool_call_ids_of_its_own_form_the_same_in_every_turn() -> None:
    from tests.fakes.openai_wire import MISTRAL_ID, MistralWire

    wire = MistralWire()
    first_turn = [
        Message(Role.USER, "Weather and time?"),
        Message(Role.ASSISTANT, "", (ToolCall("call_abc-1", "get_weather", "{}"), ToolCall("D681PevKs", "get_time", "{}"))),
        Message(Role.TOOL, "sunny", tool_call_id="call_abc-1"),
        Message(Role.TOOL, "noon", tool_call_id="D681PevKs"),
    ]
    second_turn = [*first_turn, Message(Role.ASSISTANT, "Sunny at noon."), Message(Role.USER, "And tomorrow?")]
    async with FakeServer() as server:
        wire.install(server)  # refuses, as Mistral does, any id not of 9 letters and digits
        provider = create_provider("mistral", wire.settings(server, "m-key"))
        for history in (first_turn, second_turn):
            server.enqueue(stream(wire.reply(["ok"])))
            chunks = [c async for c in provider.stream(ChatRequest(wire.model, tuple(history)))]
            assert chunks[-1] == Done(FinishReason.STOP), chunks
        await provider.aclose()

    def ids(request) -> tuple[list[str], list[str]]:
        messages = request.json()["messages"]
        calls = [call["id"] for message in messages for call in message.get("tool_calls") or []]
        return calls, [message["tool_call_id"] for message in messages if message["role"] == "tool"]

    (calls, results), (calls_again, results_again) = ids(server.requests[0]), ids(server.requests[1])
    assert calls == results == calls_again == results_again
    assert calls[1] == "D681PevKs" and calls[0] != "call_abc-1" and MISTRAL_ID.fullmatch(calls[0])


async def test_the_mistral_fake_refuses_ids_mistral_refuses() -> None:
    from tests.fakes.openai_wire import MistralWire

    wire = MistralWire()
    history = (Message(Role.ASSISTANT, "", (ToolCall("call_1", "f", "{}"),)), Message(Role.TOOL, "x", tool_call_id="call_1"))
    async with FakeServer() as server:
        wire.install(server)
        # OpenAI's encoding sends ids as they are: what Mistral answers to that.
        provider = create_provider("openai", ProviderSettings(wire.model, server.url + "/v1", lambda: "m-key"))
        with pytest.raises(ProviderError, match="Tool call id was call_1 but must be a-z, A-Z, 0-9, with a length of 9"):
            async for _ in provider.stream(ChatRequest(wire.model, history)):
                pass
        await provider.aclose()


# --- Azure OpenAI with Microsoft Entra ID -----------------------------------------------------


async def test_azure_sends_an_entra_token_from_the_environment_and_never_shows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.fakes.openai_wire import AzureWire

    wire = AzureWire()
    token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.entra-token-0123456789"
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", token)
    async with FakeServer() as server:
        provider = create_provider("azure", wire.settings(server, "azure-api-key-0123456789"))
        server.enqueue(stream(wire.reply(["ok"])))
        chunks = [c async for c in provider.stream(ChatRequest(wire.model, (Message(Role.USER, "x"),)))]
        assert chunks[-1] == Done(FinishReason.STOP)
        message = f"Unauthorized. Access token is missing, invalid, audience is incorrect, or have expired: {token}"
        server.enqueue(json_response(wire.error_body(401, message), 401))
        with pytest.raises(ProviderError) as caught:
            async for _ in provider.stream(ChatRequest(wire.model, (Message(Role.USER, "x"),))):
                pass
        await provider.aclose()
    for request in server.requests:
        assert request.path == "/openai/deployments/dep1/chat/completions" and request.query == {"api-version": "2024-10-21"}
        assert request.headers["authorization"] == f"Bearer {token}"
        assert "api-key" not in request.headers  # the token wins over the key, as in the openai SDK
    error = caught.value
    assert error.status == 401 and "Access token is missing" in error.message
    assert token not in str(error) and token not in error.hint and "AZURE_OPENAI_AD_TOKEN" in error.hint


async def test_azure_token_command_is_cached_and_run_again_after_a_401(tmp_path) -> None:
    from tests.fakes.openai_wire import AzureWire

    wire = AzureWire()
    runs = tmp_path / "runs"
    # Prints a new token on each run: entra-token-1, entra-token-2, ...
    script = f"import pathlib; p = pathlib.Path({str(runs)!r}); n = len(p.read_text()) + 1 if p.exists() else 1; p.write_text('x' * n); print(f'entra-token-{{n}}')"
    async with FakeServer() as server:
        provider = create_provider("azure", wire.settings(server, None, token_command=[sys.executable, "-c", script]))
        request = ChatRequest(wire.model, (Message(Role.USER, "x"),))
        server.enqueue(stream(wire.reply(["one"])), stream(wire.reply(["two"])))
        for _ in range(2):
            assert [c async for c in provider.stream(request)][-1] == Done(FinishReason.STOP)
        server.enqueue(json_response(wire.error_body(401, "Token expired: entra-token-1"), 401))
        with pytest.raises(ProviderError) as caught:
            async for _ in provider.stream(request):
                pass
        server.enqueue(stream(wire.reply(["three"])))
        assert [c async for c in provider.stream(request)][-1] == Done(FinishReason.STOP)
        await provider.aclose()
    assert [r.headers["authorization"] for r in server.requests] == ["Bearer entra-token-1"] * 3 + ["Bearer entra-token-2"]
    assert all("api-key" not in r.headers for r in server.requests)
    assert "entra-token-1" not in str(caught.value) and "Token expired" in str(caught.value)
    assert "entra-token-1" not in repr(vars(provider)) and "entra-token-2" not in repr(vars(provider))


async def test_azure_without_key_or_token_says_how_to_give_either() -> None:
    from tests.fakes.openai_wire import AzureWire

    wire = AzureWire()
    async with FakeServer() as server:
        provider = create_provider("azure", wire.settings(server, None))
        with pytest.raises(ProviderError) as caught:
            async for _ in provider.stream(ChatRequest(wire.model, (Message(Role.USER, "x"),))):
                pass
        await provider.aclose()
    assert server.requests == []
    assert "AZURE_OPENAI_API_KEY" in caught.value.hint and "AZURE_OPENAI_AD_TOKEN" in caught.value.hint
    assert "token_command" in caught.value.hint


# --- Replicate: a stopped reply cancels its prediction ----------------------------------------


def _cancels(server: FakeServer) -> list:
    return [r for r in server.requests if r.method == "POST" and r.path.endswith("/cancel")]


async def test_replicate_prediction_is_cancelled_when_the_reply_is_closed() -> None:
    from tests.fakes.replicate_wire import ReplicateWire
    from tests.fakes.server import Wait

    wire = ReplicateWire()
    async with FakeServer() as server:
        wire.install(server)
        provider = create_provider("replicate", wire.settings(server, "r8_key-0123456789"))
        server.enqueue(stream(wire.text("First words")) + [Wait(asyncio.Event())])
        conversation = Conversation(provider)
        reply = conversation.send("Hi")
        async with asyncio.timeout(10):
            async for item in reply:
                if isinstance(item, TextDelta):
                    break
            await reply.aclose()
        assert reply.status is ReplyStatus.CANCELLED
        [cancel] = _cancels(server)  # sent before aclose returned
        assert cancel.path == "/v1/predictions/p1/cancel"
        assert cancel.headers["authorization"] == "Bearer r8_key-0123456789"
        # A reply that finishes cancels nothing.
        server.enqueue(stream(wire.reply(["whole"])))
        reply = conversation.send("Again")
        async for _ in reply:
            pass
        assert reply.status is ReplyStatus.COMPLETE and len(_cancels(server)) == 1
        await provider.aclose()


async def test_replicate_prediction_is_cancelled_when_the_task_is_cancelled() -> None:
    from tests.fakes.replicate_wire import ReplicateWire
    from tests.fakes.server import Wait

    wire = ReplicateWire()
    async with FakeServer() as server:
        wire.install(server)
        provider = create_provider("replicate", wire.settings(server, "r8_key-0123456789"))
        server.enqueue(stream(wire.text("Some text")) + [Wait(asyncio.Event())])
        conversation = Conversation(provider)
        got_text = asyncio.Event()

        async def consume() -> None:
            async for item in conversation.send("Hi"):
                if isinstance(item, TextDelta):
                    got_text.set()

        task = asyncio.create_task(consume())
        async with asyncio.timeout(10):
            await got_text.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        assert [r.path for r in _cancels(server)] == ["/v1/predictions/p1/cancel"]
        assert conversation.history[-1].status is ReplyStatus.CANCELLED
        await provider.aclose()


async def test_replicate_cancel_that_gets_no_answer_does_not_hold_the_cancellation() -> None:
    """The service never answers the cancel: closing the reply still returns (after `cancel_timeout`;
    how long is not timed here, as tests take no wall-clock measurements)."""
    from tests.fakes.replicate_wire import ReplicateWire
    from tests.fakes.server import Wait

    wire = ReplicateWire()
    never = asyncio.Event()
    wire.cancel_reply = [Wait(never)]
    async with FakeServer() as server:
        wire.install(server)
        provider = create_provider("replicate", wire.settings(server, "r8_key-0123456789", cancel_timeout=0.2))
        server.enqueue(stream(wire.text("Some text")) + [Wait(never)])
        reply = Conversation(provider).send("Hi")
        async with asyncio.timeout(10):
            async for _ in reply:
                break
            await reply.aclose()
        assert reply.status is ReplyStatus.CANCELLED
        assert len(_cancels(server)) == 1
        await provider.aclose()


# --- Ollama -----------------------------------------------------------------------------------


async def test_ollama_before_0_5_2_sends_no_usage_and_the_reply_is_whole() -> None:
    from tests.fakes.openai_wire import OllamaWire
    from tui_chat.chunks import UsageChunk

    wire = OllamaWire()
    wire.usage_in_stream = False  # stream_options ignored, as Ollama did before v0.5.2
    async with FakeServer() as server:
        provider = create_provider("ollama", wire.settings(server, None))
        server.enqueue(stream(wire.reply(["Hel", "lo"])))
        chunks = [c async for c in provider.stream(ChatRequest(wire.model, (Message(Role.USER, "x"),), parameters={"top_k": 5}))]
        await provider.aclose()
    assert "".join(c.text for c in chunks if isinstance(c, TextDelta)) == "Hello"
    assert not any(isinstance(c, UsageChunk) for c in chunks) and chunks[-1] == Done(FinishReason.STOP)
    body = server.requests[0].json()
    assert body["stream_options"] == {"include_usage": True} and "top_k" not in body
    assert "authorization" not in server.requests[0].headers
