"""OpenAI Chat Completions streaming, and the services that reuse it (Azure, Mistral, Ollama, others).

Shapes follow OpenAI's API reference for `POST /v1/chat/completions` with `stream: true`
(the "chat completion chunk object"): `data: {"id", "object": "chat.completion.chunk",
"choices": [{"index": 0, "delta": {"role"?, "content"?, "tool_calls"?: [{"index", "id"?,
"type"?, "function": {"name"?, "arguments"}}]}, "finish_reason": null | "stop" | "length" |
"tool_calls" | "content_filter"}]}`; with `stream_options.include_usage` a last chunk with
`"choices": []` and `"usage": {"prompt_tokens", "completion_tokens", "total_tokens"}`; then
`data: [DONE]`. Errors: `{"error": {"message", "type", "param", "code"}}` (also sent as a
`data:` event mid-stream). Reasoning models (o-series, gpt-5 and later) are refused, with `param`,
a temperature other than 1, top_p, the penalties, logprobs and `max_tokens` (`refusal`). Azure: `/openai/deployments/{deployment}/chat/completions?api-version=`
with an `api-key` header, or `Authorization: Bearer` with a Microsoft Entra ID token; errors
`{"error": {"code", "message"}}` (Azure OpenAI REST reference, data-plane inference).

Mistral (Mistral API reference, `POST /v1/chat/completions`, and its client's `CompletionChunk`):
no `stream_options`, usage in the chunk with the finish reason; `random_seed`; tool calls come
whole, all with `index` 0; tool call ids in a request must be 9 characters of [a-zA-Z0-9], else
400 "Tool call id was ... but must be a-z, A-Z, 0-9, with a length of 9."; errors
`{"object": "error", "message", "type", "code"}`.

Ollama (docs.ollama.com, "OpenAI compatibility"): `/v1/chat/completions` takes model, messages,
frequency/presence_penalty, response_format, seed, stop, stream, `stream_options.include_usage`
(since v0.5.2: older versions ignore it and send no usage), temperature, top_p, max_tokens, tools
(no top_k: unknown fields are ignored); usage comes as OpenAI's, a last chunk with empty `choices`;
tool calls come whole, each with its index and an id; `/v1/models` lists `{"id": "name:tag",
"object": "model", "created" (last modified), "owned_by" ("library" by default)}`. No key is
needed, but one is sent if given (for a proxy in front).
"""

from __future__ import annotations

import re
from typing import Any, Sequence

from .server import FakeServer, Recorded, Script, json_response, sse
from .wire import Call, Wire, pieces


REASONING_MODEL = re.compile(r"(o[134]|gpt-5|gpt-6)([-.].*)?")
"""OpenAI's reasoning models: only the default temperature, no other sampling, `max_completion_tokens`."""
REASONING_REFUSED = ("top_p", "presence_penalty", "frequency_penalty", "logprobs")


def refusal(body: dict[str, Any]) -> dict[str, Any] | None:
    """OpenAI's 400 body for what it refuses of `body` (None: it takes it). Words as the service sends them."""

    def error(message: str, param: str, code: str) -> dict[str, Any]:
        return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}

    if not REASONING_MODEL.fullmatch(str(body.get("model", ""))):
        return None
    if "max_tokens" in body:
        return error("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                     "max_tokens", "unsupported_parameter")
    if body.get("temperature", 1) != 1:
        return error(f"Unsupported value: 'temperature' does not support {body['temperature']} with this model. "
                     "Only the default (1) value is supported.", "temperature", "unsupported_value")
    for param in REASONING_REFUSED:
        if param in body:
            return error(f"Unsupported parameter: '{param}' is not supported with this model.", param, "unsupported_parameter")
    return None


MISTRAL_ID = re.compile(r"[a-zA-Z0-9]{9}")
"""Tool call ids Mistral accepts in a request (its validation error quotes the rule)."""


def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> bytes:
    return sse(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1700000000,
            "model": "gpt-4o-mini",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
            **extra,
        }
    )


