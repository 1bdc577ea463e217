"""Requests fitted to the model, over the wire: the fakes refuse what OpenAI and Anthropic refuse today.

The OpenAI fake answers 400 naming the parameter for sampling settings on reasoning models and for
`max_tokens` where `max_completion_tokens` is required; the Anthropic fake checks every body
against the anthropic SDK's request types on `2026-10-21` (see tests/fakes/anthropic_requests.py).
Every bundled pack goes to each provider's default and reasoning models, and none is refused; where
the catalog is wrong (a config override makes it so), the refusal is read, remembered, and the
request sent once more without the parameter.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.anthropic_wire import AnthropicWire
from tests.fakes.openai_wire import OpenAIWire
from tests.fakes.server import FakeServer, stream
from tests.fakes.wire import Wire
from tui_chat.chunks import Done, Message, Notice, Role, ToolSpec
from tui_chat.errors import ProviderError
from tui_chat.models import Catalog, default_model
from tui_chat.packs import bundled_pack_paths, load_pack
from tui_chat.providers.base import ChatRequest, Provider
from tui_chat.providers.registry import ProviderSettings, create_provider

from .conftest import KEY, collect

PACK_PARAMETERS = [
    pytest.param(dict(prompt.parameters), id=f"{path.name.removesuffix('.pack.json')}/{name}")
    for path in bundled_pack_paths()
    for name, prompt in load_pack(path).prompts.items()
]
MODELS = [
    ("openai", default_model("openai")),
    ("openai", "o4-mini"),
    ("openai", "gpt-5.4"),
    ("anthropic", default_model("anthropic")),
    ("anthropic", "claude-opus-4-8"),
    ("anthropic", "claude-sonnet-4-5"),
]
WIRES: dict[str, type[Wire]] = {"openai": OpenAIWire, "anthropic": AnthropicWire}
TOOL = ToolSpec("get_weather", "Weather for a city", {"type": "object", "properties": {"city": {"type": "string"}}})


def build(provider: str, server: FakeServer, model: str, catalog: Catalog | None = None, **options: Any) -> Provider:
    wire = WIRES[provider]()
    wire.install(server)
    settings = ProviderSettings(model=model, base_url=wire.base_url(server), api_key=lambda: KEY, options=options, catalog=catalog)
    return create_provider(provider, settings)


def ask(model: str, parameters: dict[str, Any], tools: tuple[ToolSpec, ...] = ()) -> ChatRequest:
    return ChatRequest(model, (Message(Role.USER, "Hi"),), system="Be brief.", parameters=parameters, tools=tools)


@pytest.mark.parametrize(("provider", "model"), MODELS)
@pytest.mark.parametrize("parameters", PACK_PARAMETERS)
async def test_every_bundled_pack_is_taken_by_each_default_and_reasoning_model(provider: str, model: str, parameters: dict[str, Any]) -> None:
    async with FakeServer() as server:
        server.enqueue(stream(WIRES[provider]().reply(["ok"])))
        chat = build(provider, server, model)
        try:
            chunks = await collect(chat, ask(model, parameters, (TOOL,)))
        finally:
            await chat.aclose()
    assert chunks[-1] == Done(), chunks
    assert len(server.requests) == 1  # taken the first time: no refusal, no second try


async def test_the_person_is_told_once_what_was_dropped_and_why() -> None:
    async with FakeServer() as server:
        server.enqueue(stream(OpenAIWire().reply(["one"])), stream(OpenAIWire().reply(["two"])))
        chat = build("openai", server, "gpt-5-mini")
        try:
            first = await collect(chat, ask("gpt-5-mini", {"temperature": 0.3, "top_p": 0.9, "max_tokens": 600}))
            second = await collect(chat, ask("gpt-5-mini", {"temperature": 0.3, "top_p": 0.9, "max_tokens": 600}))
        finally:
            await chat.aclose()
    [notice] = [chunk for chunk in first if isinstance(chunk, Notice)]
    assert "gpt-5-mini takes only the default temperature" in notice.message
    assert "gpt-5-mini does not take top_p" in notice.message
    assert not [chunk for chunk in second if isinstance(chunk, Notice)]
    for request in server.requests:
        body = request.json()
        assert not body.keys() & {"temperature", "top_p", "max_tokens"}
        assert body["max_completion_tokens"] == 600


@pytest.mark.parametrize(
    ("override", "refused", "sent_again"),
    [
        ({"params": ["temperature"]}, "temperature", {"max_completion_tokens": 600}),
        ({"max_tokens_field": "max_tokens"}, "max_tokens", {"max_completion_tokens": 600}),
    ],
)
async def test_openai_refusal_by_name_is_dropped_and_sent_again_once(override: dict[str, Any], refused: str, sent_again: dict[str, Any]) -> None:
    catalog = Catalog({"gpt-5-mini": override})  # the catalog is wrong about the model: the service has the last word
    async with FakeServer() as server:
        server.enqueue(stream(OpenAIWire().reply(["ok"])), stream(OpenAIWire().reply(["again"])))
        chat = build("openai", server, "gpt-5-mini", catalog)
        try:
            first = await collect(chat, ask("gpt-5-mini", {"temperature": 0.3, "max_tokens": 600}))
            second = await collect(chat, ask("gpt-5-mini", {"temperature": 0.3, "max_tokens": 600}))
        finally:
            await chat.aclose()
    refused_body, retried, later = (request.json() for request in server.requests)
    assert refused in refused_body
    assert refused not in retried and refused not in later  # dropped, and remembered for the model
    assert {key: retried[key] for key in sent_again} == sent_again
    [notice] = [chunk for chunk in first if isinstance(chunk, Notice) and "refused" in chunk.message]
    assert notice.message == f"gpt-5-mini refused {refused}: sent again without it (and will not send it to gpt-5-mini again)"
    assert first[-1] == Done() and second[-1] == Done()
    assert not [chunk for chunk in second if isinstance(chunk, Notice)]


async def test_anthropic_refusal_by_message_is_dropped_and_sent_again_once() -> None:
    # On 2023-06-01 a Claude 4.7+ model answers "`temperature` is deprecated for this model.";
    # the override makes the catalog believe it takes temperature there.
    catalog = Catalog({"claude-opus-4-8": {"params": ["temperature", "stop"]}})
    async with FakeServer() as server:
        server.enqueue(stream(AnthropicWire().reply(["ok"])))
        chat = build("anthropic", server, "claude-opus-4-8", catalog, api_version="2023-06-01")
        try:
            chunks = await collect(chat, ask("claude-opus-4-8", {"temperature": 0.3, "max_tokens": 600}))
        finally:
            await chat.aclose()
    refused, retried = (request.json() for request in server.requests)
    assert refused["temperature"] == 0.3 and "temperature" not in retried
    assert server.requests[1].headers["x-api-key"] == KEY  # the legacy version's key header
    assert any(isinstance(chunk, Notice) and "refused temperature" in chunk.message for chunk in chunks)
    assert chunks[-1] == Done()


async def test_a_request_is_sent_again_only_once_and_what_was_refused_is_remembered() -> None:
    catalog = Catalog({"gpt-5-mini": {"params": ["temperature", "top_p"]}})
    async with FakeServer() as server:
        server.enqueue(stream(OpenAIWire().reply(["ok"])))
        chat = build("openai", server, "gpt-5-mini", catalog)
        try:
            with pytest.raises(ProviderError, match="'top_p' is not supported"):
                await collect(chat, ask("gpt-5-mini", {"temperature": 0.3, "top_p": 0.9}))  # temperature, then top_p refused
            assert len(server.requests) == 2  # sent again once, not twice
            chunks = await collect(chat, ask("gpt-5-mini", {"temperature": 0.3, "top_p": 0.9}))
        finally:
            await chat.aclose()
    assert chunks[-1] == Done()
    assert not server.requests[2].json().keys() & {"temperature", "top_p"}


async def test_tools_offered_to_a_model_without_tools_are_left_out_and_the_person_told() -> None:
    catalog = Catalog({"gpt-4o-mini": {"tools": False}})
    async with FakeServer() as server:
        server.enqueue(stream(OpenAIWire().reply(["ok"])))
        chat = build("openai", server, "gpt-4o-mini", catalog)
        try:
            chunks = await collect(chat, ask("gpt-4o-mini", {}, (TOOL,)))
        finally:
            await chat.aclose()
    [notice] = [chunk for chunk in chunks if isinstance(chunk, Notice)]
    assert notice.message.startswith("gpt-4o-mini cannot use tools; try ")
    assert "gpt-5-mini" in notice.message and notice.message.endswith("sent without tools")
    assert "tools" not in server.requests[0].json()
