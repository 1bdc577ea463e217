"""The prompts a server offers (`prompts/list`, `prompts/get`), against the fake server over stdio
and over streamable HTTP: listed with their arguments, got with values, their text cleaned."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import AsyncIterator, Iterator

import pytest

from tests.fakes.mcp_servers import REVIEW_ASSISTANT
from tui_chat.chunks import Message, Role
from tui_chat.tools.mcp.config import McpServerConfig
from tui_chat.tools.mcp.manager import McpManager
from tui_chat.tools.mcp.prompts import PromptArgument
from tui_chat.tools.mcp.server import ServerUnavailable

from .servers import http_server, stdio_config

TOKEN = "prompt-token-7"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    yield from http_server(TOKEN)


@pytest.fixture(params=["stdio", "http"])
async def manager(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[McpManager]:
    if request.param == "stdio":
        config = stdio_config(timeout=10)
    else:
        monkeypatch.setenv("FAKE_PROMPT_TOKEN", TOKEN)
        config = McpServerConfig(
            name="fake", url=request.getfixturevalue("url"), headers={"Authorization": "Bearer ${FAKE_PROMPT_TOKEN}"}, timeout=10
        )
    async with McpManager({"fake": config}, log_dir=tmp_path) as started:
        await started.started()
        yield started


async def test_prompts_are_listed_with_their_arguments_and_cleaned(manager: McpManager) -> None:
    review, greet = manager.prompts()
    assert (review.server, review.name, review.title, review.description) == ("fake", "review", "Code review", "Review code [1mtersely[0m")
    assert greet.title == "greet" and greet.arguments == (PromptArgument("name", "who to greet", True), PromptArgument("tone", "how"))
    assert greet.required == (PromptArgument("name", "who to greet", True),)


async def test_a_prompt_gives_user_and_assistant_messages_cleaned_of_controls(manager: McpManager) -> None:
    review, greet = manager.prompts()
    assert await manager.get_prompt(review, {}) == (
        Message(Role.USER, "Review my code.[2J [bold]Be terse.[/bold]"),  # ESC and bidi gone, markup kept as text
        Message(Role.ASSISTANT, REVIEW_ASSISTANT),
    )
    assert await manager.get_prompt(greet, {"name": "Ada", "tone": "warmly"}) == (Message(Role.USER, "Say hello to Ada, warmly."),)


async def test_a_refused_prompt_says_why(manager: McpManager) -> None:
    _, greet = manager.prompts()
    with pytest.raises(ServerUnavailable, match="MCP server fake: .*no prompt 'greet'"):
        await manager.get_prompt(greet, {})


async def test_a_disabled_server_offers_no_prompts(manager: McpManager) -> None:
    await manager.set_enabled("fake", False)
    assert manager.prompts() == []


async def test_a_changed_prompt_list_is_listed_again(manager: McpManager) -> None:
    assert "added" not in {prompt.name for prompt in manager.prompts()}
    await manager.servers["fake"].call("grow_prompts", {})
    async with asyncio.timeout(30):
        await manager.wait_until(lambda: "added" in {prompt.name for prompt in manager.prompts()})
