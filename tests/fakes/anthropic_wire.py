"""Anthropic Messages streaming.

Shapes follow Anthropic's "Streaming Messages" reference: named events `message_start`
(`{"type": "message_start", "message": {"id", "type": "message", "role": "assistant", "content": [],
"model", "stop_reason": null, "usage": {"input_tokens", "output_tokens"}}}`), `content_block_start`
(`{"index", "content_block": {"type": "text", "text": ""}}` or `{"type": "tool_use", "id", "name",
"input": {}}`), `content_block_delta` (`{"index", "delta": {"type": "text_delta", "text"}}` or
`{"type": "input_json_delta", "partial_json"}`), `content_block_stop`, `message_delta`
(`{"delta": {"stop_reason", "stop_sequence"}, "usage": {"output_tokens"}}`), `message_stop`;
`ping`; `error` (`{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}`).
Requests: `POST /v1/messages` with `anthropic-version: 2026-10-21` and `Authorization: Bearer`
(or `2023-06-01` and `x-api-key`); every body is checked as the service checks it
(`anthropic_requests.py`: the SDK's request types, strictly) and refused with its 400.

Extended thinking ("Building with extended thinking", streaming section): a `thinking` block starts
with `{"type": "thinking", "thinking": ""}`, grows by `{"type": "thinking_delta", "thinking"}`
deltas, gets one `{"type": "signature_delta", "signature"}` just before its `content_block_stop`;
a `redacted_thinking` block comes whole in its start, `{"type": "redacted_thinking", "data"}`.
Thinking blocks come before the text and tool_use blocks of the reply.
"""

from __future__ import annotations

from typing import Any, Sequence

from . import anthropic_requests
from .server import FakeServer, Recorded, Script, json_response, sse
from .wire import Call, Wire, pieces


def event(name: str, **fields: Any) -> bytes:
    return sse({"type": name, **fields}, event=name)


