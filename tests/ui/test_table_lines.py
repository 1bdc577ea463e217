"""A streamed table that fits the reply is one widget of lines (`TableLines`): it looks as Textual's
table does, cell by cell, at every step, in dark and light themes, and once finished; a table wider
than the reply is Textual's, from the start or from when it outgrows the reply or the reply narrows."""

from __future__ import annotations

import pytest

from tui_chat.ui.widgets.markdown.safe_table import SafeTable
from tui_chat.ui.widgets.markdown.table_lines import TableLines

from .test_streaming_markdown import (
    LayoutCount,
    SideBySide,
    chunks_of,
    pages,
    reference_pages,
)

TABLE = """Figures:

| approach | memory | speed on 2 GB | notes |
| --- | ---: | ---: | --- |
| read `whole` file | 2.1 GB | 14 s | **simple**, but fails |
| line by line | 12 MB | 17 s | the *safe* default |
| `mmap` | 40 MB | 9 s | fastest |
|  | | | an empty first cell |
"""


def tables(both: SideBySide) -> list[type]:
    return [type(block) for segment in both.reply.children for block in segment.children if isinstance(block, SafeTable)]


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_a_streamed_table_looks_as_a_plain_markdown_at_every_step_and_once_finished(theme: str) -> None:
    """Columns that widen, inline styles, right-aligned columns (drawn left, as Textual does), an
    empty cell, rows that come in pieces: the screen is a plain Markdown's at every step, colours and
    a light theme's table background too, and once the reply ended."""
    async with SideBySide((80, 40)) as both:
        both.app.theme = both.reference_app.theme = theme
        seen = set()
        for piece in chunks_of(TABLE, 4):
            await both.grow(piece)
            seen.update(tables(both))
        assert seen == {TableLines}
        await both.grow("\nAfter the table.\n\nAnd more.")  # final now: it stays
        await both.reply.finish()
        await both.pilot.pause()
        assert tables(both) == [TableLines]
        assert await pages(both.app, both.pilot) == await pages(both.reference_app, both.reference_pilot)


async def test_a_table_wider_than_the_reply_is_textuals_from_the_start() -> None:
    async with SideBySide((40, 40)) as both:
        for piece in chunks_of(TABLE, 9):
            both.reply.append(piece)
            await both.reply.wait_flushed()
            await both.pilot.pause()
            assert TableLines not in tables(both)
        assert tables(both) == [SafeTable]


async def test_a_table_that_grows_wider_than_the_reply_becomes_textuals() -> None:
    async with SideBySide((50, 40)) as both:
        await both.grow("| a | b |\n| --- | --- |\n| one | two")
        assert tables(both) == [TableLines]
        await both.grow(" and a cell far too long for the reply to hold on one line")
        assert tables(both) == [SafeTable]


async def test_a_growing_table_fills_the_room_ahead_without_a_layout() -> None:
    """In a dark theme (no background of its own), a table that takes the room's rows gains rows and
    wider columns without a layout of the screen."""
    async with SideBySide((70, 40)) as both:
        await both.grow("| a | b |\n| --- | --- |\n| one | two |\n")
        await both.grow("| three | four |\n")  # past its height: it takes the room's rows
        layouts = LayoutCount(both.app.screen)
        for piece in ("| five", " | six |\n", "| a much wider cell", " | x |\n"):
            await both.grow(piece)
        assert layouts.count == 0
        assert tables(both) == [TableLines]


async def test_a_finished_table_becomes_textuals_when_the_reply_narrows_below_it() -> None:
    text = "| a | b |\n| --- | --- |\n| one cell of some width | another |\n\nAfter.\n"
    async with SideBySide((60, 30)) as both:
        for piece in chunks_of(text, 8):
            await both.grow(piece)
        await both.reply.finish()
        assert tables(both) == [TableLines]
        await both.pilot.resize_terminal(30, 30)
        for _ in range(3):
            await both.pilot.pause()
        assert tables(both) == [SafeTable]
        assert await pages(both.app, both.pilot) == await reference_pages(text, (30, 30))
