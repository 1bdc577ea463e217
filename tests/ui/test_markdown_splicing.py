"""A streamed list that gains items and a table that gains rows: the new ones are added to the
block on screen (`splice`), which is never built again, and the screen is a plain Markdown's at
every step."""

from __future__ import annotations

from textual.widget import Widget

from tui_chat.ui._textual_internals import MarkdownTableCellContents
from tui_chat.ui.widgets.markdown.safe_table import SafeTable

from .test_streaming_markdown import SideBySide


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
    async with SideBySide((60, 30)) as both:
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
    async with SideBySide((60, 30)) as both:
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
    async with SideBySide((70, 30)) as both:
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
    async with SideBySide((60, 20)) as both:
        await both.grow("| a | b |\n| - | - |\n| 1 | 2 |\n| 3")
        table = top_block(both)
        await both.grow(" and a much wider cell | 4 |\n| 5 | 6 |\n\nAfter.")
        assert top_block(both) is not table  # the paragraph after it
        assert len(table.query(MarkdownTableCellContents)) == 8
