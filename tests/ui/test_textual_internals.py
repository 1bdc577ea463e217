"""Only `tui_chat/ui/_textual_internals.py` (and its `_textual_*` siblings) may use Textual's private
API; what it uses still exists, and does what it says."""

from __future__ import annotations

import ast
import asyncio
import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import pytest
import textual
from textual import events
from textual.app import App, ComposeResult
from textual.containers import Container, Vertical, VerticalScroll
from textual.css.styles import Styles
from textual.dom import DOMNode
from textual.driver import Driver
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.style import Style as TextualStyle
from textual.screen import Screen
from textual.widget import Widget
from textual.content import Content
from textual.widgets import Footer, Input, Markdown, Static, TextArea, Tooltip

from tui_chat.ui import _textual_frames as frames
from tui_chat.ui import _textual_internals as internals
from tui_chat.ui._textual_reflow import LayoutOnce

from .test_streaming_markdown import plain_lines, region_lines

PACKAGE = Path(internals.__file__).resolve().parent.parent
"""The tui_chat package directory."""
INTERNALS = Path(internals.__file__).resolve()


def _is_internals(path: Path) -> bool:
    """Is `path` the internals module or one of its `ui/_textual_*.py` siblings?"""
    return path.resolve().parent == INTERNALS.parent and path.name.startswith("_textual_")


def _private_module(module: str) -> bool:
    parts = module.split(".")
    return parts[0] == "textual" and any(part.startswith("_") for part in parts[1:])


def private_uses(source: str, *, attributes: bool = True) -> list[str]:
    """Each private Textual import in `source`, and (if `attributes`) each known private attribute
    it reads, writes or overrides, as "line: what"."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {alias.name}" for alias in node.names if _private_module(alias.name)]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [alias.name for alias in node.names]
            if _private_module(node.module) or (
                node.module.split(".")[0] == "textual" and any(n.startswith("_") and not n.startswith("__") for n in names)
            ):
                found.append(f"{node.lineno}: from {node.module} import {', '.join(names)}")
        elif attributes and isinstance(node, ast.Attribute) and node.attr in internals.PRIVATE_ATTRIBUTES:
            found.append(f"{node.lineno}: .{node.attr}")
        elif attributes and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in internals.PRIVATE_ATTRIBUTES:
            found.append(f"{node.lineno}: def {node.name}")
        elif attributes and isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "setattr"):
            if len(node.args) > 1 and isinstance(node.args[1], ast.Constant) and node.args[1].value in internals.PRIVATE_ATTRIBUTES:
                found.append(f"{node.lineno}: {node.func.id}(..., {node.args[1].value!r})")
    return found


def test_the_checker_finds_each_kind_of_private_use() -> None:
    source = """
import textual._context
from textual._xterm_parser import XTermParser
from textual.widgets._markdown import MarkdownBlock
from textual.widgets import _markdown
from textual import __version__, events
driver = app._driver
footer._bindings_ready = True
getattr(app, "_driver")
class P(XTermParser):
    def _sequence_to_key_events(self, sequence): ...
