"""Replicate predictions with streamed output.

Request: `POST {base}/models/{owner}/{name}/predictions` (base https://api.replicate.com/v1),
or `POST {base}/predictions` with `version` for "owner/name:version", with
`Authorization: Bearer`, body `{"input": {...}, "stream": true}`. The prediction (201, JSON)
carries `urls.stream`; that URL is then read with `GET`, `Accept: text/event-stream`.

Input: language models on Replicate take one `prompt` (and `system_prompt`), so the history is
sent as the last user message when it is the only one, else as a plain transcript ("User: ...",
"Assistant: ..."); parameters map to temperature, top_p, top_k, max_tokens, stop_sequences (comma
separated), seed, presence_penalty, frequency_penalty. Replicate has no tool calling here.

Reply: named SSE events: `output` (plain text, a piece of the reply; multi-line data joined with
newlines), `logs` (ignored), `error` (JSON `{"detail": ...}` or text), `done` (JSON; `{}` when
finished, `{"reason": "canceled"}` / `{"reason": "error"}` otherwise). Usage is not in the
stream: after `done` the prediction is read once (`urls.get`) for `metrics.input_token_count` and
`output_token_count` (option `fetch_usage`, default true).

Cancelling: when the consumer stops a reply before the prediction finished (`aclose`, or its task
is cancelled), the prediction is cancelled too (`POST urls.cancel`, i.e. `/v1/predictions/{id}/
cancel`), so it does not run on at the user's expense. That is best effort, and waits at most
`cancel_timeout` seconds (option, default 2): the cancellation is not held up longer than that.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from contextlib import aclosing
from typing import Any, AsyncIterator, Iterable

import httpx

from ..chunks import Chunk, Done, ErrorChunk, FinishReason, Interrupted, Role, TextDelta, Usage, UsageChunk
from ..errors import ProviderError
from .base import Capabilities, ChatRequest, ModelInfo
from .encoding import dumps
from .failures import RequestFailed, StreamFailure, trim
from .options import option_number
from .registry import ProviderSettings
from .sse import SSEEvent
from .transport import HTTPProvider

log = logging.getLogger("tui_chat.providers")

PARAMETERS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "top_k": "top_k",
    "seed": "seed",
    "stop": "stop_sequences",
    "presence_penalty": "presence_penalty",
    "frequency_penalty": "frequency_penalty",
}
VERSION = re.compile(r"^[0-9a-f]{64}$")


class ReplicateDecoder:
    """Prediction stream events -> chunks."""

    def __init__(self, label: str = "Replicate") -> None:
        self.label = label
        self.complete = False
        self.terminal = False

    def is_keepalive(self, event: SSEEvent) -> bool:
        return False

    def feed(self, event: SSEEvent) -> list[Chunk]:
        if self.terminal:
            return []
        kind = event.event
        if kind == "output":
            return [TextDelta(event.data)] if event.data else []
        if kind == "done":
            reason = ""
            try:
                data = json.loads(event.data) if event.data.strip() else {}
                reason = str(data.get("reason") or "") if isinstance(data, dict) else ""
            except ValueError:
                pass
            if reason == "canceled":
                raise StreamFailure(f"the {self.label} prediction was canceled")
            if reason:
                raise StreamFailure(f"the {self.label} prediction ended with {reason}")
            self.complete = True
            self.terminal = True
            return []
        if kind == "error":
            message = event.data
            try:
                data = json.loads(event.data)
                if isinstance(data, dict):
                    message = str(data.get("detail") or data.get("error") or data.get("message") or event.data)
            except ValueError:
                pass
            raise StreamFailure(f"{self.label} reported an error mid-stream: {trim(message)}")
        return []  # logs, and anything new

    def finish(self) -> Iterable[Chunk]:
        yield Done(FinishReason.STOP)


def render_prompt(request: ChatRequest) -> tuple[str, str]:
    """The history as (prompt, system prompt)."""
    system = [request.system] if request.system else []
    turns = []
    for message in request.messages:
        if message.role is Role.SYSTEM:
            system.append(message.content)
        elif message.role in (Role.USER, Role.ASSISTANT, Role.TOOL):
            turns.append(message)
    if len(turns) == 1 and turns[0].role is Role.USER:
        return turns[0].content, "\n\n".join(system)
    lines = []
    for message in turns:
        if message.role is Role.USER:
            lines.append(f"User: {message.content}")
        elif message.role is Role.ASSISTANT:
            calls = "".join(f"\n[called {call.name}({call.arguments})]" for call in message.tool_calls)
            lines.append(f"Assistant: {message.content}{calls}")
        else:
            lines.append(f"Tool result: {message.content}")
    lines.append("Assistant:")
    return "\n\n".join(lines), "\n\n".join(system)


class ReplicateProvider(HTTPProvider):
    """Replicate's predictions API, streaming."""

    name = "replicate"
    label = "Replicate"
    default_base_url = "https://api.replicate.com/v1"
    parameter_names = PARAMETERS

    def __init__(self, settings: ProviderSettings | None = None) -> None:
        super().__init__(settings)
        self.fetch_usage = bool(self.options.get("fetch_usage", True))
        self.cancel_timeout = option_number(self.options, "cancel_timeout", 2.0, minimum=0.001) or 2.0
        self.collection = str(self.options.get("collection", "language-models"))

    def info(self) -> ModelInfo:
        return ModelInfo(self.name, self.model, Capabilities(streaming=True))

    def auth_headers(self, key: str | None) -> dict[str, str]:
        return {"authorization": f"Bearer {key}"} if key else {}

    async def list_models(self) -> list[ModelInfo]:
        async def fetch() -> Any:
            url = f"{self.base_url}/collections/{self.collection}"
            return await self.request_json(self.client.build_request("GET", url, headers=self.auth_headers(self.api_key())))

        data = await self.with_retries(fetch)
        models = []
        for item in (data.get("models") if isinstance(data, dict) else None) or ():
            if isinstance(item, dict) and item.get("owner") and item.get("name"):
                model = f"{item['owner']}/{item['name']}"
                models.append(ModelInfo(self.name, model, Capabilities(streaming=True), None, str(item.get("description") or "")))
        return models

    def prediction(self, request: ChatRequest, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The URL and body that create the prediction, with `params` (fitted, under wire names) among its inputs."""
        model = request.model or self.model
        prompt, system = render_prompt(request)
        inputs: dict[str, Any] = {"prompt": prompt}
        if system:
            inputs["system_prompt"] = system
        inputs.update(params)
        if "stop_sequences" in inputs:
            inputs["stop_sequences"] = ",".join(inputs["stop_sequences"])
        body: dict[str, Any] = {"input": inputs, "stream": True}
        name, _, version = model.partition(":")
        if VERSION.match(name):
            version, name = name, ""
        if version:
            body["version"] = version
            return f"{self.base_url}/predictions", body
        if name.count("/") != 1:
            raise ProviderError(f"Replicate model {model!r} is not of the form owner/name or owner/name:version")
        return f"{self.base_url}/models/{name}/predictions", body

    def stream_fitted(self, request: ChatRequest, params: dict[str, Any]) -> AsyncIterator[Chunk]:
        url, body = self.prediction(request, params)
        content = dumps(body)
        state: dict[str, str] = {}

        async def build(deadline: float | None) -> httpx.Request:
            auth = self.auth_headers(self.api_key())
            create = self.client.build_request(
                "POST", url, headers={"content-type": "application/json", **auth}, content=content
            )
            prediction = await self.request_json(create, deadline)
            urls = prediction.get("urls") if isinstance(prediction, dict) else None
            stream_url = urls.get("stream") if isinstance(urls, dict) else None
            if not isinstance(stream_url, str) or not stream_url:
                raise RequestFailed(f"the Replicate model {request.model or self.model} does not stream its output")
            for name in ("get", "cancel"):
                if isinstance(urls.get(name), str):
                    state[name] = urls[name]
            return self.client.build_request(
                "GET", stream_url, headers={"accept": "text/event-stream", "cache-control": "no-store", **auth}
            )

        return self._with_usage(self.stream_sse(build, lambda: ReplicateDecoder(self.label)), state)

    async def _with_usage(self, chunks: AsyncIterator[Chunk], state: dict[str, str]) -> AsyncIterator[Chunk]:
        """The reply with its usage added before `Done`; the prediction is cancelled if the consumer stops early."""
        ended = False
        try:
            async with aclosing(chunks) as stream:  # type: ignore[type-var]
                async for chunk in stream:
                    if isinstance(chunk, (Done, ErrorChunk, Interrupted)):
                        ended = True
                    if isinstance(chunk, Done) and self.fetch_usage and state.get("get"):
                        usage = await self._usage(state["get"])
                        if usage is not None:
                            yield UsageChunk(usage)
                    yield chunk
        except (GeneratorExit, asyncio.CancelledError):
            if not ended and state.get("cancel"):
                await self._cancel(state["cancel"])
            raise

    async def _cancel(self, url: str) -> None:
        """Ask Replicate to stop a prediction nobody waits for any more: best effort, within `cancel_timeout`."""
        try:
            async with asyncio.timeout(self.cancel_timeout):
                request = self.client.build_request("POST", url, headers=self.auth_headers(self.api_key()))
                response = await self.client.send(request)
                await response.aclose()
            if response.status_code >= 400:
                log.debug("replicate: cancelling the prediction was answered with %d", response.status_code)
        except (TimeoutError, httpx.HTTPError, ProviderError) as error:
            log.debug("replicate: could not cancel the prediction: %s", type(error).__name__)

    async def _usage(self, url: str) -> Usage | None:
        """The token counts of a finished prediction, or None if they cannot be had."""
        try:
            request = self.client.build_request("GET", url, headers=self.auth_headers(self.api_key()))
            data = await self.request_json(request)
        except ProviderError:
            return None
        metrics = data.get("metrics") if isinstance(data, dict) else None
        if not isinstance(metrics, dict) or "output_token_count" not in metrics:
            return None
        return Usage(int(metrics.get("input_token_count") or 0), int(metrics.get("output_token_count") or 0))
