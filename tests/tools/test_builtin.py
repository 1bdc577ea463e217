"""The clock and calculator tools, and the built-in set's approval defaults."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from tui_chat.chunks import ToolCall
from tui_chat.tools import Approval, ToolRegistry, Workspace, builtin_tools

NOON_UTC = datetime(2024, 7, 1, 12, 0, 0, tzinfo=timezone.utc)


@pytest.fixture
def registry(tmp_path: Path) -> ToolRegistry:
    return ToolRegistry(builtin_tools(clock=lambda: NOON_UTC).values(), workspace=Workspace(tmp_path))


async def run(registry: ToolRegistry, name: str, arguments: str):
    return await registry.run(registry.check(ToolCall("c1", name, arguments)))


async def test_current_time_in_a_named_zone(registry: ToolRegistry) -> None:
    result = await run(registry, "current_time", '{"timezone": "Europe/Paris"}')
    assert result.content == "Monday 2024-07-01 14:00:00 CEST (Europe/Paris, UTC+02:00)"


@pytest.mark.parametrize("zone", ["Mars/Olympus", "../../etc/passwd", "/etc/localtime"])
async def test_current_time_refuses_unknown_zones(registry: ToolRegistry, zone: str) -> None:
    result = await run(registry, "current_time", f'{{"timezone": "{zone}"}}')
    assert result.is_error and "unknown time zone" in result.content


async def test_calculator_tool(registry: ToolRegistry) -> None:
    assert (await run(registry, "calculator", '{"expression": "17*23"}')).content == "391"
    refused = await run(registry, "calculator", '{"expression": "9**9**9"}')
    assert refused.is_error and "too large" in refused.content


async def test_commands_do_not_see_provider_keys(registry: ToolRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("HARMLESS", "visible")
    result = await run(registry, "run_shell", '{"command": "echo ${OPENAI_API_KEY:-none} $HARMLESS"}')
    assert result.content.startswith("none visible")


def test_defaults() -> None:
    tools = builtin_tools()
    assert {name for name, tool in tools.items() if tool.default_approval is Approval.AUTO} == {"calculator", "current_time"}
    assert {name for name, tool in tools.items() if tool.always_ask} == {"run_shell", "write_file"}
    assert not tools["write_file"].read_only and tools["read_file"].read_only
