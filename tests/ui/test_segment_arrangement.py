"""A segment's blocks, all as tall as their content, are arranged once per change: the arrangement
that measured the segment is the one that places its blocks, in the taller region the segment fills
while the reply keeps room ahead."""

from __future__ import annotations

from textual.geometry import Size

from tui_chat.ui.widgets.markdown.segments import Segment

from .test_streaming_markdown import SideBySide

TEXT = "A paragraph.\n\n- an item\n- another\n\n| a | b |\n| - | - |\n| 1 | 2 |\n\n```\ncode\n```\n\nGrowing"


async def test_the_arrangement_that_measures_a_segment_places_its_blocks() -> None:
    async with SideBySide((50, 30)) as both:
        await both.grow(TEXT)
        [segment] = both.reply.query(Segment)
        width = segment.size.width
        assert segment.size.height > segment.measure(width)  # it fills the room below its blocks
        assert segment.arrange(segment.size) is segment.arrange(Size(width, 0))
        await both.grow(" text.")  # and the screen is a plain Markdown's, as at every step


async def test_a_block_as_tall_as_its_container_is_arranged_in_the_segments_own_height() -> None:
    async with SideBySide((50, 30)) as both:
        await both.grow(TEXT)
        [segment] = both.reply.query(Segment)
        block = segment.children[0]
        block.styles.height = "50%"
        assert segment.arrange(segment.size) is not segment.arrange(Size(segment.size.width, 0))
        block.styles.height = "auto"
