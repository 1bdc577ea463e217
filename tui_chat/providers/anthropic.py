"""The Anthropic Messages wire format.

Request: `POST {base}/v1/messages` (base https://api.anthropic.com) with `anthropic-version:
2026-10-21` and the key as `Authorization: Bearer` (the `api_version` option may say
`2023-06-01`, which takes the key as `x-api-key`), `stream: true`; `system` at the top level;
`max_tokens` required (the `max_tokens` parameter, else the `default_max_tokens` option, 4096);
no `temperature`, `top_p` or `top_k` on `2026-10-21` (the model catalog leaves them out); messages
alternate user / assistant with content blocks: `text`, `tool_use {id, name, input}` in
assistant turns and `tool_result {tool_use_id, content, is_error}` in user turns; tools as
`{name, description, input_schema}`.

Reply (named SSE events): `message_start` (message.usage.input_tokens), `content_block_start`
(a `text` block, or a `tool_use` block with id and name), `content_block_delta` (`text_delta`
text, or `input_json_delta` partial_json that together make the tool input), `content_block_stop`,
`message_delta` (delta.stop_reason end_turn / max_tokens / stop_sequence / tool_use / refusal,
usage.output_tokens so far), `message_stop` (the end); `ping` keep-alives; `error` with
`{"type": "error", "error": {"type": "overloaded_error", "message": ...}}`. HTTP 529 means
overloaded.

Extended thinking (the `thinking` parameter, `{"type": "enabled", "budget_tokens": N}`, passed
through; or `thinking_budget` / `reasoning_effort`, as a pack parameter or as the provider option
in `[providers.anthropic]` for every request that sets neither, which the catalog turns into what
the model takes: a budget, or adaptive thinking with `output_config.effort`; without `max_tokens`
the default is added to the budget): the reply starts with
`thinking` blocks (`content_block_start` `{"type": "thinking", "thinking": ""}`, then
`thinking_delta` text and a `signature_delta`) and may have `redacted_thinking` blocks (`{"type":
"redacted_thinking", "data": ...}`, whole in `content_block_start`). Thinking is not reply text:
each finished block becomes an `OpaqueChunk` (tagged "anthropic"), kept on the assistant message,
and sent back unchanged at the head of that turn's content; the API requires that of the turn
whose tool calls are being answered, and ignores it on older turns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterable, Mapping

from ..chunks import (
    Chunk,
    Done,
    FinishReason,
    Message,
    OpaqueBlock,
    OpaqueChunk,
    Role,
    TextDelta,
    ToolCall,
    ToolCallChunk,
    Usage,
    UsageChunk,
)
from .base import Capabilities, ChatRequest, ModelInfo
from ..models.endpoints import anthropic_facts
from ..models.rejections import anthropic_rejected_param
from .encoding import arguments_object, dumps, new_call_id
from .failures import StreamFailure, trim
from .json_events import JSONEventDecoder, load_json
from .registry import ProviderSettings
from .sse import SSEEvent
from .transport import HTTPProvider

PROVIDER = "anthropic"
"""The tag of the opaque blocks this wire format makes and sends back."""
API_VERSION = "2026-10-21"
"""The API version sent unless the `api_version` option names another (the anthropic SDK 2.x sends it too)."""
LEGACY_API_VERSION = "2023-06-01"
"""The version before it: sampling parameters allowed on models before Claude 4.7, the key as `x-api-key`."""
STOP_REASONS = {
    "end_turn": FinishReason.STOP,
    "stop_sequence": FinishReason.STOP,
    "pause_turn": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "model_context_window_exceeded": FinishReason.LENGTH,
    "tool_use": FinishReason.TOOL_CALLS,
    "refusal": FinishReason.CONTENT_FILTER,
}
RETRYABLE_ERRORS = {"overloaded_error", "api_error", "rate_limit_error", "timeout_error"}
PARAMETERS = {"temperature": "temperature", "top_p": "top_p", "top_k": "top_k", "stop": "stop_sequences", "thinking": "thinking"}
"""PromptPack names -> Messages API fields (`thinking` is passed through as given)."""


THINKING_BLOCKS = ("thinking", "redacted_thinking")
"""Content block types that are kept (as `OpaqueBlock`s) and sent back unchanged, never shown as text."""


@dataclass(slots=True)
class _Block:
    """A content block being streamed: a tool call's id, name and input JSON so far, or a thinking block."""

    kind: str
    id: str = ""
    name: str = ""
    json: str = ""
    input: Any = None
    start: dict[str, Any] | None = None
    """A thinking block as `content_block_start` gave it; its text and signature grow in `thinking` and `signature`."""
    thinking: str = ""
    signature: str = ""

    def opaque(self) -> OpaqueChunk:
        """The finished thinking (or redacted thinking) block, as it must be sent back."""
        block = dict(self.start or {"type": self.kind})
        if self.kind == "thinking":
            block["thinking"] = self.thinking
            block["signature"] = self.signature
        return OpaqueChunk(OpaqueBlock(PROVIDER, self.kind, dumps(block).decode("utf-8")))


