"""The Gemini `streamGenerateContent` wire format, on Google AI Studio and on Vertex AI.

Request: `POST {base}/models/{model}:streamGenerateContent?alt=sse` (base
https://generativelanguage.googleapis.com/v1beta) with `x-goog-api-key` (the key is never put in
the URL); on Vertex `POST https://{location}-aiplatform.googleapis.com/v1/projects/{project}/
locations/{location}/publishers/google/models/{model}:streamGenerateContent?alt=sse` with
`Authorization: Bearer {token}`. Body: `contents[]` of `{role: user|model, parts[]}` (parts
`text`, `functionCall {name, args, id?}` with its `thoughtSignature`, `functionResponse
{name, response, id?}`), `systemInstruction`, `generationConfig` (temperature, topP, topK,
maxOutputTokens, stopSequences, ...), `tools[].functionDeclarations[]` (parameters given as
`parametersJsonSchema`), `toolConfig.functionCallingConfig.mode`.

Reply: `data:` events, each a whole `GenerateContentResponse`: `candidates[0].content.parts[]`
with `text` (parts marked `thought` are skipped) or a whole `functionCall` (given an id here
when it has none); `candidates[0].finishReason` (STOP, MAX_TOKENS, SAFETY, ...) on the last;
`usageMetadata` (promptTokenCount, candidatesTokenCount, thoughtsTokenCount); `promptFeedback.
blockReason` when the prompt itself was refused; `{"error": {code, message, status}}` on failure.
There is no closing event: the body ends after the chunk with the finish reason.

Gemini 3 requires the `thoughtSignature` of each function call to be sent back with it; the
provider keeps them (by call id) for the following turns.

Vertex lists its models with `GET https://{location}-aiplatform.googleapis.com/v1beta1/publishers/
google/models` (`publishers.models.list`: `{"publisherModels": [{"name": "publishers/google/models/
gemini-2.5-flash", "versionId", "launchStage", ...}], "nextPageToken"}`), of which the Gemini
models are kept.

Vertex options: `project` (or GOOGLE_CLOUD_PROJECT), `location` (or GOOGLE_CLOUD_LOCATION,
default us-central1), `token_command` (e.g. "gcloud auth print-access-token", run without a
shell, its output cached for `token_ttl` seconds, default 3000). The token is taken from the key
source first, then GOOGLE_CLOUD_ACCESS_TOKEN, then the command.
"""

from __future__ import annotations

import json
import os
from collections import OrderedDict
from dataclasses import replace
from typing import Any, AsyncIterator, Iterable

from ..chunks import Chunk, Done, FinishReason, Message, Role, TextDelta, ToolCall, ToolCallChunk, Usage, UsageChunk
from ..errors import ProviderError
from ..models.endpoints import gemini_facts
from .base import Capabilities, ChatRequest, ModelInfo
from .encoding import arguments_object, is_generated_id, new_call_id, tool_names
from .failures import StreamFailure, trim
from .json_events import JSONEventDecoder
from .registry import ProviderSettings
from .sse import SSEEvent
from .token_command import TokenCommand
from .transport import HTTPProvider

FINISH_REASONS = {
    "STOP": FinishReason.STOP,
    "MAX_TOKENS": FinishReason.LENGTH,
    "SAFETY": FinishReason.CONTENT_FILTER,
    "RECITATION": FinishReason.CONTENT_FILTER,
    "BLOCKLIST": FinishReason.CONTENT_FILTER,
    "PROHIBITED_CONTENT": FinishReason.CONTENT_FILTER,
    "SPII": FinishReason.CONTENT_FILTER,
    "IMAGE_SAFETY": FinishReason.CONTENT_FILTER,
}
FAILED_FINISH = {"MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL"}
RETRYABLE_STATUS = {"UNAVAILABLE", "RESOURCE_EXHAUSTED", "INTERNAL", "DEADLINE_EXCEEDED"}
PARAMETERS = {
    "temperature": "temperature",
    "top_p": "topP",
    "top_k": "topK",
    "stop": "stopSequences",
    "presence_penalty": "presencePenalty",
    "frequency_penalty": "frequencyPenalty",
    "seed": "seed",
}
SIGNATURES_KEPT = 512
MODEL_PAGES = 20
"""At most this many pages of Vertex's model list are read."""