"""
    assert [use.split(":")[0] for use in private_uses(source)] == ["2", "3", "4", "5", "7", "8", "9", "11"]


def test_no_module_but_the_internals_one_uses_textual_private_api() -> None:
    uses: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if _is_internals(path):
            continue
        # Attributes are checked where Textual is used (the UI): elsewhere `_token` or `_headers`
        # are tui-chat's own.
        in_ui = (PACKAGE / "ui") in path.parents
        found = private_uses(path.read_text(encoding="utf-8"), attributes=in_ui)
        if found:
            uses[str(path.relative_to(PACKAGE))] = found
    assert uses == {}, "use Textual internals only through tui_chat/ui/_textual_internals.py (or a _textual_* sibling)"
    assert _is_internals(Path(frames.__file__)) and not _is_internals(PACKAGE / "ui" / "app.py")


def test_the_pinned_textual_is_the_checked_one() -> None:
    version = tuple(int(part) for part in textual.__version__.split(".")[:3])
    assert (8, 2, 8) <= version < (8, 3), textual.__version__
    pyproject = (PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert f'"textual>={internals.TEXTUAL_CHECKED},<8.3"' in pyproject


def test_the_private_names_relied_on_still_exist() -> None:
    """Fails on a Textual upgrade that drops one of them: update _textual_internals.py, then the pin."""
    from textual._compositor import Compositor
    from textual._xterm_parser import XTermParser
    from textual.drivers.linux_driver import LinuxDriver

    classes = {
        "_parse_markdown": Markdown,
        "_token_to_content": internals.MarkdownBlock,
        "_get_headers_and_rows": internals.MarkdownTable,
        "_clear_arrangement_cache": Widget,
        "_sequence_to_key_events": XTermParser,
        "_refresh_layout": Screen,
        "_invoke_later": Screen,
        "_on_timer_update": Screen,
        "_on_idle": Screen,
        "_compositor_refresh": Screen,
        "_get_renders": Compositor,
        "_arrange_root": Compositor,
        "_render_content": Widget,
        "_get_style": Widget,
        "_wrap_and_format": Content,
        "_apply_link_style": Strip,
        "_get_dispatch_methods": Widget,
        "_clear_tooltip": Screen,
    }
    for name, owner in classes.items():
        assert callable(getattr(owner, name, None)), f"{owner.__name__}.{name}"
    app = App()
    assert "_driver" in vars(app)
    assert {"_markdown", "_table_of_contents"} <= set(vars(Markdown("x")))
    assert {"_layout_required", "_layout_updates"} <= set(vars(Static()))
    assert {"_compositor", "_dirty_widgets", "_layout_widgets", "_repaint_required"} <= set(vars(Screen()))
    assert "_batch_count" in vars(app)
    assert {"_full_map", "_full_map_invalidated", "_dirty_regions"} <= set(vars(Compositor()))
    assert {"_render_cache", "_dirty_regions"} <= set(vars(Static()))
    assert hasattr(Screen, "_selecting")  # a reactive: the screen is making a selection
    assert events.Idle()._no_default_action is False
    assert "_decorated_handlers" in vars(Screen)  # each message pump class's `@on` handlers
    from textual.widget import _RenderCache

    assert _RenderCache._fields == ("size", "lines")
    # `_textual_blocks.StreamedFence` composes its code label as Textual's fence does.
    assert 'yield Label(self._highlighted_code, id="code-content", expand=True)' in inspect.getsource(
        internals.MarkdownFence.compose
    )
    assert hasattr(Footer, "_bindings_ready")  # a reactive: Footer.compose waits for it
    # `_textual_text_area.ThemeAppliedOnChange`: what TextArea renders with, and what its theme reads.
    text_area = TextArea()
    assert {"_theme", "_component_styles"} <= set(vars(text_area))
    assert isinstance(text_area.styles._cache_key, int)
    render_body = [line.strip() for line in inspect.getsource(TextArea.render_lines).splitlines()[1:]]
    assert render_body == ["theme = self._theme", "if theme:", "theme.apply_css(self)", "return super().render_lines(crop)"]
    # `_textual_frames.AncestryKept`: Textual's blend of backgrounds reads only the styles of the
    # node and its ancestors (what `styles_key` keeps it against).
    blend = inspect.getsource(DOMNode.background_colors.fget)  # type: ignore[attr-defined]
    assert "for node in reversed(self.ancestors_with_self):" in blend and "styles = node.styles" in blend
    assert "self." not in blend.replace("self.ancestors_with_self", "")
    # The blocks a block built from tokens holds until composed (`_textual_blocks.inner_blocks`).
    assert "self._blocks: list[MarkdownBlock] = []" in inspect.getsource(internals.MarkdownBlock.__init__)
    driver_init = inspect.getsource(LinuxDriver.__init__) + inspect.getsource(Driver.__init__)
    for name in ("_app", "_debug", "_writer_thread"):
        assert f"self.{name} = " in driver_init or f"self.{name}: " in driver_init, name
    assert internals.current_message_pump() is None
    covered = set(classes) | {"_no_default_action", "_decorated_handlers", "_driver", "_markdown", "_table_of_contents", "_bindings_ready", "_app", "_debug", "_writer_thread"}
    covered |= {"_layout_required", "_layout_updates", "_compositor", "_dirty_widgets", "_layout_widgets"}
    covered |= {"_repaint_required", "_batch_count", "_full_map", "_full_map_invalidated", "_dirty_regions", "_render_cache", "_selecting"}
    covered |= {"_theme", "_component_styles", "_cache_key"}
    # Set on block widgets as they are built or updated; read by this module only.
    instance_only = {"_token", "_inline_token", "_highlighted_code", "_headers", "_rows", "_nodes", "_content", "_blocks"}
    assert internals.PRIVATE_ATTRIBUTES == covered | instance_only


class Box(Vertical):
    """A container drawn by Textual alone: the reference for `AlikeBox`."""

    DEFAULT_CSS = "Box { height: auto; background: $primary 10%; color: $text; }"


class AlikeBox(internals.AlikeLines, Box):
    """The same container, its lines drawn by `AlikeLines`; counts the content lines it renders."""

    content_lines = 0

    def render_line(self, y: int) -> Strip:
        self.content_lines += 1
        return super().render_line(y)


class Boxes(App[None]):
    """Both boxes, one above the other, each holding `lines` lines of text, in a given box style."""

    def __init__(self, css: str, lines: int) -> None:
        super().__init__()
        self.box_css = css
        self.lines = lines

    def compose(self) -> ComposeResult:
        for box in (Box(), AlikeBox()):
            box.styles.merge(Styles.parse(self.box_css, ("test", "")))  # type: ignore[arg-type]
            with box:
                yield Static("\n".join(f"line {n}" for n in range(self.lines)), classes="text")


@pytest.mark.parametrize(
    "css",
    [
        "padding: 0 2; border-left: outer red;",
        "padding: 0 1; margin: 1 0 0 0; border-left: tall green; border-right: wide blue;",
        "padding: 1 1; border: round red;",  # top and bottom edges: drawn by Textual itself
        "padding: 0; tint: red 20%;",
    ],
)
async def test_a_container_with_alike_lines_shows_what_textual_draws_and_growing_renders_one_line(css: str) -> None:
    app = Boxes(css, lines=3)
    async with app.run_test(size=(40, 60)) as pilot:
        await pilot.pause()
        box, alike = app.query_one(Box), app.query_one(AlikeBox)
        assert region_lines(app, alike) == region_lines(app, box)
        before = alike.content_lines
        for text in app.query(".text").results(Static):
            text.update("\n".join(f"line {n}" for n in range(12)))  # both grow taller
        await pilot.pause()
        assert alike.size.height >= 12
        assert region_lines(app, alike) == region_lines(app, box)
        if "border:" not in css:
            assert alike.content_lines - before <= 2  # a line or two, not one per line of its height


class CountedScreen(Screen[None]):
    """A screen holding a log (a scrolling column of text), counting its layouts."""

    DEFAULT_CSS = "CountedScreen VerticalScroll { height: 8; } CountedScreen Static { height: auto; }"

    layouts = 0

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static("line 0", id="text")
        yield Static("under the log")

    def _refresh_layout(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        self.layouts += 1
        super()._refresh_layout(*args, **kwargs)


class LayoutOnceScreen(LayoutOnce, CountedScreen):
    """The same screen, laid out by `LayoutOnce`."""


class ScreenApp(App[None]):
    def __init__(self, screen: Screen[None]) -> None:
        super().__init__()
        self.counted = screen

    def on_mount(self) -> None:
        self.push_screen(self.counted)


async def _grown(screen: CountedScreen, pilot, lines: int) -> int:
    """Grow the text to `lines` lines; the layouts that took, once the screen is still."""
    before = screen.layouts
    screen.query_one("#text", Static).update("\n".join(f"line {n}" for n in range(lines)))
    for _ in range(4):  # a layout asked for by the one before it runs at the next of these
        await pilot.pause()
    return screen.layouts - before


@pytest.mark.parametrize("lines", [2, 3, 12, 2])
async def test_a_screen_laid_out_once_lays_out_once_for_a_growing_text_and_draws_what_textual_draws(lines: int) -> None:
    """Textual lays the screen out twice when a text grows (each grown widget's new size asks for
    another layout); `LayoutOnce` once, and draws the same, also when the log's scrollbar comes (12
    lines in 8) or goes again (2 after 12)."""
    drawn = {}
    for screen in (CountedScreen(), LayoutOnceScreen()):
        app = ScreenApp(screen)
        async with app.run_test(size=(40, 12)) as pilot:
            await pilot.pause()
            counts = [await _grown(screen, pilot, n) for n in (2, 12, lines)]
            drawn[type(screen)] = (counts, region_lines(app, screen), screen.query_one(VerticalScroll).scrollbars_enabled)
    (textual_counts, textual_lines, textual_bars), (once_counts, once_lines, once_bars) = drawn.values()
    assert once_lines == textual_lines and once_bars == textual_bars
    assert textual_counts[0] == 2  # the defect worked around: a second layout that moves nothing
    assert once_counts[0] == 1
    assert once_counts[2] <= textual_counts[2]



class SidewaysApp(ScreenApp):
    """The counted log, with the look of a code fence: a sideways scrollbar always there, `SIZE` rows tall."""

    SIZE = 0

    def __init__(self, screen: Screen[None]) -> None:
        super().__init__(screen)
        self.stylesheet.add_source(f".fence {{ overflow: scroll hidden; scrollbar-size-horizontal: {self.SIZE}; height: auto; }}")


class RoomySidewaysApp(SidewaysApp):
    SIZE = 1


class AsksAfterPlacing(CountedScreen):
    """Notes whether the `.fence` still asks for a layout once the first layout that placed it is done."""

    asks_after_placing: bool | None = None

    def _refresh_layout(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super()._refresh_layout(*args, **kwargs)
        fence = next(iter(self.query(".fence")), None)
        if self.asks_after_placing is None and fence is not None and fence in self._compositor.widgets:
            self.asks_after_placing = fence._layout_required


class PlainAsks(AsksAfterPlacing):
    """Textual's layout."""


