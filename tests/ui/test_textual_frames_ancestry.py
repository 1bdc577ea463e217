"""`AncestryKept`: a widget looks its screen up only when its parent changed and blends its ancestors'
backgrounds only when one of their styles changed, and draws exactly as Textual draws it through
every kind of change to them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.css.query import NoMatches
from textual.dom import NoScreen
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.dom import DOMNode
from textual.widgets import Static

from tui_chat.ui._textual_frames import AncestryKept

from .test_streaming_markdown import region_lines

CSS = """
#outer { height: auto; background: $panel; }
#outer.-alert { background: darkred 70%; }
#inner { height: auto; background: $surface 50%; }
Static { height: 2; background: $primary 30%; }
"""


class Known(AncestryKept, Static):
    """The mixin on Textual's Static."""


class Nested(App[None]):
    CSS = CSS

    def __init__(self, kind: type[Static]) -> None:
        super().__init__()
        self.kind = kind

    def compose(self) -> ComposeResult:
        with Vertical(id="outer"), Vertical(id="inner"):
            yield self.kind("some text", id="text")


def alert_outer(app: Nested) -> None:
    app.query_one("#outer").add_class("-alert")  # a class two levels up: its rules, not the widget's


def tint_inner(app: Nested) -> None:
    app.query_one("#inner").styles.background_tint = "blue 40%"  # set in code: no stylesheet applied


def fade_inner(app: Nested) -> None:
    app.query_one("#inner").styles.opacity = 0.5


def paint_screen(app: Nested) -> None:
    app.screen.styles.background = "darkgreen"


def light_theme(app: Nested) -> None:
    app.theme = "textual-light"


STEPS: list[tuple[str, Callable[[Nested], None]]] = [
    ("ancestor class", alert_outer),
    ("ancestor tint set in code", tint_inner),
    ("ancestor opacity", fade_inner),
    ("screen background", paint_screen),
    ("app theme", light_theme),
]


async def shown(kind: type[Static]) -> list[tuple[list[tuple], tuple[object, ...]]]:
    """At the start and after each step: the widget's region on screen and the colours it was drawn
    over, next to the colours Textual blends for it then."""
    app = Nested(kind)
    seen: list[tuple[list[tuple], tuple[object, ...]]] = []
    async with app.run_test(size=(30, 4)) as pilot:
        text = app.query_one("#text")
        for step in [None, *(step for _, step in STEPS)]:
            if step is not None:
                step(app)
            await pilot.pause()
            await app.screen.wait_for_refresh()
            colours = (text.background_colors, DOMNode.background_colors.fget(text))  # type: ignore[attr-defined]
            seen.append((region_lines(app, text), colours))
    return seen


async def test_it_draws_as_textual_through_every_change_to_its_ancestors_styles() -> None:
    known, textual = await shown(Known), await shown(Static)
    names = ["start"] + [name for name, _ in STEPS]
    for name, (before, _), (after, _) in zip(names[1:], textual, textual[1:]):
        assert after != before, f"{name} changes nothing on screen: the step shows nothing"
    for name, (ours, (kept, blended)), (theirs, _) in zip(names, known, textual):
        assert ours == theirs, name
        assert kept == blended, name


async def test_it_blends_once_while_nothing_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    app = Nested(Known)
    async with app.run_test(size=(30, 4)) as pilot:
        text = app.query_one("#text", Known)
        await pilot.pause()
        await app.screen.wait_for_refresh()
        blends = 0
        blend = DOMNode.background_colors.fget  # type: ignore[attr-defined]

        def counted(node: DOMNode) -> object:
            nonlocal blends
            blends += node is text  # (its containers, Textual's own, blend on each of their renders)
            return blend(node)

        monkeypatch.setattr(DOMNode, "background_colors", property(counted))
        for word in ("more", "text", "again"):
            text.update(word)
            await app.screen.wait_for_refresh()
            assert region_lines(app, text)[0][0][0].startswith(word)
        assert blends == 0
        alert_outer(app)
        await pilot.pause()
        await app.screen.wait_for_refresh()
        assert blends == 1


async def test_it_looks_its_screen_up_once_while_its_parent_stays_and_has_none_once_removed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = Nested(Known)
    async with app.run_test(size=(30, 4)) as pilot:
        text = app.query_one("#text", Known)
        await pilot.pause()
        assert text.screen is app.screen
        walks = 0
        walk = DOMNode.screen.fget  # type: ignore[attr-defined]

        def counted(node: DOMNode) -> object:
            nonlocal walks
            walks += node is text
            return walk(node)

        monkeypatch.setattr(DOMNode, "screen", property(counted))
        for word in ("more", "text"):
            text.update(word)
            await app.screen.wait_for_refresh()
        assert text.region.height == 2 and walks == 0  # (its region: a look-up on its screen)
        inner = app.query_one("#inner")
        await inner.remove()  # the block goes with its container: both detached
        with pytest.raises(NoScreen):
            _ = text.screen
        with pytest.raises(NoMatches):
            app.query_one("#text")
        monkeypatch.undo()
        moved = Known("again")
        await app.query_one("#outer").mount(moved)
        assert moved.screen is app.screen
