"""`open_voice()`: the one way a voice session's model side is opened, for the TUI and `tui-chat voice`.

It turns what the person chose (provider, voice mode, turn detection preference, interruption)
into a `BidiConfig` and opens the provider's bidirectional session: hands-free with a provider
that detects turns itself gets `turn_detection="server"` (see `settings.turn_detection_for`),
and barge-in is asked of the provider unless interruptions are ignored. A model the catalog
knows has no realtime API is refused before any connection, naming the provider's realtime models.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Iterable

from ..errors import ProviderError
from .settings import turn_detection_for

if TYPE_CHECKING:
    from ..chunks import Message
    from ..providers.registry import ProviderSettings
    from ..realtime.base import BidiSession
    from ..realtime.tools import SessionTools


async def open_voice(
    provider: str,
    settings: ProviderSettings | None = None,
    *,
    mode: str = "hands-free",
    turn_detection: str | None = None,
    interruption: str = "immediate",
    instructions: str = "",
    voice: str | None = None,
    tools: SessionTools | None = None,
    history: Iterable[Message] = (),
) -> BidiSession:
    """Open `provider`'s voice session for voice mode `mode`.

    `turn_detection` is the hands-free preference ("server" or "local"; None: server when the
    provider can), `instructions` the system prompt, `history` the conversation so far (the
    session goes on from it). Raises `TuiChatError` (a `ProviderError` naming the providers with
    voice sessions, for one without) when the session cannot be opened.
    """
    from ..realtime import open_bidi
    from ..realtime.base import BidiConfig

    if settings is not None and settings.model:
        await _check_realtime_model(provider, settings)
    config = BidiConfig(
        instructions=instructions,
        turn_detection=turn_detection_for(provider, mode, turn_detection),
        voice=voice,
        barge_in=interruption != "ignore",
        tools=tools,
        history=tuple(history),
    )
    return await open_bidi(provider, settings, config=config)


async def _check_realtime_model(provider: str, settings: ProviderSettings) -> None:
    """Refuse, before any connection, a model the catalog knows has no realtime API (the lookup may load prices: off the loop)."""
    from ..models import default_catalog, problems

    catalog = settings.catalog or default_catalog()
    card = await asyncio.to_thread(catalog.lookup, provider, settings.model or "")
    if found := problems(card, voice=True, catalog=catalog):
        raise ProviderError(str(found[0]), hint=f"pick a realtime model of {provider}, or another provider")