class OnceAsks(AsksAfterPlacing, LayoutOnce, CountedScreen):
    """`LayoutOnce`'s, its requests judged before this screen notes them."""


@pytest.mark.parametrize("app_kind", [SidewaysApp, RoomySidewaysApp])
async def test_a_new_widget_asks_for_another_layout_only_if_its_scrollbar_takes_room(app_kind: type[SidewaysApp]) -> None:
    """A code fence's sideways scrollbar is always there and takes no row: its gutter is as it was,
    so once a new fence is placed it asks for no second layout (it did: every new fence laid the
    screen out again for nothing). A scrollbar that takes a row keeps Textual's request. Either way
    the screen shows what Textual's shows."""
    asks, drawn = {}, {}
    for screen in (PlainAsks(), OnceAsks()):
        app = app_kind(screen)
        async with app.run_test(size=(40, 12)) as pilot:
            await pilot.pause()
            fence = Container(Static("def f(): pass"), classes="fence")  # a box around its code, as a fence's
            await screen.query_one(VerticalScroll).mount(fence)
            for _ in range(4):  # a layout asked for by the one before it runs at the next of these
                await pilot.pause()
            assert fence.scrollbars_enabled == (False, True)  # always there, whatever its size
            asks[type(screen)] = screen.asks_after_placing
            drawn[type(screen)] = region_lines(app, screen)
    assert drawn[OnceAsks] == drawn[PlainAsks]
    assert asks[PlainAsks] is True  # Textual's: the new widget's size asks for another layout
    assert asks[OnceAsks] is bool(app_kind.SIZE)


class LayoutOnceElsewhereScreen(LayoutOnce, CountedScreen):
    """`LayoutOnce` for widgets inside a kind this screen does not hold: Textual's layouts stay."""

    LAYOUT_ONCE_WITHIN = (Markdown,)


