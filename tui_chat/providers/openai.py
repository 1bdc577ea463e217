"""The OpenAI Chat Completions wire format, and the services that speak it.

Request: `POST {base}/chat/completions` with `stream: true` (and `stream_options:
{include_usage: true}` where the service supports it); messages with roles system / user /
assistant (with `tool_calls`) / tool (with `tool_call_id`); tools as
`{"type": "function", "function": {name, description, parameters}}`.

Reply: `data:` events of `chat.completion.chunk` objects. Text in `choices[0].delta.content`;
tool calls in `choices[0].delta.tool_calls[]` as fragments keyed by `index` (the first fragment
has `id` and `function.name`, later ones add to `function.arguments`), assembled here into whole
calls (by `id` or position when a compatible server leaves out `index`); `finish_reason` stop /
length / tool_calls / content_filter; a last chunk with empty `choices` and `usage`
(`prompt_tokens`, `completion_tokens`); then `data: [DONE]`. A mid-stream failure arrives as
`data: {"error": {...}}`.

Services:
- `openai`: https://api.openai.com/v1 (or `OPENAI_BASE_URL`), `Authorization: Bearer`.
- `azure`: `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=...` with an
  `api-key` header, or `Authorization: Bearer` with a Microsoft Entra ID token (from
  `AZURE_OPENAI_AD_TOKEN` or the `token_command` option, which win over the key); endpoint from
  base_url or `AZURE_OPENAI_ENDPOINT`, deployment from the `deployment` option or the model,
  version from `api_version` or `OPENAI_API_VERSION`.
- `mistral`: https://api.mistral.ai/v1; usage arrives without `stream_options`; tool calls come
  whole, each with `index` 0; tool call ids in a request must be 9 characters of [a-zA-Z0-9], so
  other ids of the history are mapped to such ids (`MistralProvider.wire_call_id`).
- `ollama`: http://localhost:11434/v1 (or `OLLAMA_HOST`), no key needed. Its OpenAI-compatible
  endpoint takes no `top_k` (not sent); versions before 0.5.2 ignore `stream_options` and report
  no usage, which leaves the reply as it is; `/v1/models` lists the local models ("name:tag").
- `openai-compatible`: any base URL (`--base-url`, or `OPENAI_BASE_URL`), key optional.

Options besides the transport ones: `include_usage` (send `stream_options`), `extra_body`
(merged into every request body).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import replace
from typing import Any, AsyncIterator, Callable, Iterable

from ..chunks import (
    Chunk,
    Done,
    FinishReason,
    Role,
    TextDelta,
    ToolCall,
    ToolCallChunk,
    Usage,
    UsageChunk,
)
from ..errors import ProviderError
from .base import Capabilities, ChatRequest, ModelInfo
from ..models.endpoints import ollama_facts
from ..models.rejections import openai_rejected_param
from .encoding import PartialCall, dumps, new_call_id
from .failures import StreamFailure, trim
from .json_events import JSONEventDecoder
from .registry import ProviderSettings
from .sse import SSEEvent
from .token_command import TokenCommand
from .transport import HTTPProvider

FINISH_REASONS = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
}

AZURE_TOKEN_ENV = "AZURE_OPENAI_AD_TOKEN"
"""A Microsoft Entra ID token for Azure OpenAI (the variable the openai SDK reads too)."""
SHOWN_MODELS = 50
"""At most this many of a local Ollama's models are asked about (`/api/show`, one request each)."""
MISTRAL_CALL_ID = re.compile(r"[a-zA-Z0-9]{9}")
"""The only tool call ids Mistral accepts in a request."""
BASE62 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
RETRYABLE_ERROR_TYPES = {"server_error", "rate_limit_exceeded", "overloaded_error", "service_unavailable", "timeout"}


def _object_arguments(fragment: Any) -> bool:
    """Whether a tool call fragment carries its arguments as an object rather than as JSON text."""
    function = fragment.get("function") if type(fragment) is dict else None
    return type(function) is dict and type(function.get("arguments")) is dict


