"""`ThemeAppliedOnChange`: a TextArea fills its theme in from its CSS only when that may have changed,
and draws exactly as Textual's TextArea through every kind of change to its styles."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, TextArea

from tui_chat.ui._textual_text_area import ThemeAppliedOnChange

from .test_streaming_markdown import region_lines

CSS = """
#box { height: auto; }
#box.-alert { background: darkred; }
TextArea { height: 5; background: $surface 60%; }
Screen.-calm TextArea .text-area--cursor-line { background: darkgreen; }
"""


class Cached(ThemeAppliedOnChange, TextArea):
    """The mixin on Textual's TextArea."""


class Prompts(App[None]):
    CSS = CSS

    def __init__(self, kind: type[TextArea]) -> None:
        super().__init__()
        self.kind = kind

    def compose(self) -> ComposeResult:
        with Vertical(id="box"):
            yield self.kind("first line\nsecond", id="prompt")
        yield Input(id="other")


Step = Callable[[Prompts], Awaitable[None] | None]


async def type_text(app: Prompts) -> None:
    app.query_one("#prompt").focus()
    app.query_one("#prompt", TextArea).insert("typed ")


def blur(app: Prompts) -> None:
    app.query_one("#other").focus()


def refocus(app: Prompts) -> None:
    app.query_one("#prompt").focus()


def alert_box(app: Prompts) -> None:
    app.query_one("#box").add_class("-alert")  # an ancestor's rules: the prompt's own stay the same


def calm_screen(app: Prompts) -> None:
    app.screen.add_class("-calm")  # a component style, by a class two levels up


def paint_box(app: Prompts) -> None:
    app.query_one("#box").styles.background = "darkblue"  # set in code: no stylesheet applied


def light_theme(app: Prompts) -> None:
    app.theme = "textual-light"


STEPS: list[tuple[str, Step]] = [
    ("type", type_text),
    ("blur", blur),
    ("refocus", refocus),
    ("ancestor class", alert_box),
    ("component style", calm_screen),
    ("ancestor style set in code", paint_box),
    ("app theme", light_theme),
]


async def screens(kind: type[TextArea]) -> list[list[tuple]]:
    """The prompt's region on screen at the start and after each step, for a prompt of `kind`."""
    app = Prompts(kind)
    shown: list[list[tuple]] = []
    async with app.run_test(size=(40, 8)) as pilot:
        prompt = app.query_one("#prompt")
        for _, step in [("start", refocus), *STEPS]:
            done = step(app)
            if done is not None:
                await done
            await pilot.pause()
            await app.screen.wait_for_refresh()
            shown.append(region_lines(app, prompt))
    return shown


async def test_it_draws_as_textuals_text_area_through_every_change_to_its_styles() -> None:
    cached, textual = await screens(Cached), await screens(TextArea)
    names = ["start"] + [name for name, _ in STEPS]
    for name, before, after in zip(names[1:], textual, textual[1:]):
        assert after != before, f"{name} changes nothing on screen: the step shows nothing"
    for name, ours, theirs in zip(names, cached, textual):
        assert ours == theirs, name


async def test_typing_fills_the_theme_in_once() -> None:
    app = Prompts(Cached)
    async with app.run_test(size=(40, 8)) as pilot:
        prompt = app.query_one("#prompt", Cached)
        prompt.focus()
        await pilot.pause()
        await app.screen.wait_for_refresh()
        theme = prompt._theme
        assert theme is not None
        applied = 0
        apply_css = theme.apply_css

        def counted(text_area: TextArea) -> None:
            nonlocal applied
            applied += 1
            apply_css(text_area)

        theme.apply_css = counted  # type: ignore[method-assign]
        renders = 0
        render_lines = Cached.render_lines

        def counted_render(self: Cached, crop):  # type: ignore[no-untyped-def]
            nonlocal renders
            renders += 1
            return render_lines(self, crop)

        prompt.render_lines = counted_render.__get__(prompt)  # type: ignore[method-assign]
        for key in "abcdef":
            await pilot.press(key)
            await app.screen.wait_for_refresh()
        assert prompt.text.startswith("abcdef")
        assert renders >= 6 and applied == 0
        app.query_one("#other").focus()
        await pilot.pause()
        await app.screen.wait_for_refresh()
        assert applied == 1
