"""A layout frame on a `RedrawsOnlyChanges` screen: arranged once, and the terminal shows a full render."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.app import App
from textual.containers import VerticalScroll
from textual.widgets import Static

from tui_chat.ui import _textual_frames as frames

from .test_textual_internals import LogScreen, _frame_after, running_with_terminal


class ArrangedLogScreen(frames.RedrawsOnlyChanges, LogScreen):
    """The log screen of the internals tests, drawn by `RedrawsOnlyChanges`, counting whole arrangements."""

    arrangements = 0
    layouts = 0

    def __init__(self) -> None:
        super().__init__()
        compositor = self._compositor
        arrange_root = compositor._arrange_root

        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            if not kwargs.get("visible_only", args[2] if len(args) > 2 else False):
                self.arrangements += 1
            return arrange_root(*args, **kwargs)

        compositor._arrange_root = counted  # type: ignore[method-assign]
        reflow = compositor.reflow

        def laid_out(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.layouts += 1
            return reflow(*args, **kwargs)

        compositor.reflow = laid_out  # type: ignore[method-assign]




async def _after_frame(app: App[None], pilot, change: Callable[[], object]) -> None:  # type: ignore[no-untyped-def]
    change()
    await app.screen.wait_for_refresh()
    await pilot.pause()


async def test_a_layout_after_a_scroll_arranges_the_screen_once_a_layout_and_the_terminal_shows_a_full_render() -> None:
    """A scroll leaves Textual's map of all widgets stale; each layout after it builds a new one, and
    Textual built it a second time for the first widget asked where it is. Once a layout here."""
    screen = ArrangedLogScreen()
    async with running_with_terminal(screen) as (app, pilot, terminal):
        log = screen.query_one(VerticalScroll)
        for n in range(3):
            await _after_frame(app, pilot, lambda n=n: log.scroll_to(y=3 + n, animate=False, immediate=True))
            assert terminal.matches_a_full_render()
            arrangements, layouts = screen.arrangements, screen.layouts
            grown = screen.query_one(f"#text{4 + n}", Static)
            await _after_frame(app, pilot, lambda grown=grown, n=n: grown.update(f"text, grown {n}\nline 2\nline 3"))
            assert screen.layouts > layouts
            assert screen.arrangements - arrangements == screen.layouts - layouts
            assert terminal.matches_a_full_render()


async def test_a_layout_that_moves_the_log_s_texts_shows_on_the_terminal_what_a_full_render_does() -> None:
    """A text near the top of the log grows (as a streamed block does when the room steps): every
    text under it moves down a line or two; each frame, the terminal shows what a full render does."""
    screen = ArrangedLogScreen()
    async with running_with_terminal(screen) as (app, pilot, terminal):
        log = screen.query_one(VerticalScroll)
        await _after_frame(app, pilot, lambda: log.scroll_to(y=2, animate=False, immediate=True))
        grown = screen.query_one("#text2", Static)
        for lines in (3, 4, 6, 2):
            text = "\n".join(f"grown line {n}" for n in range(lines))
            await _after_frame(app, pilot, lambda text=text: grown.update(text))
            assert terminal.matches_a_full_render()
        for y in (5, 0, 9):
            await _after_frame(app, pilot, lambda y=y: log.scroll_to(y=y, animate=False, immediate=True))
            await _after_frame(app, pilot, lambda y=y: grown.update(f"moved to {y}\nand grown\nagain"))
            assert terminal.matches_a_full_render()


class PlainLogScreen(LogScreen):
    """The log screen as Textual draws it."""


async def test_a_layout_draws_the_widgets_it_moved_not_those_in_place_and_the_terminal_shows_a_full_render() -> None:
    """A text in the log grows: the log's content grows, and Textual draws every text in its view
    again; here the texts above the grown one (in place) are not drawn, those under it (moved) are."""
    seen = {}
    for screen in (PlainLogScreen(), ArrangedLogScreen()):
        async with running_with_terminal(screen) as (app, pilot, terminal):
            grown = screen.query_one("#text2", Static)
            seen[type(screen)] = []
            for lines in (3, 4):
                text = "\n".join(f"grown line {n}" for n in range(lines))
                change = partial(grown.update, text)
                seen[type(screen)].append(await _frame_after(app, pilot, change))
                assert terminal.matches_a_full_render()
    textual, kept = seen[PlainLogScreen], seen[ArrangedLogScreen]
    assert [lines for _, lines in kept] == [lines for _, lines in textual]
    for (drawn_by_textual, _), (drawn, _) in zip(textual, kept):
        assert {"text0", "text1", "text2", "text3"} <= drawn_by_textual  # the defect: those in place drawn too
        assert {"text2", "text3"} <= drawn
        assert not {"text0", "text1"} & drawn


async def test_a_layout_for_a_mounted_widget_draws_what_it_moved_not_those_in_place() -> None:
    """A widget mounted into the log (a streamed block, an item of a streamed list) can ask to be
    drawn before any layout has placed it, and Textual then marks its map of every widget stale:
    judged against that map, the layout for a widget mounted below the view drew every text in view
    again. Judged against where the last layout put them, the texts above a mount are in place
    (mounts in view, and one below it)."""
    screen = ArrangedLogScreen()
    async with running_with_terminal(screen) as (app, pilot, terminal):
        log = screen.query_one(VerticalScroll)
        for after, moved, in_place in (("#text1", {"text2", "text3"}, {"text0", "text1"}), ("#text0", {"text1"}, {"text0"})):
            drawn, _ = await _frame_after(app, pilot, partial(log.mount, Static(f"new after {after}"), after=after))
            assert terminal.matches_a_full_render()
            assert moved <= drawn
            assert not in_place & drawn
        drawn, _ = await _frame_after(app, pilot, partial(log.mount, Static("at the end")))  # below the view
        assert terminal.matches_a_full_render()
        assert not drawn & {"text0", "text1", "text2"}

