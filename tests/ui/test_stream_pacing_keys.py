"""A key typed while a reply holds text for its frame budget, its flush due soon, waits for that
flush: one frame shows both. A key with nothing held, or with text held whose flush is not due
soon, is shown at once as before; the screen's tick shows a key whose flush comes late.

The screen's 60 Hz tick is stopped in most of these tests: every frame is then one `FocusedAtOnce`
made when the screen went idle, so the frames counted are exactly those the key and the reply
asked for.
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input

from tui_chat.ui._textual_internals import FocusedAtOnce
from tui_chat.ui.widgets.markdown.streaming import StreamingMarkdown

from .test_streaming_markdown import plain_lines


class SlowBudget(StreamingMarkdown):
    """A reply whose frame budget is an hour: text it shows before then did not wait for it."""

    LATENCY: ClassVar[float] = 3600.0


class DueBudget(SlowBudget):
    """A reply whose held text is always due soon enough for a key to wait for its flush (which
    comes only when something else starts it: `finish`)."""

    KEY_WAIT: ClassVar[float] = 3600.0


class TypingScreen(FocusedAtOnce, Screen[None]):
    """A reply in a log, a focused input under it."""

    CSS = "#log { height: 1fr; }"

    def __init__(self, reply: StreamingMarkdown) -> None:
        super().__init__()
        self.reply = reply

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log"):
            yield self.reply
        yield Input()

    def on_mount(self) -> None:
        self.query_one(Input).focus()


class Frames(App[None]):
    """Shows a `TypingScreen`; records, for each frame, what the input and the reply show."""

    def __init__(self, reply: StreamingMarkdown) -> None:
        super().__init__()
        self.typing = TypingScreen(reply)
        self.frames: list[tuple[str, int]] = []
        """(the input's value, the reply's characters shown) at each frame displayed."""
        self.drawn: list[str] = []
        """What each frame wrote to the terminal, its text and escape sequences."""
        self.new_frame = asyncio.Event()

    def on_mount(self) -> None:
        self.push_screen(self.typing)

    def _display(self, screen: Screen[object], renderable: object) -> None:  # type: ignore[override]
        super()._display(screen, renderable)
        if renderable is not None and screen is self.typing:
            self.frames.append((self.typing.query_one(Input).value, self.typing.reply.shown_chars))
            self.drawn.append(renderable.render_segments(self.console))  # type: ignore[attr-defined]
            self.new_frame.set()


async def stop_the_tick(app: Frames, pilot: Pilot[None]) -> None:
    """Stop the screen's 60 Hz tick for good: from now on only `FocusedAtOnce` makes frames."""
    await pilot.pause()
    timer = app.typing._update_timer
    timer.stop()
    timer.resume = lambda: None  # type: ignore[method-assign]


async def frame_showing(app: Frames, value: str) -> tuple[str, int]:
    """Wait for the first frame (counted from now) whose input shows `value`; that frame."""
    seen = len(app.frames)
    while True:
        for frame in app.frames[seen:]:
            if frame[0] == value:
                return frame
        seen = len(app.frames)
        app.new_frame.clear()
        await asyncio.wait_for(app.new_frame.wait(), timeout=30)


async def hold_text(app: Frames, reply: SlowBudget, pilot: Pilot[None]) -> None:
    """"Hello" shown at once (the first chunk), then " world" held for the budget (an hour)."""
    reply.append("Hello")
    await asyncio.wait_for(reply.wait_flushed(), timeout=30)
    await pilot.pause()
    reply.append(" world")
    await pilot.pause()
    assert reply.flush_count == 1 and reply.shown_chars == len("Hello")


async def test_a_key_waits_for_the_flush_due_soon_and_one_frame_shows_both() -> None:
    reply = DueBudget()
    app = Frames(reply)
    async with app.run_test(size=(60, 12)) as pilot:
        await stop_the_tick(app, pilot)
        await hold_text(app, reply, pilot)
        before = len(app.frames)
        await pilot.press("x")
        assert app.frames[before:] == []  # the key's frame waits for the flush
        await reply.finish()  # the flush it waited for
        frame = await frame_showing(app, "x")
        assert frame == ("x", len("Hello world"))  # the key's frame shows the held text too
        assert app.frames[before:].index(frame) == 0  # and no frame before it showed either alone
        assert "world" in app.drawn[before]  # (drawn by that frame, not left for a later one)
        await pilot.pause()
        assert "Hello world" in "\n".join(plain_lines(app, reply))


async def test_a_key_with_nothing_held_is_shown_at_once() -> None:
    reply = DueBudget()
    app = Frames(reply)
    async with app.run_test(size=(60, 12)) as pilot:
        await stop_the_tick(app, pilot)
        reply.append("Hello")
        await asyncio.wait_for(reply.wait_flushed(), timeout=30)
        await pilot.pause()
        await pilot.press("x")
        assert await frame_showing(app, "x") == ("x", len("Hello"))
        assert reply.flush_count == 1
        await reply.finish()


async def test_a_key_does_not_wait_for_text_whose_flush_is_not_due_soon() -> None:
    reply = SlowBudget()  # its held text waits an hour
    app = Frames(reply)
    async with app.run_test(size=(60, 12)) as pilot:
        await stop_the_tick(app, pilot)
        await hold_text(app, reply, pilot)
        await pilot.press("x")
        assert await frame_showing(app, "x") == ("x", len("Hello"))
        assert reply.flush_count == 1
        await reply.finish()


async def test_the_tick_shows_a_key_whose_flush_comes_late() -> None:
    reply = DueBudget()
    app = Frames(reply)
    async with app.run_test(size=(60, 12)) as pilot:
        await hold_text(app, reply, pilot)
        await pilot.press("x")
        assert await frame_showing(app, "x") == ("x", len("Hello"))  # the text is still held
        assert reply.flush_count == 1
        await reply.finish()


async def test_a_key_is_shown_once_the_reply_it_waits_for_is_gone() -> None:
    """Held text due soon, the key waiting for it, then the reply removed: the key is shown at once."""
    reply = DueBudget()
    app = Frames(reply)
    async with app.run_test(size=(60, 12)) as pilot:
        await stop_the_tick(app, pilot)
        await hold_text(app, reply, pilot)
        before = len(app.frames)
        await pilot.press("x")
        assert app.frames[before:] == []
        await reply.remove()
        assert (await frame_showing(app, "x"))[0] == "x"