class OpenAIDecoder(JSONEventDecoder):
    """Chat-completion chunks -> chunks. Tool calls and usage are held until the end."""

    closing_data = "[DONE]"

    def __init__(self, label: str = "OpenAI") -> None:
        super().__init__(label)
        self._calls: list[PartialCall] = []
        self._by_index: dict[int, int] = {}
        self._by_id: dict[str, int] = {}
        self._by_position: dict[int, int] = {}
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None

    def decode(self, payload: dict[str, Any], event: SSEEvent, exact: bool) -> list[Chunk]:
        error = payload.get("error")
        if error or event.event == "error":
            raise self._error(error if error is not None else payload)
        usage = payload.get("usage")
        if usage and type(usage) is dict:
            self._usage = Usage(int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0))
        choices = payload.get("choices")
        if not choices:
            return []
        if len(choices) == 1:
            # Most events: one choice whose delta is only text, with no finish reason yet.
            choice = choices[0]
            if type(choice) is dict and choice.get("finish_reason") is None and choice.get("index", 0) == 0:
                delta = choice.get("delta")
                if type(delta) is dict and len(delta) == 1:
                    text = delta.get("content")
                    if type(text) is str:
                        return [TextDelta(text)] if text else []
        return self._choices(choices, event, exact)

    def _choices(self, choices: Any, event: SSEEvent, exact: bool) -> list[Chunk]:
        """The chunks of an event's choices (only choice 0 is followed), in general."""
        out: list[Chunk] = []
        taken = False
        for choice in choices:
            if type(choice) is not dict or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta")
            if delta:
                text = delta.get("content")
                if text and type(text) is str:
                    out.append(TextDelta(text))
                if len(delta) > 1 or text is None:  # anything besides text? (usually not)
                    refusal = delta.get("refusal")
                    if refusal and type(refusal) is str:
                        out.append(TextDelta(refusal))
                    fragments = delta.get("tool_calls") or ()
                    if not exact and not taken and any(_object_arguments(fragment) for fragment in fragments):
                        # Arguments sent as an object are turned back into text: start again from the
                        # standard library's parse, which keeps integers beyond 64 bits exact.
                        return self.feed(event, exact=True)
                    for position, fragment in enumerate(fragments):
                        if type(fragment) is dict:
                            self._take_call(position, fragment)
                            taken = True
            reason = choice.get("finish_reason")
            if reason:
                self._finish = FINISH_REASONS.get(reason, FinishReason.STOP)
                self.complete = True
        return out

    def _error(self, error: Any) -> StreamFailure:
        if isinstance(error, dict):
            message = error.get("message") or error.get("type") or "unknown error"
            kind = str(error.get("type") or error.get("code") or "")
        else:
            message, kind = str(error), ""
        return StreamFailure(
            f"{self.label} reported an error mid-stream: {trim(str(message))}",
            retryable=kind in RETRYABLE_ERROR_TYPES,
        )

    def _slot(self, position: int, fragment: dict[str, Any]) -> int:
        index = fragment.get("index")
        call_id = fragment.get("id") or ""
        has_index = isinstance(index, int) and not isinstance(index, bool)
        if call_id and call_id in self._by_id:
            slot = self._by_id[call_id]
        elif has_index and index in self._by_index and not (
            call_id and self._calls[self._by_index[index]].id not in ("", call_id)
        ):
            slot = self._by_index[index]
        elif has_index or call_id or not self._calls:
            # A new call. (A server that reuses one index for every call is told apart by the new id.)
            self._calls.append(PartialCall())
            slot = len(self._calls) - 1
            if has_index:
                self._by_index[index] = slot
        else:
            # No index and no id: a continuation of the call at this position (or of the last one).
            slot = self._by_position.get(position, len(self._calls) - 1)
        if call_id:
            self._by_id[call_id] = slot
            if not self._calls[slot].id:
                self._calls[slot].id = call_id
        self._by_position[position] = slot
        return slot

    def _take_call(self, position: int, fragment: dict[str, Any]) -> None:
        call = self._calls[self._slot(position, fragment)]
        function = fragment.get("function") or {}
        name = function.get("name")
        if isinstance(name, str) and name and name != call.name:
            call.name = name if not call.name else call.name + name
        arguments = function.get("arguments")
        if isinstance(arguments, str):
            call.arguments += arguments
        elif isinstance(arguments, dict):  # some servers send an object instead of JSON text
            call.arguments += dumps(arguments).decode("utf-8")

    def finish(self) -> Iterable[Chunk]:
        for call in self._calls:
            yield ToolCallChunk(ToolCall(call.id or new_call_id(), call.name, call.arguments or "{}"))
        if self._usage is not None:
            yield UsageChunk(self._usage)
        reason = self._finish or (FinishReason.TOOL_CALLS if self._calls else FinishReason.STOP)
        yield Done(reason)