async def test_layout_once_leaves_widgets_outside_its_kinds_to_textual() -> None:
    screen = LayoutOnceElsewhereScreen()
    async with ScreenApp(screen).run_test(size=(40, 12)) as pilot:
        await pilot.pause()
        assert await _grown(screen, pilot, 2) == 2  # as plain Textual: the growing text is not in a Markdown


class Note(Static):
    """A line under the log that records how many layouts the screen had made when it was painted."""

    def __init__(self) -> None:
        super().__init__("note 0")
        self.painted_after: dict[str, int] = {}
        """Its text -> the screen's layouts when it was first painted showing it."""

    def render_lines(self, crop):  # type: ignore[no-untyped-def]
        screen = self.screen
        assert isinstance(screen, CountedScreen)
        self.painted_after.setdefault(str(self.render()), screen.layouts)
        return super().render_lines(crop)


class NotedScreen(CountedScreen):
    """The counted log with a note under it."""

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield Note()


class PaintFirstScreen(internals.PaintBeforeLayout, LayoutOnce, NotedScreen):
    """The same, painting what needs no layout first."""


@pytest.mark.parametrize("screen_type", [NotedScreen, PaintFirstScreen])
async def test_a_change_outside_what_is_laid_out_is_shown_before_the_layout_and_all_as_textual_draws(
    screen_type: type[NotedScreen],
) -> None:
    """The log's text grows (a layout of the log) and the note under it changes in the same frame:
    with `PaintBeforeLayout` the note is painted (and shown) before the layout; plain Textual paints
    it after. The screen ends up the same either way."""
    screen = screen_type()
    app = ScreenApp(screen)
    async with app.run_test(size=(40, 14)) as pilot:
        await pilot.pause()
        note, text = screen.query_one(Note), screen.query_one("#text", Static)
        before = screen.layouts
        displays: list[int] = []
        shown = app._display

        def display(on: Screen[None], update) -> None:  # type: ignore[no-untyped-def]
            displays.append(screen.layouts)
            shown(on, update)

        app._display = display  # type: ignore[method-assign]
        with app.batch_update():  # both changes reach the screen before it makes a frame
            text.update("\n".join(f"line {n}" for n in range(5)))
            note.update("note 1", layout=False)  # its size stays
            await pilot.pause()
        await pilot.pause()
        assert screen.layouts > before
        if screen_type is PaintFirstScreen:
            assert note.painted_after["note 1"] == before  # painted before the layout
            assert displays[:2] == [before, before + 1]  # and shown: then the layout's frame
        else:
            assert note.painted_after["note 1"] == before + 1  # Textual paints it with the layout
        drawn = [line.rstrip() for line in plain_lines(app, screen)]
        assert drawn[:5] == ["line 0", "line 1", "line 2", "line 3", "line 4"]
        assert drawn[8:10] == ["under the log", "note 1"]


async def test_a_change_inside_what_is_laid_out_waits_for_the_layout() -> None:
    """The log's text grows and a second text in the log changes: both are painted after the
    layout, as plain Textual paints them (the layout may move them)."""
    screen = PaintFirstScreen()
    app = ScreenApp(screen)
    async with app.run_test(size=(40, 14)) as pilot:
        await pilot.pause()
        text = screen.query_one("#text", Static)
        other = Note()
        await screen.query_one(VerticalScroll).mount(other)
        await pilot.pause()
        before = screen.layouts
        with app.batch_update():
            text.update("line 0\nline 1")
            other.update("note 1", layout=False)
            await pilot.pause()
        await pilot.pause()
        assert other.painted_after["note 1"] == before + 1
        assert [line.rstrip() for line in plain_lines(app, screen)][:3] == ["line 0", "line 1", "note 1"]


class TypingScreen(internals.FocusedAtOnce, Screen[None]):
    """A focused input, its frames made by `FocusedAtOnce` alone once the screen's tick is stopped."""

    def compose(self) -> ComposeResult:
        yield Input()

    def on_mount(self) -> None:
        self.query_one(Input).focus()


async def test_a_change_to_the_focused_widget_is_shown_when_the_screen_is_idle_not_on_its_tick() -> None:
    """With the screen's 60 Hz tick stopped, a typed key is still shown: its frame is made as soon as
    the screen is idle. (Without `FocusedAtOnce` this waits forever.)"""
    screen = TypingScreen()
    app = ScreenApp(screen)
    async with app.run_test(size=(30, 5)) as pilot:
        await pilot.pause()
        field = screen.query_one(Input)
        screen._update_timer.stop()
        shown = asyncio.Event()
        display = app._display

        def displayed(on: Screen[None], update) -> None:  # type: ignore[no-untyped-def]
            display(on, update)
            if field.value == "x":
                shown.set()

        app._display = displayed  # type: ignore[method-assign]
        app.post_message(events.Key("x", "x"))
        await asyncio.wait_for(shown.wait(), timeout=30)
        assert "x" in "".join(plain_lines(app, field))


class NoteScreen(internals.FocusedAtOnce, Screen[None]):
    """A note that is not focused, its frames made by `FocusedAtOnce` alone once the tick is stopped."""

    def compose(self) -> ComposeResult:
        yield Static("note 0", id="note")


