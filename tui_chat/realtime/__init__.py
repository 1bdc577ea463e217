"""Bidirectional (voice) sessions: which providers have them, and `open_bidi` to start one.

Import-light: provider session modules (and numpy, websockets) are imported only by `open_bidi`.
A text provider's name may be given where it has a voice counterpart (`openai` ->
`openai-realtime`, `gemini` -> `gemini-live`); a provider without one fails with the list of those
that have. A voice provider uses its text provider's key (`BidiSpec.text_provider`: the CLI looks
the settings up under that name).
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import ProviderError, UnknownProviderError
from ..providers.registry import PROVIDERS, ProviderSettings

if TYPE_CHECKING:
    from .base import BidiConfig, BidiSession


@dataclass(frozen=True, slots=True)
class BidiSpec:
    """How to find and build one provider's bidirectional session."""

    name: str
    module: str
    class_name: str
    description: str
    text_provider: str = ""
    """The text provider this is the voice side of (so `--provider demo` finds it)."""
    server_turns: bool = False
    """The provider can detect turns itself (`BidiConfig(turn_detection="server")`): hands-free
    then lets it decide where turns end and when the user talks over a reply."""


BIDI_PROVIDERS: dict[str, BidiSpec] = {
    spec.name: spec
    for spec in (
        BidiSpec("demo", "tui_chat.realtime.demo", "DemoBidiSession", "offline voice demo, no key needed", "demo"),
        BidiSpec(
            "openai-realtime", "tui_chat.realtime.openai_realtime", "OpenAIRealtimeSession",
            "OpenAI Realtime (gpt-realtime) over a WebSocket, OPENAI_API_KEY", "openai", server_turns=True,
        ),
        BidiSpec(
            "gemini-live", "tui_chat.realtime.gemini_live", "GeminiLiveSession",
            "Gemini Live API over a WebSocket, GEMINI_API_KEY or GOOGLE_API_KEY", "gemini", server_turns=True,
        ),
    )
}


def bidi_provider_names() -> list[str]:
    """The providers that can hold a voice session."""
    return list(BIDI_PROVIDERS)


def bidi_spec_for(name: str) -> BidiSpec:
    """The voice session spec for `name` (a voice provider, or a text provider with a voice side)."""
    if name in BIDI_PROVIDERS:
        return BIDI_PROVIDERS[name]
    for spec in BIDI_PROVIDERS.values():
        if spec.text_provider == name:
            return spec
    have = ", ".join(BIDI_PROVIDERS)
    if name in PROVIDERS:
        raise ProviderError(
            f"provider {name!r} has no bidirectional (voice) sessions",
            hint=f"voice works with: {have}",
        )
    close = difflib.get_close_matches(name, sorted(set(BIDI_PROVIDERS) | set(PROVIDERS)), n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise UnknownProviderError(f"unknown provider {name!r}", hint=f"{hint}voice works with: {have}")


async def open_bidi(
    provider_name: str, settings: ProviderSettings | None = None, *, config: BidiConfig | None = None
) -> BidiSession:
    """Open a voice session with `provider_name`, connected and ready; close it with `close()`.

    `config` sets the session up (system prompt, hands-free or push-to-talk, voice, tools: see
    `base.BidiConfig`). Raises `UnknownProviderError` for an unknown name, `ProviderError` for a
    provider without voice sessions (naming those that have them) or a failed connection.
    """
    spec = bidi_spec_for(provider_name)
    module = importlib.import_module(spec.module)
    session: BidiSession = getattr(module, spec.class_name)(settings or ProviderSettings())
    if config is not None:
        session.config = config
    return await session.open()


__all__ = ["BIDI_PROVIDERS", "BidiSpec", "bidi_provider_names", "bidi_spec_for", "open_bidi"]
