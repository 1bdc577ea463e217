"""Every HTTP provider's fake wire, and the key the tests give them."""

from __future__ import annotations

from tests.fakes.anthropic_wire import AnthropicWire
from tests.fakes.cohere_wire import CohereWire
from tests.fakes.gemini_wire import GeminiWire, VertexWire
from tests.fakes.openai_wire import AzureWire, CompatibleWire, MistralWire, OllamaWire, OpenAIWire
from tests.fakes.replicate_wire import ReplicateWire
from tests.fakes.wire import Wire

WIRES: list[type[Wire]] = [
    OpenAIWire, AzureWire, MistralWire, OllamaWire, CompatibleWire,
    AnthropicWire, GeminiWire, VertexWire, CohereWire, ReplicateWire,
]

KEY = "sk-test-SECRET-key-0123456789"