async def test_a_change_shown_at_once_is_drawn_when_the_screen_is_idle_not_on_its_tick() -> None:
    """With the screen's 60 Hz tick stopped, a change a widget asks to be shown at once (a reply's
    flushed text) is still shown: its frame is made as soon as the screen is idle. (Without
    `show_at_once` this waits forever.)"""
    screen = NoteScreen()
    app = ScreenApp(screen)
    async with app.run_test(size=(30, 5)) as pilot:
        await pilot.pause()
        note = screen.query_one("#note", Static)
        screen._update_timer.stop()
        screen._update_timer.resume = lambda: None  # type: ignore[method-assign]  # the tick stays stopped
        shown = asyncio.Event()
        display = app._display

        def displayed(on: Screen[None], update) -> None:  # type: ignore[no-untyped-def]
            display(on, update)
            if str(note.render()) == "note 1":
                shown.set()

        app._display = displayed  # type: ignore[method-assign]
        note.update("note 1", layout=False)
        internals.show_at_once(note)
        await asyncio.wait_for(shown.wait(), timeout=30)


async def test_a_change_the_tick_has_shown_is_not_shown_at_once_again() -> None:
    """A widget asks for its change to be shown at once, and the screen's tick makes that frame
    first: the request is spent there, so a later change elsewhere waits for the tick as before."""
    screen = NoteScreen()
    app = ScreenApp(screen)
    async with app.run_test(size=(30, 5)) as pilot:
        await pilot.pause()
        note = screen.query_one("#note", Static)
        with app.batch_update():  # the screen is not idle-ready: the tick makes the frame
            note.update("note 1", layout=False)
            internals.show_at_once(note)
            assert screen._shown_at_once is note
        screen._on_timer_update()
        assert screen._shown_at_once is None


class LogScreen(Screen[None]):
    """A log of many texts and a line under it, counting the widgets each frame renders."""

    DEFAULT_CSS = "LogScreen VerticalScroll { height: 10; } LogScreen Static { height: auto; }"

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            for n in range(30):
                yield Static(f"text {n}\nits second line", id=f"text{n}")
        yield Static("under the log", id="under")


class CroppedLogScreen(frames.RedrawsOnlyChanges, LogScreen):
    """The same screen, its partial updates rendered by `RedrawsOnlyChanges`."""


async def _frame_after(app: App[None], pilot, change) -> tuple[set[str], list[tuple]]:
    """The widgets (by id or kind) rendered for the frame that shows `change()`, and the screen after."""
    rendered: set[str] = set()
    widgets = [app.screen, *app.screen.query("*")]
    originals = {widget: widget.render_lines for widget in widgets}
    for widget in widgets:
        def counted(crop, widget=widget):  # type: ignore[no-untyped-def]
            rendered.add(widget.id or type(widget).__name__)
            return originals[widget](crop)

        widget.render_lines = counted  # type: ignore[method-assign]
    change()
    await app.screen.wait_for_refresh()
    await pilot.pause()
    for widget, original in originals.items():
        widget.render_lines = original  # type: ignore[method-assign]
    return rendered, region_lines(app, app.screen)


async def test_a_partial_update_renders_only_the_widgets_it_shows_and_draws_what_textual_draws() -> None:
    """Textual renders every widget in the log's view for a change to one of them; `RedrawsOnlyChanges`
    the changed one alone (not the log around it, nor the screen the log hides), and the screen is
    the same."""
    seen = {}
    for screen in (LogScreen(), CroppedLogScreen()):
        app = ScreenApp(screen)
        async with app.run_test(size=(40, 12)) as pilot:
            await pilot.pause()
            screen.query_one(VerticalScroll).scroll_to(y=7, animate=False, immediate=True)  # texts cut at the top
            await screen.wait_for_refresh()
            await pilot.pause()
            changes = [
                lambda: screen.query_one("#text4", Static).update("text 4, changed\nits second line", layout=False),
                lambda: screen.query_one("#text3", Static).update("text 3, cut, changed\nits second line", layout=False),
                lambda: screen.query_one("#under", Static).update("under the log, changed", layout=False),
            ]
            seen[type(screen)] = [await _frame_after(app, pilot, change) for change in changes]
    textual, cropped = seen[LogScreen], seen[CroppedLogScreen]
    assert [lines for _, lines in cropped] == [lines for _, lines in textual]
    assert {"text5", "text6"} <= textual[0][0]  # the defect: the others in view rendered too
    assert cropped[0][0] == {"text4"}
    assert cropped[1][0] == {"text3"}
    assert cropped[2][0] == {"under"}


class Terminal:
    """A terminal rebuilt from the updates an app writes: each cell's character and style."""

    def __init__(self, app: App[None]) -> None:
        self.app = app
        self.cells = self._rows(app.screen._compositor.render_strips())

    @staticmethod
    def _rows(strips: list[Strip]) -> list[list[tuple[str, str]]]:
        return [[(char, str(segment.style)) for segment in strip for char in segment.text] for strip in strips]

    def write(self, update: object) -> None:
        """Apply an update (`ChopsUpdate`, `LayoutUpdate`) as a terminal would (text here is one cell a character)."""
        from rich.segment import ControlType

        console = self.app.console
        x = y = 0
        for segment in update.__rich_console__(console, console.options):  # type: ignore[attr-defined]
            if segment.control:
                for code in segment.control:
                    if code[0] == ControlType.CURSOR_MOVE_TO:
                        x, y = code[1], code[2]
            elif segment.text != "\n":
                for char in segment.text:
                    self.cells[y][x] = (char, str(segment.style))
                    x += 1

    def matches_a_full_render(self) -> bool:
        return self.cells == self._rows(self.app.screen._compositor.render_strips())


