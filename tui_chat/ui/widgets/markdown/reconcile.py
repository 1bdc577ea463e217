"""Reconciling: the tail's blocks on screen made to match its tokens, touching as few widgets as it can.

Blocks with the same first line and token signature are kept as they are; a grown paragraph,
heading or code fence is updated in place, and so is a block in which only one paragraph grew
(the last item of a list, a quote): only that paragraph's widget changes. A table keeps its
widget while its cells fill in and rows are added (only the new rows' cells are mounted), and so
does a list that gains items or whose last item grows, at any depth (`lists`); a list of paragraphs
and lists, or a table that fits, streams as one widget of lines (`list_lines`, `table_lines`).
From the first other change on, the old widgets are removed and new ones mounted at the end, in
one screen update, opening new segments as they fill up.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from markdown_it.token import Token

from ..._textual_internals import (
    MarkdownBlock,
    MarkdownFence,
    inline_content,
    markdown_blocks,
    update_fence,
    update_paragraph,
)
from .blocks import Group, changed_cells, signature
from .list_lines import ListLines, shown_as_lines
from .lists import ListSplicing
from .part import MarkdownPart
from .safe_table import SafeTable
from .segments import Segment
from .splice import Splice
from .table_lines import TableLines, shown_as_table_lines

__all__ = ["Reconciling", "Shown"]


@dataclass(slots=True)
class Shown:
    """A top-level block that is shown: its lines, its token signature, its widget and segment, and
    the tokens its widget shows (the live tail's blocks only: frozen ones are dropped).

    `widget` is None for a block Markdown does not display (an HTML block, for instance).
    """

    start: int
    end: int
    signature: bytes
    widget: MarkdownBlock | None
    segment: Segment | None = None
    tokens: list[Token] = field(default_factory=list)


class Reconciling(ListSplicing, MarkdownPart):
    """The reconciling part of `StreamingMarkdown` (a mixin: the state is the widget's)."""

    SEGMENT_BLOCKS: ClassVar[int]
    AS_LINES: ClassVar[bool]
    _segments: list[Segment]
    _tail_shown: list[Shown]
    _stream_lock: asyncio.Lock
    _sync_time: float
    blocks_built: int

    if TYPE_CHECKING:

        def release_growing(self) -> None: ...

    async def _reconcile(
        self, tokens: list[Token], groups: list[Group], shown: list[Shown], line_base: int, *, streaming: bool = False
    ) -> list[Shown]:
        """Make the last blocks on screen (`shown`) match `groups`; return what is shown after.

        Blocks with the same first line and signature are kept as they are; a changed paragraph
        or fence is updated in place; from the first other change on, the old widgets are removed
        and new ones mounted at the end. While `streaming`, a new list of paragraphs and lists is
        shown by a `ListLines` (`list_lines`), a new table that fits the reply by a `TableLines`
        (`table_lines`); either stays while it is such a block.
        """
        started = time.perf_counter()
        signatures = [signature(tokens, group) for group in groups]
        keep = 0
        limit = min(len(shown), len(groups))
        while keep < limit and shown[keep].start == groups[keep].start and shown[keep].signature == signatures[keep]:
            keep += 1
        result = shown[:keep]
        for index in range(keep):  # a kept block's range may still grow by lines read ahead
            result[index].end = groups[index].end

        new_entries: list[Shown] = []
        splices: list[Splice] = []
        replace_from: int | None = None
        for index in range(keep, len(groups)):
            group = groups[index]
            old = shown[index] if index < len(shown) else None
            block_tokens = tokens[group.first : group.stop]
            lines_wanted = streaming and self.AS_LINES
            as_lines = lines_wanted and shown_as_lines(block_tokens)
            if replace_from is None and old is not None:
                if old.widget is not None and self._update_in_place(old, block_tokens, group, line_base, splices, as_lines):
                    result.append(Shown(group.start, group.end, signatures[index], old.widget, old.segment, block_tokens))
                    continue
            if as_lines:
                blocks: list[MarkdownBlock] = [ListLines(self, block_tokens)]
            elif lines_wanted and (table := self._table_lines(block_tokens)) is not None:
                blocks = [table]
            else:
                blocks = markdown_blocks(self, block_tokens)
            self.blocks_built += len(blocks)
            block = blocks[0] if blocks else None
            if block is not None:
                block.source_range = (group.start + line_base, group.end + line_base)
            if replace_from is None and old is not None and old.widget is None and block is None:
                result.append(Shown(group.start, group.end, signatures[index], None, old.segment, block_tokens))
                continue
            if replace_from is None:
                replace_from = index
            entry = Shown(group.start, group.end, signatures[index], block, tokens=block_tokens)
            new_entries.append(entry)
            result.append(entry)

        first_removed = len(groups) if replace_from is None else replace_from
        removed = [entry.widget for entry in shown[first_removed:] if entry.widget is not None]
        self._sync_time += time.perf_counter() - started
        if removed or new_entries or splices:
            # One screen update for the whole change: nothing shows twice or goes missing, and
            # the new blocks' composition does not cost a layout per block.
            with self.app.batch_update():
                self.release_growing()  # a block that grew before is done growing, or goes
                for splice in splices:
                    await splice.apply()
                for widget in removed:
                    await widget.remove()
                await self._mount_entries(new_entries)
        return result

    def _update_in_place(
        self, old: Shown, tokens: list[Token], group: Group, line_base: int, splices: list[Splice], as_lines: bool
    ) -> bool:
        """Show a block's new `tokens` in its widget, changing as little as it can; False if it cannot.

        A grown paragraph, heading or code fence is updated, and so is a list drawn as lines that is
        still a list of paragraphs and lists, and a table drawn as lines that still fits; in a table,
        the cells whose text changed, and new rows are added to `splices`; in any other block, a
        paragraph whose text is all that changed, or a list spliced (`lists`), unless it is to be
        drawn as lines (`as_lines`: a line of it that parsed for a moment as another block, a
        heading's underline, is past). Does what building a new block would, without building what
        it keeps.
        """
        widget = old.widget
        assert widget is not None
        token = tokens[0]
        if isinstance(widget, ListLines):
            content = widget.draw(tokens)
            if content is None:
                return False
            self.show_grown(widget, content)
        elif isinstance(widget, TableLines):
            content = widget.draw(tokens)
            if content is None or not widget.fits(self.content_size.width):
                return False  # Textual's table (which shrinks its columns, if it must) takes its place
            self.show_grown(widget, content)
        elif token.type in ("paragraph_open", "heading_open") and len(tokens) == 3:
            # A paragraph or heading: one widget showing one inline text (a heading's class is by its tag).
            if type(widget) is not self.get_block_class(token.tag if token.type == "heading_open" else token.type):
                return False
            self.show_grown(widget, update_paragraph(widget, token, tokens[1]))
        elif token.type in ("fence", "code_block") and len(tokens) == 1:
            if type(widget) is not self.get_block_class(token.type) or not isinstance(widget, MarkdownFence):
                return False
            code = update_fence(widget, token, self.app)
            if code is not None:
                self.show_grown(*code)
        elif isinstance(widget, SafeTable):
            splice = self._splice_table(widget, old.tokens, tokens)
            if splice is None:
                return False
            if splice.removed or splice.added:
                splices.append(splice)
        elif as_lines or not self._grow_block(widget, old.tokens, tokens, splices):
            return False
        widget.source_range = (group.start + line_base, group.end + line_base)
        return True

    async def _refit_tables(self) -> None:
        """The reply got narrower: a table shown as lines that no longer fits becomes Textual's table,
        which shrinks its columns and wraps its cells."""
        async with self._stream_lock:  # not while a flush changes the blocks
            for segment in self._segments:
                await self._refit_tables_in(segment)

    async def _refit_tables_in(self, segment: Segment) -> None:
        for widget in list(segment.children):
            if isinstance(widget, TableLines) and not widget.fits(self.content_size.width):
                [table] = markdown_blocks(self, widget.tokens)
                table.source_range = widget.source_range
                for entry in self._tail_shown:
                    if entry.widget is widget:
                        entry.widget = table
                with self.app.batch_update():
                    await segment.mount(table, before=widget)
                    await widget.remove()

    def _table_lines(self, tokens: list[Token]) -> TableLines | None:
        """The table `tokens` as lines, if it fits the reply (`table_lines`); else None."""
        if not shown_as_table_lines(tokens):
            return None
        table = TableLines(self, tokens)
        return table if table.fits(self.content_size.width) else None

    def _splice_table(self, widget: SafeTable, old: list[Token], new: list[Token]) -> Splice | None:
        """A table whose header is as it was: its changed cells shown, new rows to mount (`Splice`)."""
        change = changed_cells(old, new)
        if change is None:
            return None
        changed, before, after = change
        texts = [token for token in new if token.type == "inline"]
        return widget.splice(
            {index: inline_content(widget, texts[index]) for index in changed},
            [inline_content(widget, token) for token in texts[before:after]],
            after,
        )

    async def _mount_entries(self, entries: list[Shown]) -> None:
        """Mount the widgets of new blocks at the end, opening new segments as they fill up."""
        if not entries:
            return
        segment = self._segments[-1] if self._segments else None
        if segment is not None and segment.parked:
            segment = None  # its text is all it holds: new blocks start a segment of their own
        batch: list[MarkdownBlock] = []
        for entry in entries:
            if segment is None or (
                entry.widget is not None
                and len(segment.children) + len(batch) >= self.SEGMENT_BLOCKS
            ):
                if segment is not None and batch:
                    await self._mount_in(segment, batch)
                    batch = []
                segment = Segment(self)
                self._segments.append(segment)
                await self.mount(segment)
                if not segment.is_mounted:
                    return  # the app is closing: nothing more will be shown
            entry.segment = segment
            if entry.widget is not None:
                batch.append(entry.widget)
        if batch and segment is not None:
            await self._mount_in(segment, batch)

    async def _mount_in(self, segment: Segment, blocks: list[MarkdownBlock]) -> None:
        started = time.perf_counter()
        mounting = segment.mount_all(blocks)  # registers the widgets now; composes them later
        self._sync_time += time.perf_counter() - started
        await mounting
