"""A streamed list that gains items and a table that gains rows: the new ones are added to the
block on screen (`splice`), which is never built again, and the screen is a plain Markdown's at
every step. (A streamed list of paragraphs and lists, and a table that fits, are drawn as lines,
`list_lines` and `table_lines`: here they are Textual's widgets, as a list holding code and a wide
table are, to test the splicing.)"""

from __future__ import annotations

import pytest
from textual.widget import Widget

from tui_chat.ui._textual_internals import MarkdownTableCellContents
from tui_chat.ui.widgets.markdown.safe_table import SafeTable
from tui_chat.ui.widgets.markdown.streaming import StreamingMarkdown

from .test_streaming_markdown import SideBySide, TextualBlocks


def top_block(both: SideBySide) -> Widget:
    """The reply's last top-level block widget."""
    return both.reply.children[-1].children[-1]


LIST_PIECES = (
    "How it works:\n\n1.",
    " The first",
    " step.\n2.",
    " `Counter` adds",
    " up.\n3. Lines that do not match",
    " are skipped:\n   - a stack",
    " trace,\n   - so it",
    " counts once.\n4. Done",
    ".\n5. More\n6. And\n7. more\n8. items\n9. still",
)


async def test_a_list_keeps_its_widget_and_its_first_items_as_items_stream_in() -> None:
    async with SideBySide((60, 30), TextualBlocks()) as both:
        for piece in LIST_PIECES[:3]:
            await both.grow(piece)
        block = top_block(both)
        for piece in LIST_PIECES[3:]:
            first = block.children[0]
            await both.grow(piece)
            assert top_block(both) is block, repr(piece)
            assert block.children[0] is first, repr(piece)  # an item before the new ones: kept
        assert len(block.children) == 9


async def test_a_list_is_built_again_when_every_item_changes() -> None:
    """Ten items widen every number; a blank line between items makes every item a paragraph."""
    async with SideBySide((60, 30), TextualBlocks()) as both:
        await both.grow("".join(f"{n}. item\n" for n in range(1, 10)))
        block = top_block(both)
        await both.grow("10. item")
        assert top_block(both) is not block
        await both.grow("\n\n- a\n- b")
        block = top_block(both)
        await both.grow("\n\n- c")  # loose now
        assert top_block(both) is not block


TABLE_PIECES = (
    "| approach | memory | notes |\n| --- | ---: | --- |\n",
    "| read whole",
    " file | 2.1 GB | simple |\n",
    "| line",
    " by line | 12 MB | the safe default |\n| `mmap` | 40",
    " MB | fastest, harder to read, and by far the widest cell |\n",
)


async def test_a_table_keeps_its_widget_and_its_cells_as_rows_stream_in() -> None:
    async with SideBySide((70, 30), TextualBlocks()) as both:
        for piece in TABLE_PIECES[:2]:
            await both.grow(piece)
        table = top_block(both)
        assert isinstance(table, SafeTable)
        for piece in TABLE_PIECES[2:]:
            cells = list(table.query(MarkdownTableCellContents))
            await both.grow(piece)
            assert top_block(both) is table, repr(piece)
            assert list(table.query(MarkdownTableCellContents))[: len(cells)] == cells, repr(piece)
        assert len(table.query(MarkdownTableCellContents)) == 4 * 3


async def test_rows_and_a_wider_cell_in_one_flush_show_as_a_plain_markdown() -> None:
    async with SideBySide((60, 20), TextualBlocks()) as both:
        await both.grow("| a | b |\n| - | - |\n| 1 | 2 |\n| 3")
        table = top_block(both)
        await both.grow(" and a much wider cell | 4 |\n| 5 | 6 |\n\nAfter.")
        assert top_block(both) is not table  # the paragraph after it
        assert len(table.query(MarkdownTableCellContents)) == 8


def item_rows(block: Widget) -> list[Widget]:
    """The widgets of a list block's items (Textual's: a bullet and a column of the item's blocks)."""
    return list(block.children)