@asynccontextmanager
async def running_with_terminal(
    screen: Screen[None], size: tuple[int, int] = (40, 12)
) -> AsyncIterator[tuple[App[None], Pilot[None], Terminal]]:
    """An app showing `screen`, and a terminal rebuilt from every update it writes once it is shown."""
    app = ScreenApp(screen)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        terminal = Terminal(app)
        display = app._display

        def displayed(on: Screen[None], update) -> None:  # type: ignore[no-untyped-def]
            display(on, update)
            if update is not None:
                terminal.write(update)

        app._display = displayed  # type: ignore[method-assign]
        yield app, pilot, terminal


async def test_one_frame_of_changes_far_apart_renders_only_them_and_the_terminal_shows_a_full_render() -> None:
    """A text in the log and the line under it change in one frame: Textual renders every widget
    between them (the box around both), `RedrawsOnlyChanges` the two alone; a terminal rebuilt from its updates shows what a full render does, each frame."""
    seen = {}
    for screen in (LogScreen(), CroppedLogScreen()):
        app = ScreenApp(screen)
        async with app.run_test(size=(40, 12)) as pilot:
            await pilot.pause()
            terminal = Terminal(app)
            display = app._display

            def displayed(on: Screen[None], update, terminal=terminal, display=display) -> None:  # type: ignore[no-untyped-def]
                display(on, update)
                if update is not None:
                    terminal.write(update)

            app._display = displayed  # type: ignore[method-assign]
            log = screen.query_one(VerticalScroll)
            log.scroll_to(y=7, animate=False, immediate=True)
            await screen.wait_for_refresh()
            await pilot.pause()
            assert terminal.matches_a_full_render()

            def both(n: int, screen: Screen[None] = screen) -> None:
                screen.query_one("#text4", Static).update(f"text 4, changed {n}\nits second line", layout=False)
                screen.query_one("#under", Static).update(f"under the log, changed {n}", layout=False)

            seen[type(screen)] = []
            for n in range(2):
                seen[type(screen)].append(await _frame_after(app, pilot, partial(both, n)))
                assert terminal.matches_a_full_render()
    textual, cropped = seen[LogScreen], seen[CroppedLogScreen]
    assert [lines for _, lines in cropped] == [lines for _, lines in textual]
    assert {"text5", "text6", "LogScreen"} <= textual[0][0]  # the defect: all between them rendered too
    assert [rendered for rendered, _ in cropped] == [{"text4", "under"}] * 2


class Clock(Static):
    """A line showing a value that changes without asking for a repaint (as a clock's time does)."""

    value = 0

    def render(self) -> str:
        return f"clock {self.value}"


class ClockScreen(frames.RepaintsWithFrames, Screen[None]):
    """A clock and a text, on a screen that lets the clock's repaints ride on its frames."""

    def compose(self) -> ComposeResult:
        yield Clock(id="clock")
        yield Static("text 0", id="text")


async def _watch_frames(app: App[None], screen: Screen[None]) -> list[list[str]]:
    """Each frame displayed from now on, as the screen's plain lines (filled in as they come)."""
    shown: list[list[str]] = []
    display = app._display

    def displayed(on: Screen[None], update) -> None:  # type: ignore[no-untyped-def]
        display(on, update)
        if update is not None:
            shown.append([line.rstrip() for line in plain_lines(app, screen)])

    app._display = displayed  # type: ignore[method-assign]
    return shown


@asynccontextmanager
async def _clock_running() -> AsyncIterator[tuple[ClockScreen, Pilot[None], list[list[str]], Clock]]:
    """A `ClockScreen` running: the screen, its pilot, the frames displayed from now on, the clock."""
    screen = ClockScreen()
    app = ScreenApp(screen)
    async with app.run_test(size=(30, 4)) as pilot:
        await pilot.pause()
        yield screen, pilot, await _watch_frames(app, screen), screen.query_one(Clock)


async def test_a_repaint_with_the_next_frame_makes_no_frame_of_its_own_and_rides_on_the_next() -> None:
    async with _clock_running() as (screen, pilot, shown, clock):
        clock.value = 1
        screen.repaint_with_next_frame(clock, within=3600)  # no frame of its own for an hour
        for _ in range(3):
            await pilot.pause()
        assert shown == []
        screen.query_one("#text", Static).update("text 1", layout=False)
        await wait_until(pilot, lambda: bool(shown))
        for _ in range(3):
            await pilot.pause()
        assert shown == [["clock 1", "text 1", "", ""]]  # one frame, showing both
        assert screen._with_next_frame == {}  # its timer was stopped with it


async def test_a_repaint_with_the_next_frame_is_made_on_its_own_when_none_comes_in_time() -> None:
    async with _clock_running() as (screen, pilot, shown, clock):
        clock.value = 1
        frames.repaint_with_next_frame(clock, within=0.01)
        clock.value = 2
        frames.repaint_with_next_frame(clock, within=3600)  # an earlier request's time stands
        await wait_until(pilot, lambda: bool(shown))
        assert shown[0][0] == "clock 2"


async def wait_until(pilot, condition) -> None:  # type: ignore[no-untyped-def]
    """Let the app run until `condition()` holds (the test's own timeout bounds it)."""
    while not condition():
        await pilot.pause()


class ChangedLinesText(frames.RendersChangedLines, Static):
    """A text rendering only its lines that changed."""


