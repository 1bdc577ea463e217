"""Room ahead: a streaming reply keeps blank rows below its text, so that a new line lays nothing
out and scrolls nothing; the rows go when the reply ends, however it ends."""

from __future__ import annotations

import asyncio
import threading
from itertools import pairwise
from pathlib import Path

import pytest
from textual.app import App, ComposeResult

from tui_chat.chunks import ReplyStatus
from tui_chat.ui._textual_internals import MarkdownFence
from tui_chat.ui.screens.approval import ApprovalScreen
from tui_chat.ui.widgets.chat_log import ChatLog
from tui_chat.ui.widgets.markdown.room import MIN_STEP, Room
from tui_chat.ui.widgets.message import AssistantMessage
from tui_chat.ui.widgets.tool_item import ToolItem

from .conftest import SIZE, make_app
from .test_chat_screen import type_and_send, wait_for
from .test_streaming_markdown import SideBySide, region_lines

EARLIER = "".join(f"Paragraph {n} of what came before.\n\n" for n in range(12))
"""More than the log shows: the log is scrolled to its end when the code below streams."""


class LogApp(App[None]):
    """A chat log filling the screen, counting the screen's layouts."""

    CSS = "ChatLog { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield ChatLog(id="log")

    def on_mount(self) -> None:
        self.layouts = 0
        screen = self.screen
        lay_out = screen._refresh_layout

        def counted(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            self.layouts += 1
            lay_out(*args, **kwargs)

        screen._refresh_layout = counted  # type: ignore[method-assign]


async def shown(pilot, reply: AssistantMessage, text: str) -> None:
    """Stream `text` into `reply` and wait until it is on screen, with any layout it asked for."""
    reply.append(text)
    await reply.body.wait_flushed()
    await settled(pilot)


async def settled(pilot) -> None:
    """Wait until the screen shows every change asked for, with any layout it asked for."""
    for _ in range(3):
        await pilot.app.screen.wait_for_refresh()
        await pilot.pause()


def text_lines(app: App[None], log: ChatLog) -> list[str]:
    """The text of the log's lines, without its scrollbar (which shows the log growing)."""
    return ["".join(text for text, _ in line)[:-2] for line in region_lines(app, log)]  # its last: a margin


def test_the_room_grows_by_half_the_view_and_never_shrinks_while_open() -> None:
    room = Room()
    assert room.height(1, 30) == 15 and room.height(15, 30) == 15
    assert room.height(16, 30) == 30
    assert room.height(4, 30) == 30  # text that parses shorter for a moment: nothing jumps back
    assert room.height(2, 30) == 30 and Room().height(1, 6) == MIN_STEP
    room.release()
    assert room.height(4, 30) == 4


def test_the_room_is_at_most_a_step_of_the_log_it_is_in_once_the_log_is_resized() -> None:
    room = Room()
    assert room.height(1, 60) == 30
    assert room.height(1, 15) == 1 + Room.step(15) - 1  # no taller than a step of the smaller log
    assert room.height(9, 15) == 15 and room.height(9, 90) == 15  # the log, then a taller log: room enough already


def test_the_room_makes_a_reply_whose_text_fits_the_log_no_taller_than_the_log() -> None:
    """A step past the log's height would scroll the top of text that fits the log out of view,
    under blank rows: the room then ends at the log's bottom, and grows by steps again past it."""
    room = Room()
    assert room.height(23, 45) == 23  # a step of 23
    assert room.height(24, 45) == 45  # a second step would be 46 rows, in a log of 45
    assert room.height(45, 45) == 45
    assert room.height(46, 45) == 68  # the text is past the log: a step of room below it
    resized = Room()
    assert resized.height(1, 60) == 30
    assert resized.height(14, 15) == 15  # cut to a step of the new log, and to the log itself


async def test_a_new_line_inside_the_room_lays_nothing_out_and_scrolls_nothing() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 20)) as pilot:
        log = app.query_one(ChatLog)
        reply = await log.add_reply()
        await shown(pilot, reply, EARLIER + "```\ncode line 0\ncode line 1\n")
        await shown(pilot, reply, "code line 2\n")  # a line past its height: the fence takes the room's rows
        last = 2
        while len(reply.body.room_rows) < 3 and last < 30:  # (until a step of room is below the text)
            last += 1
            await shown(pilot, reply, f"code line {last}\n")
        spare = len(reply.body.room_rows)
        assert spare >= 3 and log.max_scroll_y > 0
        for n in range(last + 1, last + 1 + spare):
            before = (app.layouts, log.scroll_y, log.virtual_size)
            await shown(pilot, reply, f"code line {n}\n")
            assert f"code line {n}" in "\n".join("".join(t for t, _ in line) for line in region_lines(app, log))
            assert (app.layouts, log.scroll_y, log.virtual_size) == before, n
        await shown(pilot, reply, "".join(f"code line {n}\n" for n in range(last + 1 + spare, last + 4 + spare)))
        assert log.scroll_y > before[1]  # past the room: the log moves, a step at once
        await reply.finish(ReplyStatus.COMPLETE)