def _same_id(call_id: str) -> str:
    return call_id


def encode_messages(request: ChatRequest, call_id: Callable[[str], str] = _same_id) -> list[dict[str, Any]]:
    """The history in Chat Completions form, with the system prompt first.

    `call_id` gives the id sent for a tool call id of the history (in the assistant's calls and in
    the results alike), for a service that accepts only ids of its own form.
    """
    out: list[dict[str, Any]] = []
    if request.system:
        out.append({"role": "system", "content": request.system})
    for message in request.messages:
        if message.role is Role.SYSTEM:
            out.append({"role": "system", "content": message.content})
        elif message.role is Role.USER:
            out.append({"role": "user", "content": message.content})
        elif message.role is Role.ASSISTANT:
            item: dict[str, Any] = {"role": "assistant", "content": message.content or None}
            if message.tool_calls:
                item["tool_calls"] = [
                    {"id": call_id(call.id), "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
                    for call in message.tool_calls
                ]
            out.append(item)
        elif message.role is Role.TOOL:
            out.append({"role": "tool", "tool_call_id": call_id(message.tool_call_id or ""), "content": message.content})
    return out


def encode_tools(request: ChatRequest) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": tool.name, "description": tool.description, "parameters": dict(tool.parameters)},
        }
        for tool in request.tools
    ]


def _vision(model: str) -> bool:
    m = model.lower()
    return m.startswith(("gpt-4o", "gpt-4.1", "gpt-4-turbo", "gpt-5", "chatgpt-4o", "o3", "o4")) or (
        m.startswith("o1") and "mini" not in m
    )


def _context(model: str) -> int | None:
    m = model.lower()
    for prefix, size in (("gpt-4.1", 1_047_576), ("gpt-5", 400_000), ("gpt-4o", 128_000), ("o3", 200_000), ("o4", 200_000), ("o1", 200_000)):
        if m.startswith(prefix):
            return size
    return None


class OpenAIProvider(HTTPProvider):
    """OpenAI's Chat Completions API."""

    name = "openai"
    label = "OpenAI"
    default_base_url = "https://api.openai.com/v1"
    base_url_env: str | None = "OPENAI_BASE_URL"
    include_usage_default = True
    parameter_names = {
        "temperature": "temperature",
        "top_p": "top_p",
        "stop": "stop",
        "presence_penalty": "presence_penalty",
        "frequency_penalty": "frequency_penalty",
        "seed": "seed",
    }
    required_tool_choice = "required"

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        super().__init__(settings)
        base = self.settings.base_url or (os.environ.get(self.base_url_env) if self.base_url_env else None) or self.default_base_url
        if not base:
            raise ProviderError(f"{self.label} needs a base URL", hint="pass --base-url or set base_url in the config")
        self.base_url = base.rstrip("/")
        self.include_usage = bool(self.options.get("include_usage", self.include_usage_default))
        self.extra_body = dict(self.options.get("extra_body") or {})

    # -- what the model can do --

    def capabilities(self, model: str) -> Capabilities:
        return Capabilities(streaming=True, tools=True, vision=_vision(model))

    def info(self) -> ModelInfo:
        return ModelInfo(self.name, self.model, self.capabilities(self.model), _context(self.model))

    async def list_models(self) -> list[ModelInfo]:
        async def fetch() -> Any:
            request = self.client.build_request("GET", self.base_url + "/models", headers=self.auth_headers(self.api_key()))
            return await self.request_json(request)

        data = await self.with_retries(fetch)
        models = []
        for item in (data.get("data") if isinstance(data, dict) else None) or ():
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                models.append(self._model_info(item))
        return sorted(models, key=lambda info: info.id)

    def _model_info(self, item: dict[str, Any]) -> ModelInfo:
        model = item["id"]
        return ModelInfo(self.name, model, self.capabilities(model), _context(model))

    # -- requests --

    def auth_headers(self, key: str | None) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"} if key else {}

    def url(self, request: ChatRequest) -> str:
        return self.base_url + "/chat/completions"

    def rejected_param(self, body: str) -> str | None:
        return openai_rejected_param(body)

    def body(self, request: ChatRequest, params: dict[str, Any]) -> dict[str, Any]:
        """The request body, with `params` (fitted, under wire names) among its fields."""
        body: dict[str, Any] = {"model": request.model or self.model, "messages": encode_messages(request, self.wire_call_id), "stream": True}
        if self.include_usage:
            body["stream_options"] = {"include_usage": True}
        body.update(params)
        if request.tools:
            body["tools"] = encode_tools(request)
            if request.tool_choice:
                body["tool_choice"] = self.tool_choice(request.tool_choice)
        body.update(self.extra_body)
        return body

    def wire_call_id(self, call_id: str) -> str:
        """The id sent for tool call id `call_id` of the history (itself, unless a service restricts ids)."""
        return call_id

    def tool_choice(self, choice: str) -> Any:
        if choice in ("auto", "none"):
            return choice
        if choice in ("required", "any"):
            return self.required_tool_choice
        return {"type": "function", "function": {"name": choice}}

    def stream_fitted(self, request: ChatRequest, params: dict[str, Any]) -> AsyncIterator[Chunk]:
        return self.post_sse(self.url(request), self.body(request, params), lambda: OpenAIDecoder(self.label))