class TwoTexts(App[None]):
    """The same text twice, one above the other: drawn by Textual, and by `RendersChangedLines`."""

    CSS = "Static { width: 30; height: auto; margin-bottom: 1; }"

    def compose(self) -> ComposeResult:
        yield Static(id="textual")
        yield ChangedLinesText(id="changed")


def _text(words: int) -> Content:
    """A paragraph of `words` words, some bold, some code, one a link (styles spanning lines)."""
    plain = " ".join(f"word{n}" for n in range(words))
    content = Content(plain).stylize("bold", 3, min(40, len(plain))).stylize("italic reverse", 50, 70)
    return content.stylize("link https://example.com", 20, 33)


async def test_a_text_rendering_changed_lines_draws_what_textual_draws_and_renders_only_the_new_lines() -> None:
    app = TwoTexts()
    async with app.run_test(size=(40, 30)) as pilot:
        textual, changed = app.query_one("#textual", Static), app.query_one("#changed", ChangedLinesText)
        before: list[Strip] = []
        for words in range(1, 40, 3):
            for widget in (textual, changed):
                widget.update(_text(words))
            await pilot.pause()
            assert region_lines(app, changed) == region_lines(app, textual), words
            after = list(changed._render_cache.lines)
            kept = sum(old is new for old, new in zip(before, after))
            assert kept >= len(before) - 2, (words, kept, len(before))  # only the last line or two again
            before = after
        assert len(before) >= 8
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"  # a new style: all again
        await pilot.pause()
        assert region_lines(app, changed) == region_lines(app, textual)
        textual.styles.width = changed.styles.width = 25  # a new width: wrapped again
        await pilot.pause()
        assert region_lines(app, changed) == region_lines(app, textual)


async def test_a_text_rendering_changed_lines_styles_a_link_as_textual_does_from_the_flush_it_appears_in() -> None:
    app = TwoTexts()
    async with app.run_test(size=(40, 30)) as pilot:
        textual, changed = app.query_one("#textual", Static), app.query_one("#changed", ChangedLinesText)
        for words in range(1, 30, 4):
            content = _text(words)
            if words > 12:  # a clickable link (what a Markdown link is) appears, on the third line
                content = content.stylize(TextualStyle.from_meta({"@click": "bell()"}), 75, 95)
            for widget in (textual, changed):
                widget.update(content)
            await pilot.pause()
            lines = region_lines(app, changed)
            assert lines == region_lines(app, textual), words
        link_runs = [style for text, style in lines[2] if "word1" in text and "underline" in style]
        assert link_runs, lines[2]  # (the link is styled: a test that would see a missed link style)
        textual.styles.link_style = changed.styles.link_style = "bold"  # a new link style: its lines again
        await pilot.pause()
        assert region_lines(app, changed) == region_lines(app, textual)


class TwoTextsInBoxes(frames.RedrawsOnlyChanges, Screen[None]):
    """The texts of `TwoTexts` in boxes taller than their text, which grows within them, on a screen
    that redraws only what changed."""

    DEFAULT_CSS = "TwoTextsInBoxes Static { width: 30; height: 14; margin-bottom: 1; }"

    def compose(self) -> ComposeResult:
        yield Static(id="textual")
        yield ChangedLinesText(id="changed")


async def test_text_shown_in_place_repaints_only_the_rows_whose_line_changed_and_the_terminal_shows_a_full_render() -> None:
    async with running_with_terminal(TwoTextsInBoxes(), (40, 32)) as (app, pilot, terminal):
        textual, changed = app.screen.query_one("#textual", Static), app.screen.query_one("#changed", ChangedLinesText)
        rows: list[int] = []
        render_lines = changed.render_lines

        def counted(crop):  # type: ignore[no-untyped-def]
            rows.append(crop.height)
            return render_lines(crop)

        changed.render_lines = counted  # type: ignore[method-assign]
        painted: list[int] = []
        for words in range(1, 40, 2):
            rows.clear()
            textual.update(_text(words), layout=False)
            changed.show_changed(_text(words))
            await app.screen.wait_for_refresh()
            await pilot.pause()
            painted.append(sum(rows))  # (before the checks below, which render the whole screen)
            assert region_lines(app, changed) == region_lines(app, textual), words
            assert terminal.matches_a_full_render(), words
        assert 1 <= min(painted) and max(painted) <= 3, painted  # the line or two it grew in, of 14 rows
        changed.styles.width = textual.styles.width = 24  # a new width, and text grown in the same frame
        changed.show_changed(_text(40))
        textual.update(_text(40), layout=False)
        await app.screen.wait_for_refresh()
        await pilot.pause()
        assert region_lines(app, changed) == region_lines(app, textual)
        assert terminal.matches_a_full_render()