async def test_someone_who_scrolled_up_sees_nothing_move_while_the_reply_grows_past_its_room() -> None:
    app = LogApp()
    async with app.run_test(size=(60, 20)) as pilot:
        log = app.query_one(ChatLog)
        reply = await log.add_reply()
        await shown(pilot, reply, EARLIER)
        log.scroll_to(y=3, animate=False, immediate=True)  # reads back: the log stops following
        await pilot.pause()
        top = text_lines(app, log)
        await shown(pilot, reply, "".join(f"Later paragraph {n}.\n\n" for n in range(20)))
        assert log.scroll_y == 3 and text_lines(app, log) == top
        await reply.finish(ReplyStatus.COMPLETE)


@pytest.mark.parametrize("status", [ReplyStatus.COMPLETE, ReplyStatus.CANCELLED, ReplyStatus.ERROR])
async def test_the_room_goes_when_the_reply_ends(status: ReplyStatus) -> None:
    """However the reply ends, it is as tall as the same text shown finished (built at once)."""
    text = EARLIER + "```\ncode line 0\ncode line 1\n"
    app = LogApp()
    async with app.run_test(size=(60, 20)) as pilot:
        log = app.query_one(ChatLog)
        reply = await log.add_reply()
        await shown(pilot, reply, text)
        assert reply.body.room_rows
        await reply.finish(status)
        reference = await log.add_reply()
        reference.append(text)
        await reference.finish(ReplyStatus.COMPLETE)
        await settled(pilot)
        assert reply.body.room_rows == []
        assert reply.body.outer_size == reference.body.outer_size
        log.scroll_to(y=reply.virtual_region.y, animate=False, immediate=True)
        await pilot.pause()
        drawn = region_lines(app, reply.body)
        log.scroll_to(y=reference.virtual_region.y, animate=False, immediate=True)
        await pilot.pause()
        assert drawn == region_lines(app, reference.body)


