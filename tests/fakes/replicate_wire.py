"""Replicate predictions with streamed output.

Shapes follow Replicate's HTTP API reference (`POST /v1/models/{owner}/{name}/predictions`,
`{"input": {...}, "stream": true}` -> 201 with the prediction `{"id", "status": "starting",
"urls": {"get", "cancel", "stream"}}`) and its "Streaming output" guide: `GET urls.stream` with
`Accept: text/event-stream` gives events `output` (plain text data), `logs`, `error` (JSON),
`done` (JSON: `{}`, or `{"reason": "canceled" | "error"}`), each with an `id`. Errors use the
problem-details shape `{"title", "detail", "status"}`. A finished prediction (`GET urls.get`)
has `metrics.input_token_count` / `output_token_count`. `POST urls.cancel`
(`/v1/predictions/{id}/cancel`, same Bearer token) answers with the prediction, now `"canceled"`.

The router answers the prediction POST itself: the next scripted response goes to the POST when it
is an error status, else to the stream GET (and the POST gets a 201 pointing at it).
"""

from __future__ import annotations

import itertools
from typing import Any, Sequence

from .server import FakeServer, Recorded, Respond, Script, Status, json_response, sse
from .wire import Call, Wire


class ReplicateWire(Wire):
    provider = "replicate"
    key_env = "REPLICATE_API_TOKEN"
    model = "meta/meta-llama-3-8b-instruct"
    tools = False
    usage = True
    models_path = "/v1/collections/language-models"
    models_body = {"name": "Language models", "slug": "language-models",
                   "models": [{"owner": "meta", "name": "meta-llama-3-8b-instruct", "description": "Llama 3 8B"}]}
    models_expected = ["meta/meta-llama-3-8b-instruct"]

    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._streams: dict[str, Script] = {}
        self.usage_counts = (11, 7)
        self.cancel_reply: Script | None = None
        """How the fake answers a cancel (None: as Replicate does, with the canceled prediction)."""

    def base_url(self, server: FakeServer) -> str:
        return server.url + "/v1"

    def install(self, server: FakeServer) -> None:
        def route(request: Recorded) -> Script | None:
            if request.method == "POST" and request.path.endswith("/predictions"):
                script = server.scripts.popleft() if server.scripts else json_response({"detail": "no script"}, 500)
                first = script[0] if script else None
                if isinstance(first, (Respond, Status)) and first.code >= 400:
                    return script
                number = next(self._ids)
                self._streams[f"p{number}"] = script
                base = server.url + "/v1"
                return json_response(
                    {"id": f"p{number}", "status": "starting", "input": request.json()["input"],
                     "urls": {"get": f"{base}/predictions/p{number}", "cancel": f"{base}/predictions/p{number}/cancel",
                              "stream": f"{server.url}/stream/p{number}"}},
                    201,
                )
            if request.method == "GET" and request.path.startswith("/stream/"):
                return self._streams.pop(request.path.rsplit("/", 1)[1], json_response({"detail": "unknown stream"}, 404))
            if request.method == "POST" and request.path.startswith("/v1/predictions/") and request.path.endswith("/cancel"):
                prediction_id = request.path.split("/")[-2]
                return self.cancel_reply or json_response({"id": prediction_id, "status": "canceled", "urls": {}})
            if request.method == "GET" and request.path.startswith("/v1/predictions/"):
                prediction_id = request.path.rsplit("/", 1)[1]
                return json_response({"id": prediction_id, "status": "succeeded", "metrics": {
                    "input_token_count": self.usage_counts[0], "output_token_count": self.usage_counts[1], "predict_time": 0.1}})
            return None

        server.route = route

    def stream_requests(self, server: FakeServer) -> list[Recorded]:
        return [request for request in server.requests if request.method == "POST" and request.path.endswith("/predictions")]

    def text(self, text: str) -> list[bytes]:
        return [sse(text, event="output", id="1690212292:0")]

    def tool_calls(self, calls: Sequence[Call], split: int = 1) -> list[bytes]:
        raise NotImplementedError("Replicate has no tool calls")

    def finish(self, *, tool_calls: bool = False, usage: tuple[int, int] = (11, 7), reason: str = "stop") -> list[bytes]:
        self.usage_counts = usage
        return [sse("{}", event="done", id="1690212292:9")]

    def error_event(self, message: str) -> list[bytes]:
        return [sse({"detail": message}, event="error")]

    def keepalive(self) -> bytes:
        return b": ping\n\n"

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"title": "Error", "detail": message, "status": status}

    def check_request(self, request: Recorded, key: str) -> None:
        assert request.method == "POST"
        assert request.path == f"/v1/models/{self.model}/predictions"
        assert request.headers["authorization"] == f"Bearer {key}"
        assert request.headers["content-type"] == "application/json"

    def check_body(self, body: dict[str, Any]) -> None:
        assert body["stream"] is True
        assert body["input"] == {
            "prompt": "Hi there", "system_prompt": "Be brief.", "temperature": 0.3, "max_tokens": 99, "top_p": 0.9,
            "top_k": 40, "seed": 7, "stop_sequences": "END",
        }

    def check_tool_history(self, body: dict[str, Any]) -> None:
        prompt = body["input"]["prompt"]
        assert prompt.startswith("User: Weather in Paris?")
        assert 'get_weather({"city":"Paris"})' in prompt
        assert "Tool result: no such city" in prompt
        assert prompt.endswith("Assistant:")
