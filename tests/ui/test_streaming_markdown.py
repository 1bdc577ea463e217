"""StreamingMarkdown: coalescing, the final render equal to a plain Markdown, untrusted text, links."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Iterable

import pytest
from rich.style import Style
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Markdown, Tooltip
from textual.widgets._markdown import (
    MarkdownBlock,
    MarkdownFence,
    MarkdownTableCellContents,
)

from tui_chat.providers.demo import long_markdown
from tui_chat.ui.widgets.markdown.blocks import new_parser, top_level_groups
from tui_chat.ui.widgets.markdown.highlighting import growing_highlight
from tui_chat.ui.widgets.markdown.safe_table import SafeTable
from tui_chat.ui.widgets.markdown.streaming import StreamingMarkdown

DOCUMENT = """# A reply

Some *text* with **bold**, `code` and a [link](https://example.com/a) that is long enough to wrap \
across the width of the screen at least once, maybe twice, when the screen is narrow.

- first point
- second point, with a nested list:
  - nested one
  - nested two
- third point

1. ordered
2. list

```python
def greet(name: str) -> str:
    return f"hello {name}"


print(greet("world"))
```

> A quote
> on two lines.

| measure | value |
| --- | ---: |
| words | 12 |
| lines | 3 |

---

Setext heading
--------------

    indented code

Last paragraph.
"""


class Harness(App[None]):
    """A chat-log-like column holding one Markdown widget."""

    CSS = "#log { height: 1fr; scrollbar-gutter: stable; }"

    def __init__(self, body: Widget) -> None:
        super().__init__()
        self.body = body
        self.links: list[str] = []
        self.opened: list[str] = []
        self.actions: list[str] = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log"):
            yield self.body

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        self.links.append(event.href)

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        self.opened.append(url)

    def action_quit(self) -> None:  # type: ignore[override]
        self.actions.append("quit")


def chunks_of(text: str, size: int) -> Iterable[str]:
    return (text[index : index + size] for index in range(0, len(text), size))


def region_lines(app: App, widget: Widget) -> list[tuple]:
    """The screen inside `widget`'s region: every line as (text, style) runs, each run as long as
    the cells it covers look alike (where one widget's text ends and the next one's starts, or
    where one widget draws what several would, is not on the screen; nor is the colour of a blank
    cell's absent text, `look`)."""
    region = widget.region
    strips = app.screen._compositor.render_strips()[region.y : region.bottom]
    return [_runs(strip.crop(region.x, region.right)) for strip in strips]


def look(text: str, style: Style | None) -> str:
    """How cells of `text` drawn with `style` look: blank ones by their background alone, unless the
    style draws a blank (reversed, underlined, struck through)."""
    if style is not None and not text.strip() and not (style.reverse or style.underline or style.strike):
        return str(Style(bgcolor=style.bgcolor))
    return str(style)


def _runs(strip: Strip) -> tuple[tuple[str, str], ...]:
    runs: list[tuple[str, str]] = []
    for segment in strip:
        for text in re.split(r"(\s+)", segment.text):
            style = look(text, segment.style)
            if runs and runs[-1][1] == style:
                runs[-1] = (runs[-1][0] + text, style)
            elif text:
                runs.append((text, style))
    return tuple(runs)


def without_room(app: App, reply: StreamingMarkdown) -> list[tuple]:
    """The screen inside a streaming `reply`'s region less the rows of its room ahead, which are blank."""
    lines = region_lines(app, reply)
    room = set(reply.room_rows)
    assert all(not "".join(text for text, _ in lines[row]).strip() for row in room if row < len(lines))
    return [line for row, line in enumerate(lines) if row not in room]


def plain_lines(app: App, widget: Widget) -> list[str]:
    return ["".join(text for text, _ in line) for line in region_lines(app, widget)]


async def pages(app: App, pilot) -> list[list[tuple]]:
    """Every page of the log, from the top, each once it is stable (parked parts rebuilt)."""
    log = app.query_one("#log")
    result = []
    y = 0
    while True:
        log.scroll_to(y=y, animate=False, immediate=True)
        page = None
        for _ in range(20):
            await pilot.pause()
            await app.screen.wait_for_refresh()
            latest = region_lines(app, log)
            if latest == page:
                break
            page = latest
        result.append(page)
        if y >= log.max_scroll_y:
            return result
        y = min(y + log.size.height, log.max_scroll_y)


class TextualBlocks(StreamingMarkdown):
    """A reply whose lists and tables are Textual's widgets while they stream (spliced), never lines."""

    AS_LINES = False


class ReferenceMarkdown(Markdown):
    """Textual's Markdown with the reply's table block (as wide as its cells)."""

    BLOCKS = {**Markdown.BLOCKS, "table_open": SafeTable}


async def reference_pages(text: str, size: tuple[int, int]) -> list[list[tuple]]:
    app = Harness(ReferenceMarkdown(text))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        return await pages(app, pilot)


async def stream(pilot, widget: StreamingMarkdown, pieces: Iterable[str], pause_every: int = 0) -> None:
    for index, piece in enumerate(pieces, 1):
        widget.append(piece)
        if pause_every and index % pause_every == 0:
            await pilot.pause()


async def test_appends_within_a_frame_make_one_update() -> None:
    widget = StreamingMarkdown()
    app = Harness(widget)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        parses: list[int] = []
        parse = widget._parser.parse
        widget._parser.parse = lambda text, env=None: parses.append(len(text)) or parse(text, env)  # type: ignore[method-assign]
        for word in ("Hello", " streaming", " world,", " in", " many", " small", " pieces.") * 20:
            widget.append(word)  # no await in between: all of it arrives within one frame
        await widget.wait_flushed()
        await pilot.pause()
        assert widget.flush_count == 1
        assert len(parses) == 1
        assert "Hello streaming world, in many small pieces." in "\n".join(plain_lines(app, widget))


async def test_final_screen_equals_plain_markdown() -> None:
    size = (90, 90)
    widget = StreamingMarkdown()
    app = Harness(widget)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        # Three characters at a time, with frames in between: the fence, the lists and the table
        # are each split across many chunks and flushes.
        await stream(pilot, widget, chunks_of(DOCUMENT, 3), pause_every=7)
        await widget.finish()
        await pilot.pause()
        assert widget.flush_count > 5
        assert widget.source == DOCUMENT
        ours = await pages(app, pilot)
    assert ours == await reference_pages(DOCUMENT, size)


async def test_a_long_reply_parks_far_parts_and_still_shows_the_same() -> None:
    size = (80, 16)
    text = "".join(long_markdown(1200))
    widget = StreamingMarkdown()
    app = Harness(widget)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await stream(pilot, widget, long_markdown(1200))  # all at once: it has to catch up
        await widget.finish()
        await pilot.pause()
        await app.screen.wait_for_refresh()
        shown_blocks = len(widget.query(MarkdownBlock).filter(".level-0"))
        assert shown_blocks < text.count("## Section") * 2  # far parts are parked, not shown
        ours = await pages(app, pilot)
    assert ours == await reference_pages(text, size)


async def test_an_unclosed_fence_still_shows_its_code() -> None:
    text = "Here is the code:\n\n```python\nprint('hi')\nanswer = 42"
    widget = StreamingMarkdown()
    app = Harness(widget)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        await stream(pilot, widget, chunks_of(text, 4), pause_every=2)
        await widget.finish()
        await pilot.pause()
        shown = "\n".join(plain_lines(app, widget))
        assert "print('hi')" in shown
        assert "answer = 42" in shown
        ours = await pages(app, pilot)
    assert ours == await reference_pages(text, (60, 20))


UNTRUSTED = """# [bold]Title[/bold]

Text with [bold]not bold[/bold], [/] and arr[i] and [@click=app.quit]press me[/] here.

- [red]item[/red] and [@click=app.bell]x[/]

| [b]head[/b] | col |
| --- | --- |
| [/] | [@click=app.quit]cell[/] |
"""


@pytest.mark.parametrize("reply", [StreamingMarkdown, TextualBlocks], ids=["as-lines", "textual-blocks"])
async def test_markup_in_model_text_is_shown_literally_and_never_runs(reply: type[StreamingMarkdown]) -> None:
    widget = reply()
    app = Harness(widget)
    async with app.run_test(size=(100, 30), tooltips=True) as pilot:
        await pilot.pause()
        await stream(pilot, widget, chunks_of("\x1b[31m" + UNTRUSTED + "\x9b2J\u202e", 5), pause_every=3)
        await widget.finish()
        await pilot.pause()
        assert "\x1b" not in widget.source and "\x9b" not in widget.source and "\u202e" not in widget.source
        lines = plain_lines(app, widget)
        shown = "\n".join(lines)
        for literal in ("[31m", "[bold]Title[/bold]", "[bold]not bold[/bold], [/] and arr[i]", "[@click=app.quit]press me[/]",
                        "[red]item[/red]", "[b]head[/b]", "[@click=app.quit]cell[/]"):
            assert literal in shown, literal

        # Click right on the text that looks like a click action.
        row = next(index for index, line in enumerate(lines) if "press me" in line)
        column = lines[row].index("press me")
        await pilot.click(offset=(widget.region.x + column, widget.region.y + row))
        await pilot.pause()

        # Hover a cell of Textual's table whose text looks like markup: its tooltip is plain text.
        # (A table drawn as lines has no cell widgets, nor tooltips: its cells are never cut short.)
        cells = list(widget.query(MarkdownTableCellContents))
        assert all(isinstance(cell.tooltip, Content) for cell in cells)
        assert bool(cells) is not reply.AS_LINES
        if cells:
            closing = next(cell for cell in cells if cell.tooltip is not None and cell.tooltip.plain == "[/]")
            await pilot.hover(closing)
            app.screen._handle_tooltip_timer(closing)  # what the tooltip timer does, without waiting
            await pilot.pause()
            tooltip = app.screen.query_one(Tooltip)
            assert tooltip.display
            assert "[/]" in tooltip.render().plain
        assert app.is_running
        assert app.actions == []
        assert app.links == [] and app.opened == []


async def test_a_clicked_link_is_reported_not_opened() -> None:
    text = "Go to [the site](https://example.com/page?a=1) now.\n"
    widget = StreamingMarkdown()
    app = Harness(widget)
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        await stream(pilot, widget, chunks_of(text, 4), pause_every=2)
        await widget.finish()
        await pilot.pause()
        lines = plain_lines(app, widget)
        row = next(index for index, line in enumerate(lines) if "the site" in line)
        column = lines[row].index("the site") + 2
        await pilot.click(offset=(widget.region.x + column, widget.region.y + row))
        await pilot.pause()
        assert app.links == ["https://example.com/page?a=1"]
        assert app.opened == []


async def test_text_before_mount_and_after_finish() -> None:
    widget = StreamingMarkdown("Already **here**.\n")
    widget.append("And more.\n")
    app = Harness(widget)
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.pause()
        await widget.wait_flushed()
        await widget.finish()
        await widget.finish()  # twice is fine
        await pilot.pause()
        assert widget.finished
        assert "Already here." in "\n".join(plain_lines(app, widget))
        with pytest.raises(RuntimeError):
            widget.append("too late")
        assert widget.source == "Already **here**.\nAnd more.\n"


def huge_reply(sections: int) -> str:
    """Realistic long Markdown: a long paragraph, a code fence, a list and a table per section."""
    parts = []
    for section in range(1, sections + 1):
        paragraph = " ".join(f"word{j} **bold{j}** and `code{j}`" for j in range(60))
        code = "\n".join(f"    value_{j} = compute({section}, {j})" for j in range(30))
        items = "\n".join(f"- item {j} of section {section}, with *emphasis*" for j in range(8))
        rows = "\n".join(f"| r{j} | text {j} | {j * section} |" for j in range(8))
        parts.append(
            f"## Section {section}\n\n{paragraph}\n\n```python\ndef f_{section}():\n{code}\n```\n\n"
            f"{items}\n\n| a | b | c |\n| --- | --- | ---: |\n{rows}\n\n"
        )
    return "".join(parts)


async def test_huge_chunks_build_each_block_about_once_and_parse_the_text_a_few_times() -> None:
    """A reply arriving in a few huge chunks costs work in proportion to its length, not more.

    Each top-level block is built about once (not again for every flush it grows in) and the
    parser is handed a small multiple of the text (not the growing tail again for every budget).
    The flush budget is held at its minimum, as on a loaded machine, so the counts do not depend
    on how fast this one is.
    """

    class SlowMachine(StreamingMarkdown):
        BUDGET_START = BUDGET_MIN = BUDGET_MAX = 256

    text = huge_reply(12)
    final_blocks = len(top_level_groups(new_parser().parse(text)))
    widget = SlowMachine()
    app = Harness(widget)
    async with app.run_test(size=(80, 24)) as pilot:
        await stream(pilot, widget, chunks_of(text, len(text) // 4))
        await widget.wait_flushed()
        built_streaming = widget.blocks_built
        await widget.finish()
    assert widget.source == text
    assert built_streaming <= 1.2 * final_blocks, (built_streaming, final_blocks)
    assert widget.parsed_chars <= 3 * len(text), (widget.parsed_chars, len(text))


def content_lines(app: App) -> list[tuple]:
    """The log's page without its scrollbar (whose thumb reflects estimated heights off screen)."""
    region = app.query_one("#log").scrollable_content_region
    strips = app.screen._compositor.render_strips()[region.y : region.bottom]
    return [_runs(strip.crop(region.x, region.right)) for strip in strips]


async def settled_page(app: App, pilot) -> list[tuple]:
    """The log's page once parked parts that came into view are rebuilt (the same on two refreshes)."""
    page = None
    for _ in range(20):
        await pilot.pause()
        await app.screen.wait_for_refresh()
        latest = content_lines(app)
        if latest == page:
            return page
        page = latest
    return page


async def plain_page(text: str, size: tuple[int, int], *, top: bool) -> list[tuple]:
    """The top or bottom page of a plain Markdown of `text`."""
    app = Harness(ReferenceMarkdown(text))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        log = app.query_one("#log")
        log.scroll_to(y=0 if top else log.max_scroll_y, animate=False, immediate=True)
        return await settled_page(app, pilot)


def sections(text: str, first: int, stop: int | None) -> str:
    """The text of sections [first, stop) of a `huge_reply` (negative: from the end)."""
    starts = [index for index in range(len(text)) if text.startswith("## Section", index)]
    ends = starts[1:] + [len(text)]
    chosen = list(zip(starts, ends))[first:stop]
    return text[chosen[0][0] : chosen[-1][1]]


async def append_in_huge_chunks(pilot, widget: StreamingMarkdown, text: str) -> None:
    """Append `text` in 100 KB chunks at once, the log following the end as the chat log does."""
    await pilot.pause()
    pilot.app.query_one("#log").anchor()
    await stream(pilot, widget, chunks_of(text, 100_000))


async def flushes_done(pilot, widget: StreamingMarkdown, count: int) -> None:
    """Let the app run until `widget` has flushed `count` times."""
    for _ in range(1000):
        if widget.flush_count >= count:
            return
        await pilot.pause()
    raise AssertionError(f"only {widget.flush_count} flushes")


async def test_megabytes_in_huge_chunks_build_only_about_a_screen_and_show_the_same_where_you_look() -> None:
    """2 MB in 100 KB chunks: what is built and parsed in full is bounded by the screen, not the reply.

    Text caught up with is cut into blocks by a block-level parse only and parked unbuilt, with
    an estimated height; only the screen at the bottom is built. Where one looks (the bottom, the
    top, the bottom again) shows what a plain Markdown shows.
    """
    size = (80, 24)
    text = huge_reply(600)
    assert len(text) > 2_000_000
    widget = StreamingMarkdown()
    app = Harness(widget)
    async with app.run_test(size=size) as pilot:
        await append_in_huge_chunks(pilot, widget, text)
        await widget.wait_flushed()
        await widget.finish()
        bottom = await settled_page(app, pilot)
        built_at_bottom = widget.blocks_built
        parsed = widget.parsed_chars
        log = app.query_one("#log")
        log.scroll_to(y=0, animate=False, immediate=True)
        top = await settled_page(app, pilot)
        log.scroll_end(animate=False, immediate=True)
        bottom_again = await settled_page(app, pilot)
    assert widget.source == text
    assert built_at_bottom <= size[1], built_at_bottom  # a block takes a line at least
    assert parsed <= 20 * size[0] * size[1], parsed  # a few screens of text, of 2 MB
    assert widget.block_parsed_chars <= 3 * len(text), (widget.block_parsed_chars, len(text))
    assert bottom == await plain_page(sections(text, -2, None), size, top=False)
    assert top == await plain_page(sections(text, 0, 2), size, top=True)
    assert bottom_again == bottom  # scrolled back: the parts built meanwhile were measured, not estimated


async def test_cancelling_during_a_huge_backlog_ends_at_once_and_keeps_every_word() -> None:
    """Esc while megabytes wait: no more flushes, and nothing that arrived is lost.

    The text not taken on yet is parked unbuilt (found by a block-level parse off the loop), so
    the reply holds all of it; scrolling to the end builds only the screen there, and shows
    what a plain Markdown shows.
    """
    size = (80, 24)
    text = huge_reply(600)
    widget = StreamingMarkdown()
    app = Harness(widget)
    async with app.run_test(size=size) as pilot:
        await append_in_huge_chunks(pilot, widget, text)
        await flushes_done(pilot, widget, 3)
        flushes = widget.flush_count
        await widget.finish(cancelled=True)
        after_finish = widget.flush_count
        log = app.query_one("#log")
        log.scroll_end(animate=False, immediate=True)
        bottom = await settled_page(app, pilot)
        built = widget.blocks_built
        source = widget.source
    assert after_finish <= flushes + 1, (flushes, after_finish)  # at most the flush under way ends
    assert widget.flush_count == after_finish
    assert source == text
    assert any("4200" in str(run) for run in bottom)  # the last table row of the last section
    assert bottom == await plain_page(sections(text, -2, None), size, top=False)
    assert built <= 2 * size[1], built  # a block takes a line at least: about a screen of them


async def test_a_link_reference_defined_later_applies_to_the_blocks_before_it() -> None:
    text = "See [the docs][docs] first.\n\n" + "Filler paragraph.\n\n" * 40 + "[docs]: https://example.com/docs\n"
    widget = StreamingMarkdown()
    app = Harness(widget)
    async with app.run_test(size=(60, 12)) as pilot:
        await stream(pilot, widget, chunks_of(text, 7), pause_every=10)
        await widget.finish()
        await pilot.pause()
        ours = await pages(app, pilot)
    assert ours == await reference_pages(text, (60, 12))


async def test_esc_while_a_finished_reply_is_still_being_shown_ends_it_at_once_with_every_word(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The text has all come and `finish` waits for the backlog when Esc cancels the waiting worker.

    The reply ends at once, the text still waiting parked unbuilt: it holds every word, so it is
    complete, not marked cancelled; the cancellation goes on, and finishing it again does nothing more.
    """
    from tui_chat.chunks import ReplyStatus
    from tui_chat.ui.widgets.message import AssistantMessage

    # Flushes take on at most 4 KB: a backlog is still being shown when Esc comes, however fast
    # the flushes (their budget doubles while they are quick: on a fast run the whole reply was
    # shown between two of the test's looks at the flush count).
    monkeypatch.setattr(StreamingMarkdown, "BUDGET_MAX", 4096)
    text = huge_reply(600)
    message = AssistantMessage()
    app = Harness(message)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for chunk in chunks_of(text, 100_000):
            message.append(chunk)
        waiting = asyncio.create_task(message.finish(ReplyStatus.COMPLETE))
        await flushes_done(pilot, message.body, 3)
        flushes = message.body.flush_count
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert message.body.flush_count <= flushes + 1  # at most the flush under way ends
        after_cancel = message.body.flush_count
        await message.finish(ReplyStatus.COMPLETE)
        await pilot.pause()
        assert message.body.flush_count == after_cancel
        status = str(message.status_line.render())
    assert message.status is ReplyStatus.COMPLETE
    assert not message.has_class("-ended-cancelled") and "cancelled" not in status
    assert message.text == text



class SideBySide:
    """A reply streaming in one app and a plain Markdown of the same text in another, compared at
    every step (`grow`)."""

    def __init__(self, size: tuple[int, int], reply: StreamingMarkdown | None = None) -> None:
        self.size = size
        self.reply = reply or StreamingMarkdown()
        self.app = Harness(self.reply)
        self.reference = ReferenceMarkdown()
        self.reference_app = Harness(self.reference)
        self.text = ""

    async def __aenter__(self) -> SideBySide:
        self._runs = [self.app.run_test(size=self.size), self.reference_app.run_test(size=self.size)]
        self.pilot, self.reference_pilot = [await run.__aenter__() for run in self._runs]
        await self.pilot.pause()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.reply.finish()
        for run in reversed(self._runs):
            await run.__aexit__(*exc_info)

    async def grow(self, piece: str) -> None:
        """Stream `piece` in, show it (and any layout it asks for), and check both screens are alike."""
        self.text += piece
        self.reply.append(piece)
        await self.reply.wait_flushed()
        await self.pilot.pause()
        await self.pilot.pause()  # a layout asked for by the one before it runs here
        await self.reference.update(self.text)
        await self.reference_pilot.pause()
        assert without_room(self.app, self.reply) == region_lines(self.reference_app, self.reference), repr(self.text)


class LayoutCount:
    """How many times a screen was laid out since this was made."""

    def __init__(self, screen: Screen) -> None:
        self.count = 0
        lay_out = screen._refresh_layout

        def counted(*args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            self.count += 1
            lay_out(*args, **kwargs)

        screen._refresh_layout = counted  # type: ignore[method-assign]


async def test_a_table_cell_growing_within_its_column_is_repainted_without_a_layout() -> None:
    """A streamed table grows cell by cell: a cell whose text still fits its column (not its widest)
    changes no size, so nothing on the screen is laid out again; one that widens its column is."""
    async with SideBySide((60, 20), TextualBlocks()) as both:
        layouts = LayoutCount(both.app.screen)
        table = "| a much wider header | size |\n| --- | ---: |\n| lo"
        for piece, lays_out in ((table, True), ("g", False), (" file", False), (" name that is much longer", True)):
            before = layouts.count
            await both.grow(piece)
            assert (layouts.count > before) is lays_out, repr(piece)


async def test_a_growing_heading_is_updated_in_its_widget_and_looks_as_a_plain_markdown_at_every_step() -> None:
    """A heading streams in word by word like a paragraph: its widget is built once and updated,
    not built and mounted again for each word (each mount a layout of the screen)."""
    built = []
    async with SideBySide((50, 20)) as both:
        for piece in ("## Reading", " the", " **log", " file**", "\n\nThe", " end", "\n\nSetext", "\n---", "\n"):
            await both.grow(piece)
            built.append(both.reply.blocks_built)
    assert built[:4] == [1, 1, 1, 1]  # the heading, built once
    assert built[6] < built[7]  # a paragraph turned into a setext heading: another kind of block, built anew


async def test_a_growing_code_fence_looks_as_a_plain_markdown_at_every_step_lexing_only_its_end() -> None:
    """A fence whose strings and comments span lines streams in a few characters at a time: at every
    step it shows what a plain Markdown of the text so far shows, colours too, and a step lexes the
    last line or two of its code again, not all of it."""
    code = "".join(
        f'def step_{i}(x):\n    """Step {i},\n    over lines."""\n    s = "#{i}"  # a comment\n    return x\n\n'
        for i in range(6)
    )
    async with SideBySide((70, 50)) as both:
        for piece in chunks_of("```python\n" + code + "```\n\nAfter.\n", 6):
            await both.grow(piece)
        fence = both.reply.query_one(MarkdownFence)
        # Lexed whole at every step, it would be about 45 times its length.
        assert growing_highlight(fence).lexed_chars < len(code) * 8


class FakeClock:
    """`time` for the streaming module: `perf_counter` is what the test says it is."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now


class FakeTimers:
    """Flush timers on a `FakeClock`: each fires when the test's clock has passed its time (`fire_due`),
    not when the machine's has (a loaded machine fired a real one between two pieces the test's clock
    put a millisecond apart)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.pending: list[tuple[float, asyncio.TimerHandle]] = []

    def flush_after(self, widget: StreamingMarkdown, delay: float) -> asyncio.TimerHandle | None:
        """`StreamingMarkdown._flush_after` on the fake clock."""
        if delay <= 0.001:
            widget._post_flush()
            return None
        handle = asyncio.TimerHandle(math.inf, widget._post_flush, (), asyncio.get_running_loop())
        self.pending.append((self.clock.now + delay, handle))
        return handle

    def fire_due(self, *, everything: bool = False) -> None:
        """Run the timers whose time has come (or all of them)."""
        now = math.inf if everything else self.clock.now
        due = [handle for when, handle in self.pending if when <= now]
        self.pending = [(when, handle) for when, handle in self.pending if when > now]
        for handle in due:
            if not handle.cancelled():
                handle._run()


class CatchUpRecord(StreamingMarkdown):
    """A reply that records at which of its flushes each catch-up started and ended."""

    def __init__(self) -> None:
        super().__init__()
        self.catch_ups: list[tuple[str, int]] = []

    async def _start_catch_up(self) -> None:
        self.catch_ups.append(("start", self.flush_count))
        await super()._start_catch_up()

    async def _end_catch_up(self) -> None:
        self.catch_ups.append(("end", self.flush_count))
        await super()._end_catch_up()


@pytest.mark.parametrize("first_flush", ["after 500 characters", "after the whole backlog"])
async def test_a_zero_delay_backlog_takes_one_path_whichever_order_the_first_flush_and_arrivals_take(
    first_flush: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A backlog coming at zero delay (100 characters a millisecond, handing the loop back after each
    piece as a network stream does) is caught up with from the first flush after it began, once,
    whether that flush finds 500 characters waiting or the whole of it.

    (Deciding by what was pending alone, a flush that ran early found little, built it, and left the
    reply on the slow path of small flushes that build widgets: a race between two tasks.)
    """
    clock = FakeClock()
    monkeypatch.setattr("tui_chat.ui.widgets.markdown.streaming.time", clock)
    timers = FakeTimers(clock)
    monkeypatch.setattr(CatchUpRecord, "_flush_after", lambda widget, delay: timers.flush_after(widget, delay))
    pieces = list(chunks_of("".join(long_markdown(3000))[:12_000], 100))
    size = (80, 24)
    widget = CatchUpRecord()
    app = Harness(widget)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        widget.append("# A fast reply\n\n")
        await widget.wait_flushed()
        early = 5 if first_flush == "after 500 characters" else len(pieces)
        for piece in pieces[:early]:
            clock.now += 0.001
            widget.append(piece)
        await widget._flush()  # the second flush: now, whatever its timer says
        for piece in pieces[early:]:
            clock.now += 0.001
            timers.fire_due()
            widget.append(piece)
            await asyncio.sleep(0)
        clock.now += 0.001
        timers.fire_due()
        # The backlog has all come: what is left is shown on the loop's own timers, as in the app.
        monkeypatch.setattr(CatchUpRecord, "_flush_after", StreamingMarkdown._flush_after)
        timers.fire_due(everything=True)
        await widget.finish()
        await pilot.pause()
        final = await pages(app, pilot)
    assert widget.catch_ups[0] == ("start", 2), widget.catch_ups
    assert [event for event, _ in widget.catch_ups] == ["start", "end"], widget.catch_ups
    assert final == await reference_pages("# A fast reply\n\n" + "".join(pieces), size)
