"""Tool calls in voice sessions: the tool loop's limits and decisions, the config, the demo unchanged."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.realtime_openai import FakeOpenAIRealtime, Reply
from tui_chat.chunks import Done, ToolCall
from tui_chat.realtime import open_bidi
from tui_chat.realtime.base import BidiConfig
from tui_chat.realtime.tools import SessionTools
from tui_chat.tools.loop import LoopLimits, LoopNote

from .conftest import settings_for, until


async def test_rounds_of_calls_per_turn_are_limited_as_in_the_tool_loop(openai_server: FakeOpenAIRealtime, weather_tools: Any) -> None:
    tools, approver, events = weather_tools(["always"])
    tools.limits = LoopLimits(max_rounds=1)
    openai_server.replies.extend([
        Reply(calls=[("c1", "get_weather", '{"city": "Rome"}')]),
        Reply(calls=[("c2", "get_weather", '{"city": "Lima"}')]),
        Reply(text="Done looking."),
    ])
    session = await open_bidi("openai-realtime", settings_for(openai_server), config=BidiConfig(tools=tools))
    await session.send_text("weather everywhere")
    chunks = await until(session)
    # (Queued first: the session sends on its own thread, so the server may answer before `send_text` returns.)
    openai_server.replies.extend([Reply(calls=[("c3", "get_weather", '{"city": "Rome"}')]), Reply(text="Still sunny.")])
    await session.send_text("and Rome again?")  # a new turn: rounds start again, and Rome is allowed now
    await until(session)
    await session.close()
    assert chunks[-1] == Done()
    outputs = [m["item"]["output"] for m in openai_server.last.received
               if m["type"] == "conversation.item.create" and m["item"]["type"] == "function_call_output"]
    assert outputs == ["sunny, 21 C in Rome", "not run: this turn reached its limit of 1 rounds of tool calls", "sunny, 21 C in Rome"]
    assert [n.kind for n in events if isinstance(n, LoopNote)] == ["max_rounds"]
    assert len(approver.requests) == 1  # "always allow" held for the rest of the chat
    assert approver.ran == ["Rome", "Rome"]


async def test_from_loop_shares_the_chats_policy_and_approver(weather_tools: Any) -> None:
    tools, approver, _ = weather_tools([])

    class Loop:  # what SessionTools takes from a ToolLoop
        registry, policy, approver, limits = tools.registry, tools.policy, tools.approver, LoopLimits(max_rounds=2)

    shared = SessionTools.from_loop(Loop())  # type: ignore[arg-type]
    assert shared.policy is tools.policy and shared.approver is approver and shared.limits.max_rounds == 2
    assert [s.name for s in shared.offered()] == ["get_weather"]
    tools.policy.config = {"get_weather": __import__("tui_chat.tools.registry", fromlist=["Approval"]).Approval.DENY}
    assert shared.offered() == ()
    results = await shared.run([ToolCall("x", "get_weather", '{"city": "Paris"}')])
    assert results[0].is_error and "denied by policy" in results[0].content


def test_the_config_is_checked() -> None:
    with pytest.raises(ValueError, match="turn_detection"):
        BidiConfig(turn_detection="sometimes")


async def test_the_demo_takes_a_config_and_ignores_it() -> None:
    session = await open_bidi("demo", config=BidiConfig(instructions="Be brief.", turn_detection="server"))
    await session.send_text("hello")
    assert (await until(session))[-1] == Done()
    await session.close()
