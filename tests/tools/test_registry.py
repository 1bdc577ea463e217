"""A call runs only when its tool is known and its arguments fit the schema; failures become results."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tui_chat.chunks import ToolCall, ToolSpec
from tui_chat.tools import Tool, ToolContext, ToolError, ToolInputError, ToolRegistry
from tui_chat.tools.result import MODEL_OUTPUT_LIMIT

SCHEMA = {
    "type": "object",
    "properties": {"n": {"type": "integer", "minimum": 0}, "text": {"type": "string"}},
    "required": ["n"],
    "additionalProperties": False,
}


def make(handler: Any, *, timeout: float | None = 5.0, name: str = "probe") -> Tool:
    return Tool(ToolSpec(name, "a test tool", SCHEMA), handler, timeout=timeout)


class Recorder:
    def __init__(self, output: Any = "ok") -> None:
        self.output = output
        self.seen: list[dict[str, Any]] = []

    async def __call__(self, arguments: dict[str, Any], context: ToolContext) -> Any:
        self.seen.append(arguments)
        return self.output


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ('{"n": 1', "end before the JSON is complete"),
        ("{n: 1}", "not valid JSON"),
        ('{"n": "1"}', "$.n: must be an integer, not string"),
        ('{"n": -1}', "$.n: must be at least 0"),
        ("{}", "$.n: is required"),
        ('{"n": 1, "rm": true}', "$.rm: is not a known property"),
        ("[1]", "must be a JSON object"),
    ],
)
def test_bad_arguments_never_reach_the_handler(arguments: str, expected: str) -> None:
    recorder = Recorder()
    registry = ToolRegistry([make(recorder)])
    with pytest.raises(ToolInputError, match="invalid arguments for probe") as error:
        registry.check(ToolCall("c1", "probe", arguments))
    assert expected in str(error.value)
    assert registry.problems(ToolCall("c1", "probe", arguments)) == str(error.value)
    assert recorder.seen == []


def test_unknown_tool_names_the_tools_there_are() -> None:
    registry = ToolRegistry([make(Recorder())])
    with pytest.raises(ToolInputError, match="unknown tool 'rm\\\\x1b'; the tools you can call are: probe"):
        registry.check(ToolCall("c1", "rm\x1b", "{}"))


async def test_handler_errors_become_error_results() -> None:
    async def broken(arguments: dict[str, Any], context: ToolContext) -> str:
        raise RuntimeError("boom \x1b[31m")

    async def refusing(arguments: dict[str, Any], context: ToolContext) -> str:
        raise ToolError("no such thing")

    registry = ToolRegistry([make(broken, name="broken"), make(refusing, name="refusing")])
    crashed = await registry.run(registry.check(ToolCall("c1", "broken", '{"n": 1}')))
    assert crashed.is_error and crashed.content == "broken failed: RuntimeError: boom [31m"
    refused = await registry.run(registry.check(ToolCall("c2", "refusing", '{"n": 1}')))
    assert refused.is_error and refused.content == "refusing: no such thing"


async def test_a_hanging_handler_times_out() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def hang(arguments: dict[str, Any], context: ToolContext) -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    registry = ToolRegistry([make(hang, timeout=0.05)])
    result = await registry.run(registry.check(ToolCall("c1", "probe", '{"n": 1}')))
    assert result.is_error and "did not finish within 0.05 s" in result.content
    assert started.is_set() and cancelled.is_set()


async def test_ten_megabytes_of_output_are_capped_for_the_model() -> None:
    registry = ToolRegistry([make(Recorder("x" * 10_000_000 + "THE END"))])
    result = await registry.run(registry.check(ToolCall("c1", "probe", '{"n": 1}')))
    assert result.truncated and len(result.content) <= MODEL_OUTPUT_LIMIT
    assert result.content.endswith("THE END") and "characters cut" in result.content
    assert len(result.full_output) == 10_000_007 and result.total_chars == 10_000_007


async def test_binary_output_is_noted() -> None:
    registry = ToolRegistry([make(Recorder(bytes(range(256)) * 100))])
    result = await registry.run(registry.check(ToolCall("c1", "probe", '{"n": 1}')))
    assert result.binary and result.content == "[binary output: 25,600 bytes, not shown]"


async def test_output_with_terminal_controls_is_cleaned() -> None:
    registry = ToolRegistry([make(Recorder("\x1b]52;c;cHduZWQ=\x07\x1b[2J\u202eok\x9b"))])
    result = await registry.run(registry.check(ToolCall("c1", "probe", '{"n": 1}')))
    assert result.content == "]52;c;cHduZWQ=[2Jok" == result.full_output


async def test_arguments_are_passed_decoded() -> None:
    recorder = Recorder()
    registry = ToolRegistry([make(recorder)])
    await registry.run(registry.check(ToolCall("c1", "probe", '{"n": 2, "text": "\\u001b"}')))
    assert recorder.seen == [{"n": 2, "text": "\x1b"}]
