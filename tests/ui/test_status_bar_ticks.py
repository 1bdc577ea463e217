"""The status bar's clock while a reply runs: it rides on the reply's frames, and moves on its own
when none come (the spinner before the first token)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from tui_chat.ui import _textual_frames as frames
from tui_chat.ui.widgets import status_bar
from tui_chat.ui.widgets.status_bar import SPINNER, STREAMING_TICKS, StatusBar

from .test_textual_internals import _watch_frames, wait_until


class FakeClock:
    """Time that moves only when told."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class StatusScreen(frames.RepaintsWithFrames, Screen[None]):
    """A line of text (standing for the reply) above a status bar on a fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__()
        self.clock = clock

    def compose(self) -> ComposeResult:
        yield Static("reply 0", id="reply")
        yield StatusBar(clock=self.clock)


class StatusApp(App[None]):
    def __init__(self, screen: Screen[None]) -> None:
        super().__init__()
        self.status_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.status_screen)


@asynccontextmanager
async def _status_running() -> AsyncIterator[tuple[StatusScreen, Pilot[None], FakeClock, StatusBar]]:
    """A `StatusScreen` running: the screen, its pilot, its clock, its status bar."""
    clock = FakeClock()
    screen = StatusScreen(clock)
    async with StatusApp(screen).run_test(size=(60, 2)) as pilot:
        await pilot.pause()
        yield screen, pilot, clock, screen.query_one(StatusBar)


async def test_while_text_streams_the_clock_makes_no_frame_of_its_own_and_shows_with_the_replys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(status_bar, "TICK", 3600.0)  # a tick's own frame would come an hour later
    async with _status_running() as (screen, pilot, clock, status):
        status.begin()
        await pilot.pause()
        shown = await _watch_frames(screen.app, screen)
        status.text_received("hello")
        clock.now += 1.5
        status._tick()
        for _ in range(3):
            await pilot.pause()
        assert shown == []  # a tick alone: no frame
        screen.query_one("#reply", Static).update("reply 1", layout=False)
        await wait_until(pilot, lambda: bool(shown))
        assert len(shown) == 1
        reply, line = shown[0]
        assert reply == "reply 1"
        assert "streaming 5 chars" in line and "1.5 s" in line


async def test_while_text_streams_the_line_is_repainted_every_few_ticks_the_first_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(status_bar, "TICK", 3600.0)  # no tick but the ones made here, no frame of its own
    async with _status_running() as (screen, pilot, clock, status):
        status.begin()
        await pilot.pause()

        def asks() -> bool:
            """Does a tick now ask for the line to be repainted (with the next frame)?"""
            screen._with_next_frame = None
            status._tick()
            return status in (screen._with_next_frame or {})

        assert asks()  # waiting for the first token: every tick (the spinner)
        status.text_received("hello")
        assert asks()  # the first tick once text streams
        assert [asks() for _ in range(2 * STREAMING_TICKS)] == ([False] * (STREAMING_TICKS - 1) + [True]) * 2
        status.end("done")
        status.begin()
        assert asks() and asks()  # waiting again: every tick


async def test_while_the_first_token_is_awaited_the_spinner_moves_on_its_own() -> None:
    async with _status_running() as (screen, pilot, clock, status):
        status.begin()
        shown = await _watch_frames(screen.app, screen)
        clock.now += 0.35
        await wait_until(pilot, lambda: any(f"{SPINNER[3]} waiting" in line for _, line in shown))
        assert any("0.3 s" in line for _, line in shown)  # the elapsed time with it (0.35 shown as 0.3)
