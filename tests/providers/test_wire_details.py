"""Details of single providers that the shared suite does not cover."""

from __future__ import annotations

import json
import sys

import httpx
import pytest

from tests.fakes import gemini_wire
from tests.fakes.gemini_wire import GeminiWire, VertexWire
from tests.fakes.openai_wire import chunk
from tests.fakes.server import FakeServer, json_response, stream
from tui_chat.chunks import Done, FinishReason, Message, Role, ToolCall, ToolCallChunk
from tui_chat.conversation import Conversation, Reply
from tui_chat.errors import ProviderError
from tui_chat.providers.base import ChatRequest
from tui_chat.providers.openai import OpenAIDecoder
from tui_chat.providers.registry import ProviderSettings, create_provider
from tui_chat.providers.sse import SSEEvent
from tui_chat.providers.transport import TransportOptions, error_message, parse_retry_after, redact


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
    url, body = provider.prediction(ChatRequest("", (Message(Role.USER, "hi"),)))  # type: ignore[attr-defined]
    assert url.endswith("/v1/predictions") and body["version"] == "a" * 64
    with pytest.raises(ProviderError, match="owner/name"):
        provider.prediction(ChatRequest("nonsense", (Message(Role.USER, "hi"),)))  # type: ignore[attr-defined]


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