@pytest.fixture
def held_scan(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """`finish`'s scan for link references (off the loop) held: the first event is set once it
    runs, and it goes on once the second is set. The test can act while a reply is finishing."""
    from tui_chat.ui.widgets.markdown import finishing

    scanning, go_on = threading.Event(), threading.Event()
    scan = finishing.link_references

    def held(text: str) -> dict[str, object]:
        scanning.set()
        go_on.wait()
        return scan(text)

    monkeypatch.setattr(finishing, "link_references", held)
    return scanning, go_on


async def test_the_room_goes_when_the_finish_is_cancelled_while_the_final_text_is_built(
    held_scan: tuple[threading.Event, threading.Event],
) -> None:
    """Esc while `finish` builds the final blocks (its scan off the loop): the reply ends all the same."""
    scanning, go_on = held_scan
    app = LogApp()
    async with app.run_test(size=(60, 30)) as pilot:
        log = app.query_one(ChatLog)
        reply = await log.add_reply()
        await shown(pilot, reply, "Some text.\n\nMore text\nand more\n")
        assert reply.body.room_rows
        ending = asyncio.create_task(reply.finish(ReplyStatus.COMPLETE))
        await asyncio.to_thread(scanning.wait)
        ending.cancel()
        go_on.set()
        with pytest.raises(asyncio.CancelledError):
            await ending
        await reply.finish(ReplyStatus.CANCELLED)
        await settled(pilot)
        assert reply.body.room_rows == []
        assert reply.body.size.height == reply.body.arrange(reply.body.size.with_height(0)).total_region.height


async def test_a_tool_call_waiting_for_approval_sits_right_below_the_text_that_asked(tmp_path: Path) -> None:
    """The reply's text ends where a tool call comes: its room goes, no blank gap above the tool."""
    app = make_app(pack="tools-demo", workspace=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "list the files here")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await settled(pilot)
        [reply] = app.query_one(ChatLog).replies
        assert reply.body.room_rows == []
        tool = app.query_one(ToolItem)
        margin = max(reply.styles.margin.bottom, tool.styles.margin.top)  # collapsed, as siblings' are
        assert tool.virtual_region.y == reply.virtual_region.bottom + margin
        await pilot.press("escape")
        await app.workers.wait_for_complete()



async def test_a_reply_finished_as_soon_as_its_text_is_given_never_shows_a_room(
    held_scan: tuple[threading.Event, threading.Event],
) -> None:
    """A reopened chat's replies and an MCP prompt's messages come whole: the frames made while the
    final blocks are built show the reply as tall as its text, with no blank rows below it."""
    scanning, go_on = held_scan
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        reply = await app.query_one(ChatLog).add_reply()
        reply.append("".join(f"Paragraph {n} of a saved reply.\n\n" for n in range(5)))
        ending = asyncio.create_task(reply.finish(ReplyStatus.COMPLETE))
        await asyncio.to_thread(scanning.wait)
        await settled(pilot)
        shown = (reply.body.size.height, reply.body.room_rows)
        go_on.set()
        await ending
        await settled(pilot)
        assert shown == (reply.body.size.height, [])


async def test_a_streaming_reply_whose_text_fits_the_log_is_shown_whole_at_every_line() -> None:
    """Code about as tall as the log streams line by line: its room never makes the reply taller
    than the log, which scrolled its top rows out of view under blank ones (two rows, here)."""
    code = "".join(f'def step_{i}(x):\n    """Step {i},\n    over lines."""\n    s = "#{i}"\n    return x\n\n' for i in range(6))
    app = LogApp()
    async with app.run_test(size=(120, 40)) as pilot:
        log = app.query_one(ChatLog)
        view = log.scrollable_content_region
        reply = await log.add_reply()
        await shown(pilot, reply, "```python\n")
        for line in code.splitlines(keepends=True):
            await shown(pilot, reply, line)
            assert view.y <= reply.body.region.y and reply.body.region.bottom <= view.bottom, repr(line)
        await reply.finish(ReplyStatus.COMPLETE)
        await settled(pilot)
        assert reply.body.region.height <= view.height  # the text fits the log: it could be shown whole


async def test_a_terminal_made_shorter_while_the_reply_streams_still_shows_its_text() -> None:
    """The room was half the taller log: it shrinks to at most a step of the new one, and the
    text stays in view (it was scrolled out of view, under blank rows)."""
    app = LogApp()
    async with app.run_test(size=(60, 60)) as pilot:
        log = app.query_one(ChatLog)
        reply = await log.add_reply()
        await shown(pilot, reply, "".join(f"Line {n} of the answer.\n\n" for n in range(12)))
        await pilot.resize_terminal(60, 16)
        await settled(pilot)
        assert "Line 11 of the answer." in [line.strip(" ▌") for line in text_lines(app, log)]
        await shown(pilot, reply, "Line 12 of the answer.\n\n")
        assert "Line 11 of the answer." in [line.strip(" ▌") for line in text_lines(app, log)]
        assert 0 < len(reply.body.room_rows) < Room.step(log.scrollable_content_region.height)
        await reply.finish(ReplyStatus.COMPLETE)


async def test_code_in_the_room_scrolls_no_wider_than_its_lines_once_the_terminal_narrows() -> None:
    """Code holding the room's rows takes its container's width; a narrower terminal hands it back."""
    app = LogApp()
    async with app.run_test(size=(90, 30)) as pilot:
        log = app.query_one(ChatLog)
        reply = await log.add_reply()
        await shown(pilot, reply, "Code:\n\n```python\nx = 1\ny = 2\n")
        await shown(pilot, reply, "z = 3\n")  # past its height: the code takes the room's rows
        await pilot.resize_terminal(40, 30)
        await shown(pilot, reply, "w = 4\n")
        fence = reply.body.query_one(MarkdownFence)
        assert "w = 4" in "\n".join(text_lines(app, log))
        assert fence.max_scroll_x == 0
        await reply.finish(ReplyStatus.COMPLETE)


async def test_code_growing_past_its_room_lays_out_once_a_step() -> None:
    """A line past the room grows the log by a step, and the growing block takes that step's rows at
    once: the lines that fill them lay nothing out (it used to take them with a second layout)."""
    app = LogApp()
    async with app.run_test(size=(60, 20)) as pilot:
        log = app.query_one(ChatLog)
        reply = await log.add_reply()
        await shown(pilot, reply, EARLIER + "```\ncode line 0\n")
        laid_out: list[bool] = []
        for n in range(1, 4 * Room.step(log.scrollable_content_region.height)):
            before = app.layouts
            await shown(pilot, reply, f"code line {n}\n")
            laid_out.append(app.layouts > before)
        step = Room.step(log.scrollable_content_region.height)
        assert 3 <= laid_out.count(True) <= -(-len(laid_out) // step) + 1, laid_out
        assert not any(a and b for a, b in pairwise(laid_out)), laid_out
        await reply.finish(ReplyStatus.COMPLETE)


async def test_a_line_of_code_wider_than_the_reply_takes_no_more_rows_than_it_shows() -> None:
    """Code scrolls sideways: a line wider than the reply is one row of it, not the rows it would
    wrap to (those were counted as text, and shown as blank rows of code above the room)."""
    async with SideBySide((50, 30)) as both:
        await both.grow("Some text.\n\n```python\nimport re\nfrom x import y\n\n")
        await both.grow('LINE = re.compile(r"^(\\d{4}-\\d{2}-\\d{2}T\\d{2}):\\d{2}:\\d{2}')
        await both.grow(" (\\w+) (.*)$\")\n\ndef errors_per_hour(path: Path) -> Counter[str]:\n")