class AnthropicDecoder(JSONEventDecoder):
    """Messages stream events -> chunks."""

    def __init__(self, label: str = "Anthropic") -> None:
        super().__init__(label)
        self._open_blocks: dict[int, _Block] = {}
        """The content blocks started and not yet stopped, by their index in the message."""
        self._input_tokens = 0
        self._output_tokens = 0
        self._has_usage = False
        self._stop: FinishReason | None = None
        self._tool_calls = 0

    def is_keepalive(self, event: SSEEvent) -> bool:
        return event.event == "ping" or not event.data or event.data.isspace()

    def decode(self, payload: dict[str, Any], event: SSEEvent, exact: bool) -> list[Chunk]:
        kind = payload.get("type") or event.event
        if kind == "content_block_delta":
            delta = payload.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                text = delta.get("text")
                return [TextDelta(text)] if isinstance(text, str) and text else []
            block = self._open_blocks.get(payload.get("index", -1))
            if block is None:
                return []
            if dtype == "input_json_delta":
                if isinstance(delta.get("partial_json"), str):
                    block.json += delta["partial_json"]
            elif dtype == "thinking_delta":
                if isinstance(delta.get("thinking"), str):
                    block.thinking += delta["thinking"]
            elif dtype == "signature_delta":
                if isinstance(delta.get("signature"), str):
                    block.signature += delta["signature"]
            return []  # citations_delta and anything new: not shown
        if kind == "content_block_start":
            block = payload.get("content_block") or {}
            index = payload.get("index", len(self._open_blocks))
            if block.get("type") == "tool_use":
                # Its input may become the call's argument text: take it from the standard library's
                # parse, which keeps integers beyond 64 bits exact.
                block = load_json(event, exact=True).get("content_block") or {}
                self._open_blocks[index] = _Block("tool_use", str(block.get("id") or ""), str(block.get("name") or ""), input=block.get("input"))
            elif block.get("type") in THINKING_BLOCKS:
                thinking, signature = block.get("thinking"), block.get("signature")
                self._open_blocks[index] = _Block(
                    block["type"],
                    start=block,
                    thinking=thinking if isinstance(thinking, str) else "",
                    signature=signature if isinstance(signature, str) else "",
                )
            else:
                self._open_blocks[index] = _Block(str(block.get("type") or ""))
                text = block.get("text") if block.get("type") == "text" else None
                if isinstance(text, str) and text:
                    return [TextDelta(text)]
            return []
        if kind == "content_block_stop":
            block = self._open_blocks.pop(payload.get("index", -1), None)
            if block is not None and block.kind == "tool_use":
                self._tool_calls += 1
                arguments = block.json
                if not arguments.strip():
                    arguments = json.dumps(block.input if isinstance(block.input, dict) else {}, ensure_ascii=False)
                return [ToolCallChunk(ToolCall(block.id or new_call_id(), block.name, arguments))]
            if block is not None and block.kind in THINKING_BLOCKS:
                return [block.opaque()]
            return []
        if kind == "message_start":
            usage = (payload.get("message") or {}).get("usage")
            self._take_usage(usage, input_too=True)
            return []
        if kind == "message_delta":
            reason = (payload.get("delta") or {}).get("stop_reason")
            if reason:
                self._stop = STOP_REASONS.get(reason, FinishReason.STOP)
                self.complete = True
            self._take_usage(payload.get("usage"), input_too=False)
            return []
        if kind == "message_stop":
            self.complete = True
            self.terminal = True
            return []
        if kind == "error":
            error = payload.get("error") or {}
            etype = str(error.get("type") or "error")
            message = error.get("message") or etype
            return self._fail(etype, message)
        return []

    def _fail(self, etype: str, message: str) -> list[Chunk]:
        raise StreamFailure(
            f"{self.label} reported an error mid-stream ({etype}): {trim(str(message))}",
            hint="the service is busy; try again shortly" if etype == "overloaded_error" else "",
            retryable=etype in RETRYABLE_ERRORS,
        )

    def _take_usage(self, usage: Any, *, input_too: bool) -> None:
        if not isinstance(usage, dict):
            return
        self._has_usage = True
        if input_too or usage.get("input_tokens"):
            self._input_tokens = sum(
                int(usage.get(key) or 0) for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
            )
        if "output_tokens" in usage:
            self._output_tokens = int(usage.get("output_tokens") or 0)

    def finish(self) -> Iterable[Chunk]:
        if self._has_usage:
            yield UsageChunk(Usage(self._input_tokens, self._output_tokens))
        yield Done(self._stop or (FinishReason.TOOL_CALLS if self._tool_calls else FinishReason.STOP))


