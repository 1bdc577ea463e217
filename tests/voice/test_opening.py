"""`open_voice`: the one way the TUI and `tui-chat voice` open a voice session's model side."""

from __future__ import annotations

import pytest

from tests.test_conversation import drain
from tui_chat.chunks import Role, TranscriptChunk
from tui_chat.conversation import Conversation, PromptSettings
from tui_chat.errors import ProviderError
from tui_chat.providers.demo import DemoProvider
from tui_chat.providers.registry import ProviderSettings
from tui_chat.voice.opening import open_voice


async def test_open_voice_on_the_demo_talks_and_on_a_text_provider_names_the_voice_ones() -> None:
    session = await open_voice("demo", ProviderSettings(options={"speed": 0}))
    try:
        await session.send_text("hello")
        async for chunk in session.output():
            if isinstance(chunk, TranscriptChunk) and chunk.role is Role.ASSISTANT and chunk.final:
                assert chunk.text
                break
    finally:
        await session.close()
    with pytest.raises(ProviderError) as caught:
        await open_voice("anthropic")
    assert "demo" in caught.value.hint


async def test_open_voice_starts_from_the_conversation_so_far() -> None:
    conversation = Conversation(DemoProvider(ProviderSettings(options={"speed": 0})), PromptSettings(system="Be brief."))
    await drain(conversation.send("My name is Ada."))
    session = await open_voice("demo", instructions="Be brief.", history=conversation.history)
    try:
        assert session.config.instructions == "Be brief."
        assert [m.content for m in session.config.history] == [m.content for m in conversation.history]
        await session.send_text("hello")
        async for chunk in session.output():
            if isinstance(chunk, TranscriptChunk) and chunk.role is Role.ASSISTANT and chunk.final:
                assert "I was given 2 earlier messages" in chunk.text
                break
    finally:
        await session.close()



async def test_a_model_without_a_realtime_api_is_refused_before_connecting() -> None:
    from tui_chat.models import Catalog

    # No server listens at this address: a connection attempt would fail differently.
    settings = ProviderSettings(base_url="http://127.0.0.1:9", model="gpt-5-mini", api_key=lambda: "sk-test")
    with pytest.raises(ProviderError, match=r"gpt-5-mini has no realtime API for voice; try gpt-realtime-mini") as refused:
        await open_voice("openai", settings)
    assert "realtime model" in refused.value.hint
    assert Catalog().lookup("demo", "demo-1").realtime  # the offline voice demo's model passes the check
