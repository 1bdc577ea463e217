"""What every provider is: a thing that turns a `ChatRequest` into a stream of chunks.

A provider module holds one wire protocol. It knows nothing of the UI: it yields chunks, raises
`ProviderError` for failures before the stream starts, and yields an `ErrorChunk` or
`Interrupted` for failures after the first chunk so that the partial reply is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Mapping, Protocol, runtime_checkable

from ..chunks import Chunk, Message, ToolSpec
from ..safe_text import clean


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a model can do."""

    streaming: bool = True
    tools: bool = False
    vision: bool = False
    audio_input: bool = False
    bidirectional: bool = False


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model a provider offers, with what it can do.

    Its id and description usually come from a server's model list, so they are cleaned of
    terminal and bidi controls here, where every listing is built: the CLI, the model picker and
    the status bar then show them as they are.
    """

    provider: str
    id: str
    capabilities: Capabilities = field(default_factory=Capabilities)
    context_window: int | None = None
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", clean(self.id))
        object.__setattr__(self, "description", clean(self.description))


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One call to a model: the history so far, the system prompt, sampling parameters and tools.

    `parameters` holds PromptPack parameter names (temperature, max_tokens, top_p, top_k,
    stop, ...); each provider maps the ones it understands to its own wire names.
    """

    model: str
    messages: tuple[Message, ...]
    system: str | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: str | None = None


@runtime_checkable
class Provider(Protocol):
    """A model backend. One instance is kept per provider and reused across turns."""

    name: str
    model: str

    def info(self) -> ModelInfo:
        """The current model and its capabilities."""
        ...

    def stream(self, request: ChatRequest) -> AsyncIterator[Chunk]:
        """Send `request` and yield the reply as chunks, ending with `Done`, `ErrorChunk` or `Interrupted`."""
        ...

    async def list_models(self) -> list[ModelInfo]:
        """The models this provider offers (from its models endpoint, where it has one)."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
