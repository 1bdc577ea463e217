"""A streamed list of paragraphs and lists is one widget of lines (`ListLines`): it looks as Textual's
list widgets do, cell by cell, at every step and once finished, grows without a layout, and its
selected text reads as the list's paragraphs; random lists and tables (`TableLines`) look right too."""

from __future__ import annotations

import random

import pytest
from textual.selection import Selection
from textual.widgets._markdown import MarkdownList, MarkdownOrderedList

from tui_chat.ui.widgets.markdown.list_lines import ListLines
from tui_chat.ui.widgets.markdown.streaming import StreamingMarkdown
from tui_chat.ui.widgets.markdown.table_lines import TableLines

from .test_streaming_markdown import (
    Harness,
    LayoutCount,
    SideBySide,
    chunks_of,
    pages,
    reference_pages,
)

LISTS = """Intro text.

8. eight with a [link](http://x.y) and *em* text that wraps around the line, `code` too
9. nine

   second paragraph of nine, as a loose list has it
10. ten (the numbers widen: every bullet moves)  
    after a hard break
    - a
      - b deep
        - c deeper still with words enough to wrap at a narrow width
          - d
            - e
              - f, the sixth level, whose bullet is the first again
    - g

* star list
* item two ~~struck~~, **bold**
*

1) paren
2) two

After the lists.

- last one, and an item with nothing in it yet:
-
"""


def top_blocks(reply: StreamingMarkdown) -> list[object]:
    return [block for segment in reply.children for block in segment.children]


@pytest.mark.parametrize(("width", "piece"), [(34, 5), (80, 9)])
async def test_a_streamed_list_looks_as_a_plain_markdown_at_every_step_and_once_finished(width: int, piece: int) -> None:
    """Bullets by depth and kind, numbers that widen, loose items, a hard break, nested lists six
    deep, inline styles, an item with nothing in it yet: at every step of the stream the screen is
    a plain Markdown's, colours too, and so is every page of the finished reply."""
    async with SideBySide((width, 40)) as both:
        for text in chunks_of(LISTS, piece):
            await both.grow(text)
        # (A list holds a heading for a moment where a line of "-" comes under an item's text.)
        assert [type(block) for block in top_blocks(both.reply) if isinstance(block, MarkdownList)] == [ListLines] * 4
        await both.reply.finish()
        await both.pilot.pause()
        assert await pages(both.app, both.pilot) == await reference_pages(LISTS, (width, 40))
        assert sum(isinstance(block, ListLines) for block in top_blocks(both.reply)) == 4  # they stay


async def test_a_list_holding_code_is_shown_by_textual_widgets() -> None:
    text = "1. Install it:\n\n   ```bash\n   pip install x\n   ```\n2. Run it.\n"
    async with SideBySide((60, 30)) as both:
        for piece in chunks_of(text, 4):
            await both.grow(piece)
        assert [type(block) for block in top_blocks(both.reply)] == [MarkdownOrderedList]


async def test_a_growing_item_is_drawn_without_a_layout_in_the_room_ahead() -> None:
    """Once the list holds the room's rows (a layout, the first time it grows past its height), words
    that fill a line, a new line and a new item fill rows it has: none is a layout of the screen, and
    only the list's changed lines are rendered again, never the whole list."""
    async with SideBySide((40, 30)) as both:
        await both.grow("Steps:\n\n1. first step")
        await both.grow(" of several words that wrap")  # past its height: it takes the room's rows
        [_, block] = top_blocks(both.reply)
        assert isinstance(block, ListLines)
        layouts = LayoutCount(both.app.screen)
        rendered: list[int] = []
        render_content = block._render_content

        def rendering() -> None:
            before = {id(strip) for strip in (block._line_strips or {}).values()}
            render_content()
            rendered.append(sum(id(strip) not in before for strip in (block._line_strips or {}).values()))

        block._render_content = rendering  # type: ignore[method-assign]
        for piece in (" and", " more", " words to wrap again", "\n2. second", " item\n3.", " third"):
            await both.grow(piece)
        assert layouts.count == 0
        assert len(rendered) >= 5 and max(rendered) <= 2  # a line or two each time
        assert top_blocks(both.reply)[-1] is block


