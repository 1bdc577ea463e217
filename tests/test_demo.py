"""The offline demo provider streams a real Markdown reply to what was typed."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from tui_chat.chunks import Done, ErrorChunk, Message, Role, TextDelta, UsageChunk
from tui_chat.providers.base import ChatRequest
from tui_chat.providers.demo import DemoProvider, compose_reply, long_markdown, split_tokens
from tui_chat.providers.registry import ProviderSettings


def request(text: str) -> ChatRequest:
    return ChatRequest(model="demo-1", messages=(Message(Role.USER, text),))


async def collect(provider: DemoProvider, text: str) -> list:
    return [chunk async for chunk in provider.stream(request(text))]


def block_types(markdown: str) -> set[str]:
    return {token.type for token in MarkdownIt("gfm-like").parse(markdown)}


def test_reply_has_every_block_kind_the_ui_renders() -> None:
    kinds = block_types(compose_reply("show me everything", 1))
    assert {"paragraph_open", "bullet_list_open", "fence", "table_open", "blockquote_open"} <= kinds


def test_reply_responds_to_what_was_typed() -> None:
    reply = compose_reply("how do lists work?", 3)
    assert "how do lists work?" in reply
    assert "question" in reply
    assert "message 3" in reply
    assert "| words | 4 |" in reply


def test_reply_says_it_is_the_offline_demo_and_how_to_configure() -> None:
    reply = compose_reply("x", 1)
    assert "offline demo" in reply
    assert "OPENAI_API_KEY" in reply and "--provider" in reply


def test_tokens_rejoin_into_the_text() -> None:
    text = compose_reply("a  b\n\nc", 1)
    assert "".join(split_tokens(text)) == text


async def test_stream_yields_the_reply_then_usage_and_done() -> None:
    provider = DemoProvider(ProviderSettings(options={"speed": 0}))
    chunks = await collect(provider, "hello")
    text = "".join(c.text for c in chunks if isinstance(c, TextDelta))
    assert text == compose_reply("hello", 1)
    assert isinstance(chunks[-2], UsageChunk) and isinstance(chunks[-1], Done)
    assert chunks[-2].usage.output_tokens == len(split_tokens(text))


async def test_fail_after_chunks_ends_with_an_error() -> None:
    provider = DemoProvider(ProviderSettings(options={"speed": 0, "fail_after_chunks": 3}))
    chunks = await collect(provider, "hello")
    assert [type(c) for c in chunks] == [TextDelta, TextDelta, TextDelta, ErrorChunk]
    assert chunks[-1].hint


@pytest.mark.parametrize("count", [1, 2000, 8000])
def test_long_markdown_has_exactly_the_asked_chunks(count: int) -> None:
    chunks = long_markdown(count)
    assert len(chunks) == count
    if count >= 2000:
        assert {"fence", "bullet_list_open", "heading_open"} <= block_types("".join(chunks))


async def test_reply_chunks_option_streams_the_long_document() -> None:
    provider = DemoProvider(ProviderSettings(options={"speed": 0, "reply_chunks": 500}))
    chunks = await collect(provider, "x")
    assert [c.text for c in chunks if isinstance(c, TextDelta)] == long_markdown(500)


def test_negative_speed_is_refused() -> None:
    with pytest.raises(ValueError):
        DemoProvider(ProviderSettings(options={"speed": -1}))


async def test_hold_after_chunks_waits_until_cancelled() -> None:
    import asyncio

    provider = DemoProvider(ProviderSettings(options={"speed": 0, "hold_after_chunks": 2}))
    seen: list = []

    async def consume() -> None:
        async for chunk in provider.stream(request("x")):
            seen.append(chunk)

    task = asyncio.create_task(consume())
    while len(seen) < 2:
        await asyncio.sleep(0)
    for _ in range(50):  # many loop turns pass and nothing more arrives
        await asyncio.sleep(0)
    assert len(seen) == 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