class GeminiDecoder(JSONEventDecoder):
    """GenerateContentResponse events -> chunks. Function calls come whole and are passed on at once."""

    array_framing = True  # should a server use Gemini's JSON array framing inside SSE

    def __init__(self, label: str, signatures: OrderedDict[str, str]) -> None:
        super().__init__(label)
        self._signatures = signatures
        self._usage: dict[str, Any] | None = None
        """The last `usageMetadata` seen."""
        self._finish: str | None = None
        self._calls = 0

    def decode(self, payload: dict[str, Any], event: SSEEvent, exact: bool) -> list[Chunk]:
        error = payload.get("error")
        if error:
            if not isinstance(error, dict):
                error = {"message": str(error)}
            status = str(error.get("status") or "")
            code = error.get("code")
            raise StreamFailure(
                f"{self.label} reported an error mid-stream ({status or code}): {trim(str(error.get('message') or status))}",
                retryable=status in RETRYABLE_STATUS or code in (429, 500, 503, 504),
            )
        usage = payload.get("usageMetadata")
        if type(usage) is dict:
            self._usage = usage  # Gemini may send it with every event: counted once, in finish()
        candidates = payload.get("candidates")
        if not candidates:
            block = (payload.get("promptFeedback") or {}).get("blockReason")
            if block:
                raise StreamFailure(f"{self.label} refused the prompt ({block})", hint="rephrase the message")
            return []
        candidate = candidates[0]
        if type(candidate) is not dict:
            candidate = {}
        content = candidate.get("content")
        out: list[Chunk] = []
        for part in (content.get("parts") if type(content) is dict else None) or ():
            if type(part) is not dict:
                continue
            call = part.get("functionCall")
            if call is not None and type(call) is dict:
                if not exact:
                    # The args become the call's argument text: start again from the standard library's
                    # parse, which keeps integers beyond 64 bits exact (nothing has been changed yet).
                    return self.feed(event, exact=True)
                call_id = str(call.get("id") or "") or new_call_id()
                signature = part.get("thoughtSignature")
                if isinstance(signature, str) and signature:
                    self._signatures[call_id] = signature
                    while len(self._signatures) > SIGNATURES_KEPT:
                        self._signatures.popitem(last=False)
                args = call.get("args")
                arguments = json.dumps(args if isinstance(args, dict) else {}, ensure_ascii=False)
                self._calls += 1
                out.append(ToolCallChunk(ToolCall(call_id, str(call.get("name") or ""), arguments)))
                continue
            text = part.get("text")
            if text and type(text) is str and not part.get("thought"):
                out.append(TextDelta(text))
        reason = candidate.get("finishReason")
        if reason and reason != "FINISH_REASON_UNSPECIFIED":
            self._finish = str(reason)
            self.complete = True
        return out

    def finish(self) -> Iterable[Chunk]:
        if self._finish in FAILED_FINISH:
            raise StreamFailure(f"{self.label} stopped: {self._finish}", hint="try again, or rephrase the request")
        if self._usage is not None:
            usage = self._usage
            yield UsageChunk(
                Usage(
                    int(usage.get("promptTokenCount") or 0),
                    int(usage.get("candidatesTokenCount") or 0) + int(usage.get("thoughtsTokenCount") or 0),
                )
            )
        reason = FINISH_REASONS.get(self._finish or "STOP", FinishReason.STOP)
        if reason is FinishReason.STOP and self._calls:
            reason = FinishReason.TOOL_CALLS
        yield Done(reason)


def _response_object(message: Message) -> dict[str, Any]:
    """A tool result as the object `functionResponse.response` must be."""
    try:
        value = json.loads(message.content)
    except ValueError:
        value = None
    if isinstance(value, dict):
        return value
    key = "error" if message.is_error else "output"
    return {key: value if value is not None else message.content}