async def test_selected_text_reads_as_the_lists_paragraphs() -> None:
    """A paragraph wrapped over lines is one line of selected text, after its bullet; nested items
    keep their indentation; a selection from inside a wrapped line takes the rest of the paragraph."""
    text = "1. The regular expression takes the timestamp up to the hour.\n2. Lines:\n   - a stack trace\n"
    reply = StreamingMarkdown()
    app = Harness(reply)
    async with app.run_test(size=(34, 20)) as pilot:
        reply.append(text)
        await reply.wait_flushed()
        await pilot.pause()
        [block] = top_blocks(reply)
        assert isinstance(block, ListLines)
        assert block.get_selection(Selection(None, None)) == (
            " 1. The regular expression takes the timestamp up to the hour.\n 2. Lines:\n    • a stack trace",
            "\n",
        )
        # From "regular" on the first row to the end of the wrapped paragraph's second row.
        selected, _ = block.get_selection(Selection.from_offsets(*_offsets(block, "regular", "hour.")))
        assert selected == "regular expression takes the timestamp up to the hour."
        await reply.finish()


def _offsets(block: ListLines, first: str, last: str) -> tuple:
    from textual.geometry import Offset

    rows = block.render().plain.split("\n")
    y0 = next(y for y, row in enumerate(rows) if first in row)
    y1 = next(y for y, row in enumerate(rows) if last in row)
    return Offset(rows[y0].index(first), y0), Offset(rows[y1].index(last) + len(last), y1)


async def test_a_finished_list_drawn_as_lines_follows_a_resize() -> None:
    reply = StreamingMarkdown()
    app = Harness(reply)
    async with app.run_test(size=(70, 40)) as pilot:
        for piece in chunks_of(LISTS, 9):
            reply.append(piece)
            await pilot.pause()
        await reply.finish()
        await pilot.pause()
        await pilot.resize_terminal(31, 40)
        await pilot.pause()
        await pilot.pause()
        assert any(isinstance(block, ListLines) for block in top_blocks(reply))
        assert await pages(app, pilot) == await reference_pages(LISTS, (31, 40))


WORDS = "alpha beta gamma `code` **bold** *em* ~~gone~~ [link](http://x.y) longerwordthanmost x 12 naïve 日本 🙂".split()


def random_text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 14)))


def random_list(rng: random.Random, depth: int = 0, indent: str = "") -> str:
    lines = []
    ordered, start = rng.random() < 0.5, rng.choice([1, 3, 9, 99])
    for index in range(rng.randint(1, 4)):
        marker = f"{start + index}. " if ordered else rng.choice("-*+") + " "
        lines.append(indent + marker + random_text(rng))
        inside = indent + " " * len(marker)
        if rng.random() < 0.2:
            lines += ["", inside + random_text(rng)]  # a second paragraph: a loose list
        if depth < 3 and rng.random() < 0.3:
            lines.append(random_list(rng, depth + 1, inside))
    return "\n".join(lines)


def random_table(rng: random.Random) -> str:
    """A table of 1-4 columns of at most 8 characters a cell: it fits a reply 46 columns wide."""
    columns = rng.randint(1, 4)
    rows = [[random_text(rng)[:8] or "head" for _ in range(columns)], [rng.choice(["---", "---:", ":---"]) for _ in range(columns)]]
    rows += [[random_text(rng)[:8] for _ in range(columns)] for _ in range(rng.randint(0, 4))]
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_random_lists_and_tables_look_as_a_plain_markdown_at_every_step(seed: int) -> None:
    """Lists (both kinds, any start, loose or tight, nested three deep) and tables, of styled, wide
    and double-width text, streamed in pieces of random size: drawn as lines, at every step the
    screen is a plain Markdown's. (Seeded: the same documents every run.)"""
    rng = random.Random(seed)
    blocks = [rng.choice([random_list, random_list, random_table])(rng) for _ in range(3)]
    text = ("\n\n".join(blocks) + "\n")[:800]
    async with SideBySide((rng.choice([50, 70, 90]), 50)) as both:
        position = 0
        while position < len(text):
            size = rng.randint(4, 20)
            await both.grow(text[position : position + size])
            position += size
        # (A loose item's paragraph indented past its item's text is code: that list is Textual's.)
        assert {type(block) for block in top_blocks(both.reply)} & {ListLines, TableLines}
