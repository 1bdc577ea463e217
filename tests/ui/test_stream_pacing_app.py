"""The frame budget in a running app: the first chunk and key presses never wait for it, batched text
shows right; a reply's growing paragraph, code, list or quote looks as a plain Markdown of the same
text, and text growing in a list or a table is shown without building it again."""

from __future__ import annotations

import asyncio
import time
from typing import ClassVar

import pytest
from textual.app import ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input

from tui_chat.ui.widgets.markdown.pacing import FrameBudget
from tui_chat.ui.widgets.markdown.streaming import StreamingMarkdown

from .test_textual_internals import wait_until
from .test_streaming_markdown import Harness, ReferenceMarkdown, plain_lines, region_lines, without_room


class SlowBudget(StreamingMarkdown):
    """A reply whose frame budget is an hour: any text it shows before then did not wait for it."""

    LATENCY: ClassVar[float] = 3600.0
    PAINT_GOAL: ClassVar[float | None] = None  # it stays an hour


class PromptHarness(Harness):
    """The reply's log with a focused input under it."""

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Input()

    def on_mount(self) -> None:
        self.query_one(Input).focus()


async def show_first_hold_second(app: PromptHarness, reply: SlowBudget, pilot: Pilot[None]) -> None:
    """Append "Hello", shown at once, then " world", held for the budget (an hour)."""
    await pilot.pause()
    reply.append("Hello")
    await pilot.pause()
    assert reply.flush_count == 1  # the first chunk did not wait an hour
    assert "Hello" in "\n".join(plain_lines(app, reply))

    reply.append(" world")
    await pilot.pause()
    assert reply.flush_count == 1  # batched: held for the rest of the budget
    assert "world" not in "\n".join(plain_lines(app, reply))


async def test_the_first_chunk_shows_at_once_later_ones_wait_for_the_budget_and_keys_do_not() -> None:
    reply = SlowBudget()
    app = PromptHarness(reply)
    async with app.run_test(size=(60, 12)) as pilot:
        await show_first_hold_second(app, reply, pilot)
        await pilot.press("x", "y")  # handled while the text waits
        assert app.query_one(Input).value == "xy"
        assert reply.flush_count == 1 and not reply.finished

        await reply.finish()  # the reply is complete: the held text is shown without waiting
        await pilot.pause()
        assert "Hello world" in "\n".join(plain_lines(app, reply))


async def test_a_backlog_building_while_a_flush_waits_for_the_budget_is_flushed_without_waiting() -> None:
    reply = SlowBudget()
    app = PromptHarness(reply)
    async with app.run_test(size=(60, 12)) as pilot:
        await show_first_hold_second(app, reply, pilot)
        word = " backlog"
        for _ in range(SlowBudget.BUDGET_START // len(word) + 1):  # more than one flush takes on
            reply.append(word)
        # At zero delay text arrives like this: it must not wait for the budget (an hour here).
        await asyncio.wait_for(reply.wait_flushed(), timeout=60)
        await pilot.pause()
        assert reply.shown_chars == len(reply.source)
        assert "Hello world backlog" in "\n".join(plain_lines(app, reply))
        await reply.finish()


PIECES = [
    "A paragraph",
    " that grows",
    " word by word until it wraps onto a second line of the narrow screen",
    " and then a third one, after which",
    " it ends.\n\n```python\ndef f(x):\n",
    "    return x",
    " * 2  # doubled",
    "\n\nprint(f(21))\n",
    "```\n\n1. first item\n2. second",
    " item, growing",
    " until it wraps onto the next line of the screen\n   - nested",
    " point\n\n> a quote",
    " that grows\n\n| a | b |\n| - | - |\n| 1",
    " | 2",
    "0 |\n| 3",
    " | a longer cell that widens its column |\n\nThe end",
]


async def test_a_growing_paragraph_fence_list_and_quote_look_as_a_plain_markdown_of_the_same_text_at_every_step() -> None:
    reply = StreamingMarkdown()
    app = Harness(reply)
    reference = ReferenceMarkdown()
    reference_app = Harness(reference)
    text = ""
    async with app.run_test(size=(50, 30)) as pilot, reference_app.run_test(size=(50, 30)) as reference_pilot:
        await pilot.pause()
        for piece in PIECES:
            text += piece
            reply.append(piece)
            await reply.wait_flushed()
            await pilot.pause()
            await reference.update(text)
            await reference_pilot.pause()
            assert without_room(app, reply) == region_lines(reference_app, reference), repr(text)
        await reply.finish()


@pytest.mark.parametrize(
    ("start", "growth", "shown", "new_part"),
    [
        ("- one\n- two", (" and", " a", " few", " more", " words"), ["two and a few more words"], "\n- three"),
        (
            "| name | size |\n| --- | ---: |\n| log",
            (" file", " | 2", ".1 GB"),
            ["log file", "2.1 GB"],
            " |\n| next",
        ),
    ],
    ids=["list item", "table cells"],
)
async def test_text_growing_in_a_list_or_table_updates_its_widget_without_building_the_block_again(
    start: str, growth: tuple[str, ...], shown: list[str], new_part: str
) -> None:
    reply = StreamingMarkdown()
    app = Harness(reply)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        reply.append(start)
        await reply.wait_flushed()
        built = reply.blocks_built
        for piece in growth:
            reply.append(piece)
            await reply.wait_flushed()
        await pilot.pause()
        assert reply.blocks_built == built
        lines = "\n".join(plain_lines(app, reply))
        assert all(text in lines for text in shown), lines
        reply.append(new_part)  # a new item or row: shown (added to the block: test_markdown_splicing.py)
        await reply.wait_flushed()
        await pilot.pause()
        assert new_part.split()[-1] in "\n".join(plain_lines(app, reply))
        await reply.finish()


class Due(FrameBudget):
    """A frame budget that holds text for an hour until told that an arrival makes it due."""

    def __init__(self) -> None:
        super().__init__(latency=3600.0)
        self.due_now = False

    def delay(self, now: float) -> float:
        return 0.0 if self.due_now else 3600.0


async def test_an_arrival_that_makes_the_budget_due_is_flushed_with_the_waiting_text_at_once() -> None:
    reply = StreamingMarkdown()
    app = PromptHarness(reply)
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        reply.append("Hello")
        await reply.wait_flushed()
        budget = reply._frames = Due()
        reply.append(" big")
        await pilot.pause()
        assert reply.flush_count == 1  # held: its timer is an hour away
        budget.due_now = True
        reply.append(" world")  # this arrival finds the budget due: not the timer
        await asyncio.wait_for(reply.wait_flushed(), timeout=60)
        assert reply.flush_count == 2
        await pilot.pause()
        assert "Hello big world" in "\n".join(plain_lines(app, reply))
        await reply.finish()


async def test_the_frame_budget_is_told_when_each_chunk_it_held_was_painted() -> None:
    reply = StreamingMarkdown()
    app = PromptHarness(reply)
    async with app.run_test(size=(60, 12)) as pilot:
        await pilot.pause()
        appended = time.perf_counter()
        reply.append("Hello")
        await wait_until(pilot, lambda: bool(reply._frames._paints))
        paints = list(reply._frames._paints)
        assert len(paints) == 1 and 0 < paints[0] < time.perf_counter() - appended
        assert "Hello" in "\n".join(plain_lines(app, reply))
