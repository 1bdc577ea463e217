"""`list_models` teaches the catalog what the providers' model endpoints say (token limits, inputs,
reasoning), over the loopback fakes; a `[models]` override still wins, and hostile ids are cleaned."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.anthropic_wire import AnthropicWire
from tests.fakes.gemini_wire import GeminiWire
from tests.fakes.server import FakeServer, json_response
from tests.fakes.wire import Wire
from tests.fakes.wires import KEY
from tui_chat.models import Catalog
from tui_chat.providers.base import ModelInfo
from tui_chat.providers.registry import create_provider

GEMINI_MODELS = {"models": [
    {"name": "models/gemini-9-flash-preview", "inputTokenLimit": 2_097_152, "outputTokenLimit": 131_072,
     "thinking": True, "supportedGenerationMethods": ["generateContent"]},
    {"name": "models/gemini-\x1b]8;;x\x07evil", "inputTokenLimit": 4_096, "supportedGenerationMethods": ["generateContent"]},
]}  # fmt: skip
ANTHROPIC_MODELS = {"data": [
    {"type": "model", "id": "claude-opus-9-1", "display_name": "Claude Opus 9.1", "created_at": "2027-01-01T00:00:00Z",
     "max_input_tokens": 1_000_000, "max_tokens": 256_000,
     "capabilities": {"image_input": {"supported": True}, "pdf_input": {"supported": False}}},
], "has_more": False}  # fmt: skip


@pytest.fixture
async def server() -> AsyncIterator[FakeServer]:
    async with FakeServer() as fake:
        yield fake


async def _provider_models(wire: Wire, server: FakeServer, catalog: Catalog) -> list[ModelInfo]:
    """What `wire`'s provider, built on `catalog` against `server`, lists (the replies already enqueued)."""
    wire.install(server)
    settings = wire.settings(server, KEY, retries=0)
    settings.catalog = catalog
    provider = create_provider(wire.provider, settings)
    try:
        return await provider.list_models()
    finally:
        await provider.aclose()


async def _listed(wire: Wire, server: FakeServer, body: dict[str, object], catalog: Catalog) -> list[str]:
    server.enqueue(json_response(body))
    return [model.id for model in await _provider_models(wire, server, catalog)]


async def test_gemini_token_limits_reach_the_catalog_and_ids_are_cleaned(server: FakeServer) -> None:
    catalog = Catalog()
    before = catalog.lookup("gemini", "gemini-9-flash-preview")
    ids = await _listed(GeminiWire(), server, GEMINI_MODELS, catalog)
    assert ids[0] == "gemini-9-flash-preview" and "\x1b" not in ids[1] and "\x07" not in ids[1]
    card = catalog.lookup("gemini", "gemini-9-flash-preview")
    assert (card.context_window, card.max_output) == (2_097_152, 131_072) != (before.context_window, before.max_output)
    assert card.sources["context_window"] == "Gemini models.list"
    assert catalog.lookup("gemini", ids[1]).context_window == 4_096  # learnt under the cleaned id


async def test_anthropic_limits_and_inputs_reach_the_catalog(server: FakeServer) -> None:
    catalog = Catalog()
    await _listed(AnthropicWire(), server, ANTHROPIC_MODELS, catalog)
    card = catalog.lookup("anthropic", "claude-opus-9-1")
    assert (card.context_window, card.max_output) == (1_000_000, 256_000)
    assert card.input_kinds == frozenset({"text", "image"})
    assert card.sources["max_output"] == "Anthropic models API"


async def test_a_config_override_wins_over_what_the_endpoint_said(server: FakeServer) -> None:
    catalog = Catalog({"claude-opus-9-1": {"context_window": 50_000}})
    await _listed(AnthropicWire(), server, ANTHROPIC_MODELS, catalog)
    card = catalog.lookup("anthropic", "claude-opus-9-1")
    assert card.context_window == 50_000 and card.max_output == 256_000


async def test_ollama_api_show_teaches_the_local_models_window_and_capabilities(server: FakeServer) -> None:
    from tests.fakes.openai_wire import OllamaWire

    show = {"model_info": {"general.architecture": "qwen2", "qwen2.context_length": 32_768}, "capabilities": ["completion", "tools"]}
    wire = OllamaWire()
    server.enqueue(json_response(wire.models_body), json_response(show))  # the second model: no script, a 500
    catalog = Catalog()
    infos = await _provider_models(wire, server, catalog)
    card = catalog.lookup("ollama", "llama3.2:latest")
    assert (card.context_window, card.tools, card.input_kinds) == (32_768, True, frozenset({"text"}))
    assert card.sources["context_window"] == "Ollama /api/show"
    assert (infos[0].id, infos[0].context_window) == ("llama3.2:latest", 32_768)
    assert [info.id for info in infos] == wire.models_expected  # a failing /api/show leaves the listing whole
    shows = [request for request in server.requests if request.path == "/api/show"]
    assert [request.body for request in shows] == [b'{"model":"llama3.2:latest"}', b'{"model":"qwen2.5-coder:7b"}']