class AzureOpenAIProvider(OpenAIProvider):
    """Azure OpenAI: a deployment's Chat Completions, with an `api-key` header or a Microsoft Entra ID token.

    The token, when there is one, is sent as `Authorization: Bearer` in place of the key (as the
    openai SDK's `AzureOpenAI` does): from `AZURE_OPENAI_AD_TOKEN`, else from the `token_command`
    option (see token_command.py).
    """

    name = "azure"
    label = "Azure OpenAI"
    default_base_url = ""
    base_url_env = "AZURE_OPENAI_ENDPOINT"
    default_api_version = "2024-10-21"

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        super().__init__(settings)
        self.deployment = str(self.options.get("deployment") or self.model or "")
        if not self.deployment:
            raise ProviderError("Azure OpenAI needs a deployment name", hint="set the model or the 'deployment' option")
        self.model = self.model or self.deployment
        self.api_version = str(self.options.get("api_version") or os.environ.get("OPENAI_API_VERSION") or self.default_api_version)
        if self.base_url.endswith("/openai"):
            self.base_url = self.base_url[: -len("/openai")]
        self.token_command = TokenCommand.from_options(self.options, label=self.label, hint=self.key_hint, remember=self.remember_secret)

    def key_hint(self) -> str:
        return (
            f"{super().key_hint()}; or, for Microsoft Entra ID, a token in {AZURE_TOKEN_ENV} or token_command = "
            '"az account get-access-token --resource https://cognitiveservices.azure.com --query accessToken -o tsv" '
            "in [providers.azure]"
        )

    def auth_headers(self, key: str | None) -> dict[str, str]:
        return {"api-key": key} if key else {}

    async def request_auth(self) -> dict[str, str]:
        token = os.environ.get(AZURE_TOKEN_ENV, "").strip()
        if not token and self.token_command is not None:
            token = await self.token_command.token()
        if token:
            self.remember_secret(token)
            return {"authorization": f"Bearer {token}"}
        return self.auth_headers(self.api_key())

    def url(self, request: ChatRequest) -> str:
        return f"{self.base_url}/openai/deployments/{self.deployment}/chat/completions?api-version={self.api_version}"

    def body(self, request: ChatRequest, params: dict[str, Any]) -> dict[str, Any]:
        body = super().body(request, params)
        body.pop("model", None)  # the deployment names the model
        return body

    async def list_models(self) -> list[ModelInfo]:
        return [self.info()]