class AnthropicWire(Wire):
    provider = "anthropic"
    key_env = "ANTHROPIC_API_KEY"
    model = "claude-sonnet-4-5"
    models_path = "/v1/models"
    models_body = {"data": [{"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5",
                             "created_at": "2025-09-29T00:00:00Z"}], "has_more": False,
                   "first_id": "claude-sonnet-4-5", "last_id": "claude-sonnet-4-5"}
    models_expected = ["claude-sonnet-4-5"]

    def __init__(self) -> None:
        self._index = 0
        self._text_open = False

    def install(self, server: FakeServer) -> None:
        """Refuse what the service refuses, with its 400, before any scripted reply. The check is
        built here, while the server is set up: built by the first request, it delayed that reply
        past the 0.25 s idle timeouts of the timeout tests on a loaded machine."""
        anthropic_requests.prepare()

        def route(request: Recorded) -> Script | None:
            if request.method != "POST" or request.path != "/v1/messages":
                return None
            version = request.headers.get("anthropic-version", "")
            if version == anthropic_requests.CURRENT and "x-api-key" in request.headers:
                message = "x-api-key is not accepted on this API version; send the key as Authorization: Bearer"
                return json_response({"type": "error", "error": {"type": "authentication_error", "message": message}}, 401)
            if (why := anthropic_requests.refusal(version, request.json())) is not None:
                return json_response(anthropic_requests.error(why), 400)
            return None

        server.route = route

    def start(self) -> list[bytes]:
        self._index = 0
        self._text_open = False
        return [
            event("message_start", message={"id": "msg_1", "type": "message", "role": "assistant", "content": [],
                                            "model": self.model, "stop_reason": None, "stop_sequence": None,
                                            "usage": {"input_tokens": 11, "output_tokens": 1}}),
            event("ping"),
        ]

    def text(self, text: str) -> list[bytes]:
        events = []
        if not self._text_open:
            self._text_open = True
            events.append(event("content_block_start", index=self._index, content_block={"type": "text", "text": ""}))
        events.append(event("content_block_delta", index=self._index, delta={"type": "text_delta", "text": text}))
        return events

    def _close_text(self) -> list[bytes]:
        if not self._text_open:
            return []
        self._text_open = False
        self._index += 1
        return [event("content_block_stop", index=self._index - 1)]

    def tool_calls(self, calls: Sequence[Call], split: int = 1) -> list[bytes]:
        events = self._close_text()
        for call_id, name, arguments in calls:
            index = self._index
            events.append(event("content_block_start", index=index, content_block={"type": "tool_use", "id": call_id, "name": name, "input": {}}))
            for piece in pieces(arguments, split):
                events.append(event("content_block_delta", index=index, delta={"type": "input_json_delta", "partial_json": piece}))
            events.append(event("content_block_stop", index=index))
            self._index += 1
        return events

    def thinking(self, text: str, signature: str, split: int = 1) -> list[bytes]:
        """A signed thinking block, its text in `split` deltas."""
        index = self._index
        events = [event("content_block_start", index=index, content_block={"type": "thinking", "thinking": ""})]
        for piece in pieces(text, split):
            events.append(event("content_block_delta", index=index, delta={"type": "thinking_delta", "thinking": piece}))
        events.append(event("content_block_delta", index=index, delta={"type": "signature_delta", "signature": signature}))
        events.append(event("content_block_stop", index=index))
        self._index += 1
        return events

    def redacted_thinking(self, data: str) -> list[bytes]:
        """A redacted (encrypted) thinking block: all of it in its start event."""
        index = self._index
        self._index += 1
        return [
            event("content_block_start", index=index, content_block={"type": "redacted_thinking", "data": data}),
            event("content_block_stop", index=index),
        ]

    def finish(self, *, tool_calls: bool = False, usage: tuple[int, int] = (11, 7), reason: str = "stop") -> list[bytes]:
        stop = "tool_use" if tool_calls else {"stop": "end_turn", "length": "max_tokens"}.get(reason, reason)
        return self._close_text() + [
            event("message_delta", delta={"stop_reason": stop, "stop_sequence": None}, usage={"output_tokens": usage[1]}),
            event("message_stop"),
        ]

    def reply(self, texts: Sequence[str], usage: tuple[int, int] = (11, 7)) -> list[bytes]:
        events = self.start()
        events[0] = event("message_start", message={"id": "msg_1", "type": "message", "role": "assistant", "content": [],
                                                    "model": self.model, "stop_reason": None, "stop_sequence": None,
                                                    "usage": {"input_tokens": usage[0], "output_tokens": 1}})
        for text in texts:
            events += self.text(text)
        return events + self.finish(usage=usage)

    def error_event(self, message: str) -> list[bytes]:
        return [event("error", error={"type": "overloaded_error", "message": message})]

    def keepalive(self) -> bytes:
        return event("ping")

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = {401: "authentication_error", 403: "permission_error", 404: "not_found_error", 429: "rate_limit_error",
                529: "overloaded_error"}.get(status, "api_error" if status >= 500 else "invalid_request_error")
        return {"type": "error", "error": {"type": kind, "message": message}}

    def check_request(self, request: Recorded, key: str) -> None:
        assert request.method == "POST"
        assert request.path == "/v1/messages"
        assert request.headers["authorization"] == f"Bearer {key}"
        assert request.headers["anthropic-version"] == "2026-10-21"
        assert request.headers["content-type"] == "application/json"
        assert "x-api-key" not in request.headers

    def check_body(self, body: dict[str, Any]) -> None:
        assert body["model"] == self.model
        assert body["stream"] is True
        assert body["system"] == "Be brief."
        assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hi there"}]}]
        assert body["max_tokens"] == 99
        assert not body.keys() & {"temperature", "top_p", "top_k"}  # refused on 2026-10-21: left out, and said so
        assert body["stop_sequences"] == ["END"]
        assert "seed" not in body
        assert body["tools"] == [
            {"name": "get_weather", "description": "Weather for a city",
             "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
        ]

    def check_tool_history(self, body: dict[str, Any]) -> None:
        assert body["messages"] == [
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "no such city", "is_error": True}]},
        ]