@pytest.mark.parametrize("rule", [None, ("line_pad", 2), ("text_wrap", "nowrap"), ("text_overflow", "ellipsis")])
async def test_a_texts_wrapped_height_is_textuals_and_showing_it_wraps_it_no_more(
    rule: tuple[str, object] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = TwoTexts()
    async with app.run_test(size=(40, 30)) as pilot:
        changed = app.query_one("#changed", ChangedLinesText)
        if rule is not None:
            setattr(changed.styles, *rule)
        changed.update(_text(1))
        await pilot.pause()
        wraps: list[int] = []
        wrap = Content._wrap_and_format

        def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            wraps.append(len(self.plain))
            return wrap(self, *args, **kwargs)

        monkeypatch.setattr(Content, "_wrap_and_format", counted)
        width = changed.size.width
        for words in (1, 5, 12, 30, 31, 40):
            content = _text(words) + Content("x" * (words % 7) * 9)  # and a word longer than the line
            wraps.clear()
            height = changed.wrapped_height(content, width)
            changed.show_changed(content)
            changed.render_lines(Region(0, 0, width, changed.size.height))
            # Wrapped once for all three (of a text grown at its end, from its last line on: `wrap_grown`).
            assert len(wraps) == 1 and wraps[0] <= len(content.plain), words
            assert height == content.get_height(changed.styles, width), words
        for narrower in (width - 1, 7):  # not the width it shows at: counted by Textual
            assert changed.wrapped_height(_text(12), narrower) == _text(12).get_height(changed.styles, narrower)


class NotingScreen(Screen[None]):
    """A screen noting each call Textual is handed to run after its refresh."""

    def __init__(self) -> None:
        super().__init__()
        self.queued: list[object] = []

    def compose(self) -> ComposeResult:
        yield Static("text", id="text")

    def _invoke_later(self, callback, sender) -> None:  # type: ignore[no-untyped-def]
        self.queued.append(callback)
        super()._invoke_later(callback, sender)


class CallbackScreen(internals.PlainCallbacks, NotingScreen):
    """A screen that hands Textual its calls for after its refresh as plainly as it can."""


async def test_a_call_for_after_the_refresh_is_handed_over_as_the_function_it_wraps_and_runs_as_asked() -> None:
    """Textual wraps every call asked for after a refresh in a `partial`, and looks its signature up
    again each time it runs one: a call with no arguments is queued as the function itself (its
    parameter count cached), one with arguments as it is; each runs once, as asked."""
    screen = CallbackScreen()
    app = ScreenApp(screen)
    ran: list[object] = []

    def plain() -> None:
        ran.append("plain")

    def with_argument(value: int) -> None:
        ran.append(value)

    async with app.run_test(size=(30, 5)) as pilot:
        await pilot.pause()
        text = screen.query_one("#text", Static)
        text.call_after_refresh(plain)
        text.call_after_refresh(with_argument, 3)
        text.refresh()
        await pilot.pause()
        await pilot.pause()
        assert screen.queued[0] is plain
        assert isinstance(screen.queued[1], partial) and screen.queued[1].args == (3,)
        assert ran == ["plain", 3]


class Base(Static):
    handled: list[str]

    def on_key(self, event: events.Key) -> None:
        self.handled.append("base on_key")

    def _on_idle(self, event: events.Idle) -> None:
        self.handled.append("base _on_idle")


class Middle(Base):
    def on_key(self, event: events.Key) -> None:
        self.handled.append("middle on_key")
        if event.key == "stop":
            event.prevent_default()


class Decorated(internals.QuickDispatch, Middle):
    def on_idle(self, event: events.Idle) -> None:
        self.handled.append("decorated on_idle")

    @textual.on(events.Key)
    def keyed(self, event: events.Key) -> None:
        self.handled.append("decorated @on Key")


class Plain(internals.QuickDispatch, Middle):
    def on_idle(self, event: events.Idle) -> None:
        self.handled.append("plain on_idle")


@pytest.mark.parametrize("kind", [Plain, Decorated])
@pytest.mark.parametrize("key", ["x", "stop"])
def test_a_quick_dispatch_finds_the_handlers_textual_finds_in_the_same_order_and_stops_where_it_stops(
    kind: type[Middle], key: str
) -> None:
    """Differential: the handlers found (by name, along the class's MRO, and `@on` ones), twice
    (the second from the cache), against Textual's own walk; a handler that prevents the default
    stops the rest alike."""
    for message in (events.Key(key, key), events.Idle(), events.Key(key, key), events.Idle()):
        found = []
        for widget, lookup in ((kind(), kind._get_dispatch_methods), (kind(), Widget._get_dispatch_methods)):
            widget.handled = []
            name = message.handler_name
            message._no_default_action = False
            for _, method in lookup(widget, name, message):
                handled = method(message)
                if inspect.iscoroutine(handled):  # Textual's own async handlers: found, not run
                    handled.close()
            found.append(widget.handled)
        assert found[0] == found[1]
        assert found[0]


class QuietTooltipScreen(internals.TooltipClearedQuietly, Screen[None]):
    """A screen clearing its tooltip as `TooltipClearedQuietly` does."""

    def compose(self) -> ComposeResult:
        yield Input(id="typed")


@pytest.mark.parametrize("quiet", [True, False])
async def test_a_key_clears_a_shown_tooltip_and_looks_for_none_by_an_error(quiet: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    class Plain(Screen[None]):
        def compose(self) -> ComposeResult:
            yield Input(id="typed")

    screen = QuietTooltipScreen() if quiet else Plain()
    app = ScreenApp(screen)
    async with app.run_test() as pilot:
        await pilot.pause()
        screen.query_one("#typed").focus()
        lookups = 0
        look_up = Widget.get_child_by_type

        def counted(self: Widget, kind: type) -> object:
            nonlocal lookups
            lookups += 1
            return look_up(self, kind)

        monkeypatch.setattr(Widget, "get_child_by_type", counted)
        await pilot.press("a")
        assert lookups == (0 if quiet else 1)  # Textual's raises NoMatches, its message every child's repr
        tooltip = Tooltip("tip")
        await screen.mount(tooltip)
        tooltip.display = True
        await pilot.press("b")
        assert tooltip.display is False
        assert screen.query_one("#typed", Input).value == "ab"
