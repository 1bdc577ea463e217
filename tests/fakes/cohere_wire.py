"""Cohere Chat v2 streaming.

Shapes follow Cohere's v2 Chat API reference and its "Streaming" / "Streaming for tool use" guides
(and the event types of the cohere-python SDK, `chat_*_event*.py`): events named by `type`:
`message-start` (`{"id", "delta": {"message": {"role": "assistant"}}}`), `content-start`,
`content-delta` (`{"index", "delta": {"message": {"content": {"text"}}}}`), `content-end`,
`tool-plan-delta` (`{"delta": {"message": {"tool_plan"}}}`), `tool-call-start` (`{"index",
"delta": {"message": {"tool_calls": {"id", "type": "function", "function": {"name",
"arguments": ""}}}}}`), `tool-call-delta` (`... "tool_calls": {"function": {"arguments"}}`),
`tool-call-end`, `message-end` (`{"delta": {"finish_reason": "COMPLETE" | "MAX_TOKENS" |
"TOOL_CALL" | "ERROR" ..., "usage": {"billed_units": {...}, "tokens": {"input_tokens",
"output_tokens"}}, "error"?}}`). Errors: `{"message": ...}`. Requests: `POST /v2/chat` with
`Authorization: Bearer`.
"""

from __future__ import annotations

from typing import Any, Sequence

from .server import Recorded, sse
from .wire import Call, Wire, pieces


def event(name: str, **fields: Any) -> bytes:
    return sse({"type": name, **fields}, event=name)


class CohereWire(Wire):
    provider = "cohere"
    key_env = "CO_API_KEY"
    model = "command-r-plus"
    models_path = "/v1/models"
    models_body = {"models": [{"name": "command-r-plus", "endpoints": ["chat"], "features": ["tools"], "context_length": 128000}]}
    models_expected = ["command-r-plus"]

    def __init__(self) -> None:
        self._content_open = False

    def start(self) -> list[bytes]:
        self._content_open = False
        return [event("message-start", id="m1", delta={"message": {"role": "assistant", "content": [], "tool_plan": "", "tool_calls": []}})]

    def text(self, text: str) -> list[bytes]:
        events = []
        if not self._content_open:
            self._content_open = True
            events.append(event("content-start", index=0, delta={"message": {"content": {"type": "text", "text": ""}}}))
        events.append(event("content-delta", index=0, delta={"message": {"content": {"text": text}}}))
        return events

    def _close(self) -> list[bytes]:
        if not self._content_open:
            return []
        self._content_open = False
        return [event("content-end", index=0)]

    def tool_calls(self, calls: Sequence[Call], split: int = 1) -> list[bytes]:
        events = self._close() + [event("tool-plan-delta", delta={"message": {"tool_plan": "I will check."}})]
        for index, (call_id, name, arguments) in enumerate(calls):
            events.append(event("tool-call-start", index=index, delta={"message": {"tool_calls": {
                "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}}}))
            for piece in pieces(arguments, split):
                events.append(event("tool-call-delta", index=index, delta={"message": {"tool_calls": {"function": {"arguments": piece}}}}))
            events.append(event("tool-call-end", index=index))
        return events

    def finish(self, *, tool_calls: bool = False, usage: tuple[int, int] = (11, 7), reason: str = "stop") -> list[bytes]:
        finish = "TOOL_CALL" if tool_calls else {"stop": "COMPLETE", "length": "MAX_TOKENS"}.get(reason, reason)
        counts = {"input_tokens": usage[0], "output_tokens": usage[1]}
        return self._close() + [event("message-end", delta={"finish_reason": finish, "usage": {"billed_units": counts, "tokens": counts}})]

    def error_event(self, message: str) -> list[bytes]:
        return [event("message-end", delta={"finish_reason": "ERROR", "error": message})]

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"id": "e1", "message": message}

    def check_request(self, request: Recorded, key: str) -> None:
        assert request.method == "POST"
        assert request.path == "/v2/chat"
        assert request.headers["authorization"] == f"Bearer {key}"
        assert request.headers["content-type"] == "application/json"

    def check_body(self, body: dict[str, Any]) -> None:
        assert body["model"] == self.model
        assert body["stream"] is True
        assert body["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi there"}]
        assert body["temperature"] == 0.3
        assert body["max_tokens"] == 99
        assert body["p"] == 0.9
        assert body["k"] == 40
        assert body["stop_sequences"] == ["END"]
        assert body["seed"] == 7
        assert body["tools"] == [
            {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
        ]

    def check_tool_history(self, body: dict[str, Any]) -> None:
        assert body["messages"][1:] == [
            {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "no such city"},
        ]