def encode_contents(messages: Iterable[Message], signatures: dict[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    """The history as `contents` (same-role turns merged), and any system messages in it."""
    messages = list(messages)
    names = tool_names(messages)
    contents: list[dict[str, Any]] = []
    system: list[str] = []

    def add(role: str, parts: list[dict[str, Any]]) -> None:
        if not parts:
            return
        if contents and contents[-1]["role"] == role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": role, "parts": parts})

    for message in messages:
        if message.role is Role.SYSTEM:
            if message.content:
                system.append(message.content)
        elif message.role is Role.USER:
            add("user", [{"text": message.content}] if message.content else [])
        elif message.role is Role.ASSISTANT:
            parts: list[dict[str, Any]] = [{"text": message.content}] if message.content else []
            for call in message.tool_calls:
                function: dict[str, Any] = {"name": call.name, "args": arguments_object(call.arguments)}
                if not is_generated_id(call.id):
                    function["id"] = call.id
                part: dict[str, Any] = {"functionCall": function}
                if call.id in signatures:
                    part["thoughtSignature"] = signatures[call.id]
                parts.append(part)
            add("model", parts)
        elif message.role is Role.TOOL:
            call_id = message.tool_call_id or ""
            response: dict[str, Any] = {"name": message.name or names.get(call_id, ""), "response": _response_object(message)}
            if call_id and not is_generated_id(call_id):
                response["id"] = call_id
            add("user", [{"functionResponse": response}])
    return contents, system


class GeminiProvider(HTTPProvider):
    """Gemini through Google AI Studio's API."""

    name = "gemini"
    label = "Gemini"
    default_base_url = "https://generativelanguage.googleapis.com/v1beta"
    parameter_names = PARAMETERS

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        super().__init__(settings)
        self.model = self.model.removeprefix("models/")
        self._signatures: OrderedDict[str, str] = OrderedDict()

    def capabilities(self, model: str) -> Capabilities:
        return Capabilities(streaming=True, tools=True, vision=True, audio_input=True)

    def info(self) -> ModelInfo:
        return ModelInfo(self.name, self.model, self.capabilities(self.model), 1_048_576)

    async def request_auth(self) -> dict[str, str]:
        key = self.api_key()
        return {"x-goog-api-key": key} if key else {}

    def url(self, model: str) -> str:
        return f"{self.base_url}/models/{model}:streamGenerateContent?alt=sse"

    async def list_models(self) -> list[ModelInfo]:
        async def fetch() -> Any:
            request = self.client.build_request(
                "GET", self.base_url + "/models", params={"pageSize": 1000}, headers=await self.request_auth()
            )
            return await self.request_json(request)

        data = await self.with_retries(fetch)
        models = []
        for item in (data.get("models") if isinstance(data, dict) else None) or ():
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            methods = item.get("supportedGenerationMethods") or []
            if methods and "generateContent" not in methods:
                continue
            reported = gemini_facts(item)
            model = self.learn(reported, "Gemini models.list")
            window = reported[1].get("context_window")
            models.append(ModelInfo(self.name, model, self.capabilities(model), window, str(item.get("description") or "")))
        return models

    def body(self, request: ChatRequest, params: dict[str, Any]) -> dict[str, Any]:
        """The request body; `params` (fitted, under wire names: thinkingConfig too) go in its generationConfig."""
        contents, system = encode_contents(request.messages, self._signatures)
        if request.system:
            system.insert(0, request.system)
        body: dict[str, Any] = {"contents": contents}
        if system:
            body["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
        if params:
            body["generationConfig"] = params
        if request.tools:
            body["tools"] = [
                {
                    "functionDeclarations": [
                        {"name": tool.name, "description": tool.description, "parametersJsonSchema": dict(tool.parameters)}
                        for tool in request.tools
                    ]
                }
            ]
            if request.tool_choice:
                choice = request.tool_choice
                mode = {"auto": "AUTO", "none": "NONE", "required": "ANY", "any": "ANY"}.get(choice)
                config_ = {"mode": mode} if mode else {"mode": "ANY", "allowedFunctionNames": [choice]}
                body["toolConfig"] = {"functionCallingConfig": config_}
        return body

    def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        return super().stream(replace(request, model=(request.model or self.model).removeprefix("models/")))

    def stream_fitted(self, request: ChatRequest, params: dict[str, Any]) -> AsyncIterator[Chunk]:
        return self.post_sse(self.url(request.model), self.body(request, params), lambda: GeminiDecoder(self.label, self._signatures))


class VertexProvider(GeminiProvider):
    """Gemini on Vertex AI, with an OAuth access token."""

    name = "vertex"
    label = "Vertex AI"
    key_env_names = ("GOOGLE_CLOUD_ACCESS_TOKEN",)

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        super().__init__(settings)
        self.key_env = self.key_env_names
        self.project = str(self.options.get("project") or os.environ.get("GOOGLE_CLOUD_PROJECT") or "")
        self.location = str(self.options.get("location") or os.environ.get("GOOGLE_CLOUD_LOCATION") or "us-central1")
        if not self.project:
            raise ProviderError("Vertex AI needs a Google Cloud project", hint="set GOOGLE_CLOUD_PROJECT or the 'project' option")
        if self.settings.base_url:
            self.base_url = self.settings.base_url.rstrip("/")
        elif self.location == "global":
            self.base_url = "https://aiplatform.googleapis.com/v1"
        else:
            self.base_url = f"https://{self.location}-aiplatform.googleapis.com/v1"
        self.token_command = TokenCommand.from_options(self.options, label=self.label, hint=self.key_hint, remember=self.remember_secret)

    def key_hint(self) -> str:
        return (
            "give an access token through the key setting or GOOGLE_CLOUD_ACCESS_TOKEN, or set "
            "token_command = \"gcloud auth print-access-token\" in [providers.vertex]"
        )

    def url(self, model: str) -> str:
        return (
            f"{self.base_url}/projects/{self.project}/locations/{self.location}"
            f"/publishers/google/models/{model}:streamGenerateContent?alt=sse"
        )

    async def request_auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {await self.access_token()}"}

    async def access_token(self) -> str:
        """The token for the next request: key source, environment, or the (cached) token command."""
        token = self.api_key(required=False)
        token = token or os.environ.get("GOOGLE_CLOUD_ACCESS_TOKEN", "").strip() or None
        if token:
            self.remember_secret(token)
            return token
        if self.token_command is None:
            raise ProviderError("no access token for Vertex AI", hint=self.key_hint())
        return await self.token_command.token()

    def models_url(self) -> str:
        """Where Google's publisher models are listed: only the v1beta1 API has that method."""
        base = self.base_url[: -len("/v1")] + "/v1beta1" if self.base_url.endswith("/v1") else self.base_url
        return base + "/publishers/google/models"

    async def list_models(self) -> list[ModelInfo]:
        """Google's Gemini models in Vertex's Model Garden (`publishers.models.list`), page by page.

        The list holds every Google model (Imagen, Veo, embeddings, ...); only the Gemini models
        that generate content are kept, since those are what this provider can talk to.
        """
        url = self.models_url()
        models: list[ModelInfo] = []
        page = ""
        for _ in range(MODEL_PAGES):

            async def fetch(page: str = page) -> Any:
                params = {"pageSize": 100, **({"pageToken": page} if page else {})}
                # The project is billed for the call (user credentials have no project of their own).
                headers = {**await self.request_auth(), "x-goog-user-project": self.project}
                return await self.request_json(self.client.build_request("GET", url, params=params, headers=headers))

            data = await self.with_retries(fetch)
            if not isinstance(data, dict):
                break
            for item in data.get("publisherModels") or ():
                name = item.get("name") if isinstance(item, dict) else None
                model = name.rsplit("/", 1)[-1] if isinstance(name, str) else ""
                if model.startswith("gemini") and "embedding" not in model:
                    models.append(ModelInfo(self.name, model, self.capabilities(model), 1_048_576))
            page = data.get("nextPageToken") or ""
            if not isinstance(page, str) or not page:
                break
        return models