class OpenAIWire(Wire):
    provider = "openai"
    key_env = "OPENAI_API_KEY"
    model = "gpt-4o-mini"
    usage_in_stream = True
    models_path = "/v1/models"
    models_body = {"object": "list", "data": [
        {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
        {"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"},
    ]}
    models_expected = ["gpt-4o", "gpt-4o-mini"]

    def base_url(self, server: FakeServer) -> str:
        return server.url + "/v1"

    def install(self, server: FakeServer) -> None:
        """Refuse what OpenAI refuses of a reasoning model, with its 400 naming the parameter."""

        def route(request: Recorded) -> Script | None:
            if request.method != "POST" or not request.path.endswith("/chat/completions"):
                return None
            body = refusal(request.json())
            return json_response(body, 400) if body is not None else None

        server.route = route

    def start(self) -> list[bytes]:
        return [chunk({"role": "assistant", "content": ""})]

    def text(self, text: str) -> list[bytes]:
        return [chunk({"content": text})]

    def tool_calls(self, calls: Sequence[Call], split: int = 1) -> list[bytes]:
        events = []
        for index, (call_id, name, arguments) in enumerate(calls):
            first = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
            events.append(chunk({"tool_calls": [first]}))
            for piece in pieces(arguments, split):
                events.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
        return events

    def finish(self, *, tool_calls: bool = False, usage: tuple[int, int] = (11, 7), reason: str = "stop") -> list[bytes]:
        events = [chunk({}, "tool_calls" if tool_calls else reason)]
        if self.usage_in_stream:
            events.append(
                sse({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [],
                     "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)}})
            )
        return events + [b"data: [DONE]\n\n"]

    def error_event(self, message: str) -> list[bytes]:
        return [sse({"error": {"message": message, "type": "server_error", "param": None, "code": None}})]

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": status}}

    # -- checks --

    def path(self) -> str:
        return "/v1/chat/completions"

    def check_auth(self, request: Recorded, key: str) -> None:
        assert request.headers["authorization"] == f"Bearer {key}"

    def check_request(self, request: Recorded, key: str) -> None:
        assert request.method == "POST"
        assert request.path == self.path()
        assert request.headers["content-type"] == "application/json"
        assert request.headers["accept"] == "text/event-stream"
        self.check_auth(request, key)

    max_tokens_field = "max_completion_tokens"
    seed_field = "seed"
    sends_stream_options = True
    sends_model = True
    top_k = False

    def check_body(self, body: dict[str, Any]) -> None:
        assert body["stream"] is True
        if self.sends_stream_options:
            assert body["stream_options"] == {"include_usage": True}
        else:
            assert "stream_options" not in body
        if self.sends_model:
            assert body["model"] == self.model
        else:
            assert "model" not in body
        assert body["messages"] == [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hi there"},
        ]
        assert body["temperature"] == 0.3
        assert body[self.max_tokens_field] == 99
        assert body["top_p"] == 0.9
        assert body["stop"] == ["END"]
        assert body[self.seed_field] == 7
        assert ("top_k" in body) is self.top_k
        assert body["tools"] == [
            {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
        ]

    def check_tool_history(self, body: dict[str, Any]) -> None:
        messages = body["messages"]
        assert messages[1] == {"role": "user", "content": "Weather in Paris?"}
        assert messages[2] == {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}],
        }
        assert messages[3] == {"role": "tool", "tool_call_id": "call_1", "content": "no such city"}


class AzureWire(OpenAIWire):
    provider = "azure"
    key_env = "AZURE_OPENAI_API_KEY"
    model = "dep1"
    models_path = None
    models_expected = ["dep1"]
    sends_model = False

    def base_url(self, server: FakeServer) -> str:
        return server.url

    def path(self) -> str:
        return "/openai/deployments/dep1/chat/completions"

    def check_auth(self, request: Recorded, key: str) -> None:
        assert request.headers["api-key"] == key
        assert "authorization" not in request.headers
        assert request.query == {"api-version": "2024-10-21"}

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": {"code": str(status), "message": message}}


class MistralWire(OpenAIWire):
    provider = "mistral"
    key_env = "MISTRAL_API_KEY"
    model = "mistral-small-latest"
    models_body = {"object": "list", "data": [
        {"id": "mistral-small-latest", "object": "model", "max_context_length": 32768,
         "capabilities": {"completion_chat": True, "function_calling": True, "vision": False}},
    ]}
    models_expected = ["mistral-small-latest"]
    max_tokens_field = "max_tokens"
    seed_field = "random_seed"
    sends_stream_options = False

    def install(self, server: FakeServer) -> None:
        """Refuse a request with a tool call id Mistral would refuse, with Mistral's own message."""

        def route(request: Recorded) -> Script | None:
            if request.method != "POST" or not request.path.endswith("/chat/completions"):
                return None
            for message in request.json().get("messages", []):
                ids = [call.get("id") for call in message.get("tool_calls") or []]
                if message.get("role") == "tool":
                    ids.append(message.get("tool_call_id"))
                for call_id in ids:
                    if not (isinstance(call_id, str) and MISTRAL_ID.fullmatch(call_id)):
                        message = f"Tool call id was {call_id} but must be a-z, A-Z, 0-9, with a length of 9."
                        return json_response(self.error_body(400, message), 400)
            return None

        server.route = route

    def tool_calls(self, calls: Sequence[Call], split: int = 1) -> list[bytes]:
        # Mistral sends each call whole, all in one delta, every one with index 0 (told apart by id).
        return [chunk({"tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}, "index": 0}
            for call_id, name, arguments in calls
        ]})]

    def check_tool_history(self, body: dict[str, Any]) -> None:
        messages = body["messages"]
        [call] = messages[2]["tool_calls"]
        assert MISTRAL_ID.fullmatch(call["id"])  # "call_1" is not a Mistral id: one of 9 letters and digits stands for it
        assert messages[2] == {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": call["id"], "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}],
        }
        assert messages[3] == {"role": "tool", "tool_call_id": call["id"], "content": "no such city"}

    def finish(self, *, tool_calls: bool = False, usage: tuple[int, int] = (11, 7), reason: str = "stop") -> list[bytes]:
        # Mistral puts usage into the chunk with the finish reason.
        last = chunk({}, "tool_calls" if tool_calls else reason,
                     usage={"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)})
        return [last, b"data: [DONE]\n\n"]

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"object": "error", "message": message, "type": "invalid_request_error", "code": status}


class OllamaWire(OpenAIWire):
    provider = "ollama"
    key_env = ""
    model = "llama3.2"
    max_tokens_field = "max_tokens"
    top_k = False  # not among the fields Ollama's /v1/chat/completions takes
    models_body = {"object": "list", "data": [
        {"id": "llama3.2:latest", "object": "model", "created": 1727000000, "owned_by": "library"},
        {"id": "qwen2.5-coder:7b", "object": "model", "created": 1731000000, "owned_by": "library"},
    ]}
    models_expected = ["llama3.2:latest", "qwen2.5-coder:7b"]

    def tool_calls(self, calls: Sequence[Call], split: int = 1) -> list[bytes]:
        # Ollama sends the calls whole, together, each with its index and an id of its own making.
        return [chunk({"role": "assistant", "content": "", "tool_calls": [
            {"id": call_id, "index": index, "type": "function", "function": {"name": name, "arguments": arguments}}
            for index, (call_id, name, arguments) in enumerate(calls)
        ]})]

    def check_auth(self, request: Recorded, key: str) -> None:
        assert request.headers.get("authorization") == f"Bearer {key}"


class CompatibleWire(OllamaWire):
    provider = "openai-compatible"
    model = "local-model"
    top_k = True  # vLLM, llama.cpp's server and others take it
    models_body = OpenAIWire.models_body
    models_expected = OpenAIWire.models_expected
    tool_calls = OpenAIWire.tool_calls  # in fragments, as OpenAI sends them

    def finish(self, *, tool_calls: bool = False, usage: tuple[int, int] = (11, 7), reason: str = "stop") -> list[bytes]:
        # Some compatible servers end the body without a blank line after [DONE].
        events = super().finish(tool_calls=tool_calls, usage=usage, reason=reason)
        return events[:-1] + [b"data: [DONE]\n"]
