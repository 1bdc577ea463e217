"""The Cohere Chat v2 wire format.

Request: `POST {base}/v2/chat` (base https://api.cohere.com) with `Authorization: Bearer` and
`stream: true`; messages with roles system / user / assistant (`tool_calls` as
`{id, type: "function", function: {name, arguments}}`, with `tool_plan`) / tool
(`tool_call_id`, `content`); tools as `{"type": "function", "function": {name, description,
parameters}}`; sampling as temperature, max_tokens, p, k, stop_sequences, seed.

Reply: SSE events whose JSON `type` names them: `message-start`; `content-start`,
`content-delta` (`delta.message.content.text`), `content-end`; `tool-plan-delta`
(`delta.message.tool_plan`, the model's plan, shown as text); `tool-call-start` (`index`,
`delta.message.tool_calls` with id and function name), `tool-call-delta` (more
`function.arguments`), `tool-call-end`; `citation-start` / `citation-end` (ignored);
`message-end` with `delta.finish_reason` (COMPLETE, STOP_SEQUENCE, MAX_TOKENS, TOOL_CALL, ERROR,
TIMEOUT), `delta.usage` (`tokens` / `billed_units` input_tokens, output_tokens) and, on failure,
`delta.error`.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterable

from ..chunks import Chunk, Done, FinishReason, Role, TextDelta, ToolCall, ToolCallChunk, Usage, UsageChunk
from .base import Capabilities, ChatRequest, ModelInfo
from .encoding import PartialCall, new_call_id
from .failures import StreamFailure, trim
from .json_events import JSONEventDecoder
from .registry import ProviderSettings
from .sse import SSEEvent
from .transport import HTTPProvider

FINISH_REASONS = {
    "COMPLETE": FinishReason.STOP,
    "STOP_SEQUENCE": FinishReason.STOP,
    "MAX_TOKENS": FinishReason.LENGTH,
    "TOOL_CALL": FinishReason.TOOL_CALLS,
}
PARAMETERS = {
    "temperature": "temperature",
    "top_p": "p",
    "top_k": "k",
    "stop": "stop_sequences",
    "seed": "seed",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}


class CohereDecoder(JSONEventDecoder):
    """Chat v2 stream events -> chunks."""

    def __init__(self, label: str = "Cohere") -> None:
        super().__init__(label)
        self._calls: dict[int, PartialCall] = {}
        self._usage: Usage | None = None
        self._finish = FinishReason.STOP
        self._call_count = 0

    @staticmethod
    def _message(payload: dict[str, Any]) -> dict[str, Any]:
        delta = payload.get("delta")
        message = delta.get("message") if isinstance(delta, dict) else None
        return message if isinstance(message, dict) else {}

    def decode(self, payload: dict[str, Any], event: SSEEvent, exact: bool) -> list[Chunk]:
        kind = payload.get("type") or event.event
        if kind == "content-delta":
            content = self._message(payload).get("content")
            text = content.get("text") if isinstance(content, dict) else None
            return [TextDelta(text)] if isinstance(text, str) and text else []
        if kind == "tool-plan-delta":
            plan = self._message(payload).get("tool_plan")
            return [TextDelta(plan)] if isinstance(plan, str) and plan else []
        if kind == "tool-call-start":
            call = self._message(payload).get("tool_calls")
            call = call[0] if isinstance(call, list) and call else call
            call = call if isinstance(call, dict) else {}
            function = call.get("function") or {}
            index = payload.get("index", len(self._calls))
            self._calls[index] = PartialCall(str(call.get("id") or ""), str(function.get("name") or ""), str(function.get("arguments") or ""))
            return []
        if kind == "tool-call-delta":
            call = self._message(payload).get("tool_calls")
            call = call[0] if isinstance(call, list) and call else call
            arguments = ((call or {}).get("function") or {}).get("arguments") if isinstance(call, dict) else None
            index = payload.get("index", max(self._calls, default=0))
            target = self._calls.get(index)
            if target is not None and isinstance(arguments, str):
                target.arguments += arguments
            return []
        if kind == "tool-call-end":
            call = self._calls.pop(payload.get("index", max(self._calls, default=0)), None)
            if call is None:
                return []
            self._call_count += 1
            return [ToolCallChunk(ToolCall(call.id or new_call_id(), call.name, call.arguments or "{}"))]
        if kind == "message-end":
            delta = payload.get("delta") or {}
            reason = str(delta.get("finish_reason") or "COMPLETE")
            error = delta.get("error")
            if error or reason in ("ERROR", "TIMEOUT"):
                raise StreamFailure(
                    f"{self.label} stopped with {reason}: {trim(str(error or reason))}",
                    retryable=reason == "TIMEOUT",
                )
            self._take_usage(delta.get("usage"))
            self._finish = FINISH_REASONS.get(reason, FinishReason.STOP)
            if self._finish is FinishReason.STOP and self._call_count:
                self._finish = FinishReason.TOOL_CALLS
            self.complete = True
            self.terminal = True
            return []
        if kind == "error":
            raise StreamFailure(f"{self.label} reported an error mid-stream: {trim(str(payload.get('message') or event.data))}")
        return []

    def _take_usage(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        counts = usage.get("tokens") or usage.get("billed_units")
        if isinstance(counts, dict):
            self._usage = Usage(int(counts.get("input_tokens") or 0), int(counts.get("output_tokens") or 0))

    def finish(self) -> Iterable[Chunk]:
        if self._usage is not None:
            yield UsageChunk(self._usage)
        yield Done(self._finish)


def encode_messages(request: ChatRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if request.system:
        out.append({"role": "system", "content": request.system})
    for message in request.messages:
        if message.role is Role.SYSTEM:
            out.append({"role": "system", "content": message.content})
        elif message.role is Role.USER:
            out.append({"role": "user", "content": message.content})
        elif message.role is Role.ASSISTANT:
            item: dict[str, Any] = {"role": "assistant"}
            if message.tool_calls:
                item["tool_calls"] = [
                    {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
                    for call in message.tool_calls
                ]
                if message.content:
                    item["tool_plan"] = message.content
            else:
                item["content"] = message.content
            out.append(item)
        elif message.role is Role.TOOL:
            out.append({"role": "tool", "tool_call_id": message.tool_call_id or "", "content": message.content})
    return out


class CohereProvider(HTTPProvider):
    """Cohere's Chat v2 API."""

    name = "cohere"
    label = "Cohere"
    default_base_url = "https://api.cohere.com"
    parameter_names = PARAMETERS

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        super().__init__(settings)

    def capabilities(self, model: str, features: Iterable[str] | None = None) -> Capabilities:
        if features is not None:
            features = set(features)
            return Capabilities(streaming=True, tools="tools" in features or "strict_tools" in features, vision="vision" in features)
        m = model.lower()
        return Capabilities(streaming=True, tools=m.startswith(("command-r", "command-a")), vision="vision" in m)

    def info(self) -> ModelInfo:
        return ModelInfo(self.name, self.model, self.capabilities(self.model), 128_000 if self.model.startswith("command") else None)

    def auth_headers(self, key: str | None) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"} if key else {}

    async def list_models(self) -> list[ModelInfo]:
        async def fetch() -> Any:
            request = self.client.build_request(
                "GET", self.base_url + "/v1/models", params={"endpoint": "chat", "page_size": 1000}, headers=self.auth_headers(self.api_key())
            )
            return await self.request_json(request)

        data = await self.with_retries(fetch)
        models = []
        for item in (data.get("models") if isinstance(data, dict) else None) or ():
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                features = item.get("features")
                context = item.get("context_length")
                models.append(
                    ModelInfo(
                        self.name,
                        item["name"],
                        self.capabilities(item["name"], features if isinstance(features, list) else None),
                        int(context) if isinstance(context, (int, float)) else None,
                    )
                )
        return models

    def body(self, request: ChatRequest, params: dict[str, Any]) -> dict[str, Any]:
        """The request body, with `params` (fitted, under wire names) among its fields."""
        body: dict[str, Any] = {"model": request.model or self.model, "messages": encode_messages(request), "stream": True}
        body.update(params)
        if request.tools:
            body["tools"] = [
                {"type": "function", "function": {"name": tool.name, "description": tool.description, "parameters": dict(tool.parameters)}}
                for tool in request.tools
            ]
            if request.tool_choice in ("required", "any"):
                body["tool_choice"] = "REQUIRED"
            elif request.tool_choice == "none":
                body["tool_choice"] = "NONE"
        return body

    def stream_fitted(self, request: ChatRequest, params: dict[str, Any]) -> AsyncIterator[Chunk]:
        return self.post_sse(self.base_url + "/v2/chat", self.body(request, params), lambda: CohereDecoder(self.label))