class MistralProvider(OpenAIProvider):
    """Mistral's chat API (OpenAI-shaped; usage comes without stream_options)."""

    name = "mistral"
    label = "Mistral"
    default_base_url = "https://api.mistral.ai/v1"
    base_url_env = None
    include_usage_default = False
    parameter_names = {**OpenAIProvider.parameter_names, "seed": "random_seed"}
    required_tool_choice = "any"

    def wire_call_id(self, call_id: str) -> str:
        """`call_id` as Mistral accepts it: exactly 9 characters of [a-zA-Z0-9].

        Mistral's own ids are already so and are kept. Others (from another provider before a
        switch, or made up here) are replaced by 9 characters of a hash of the id, the same for
        the call and its result and in every turn, with no table to keep.
        """
        if MISTRAL_CALL_ID.fullmatch(call_id):
            return call_id
        number = int.from_bytes(hashlib.sha256(call_id.encode("utf-8")).digest()[:8], "big")
        digits = []
        for _ in range(9):
            number, digit = divmod(number, 62)
            digits.append(BASE62[digit])
        return "".join(digits)

    def capabilities(self, model: str) -> Capabilities:
        m = model.lower()
        return Capabilities(streaming=True, tools=True, vision=m.startswith(("pixtral", "mistral-medium", "mistral-small-2503", "mistral-large-2411")))

    def _model_info(self, item: dict[str, Any]) -> ModelInfo:
        caps = item.get("capabilities")
        if isinstance(caps, dict):
            capabilities = Capabilities(
                streaming=True,
                tools=bool(caps.get("function_calling", True)),
                vision=bool(caps.get("vision", False)),
            )
        else:
            capabilities = self.capabilities(item["id"])
        context = item.get("max_context_length")
        return ModelInfo(self.name, item["id"], capabilities, context if isinstance(context, int) else None, str(item.get("description") or ""))


class OllamaProvider(OpenAIProvider):
    """A local Ollama server, through its OpenAI-compatible endpoint."""

    name = "ollama"
    label = "Ollama"
    default_base_url = "http://localhost:11434/v1"
    base_url_env = None
    requires_key = False

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        settings = settings or ProviderSettings()
        if not settings.base_url and (host := os.environ.get("OLLAMA_HOST", "").strip()):
            if "://" not in host:
                host = "http://" + host
            settings = replace(settings, base_url=host.rstrip("/") + "/v1")
        super().__init__(settings)

    async def list_models(self) -> list[ModelInfo]:
        """The pulled models, each first taught to the catalog from Ollama's own `/api/show`
        (context length, tools, vision), so the window and capabilities are the local model's."""
        models = await super().list_models()
        for index, info in enumerate(models[:SHOWN_MODELS]):
            if facts := await self._show(info.id):
                self.catalog.learn(self.name, info.id, facts, "Ollama /api/show")
                models[index] = replace(info, context_window=facts.get("context_window", info.context_window))
        return models

    async def _show(self, model: str) -> dict[str, Any]:
        """What `/api/show` says of `model` (nothing when this server has no such endpoint or fails)."""
        url = self.base_url.removesuffix("/v1") + "/api/show"
        request = self.client.build_request("POST", url, content=dumps({"model": model}), headers={"content-type": "application/json", **self.auth_headers(self.api_key())})
        try:
            reply = await self.request_json(request)
        except ProviderError:
            return {}
        return ollama_facts(reply) if isinstance(reply, dict) else {}

    def key_hint(self) -> str:
        return "Ollama needs no key unless a proxy in front of it does; set the api key in the [providers.ollama] config"

    def connect_hint(self) -> str:
        return f"is Ollama running? start it with `ollama serve` (tried {self.base_url.removesuffix('/v1')}; set OLLAMA_HOST if it listens elsewhere)"


class OpenAICompatibleProvider(OpenAIProvider):
    """Any server that speaks Chat Completions (vLLM, llama.cpp, LM Studio, gateways...)."""

    name = "openai-compatible"
    label = "the OpenAI-compatible server"
    default_base_url = ""
    requires_key = False
    parameter_names = {**OpenAIProvider.parameter_names, "top_k": "top_k"}

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        super().__init__(settings)
        self.model = self.model or "default"

    def key_hint(self) -> str:
        return "set the api key in the [providers.openai-compatible] config, if the server needs one"
