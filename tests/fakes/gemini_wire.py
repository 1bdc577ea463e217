"""Gemini `streamGenerateContent?alt=sse`, on Google AI Studio and on Vertex AI.

Shapes follow the Gemini API reference (`models.streamGenerateContent`, `GenerateContentResponse`):
each `data:` event is a whole response `{"candidates": [{"content": {"role": "model", "parts":
[{"text"} | {"functionCall": {"name", "args", "id"?}, "thoughtSignature"?}]}, "finishReason"?,
"index": 0}], "usageMetadata": {"promptTokenCount", "candidatesTokenCount", "totalTokenCount"},
"modelVersion"}`; the last carries `finishReason` (STOP, MAX_TOKENS, SAFETY, ...) and there is no
closing event. Errors: `{"error": {"code", "message", "status"}}` (Google API error model).
AI Studio: `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` with `x-goog-api-key`;
Vertex: `POST /v1/projects/{p}/locations/{l}/publishers/google/models/{m}:streamGenerateContent?alt=sse`
with `Authorization: Bearer` (Vertex AI REST reference); its models list is Model Garden's
`GET /v1beta1/publishers/google/models` (`publishers.models.list`, v1beta1 only): `{"publisherModels":
[{"name": "publishers/google/models/{id}", "versionId", "launchStage", ...}], "nextPageToken"}`. Gemini sends function calls whole, so the
"split" of a tool call does not apply; calls here come without ids (as older models send them)
unless the id starts with "keep-".
"""

from __future__ import annotations

import json
from typing import Any, Sequence

from tui_chat.providers.registry import ProviderSettings

from .server import FakeServer, Recorded, sse
from .wire import Call, Wire

STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}


def response(parts: list[dict[str, Any]], finish: str | None = None, usage: tuple[int, int] | None = None) -> bytes:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {"candidates": [candidate], "modelVersion": "gemini-2.5-flash"}
    if usage:
        body["usageMetadata"] = {"promptTokenCount": usage[0], "candidatesTokenCount": usage[1], "totalTokenCount": sum(usage)}
    return sse(body)


class GeminiWire(Wire):
    provider = "gemini"
    key_env = "GEMINI_API_KEY"
    model = "gemini-2.5-flash"
    models_path = "/v1beta/models"
    models_body = {"models": [
        {"name": "models/gemini-2.5-flash", "displayName": "Gemini 2.5 Flash", "inputTokenLimit": 1048576,
         "supportedGenerationMethods": ["generateContent", "countTokens"]},
        {"name": "models/text-embedding-004", "supportedGenerationMethods": ["embedContent"]},
    ]}
    models_expected = ["gemini-2.5-flash"]

    def base_url(self, server: FakeServer) -> str:
        return server.url + "/v1beta"

    def text(self, text: str) -> list[bytes]:
        return [response([{"text": text}])]

    def tool_calls(self, calls: Sequence[Call], split: int = 1) -> list[bytes]:
        parts = []
        for call_id, name, arguments in calls:
            call: dict[str, Any] = {"name": name, "args": json.loads(arguments)}
            if call_id.startswith("keep-"):
                call["id"] = call_id
            parts.append({"functionCall": call, "thoughtSignature": f"sig-{name}"})
        return [response(parts)]

    def finish(self, *, tool_calls: bool = False, usage: tuple[int, int] = (11, 7), reason: str = "stop") -> list[bytes]:
        finish = {"stop": "STOP", "length": "MAX_TOKENS"}.get(reason, reason)
        return [response([{"text": ""}], finish, usage)]

    def error_event(self, message: str) -> list[bytes]:
        return [sse({"error": {"code": 503, "message": message, "status": "UNAVAILABLE"}})]

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        return {"error": {"code": status, "message": message, "status": STATUS_NAMES.get(status, "UNKNOWN")}}

    def path(self) -> str:
        return f"/v1beta/models/{self.model}:streamGenerateContent"

    def check_auth(self, request: Recorded, key: str) -> None:
        assert request.headers["x-goog-api-key"] == key
        assert "key" not in request.query
        assert key not in request.target

    def check_request(self, request: Recorded, key: str) -> None:
        assert request.method == "POST"
        assert request.path == self.path()
        assert request.query.get("alt") == "sse"
        assert request.headers["content-type"] == "application/json"
        self.check_auth(request, key)

    def check_body(self, body: dict[str, Any]) -> None:
        assert body["contents"] == [{"role": "user", "parts": [{"text": "Hi there"}]}]
        assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
        assert body["generationConfig"] == {
            "temperature": 0.3, "maxOutputTokens": 99, "topP": 0.9, "topK": 40, "stopSequences": ["END"], "seed": 7,
        }
        assert body["tools"] == [
            {"functionDeclarations": [
                {"name": "get_weather", "description": "Weather for a city",
                 "parametersJsonSchema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
            ]}
        ]

    def check_tool_history(self, body: dict[str, Any]) -> None:
        assert body["contents"] == [
            {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
            {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}, "id": "call_1"}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"error": "no such city"}, "id": "call_1"}}]},
        ]


class VertexWire(GeminiWire):
    provider = "vertex"
    key_env = "GOOGLE_CLOUD_ACCESS_TOKEN"
    models_path = "/v1beta1/publishers/google/models"
    models_body = {"publisherModels": [
        {"name": "publishers/google/models/gemini-2.5-flash", "versionId": "default", "openSourceCategory": "PROPRIETARY",
         "launchStage": "GA", "publisherModelTemplate": "projects/{project}/locations/{location}/publishers/google/models/gemini-2.5-flash"},
        {"name": "publishers/google/models/imagen-4.0-generate-001", "versionId": "default", "launchStage": "GA"},
        {"name": "publishers/google/models/gemini-embedding-001", "versionId": "default", "launchStage": "GA"},
        {"name": "publishers/google/models/gemini-2.5-pro", "versionId": "default", "launchStage": "GA"},
    ]}
    models_expected = ["gemini-2.5-flash", "gemini-2.5-pro"]

    def settings(self, server: FakeServer, key: str | None, **options: Any) -> ProviderSettings:
        options = {"project": "p1", "location": "us-central1", **options}
        return super().settings(server, key, **options)

    def base_url(self, server: FakeServer) -> str:
        return server.url + "/v1"

    def path(self) -> str:
        return f"/v1/projects/p1/locations/us-central1/publishers/google/models/{self.model}:streamGenerateContent"

    def check_auth(self, request: Recorded, key: str) -> None:
        assert request.headers["authorization"] == f"Bearer {key}"