async def test_an_item_that_gains_its_text_keeps_its_widgets() -> None:
    """A new item comes first as its number alone ("2."), then its text: the item's bullet and
    column are kept, and only the text's block is mounted into it (the item was built twice)."""
    async with SideBySide((60, 30), TextualBlocks()) as both:
        await both.grow("1. The first step.\n2.")
        block = top_block(both)
        second = item_rows(block)[1]
        for piece in (" `Counter`", " adds", " up."):
            await both.grow(piece)
            assert top_block(both) is block, repr(piece)
            assert item_rows(block)[1] is second, repr(piece)


async def test_an_item_that_gains_a_nested_list_and_its_items_keeps_its_widgets() -> None:
    """A nested list grows inside the last item as the outer list does: the outer items, the nested
    list and its first items are kept while its items come (first as a bare "-", then their text)."""
    async with SideBySide((60, 30), TextualBlocks()) as both:
        await both.grow("1. One.\n2. Lines that do not match are skipped:\n   - a stack")
        block = top_block(both)
        second = item_rows(block)[1]
        nested = second.query_one("MarkdownBulletList")
        first_nested = item_rows(nested)[0]
        for piece in (" trace,", "\n   -", " so it", " counts once.", "\n   - and", " more"):
            await both.grow(piece)
            assert top_block(both) is block, repr(piece)
            assert item_rows(block)[1] is second, repr(piece)
            assert second.query_one("MarkdownBulletList") is nested, repr(piece)
            assert item_rows(nested)[0] is first_nested, repr(piece)
        assert len(item_rows(nested)) == 3


async def test_a_list_gaining_items_composes_only_the_rows_of_its_new_items() -> None:
    """The items a list keeps are not composed again to be thrown away (each item's bullet, row and
    column were made again for every new item)."""
    async with SideBySide((60, 30), TextualBlocks()) as both:
        await both.grow("".join(f"{n}. item {n}\n" for n in range(1, 7)))
        block = top_block(both)
        made: list[str] = []
        init = Widget.__init__

        def counted(self: Widget, *args: object, **kwargs: object) -> None:
            made.append(type(self).__name__)
            init(self, *args, **kwargs)  # type: ignore[arg-type]

        Widget.__init__ = counted  # type: ignore[method-assign]
        try:
            both.reply.append("7. item")
            await both.reply.wait_flushed()
        finally:
            Widget.__init__ = init  # type: ignore[method-assign]
        both.text += "7. item"
        await both.grow("")  # the screen is a plain Markdown's
        assert top_block(both) is block
        assert made.count("MarkdownBullet") == 1, made
        assert made.count("Horizontal") == 1, made
        assert made.count("StreamedParagraph") == 1, made


NESTED = (
    "3. Third, numbered from three:\n"
    "   - a bullet\n"
    "     - a deeper one\n"
    "       - deeper still, with `code`\n"
    "     - back up a level\n"
    "   - and *out*\n"
    "4. Fourth\n"
    "   1. nested numbers\n"
    "   2. go on\n"
    "5.\n"
    "6. Sixth, after an empty one\n"
    "- a new list\n"
    "  - with a child\n"
    "8. an ordered list after it\n"
    "8. numbered 8 again,\n"
    "8. as some models write them\n"
)


@pytest.mark.parametrize("reply", [TextualBlocks, StreamingMarkdown], ids=["spliced", "as-lines"])
async def test_nested_lists_streamed_word_by_word_look_as_a_plain_markdown_at_every_step(reply: type[StreamingMarkdown]) -> None:
    """Items that grow, gain nested lists, and nested items, at every depth and both kinds: each
    step, spliced or as lines (bullets by depth, numbers from the list's first, whatever the others
    say), shows what a plain Markdown does."""
    pieces = [piece for piece in NESTED.replace("\n", "\n\0").replace(" ", " \0").split("\0") if piece]
    async with SideBySide((60, 40), reply()) as both:
        for piece in pieces:
            await both.grow(piece)
