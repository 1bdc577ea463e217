"""What a flush costs the event loop besides its own work: holding text for the frame budget starts
no task, a flush is handled as one message of the reply's own queue, and the pacer still learns
each refresh's cost; held text is flushed by the budget when nothing follows it."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual.message import Message
from textual.pilot import Pilot

from tui_chat.ui.widgets.markdown.streaming import StreamingMarkdown

from .test_stream_pacing_app import PromptHarness, SlowBudget
from .test_streaming_markdown import plain_lines


class ShortBudget(StreamingMarkdown):
    """A reply whose budget runs out soon after text arrives (a chunk held has nothing to join)."""

    LATENCY: ClassVar[float] = 0.05
    PAINT_GOAL: ClassVar[float | None] = None


class CountingReply(StreamingMarkdown):
    """A reply noting the messages its own queue handles (but the test pilot's)."""

    handled: ClassVar[list[str]]

    async def _dispatch_message(self, message: Message) -> None:
        call = getattr(message, "callback", None)
        name = getattr(getattr(call, "func", call), "__qualname__", "")
        if "Pilot" not in name:
            type(self).handled.append(f"{type(message).__name__} {name}".strip())
        await super()._dispatch_message(message)


async def first_chunk_shown(reply: StreamingMarkdown, pilot: Pilot[None]) -> None:
    """Append "Hello" (the first chunk: flushed at once) and wait until a frame has shown it."""
    await pilot.pause()
    reply.append("Hello")
    await reply.wait_flushed()
    await pilot.pause()


async def test_text_held_for_the_budget_starts_no_task() -> None:
    reply = SlowBudget()
    app = PromptHarness(reply)
    async with app.run_test(size=(60, 12)) as pilot:
        await first_chunk_shown(reply, pilot)
        tasks = len(asyncio.all_tasks())
        reply.append(" world")  # held for an hour
        assert reply.flush_count == 1
        assert len(asyncio.all_tasks()) == tasks
        await reply.finish()
        assert "Hello world" in "\n".join(plain_lines(app, reply))


async def test_held_text_after_which_nothing_comes_is_flushed_by_the_budget() -> None:
    reply = ShortBudget()
    app = PromptHarness(reply)
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        reply.append("Hello")
        reply.append(" world")  # at the same instant: held for the budget
        await asyncio.wait_for(reply.wait_flushed(), timeout=60)
        assert reply.shown_chars == len("Hello world") and not reply.finished
        await pilot.pause()
        assert "Hello world" in "\n".join(plain_lines(app, reply))
        await reply.finish()


async def test_a_flush_is_one_message_of_the_reply_and_the_pacer_learns_the_refresh_it_caused() -> None:
    """A flush that grows a paragraph: the reply's queue handles the flush and nothing more, neither
    for the pacer nor for the sweep after it (queued on the screen, which has run it)."""
    CountingReply.handled = []
    reply = CountingReply()
    app = PromptHarness(reply)
    async with app.run_test(size=(60, 12)) as pilot:
        await first_chunk_shown(reply, pilot)
        await pilot.pause()
        CountingReply.handled.clear()
        reply._pacer.next_flush_at = -1.0
        reply.append(" world")  # flushed at once or by the budget's timer
        await asyncio.wait_for(reply.wait_flushed(), timeout=60)
        await pilot.pause()
        await pilot.pause()
        assert reply.flush_count == 2
        assert reply._pacer.next_flush_at > 0  # learnt from the refresh that showed the flush
        assert CountingReply.handled == ["Callback StreamingMarkdown._flush"]
        assert not reply._sweep_scheduled  # the sweep the flush asked for has run
        await reply.finish()