def encode_messages(messages: Iterable[Message]) -> tuple[list[dict[str, Any]], list[str]]:
    """The history as Messages-API turns (same-role turns merged), and any system messages in it."""
    turns: list[dict[str, Any]] = []
    system: list[str] = []

    def add(role: str, blocks: list[dict[str, Any]]) -> None:
        if not blocks:
            return
        if turns and turns[-1]["role"] == role:
            merged = turns[-1]["content"] + blocks
            # Tool results must come first in a user turn.
            merged.sort(key=lambda block: block.get("type") != "tool_result")
            turns[-1]["content"] = merged
        else:
            turns.append({"role": role, "content": blocks})

    for message in messages:
        if message.role is Role.SYSTEM:
            if message.content:
                system.append(message.content)
        elif message.role is Role.USER:
            add("user", [{"type": "text", "text": message.content}] if message.content else [])
        elif message.role is Role.ASSISTANT:
            # Thinking blocks go first, unchanged: the API checks their signatures, and requires them
            # before the tool calls of the turn they belong to.
            blocks: list[dict[str, Any]] = [json.loads(block.data) for block in message.opaque if block.provider == PROVIDER]
            text = message.content.rstrip()  # the API refuses a final assistant turn ending in white space
            if text:
                blocks.append({"type": "text", "text": text})
            for call in message.tool_calls:
                blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": arguments_object(call.arguments)})
            add("assistant", blocks)
        elif message.role is Role.TOOL:
            block: dict[str, Any] = {"type": "tool_result", "tool_use_id": message.tool_call_id or "", "content": message.content}
            if message.is_error:
                block["is_error"] = True
            add("user", [block])
    return turns, system


def _thinking_budget(parameters: Mapping[str, Any]) -> int:
    """The `budget_tokens` of an enabled `thinking` parameter, else 0.

    `max_tokens` counts the thinking too and must be above the budget, so when no `max_tokens` is
    given the default is added to the budget rather than refused by the API.
    """
    thinking = parameters.get("thinking")
    budget = thinking.get("budget_tokens") if isinstance(thinking, Mapping) and thinking.get("type") == "enabled" else None
    return budget if isinstance(budget, int) and not isinstance(budget, bool) and budget > 0 else 0


class AnthropicProvider(HTTPProvider):
    """Anthropic's Messages API."""

    name = "anthropic"
    label = "Anthropic"
    default_base_url = "https://api.anthropic.com"
    parameter_names = PARAMETERS

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        super().__init__(settings)
        self.default_max_tokens = int(self.options.get("default_max_tokens", 4096))
        self.version = self.api_version()

    def api_version(self) -> str:
        return str(self.options.get("api_version") or API_VERSION)

    def capabilities(self, model: str) -> Capabilities:
        legacy = model.startswith(("claude-2", "claude-instant"))
        return Capabilities(streaming=True, tools=not legacy, vision=not legacy)

    def info(self) -> ModelInfo:
        return ModelInfo(self.name, self.model, self.capabilities(self.model), 200_000)

    def auth_headers(self, key: str | None) -> dict[str, str]:
        headers = {"anthropic-version": self.version}
        if key and self.version == LEGACY_API_VERSION:
            headers["x-api-key"] = key
        elif key:
            headers["authorization"] = f"Bearer {key}"
        return headers

    def rejected_param(self, body: str) -> str | None:
        return anthropic_rejected_param(body)

    async def list_models(self) -> list[ModelInfo]:
        async def fetch() -> Any:
            request = self.client.build_request(
                "GET", self.base_url + "/v1/models", params={"limit": 1000}, headers=self.auth_headers(self.api_key())
            )
            return await self.request_json(request)

        data = await self.with_retries(fetch)
        models = []
        for item in (data.get("data") if isinstance(data, dict) else None) or ():
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                reported = anthropic_facts(item)
                model = self.learn(reported, "Anthropic models API")
                window = reported[1].get("context_window", 200_000)
                models.append(ModelInfo(self.name, model, self.capabilities(model), window, str(item.get("display_name") or "")))
        return models

    def body(self, request: ChatRequest, params: dict[str, Any]) -> dict[str, Any]:
        """The request body, with `params` (fitted, under wire names) among its fields."""
        messages, system = encode_messages(request.messages)
        if request.system:
            system.insert(0, request.system)
        parameters = dict(params)
        max_tokens = parameters.pop("max_tokens", None) or self.default_max_tokens + _thinking_budget(parameters)
        body: dict[str, Any] = {"model": request.model or self.model, "max_tokens": int(max_tokens), "messages": messages, "stream": True}
        if system:
            body["system"] = "\n\n".join(system)
        body.update(parameters)
        if request.tools:
            body["tools"] = [
                {"name": tool.name, "description": tool.description, "input_schema": dict(tool.parameters)} for tool in request.tools
            ]
            if request.tool_choice:
                choice = request.tool_choice
                body["tool_choice"] = (
                    {"type": choice}
                    if choice in ("auto", "any", "none")
                    else {"type": "any"}
                    if choice == "required"
                    else {"type": "tool", "name": choice}
                )
        return body

    def stream_fitted(self, request: ChatRequest, params: dict[str, Any]) -> AsyncIterator[Chunk]:
        return self.post_sse(self.base_url + "/v1/messages", self.body(request, params), lambda: AnthropicDecoder(self.label))
