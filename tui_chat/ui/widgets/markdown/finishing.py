"""Finishing a reply: the rest of its text shown exactly as `Markdown(full_text)` shows it.

Only the tail is parsed in full (off the loop): the blocks before it are final. The one thing that
changes a final block is a link reference defined elsewhere in the reply; those are looked for
(only in a text holding "]:") and the segments built without them are rebuilt.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from markdown_it.token import Token

from ..._textual_internals import set_markdown_source
from .blocks import Group, line_offsets, link_references, new_parser, top_level_groups
from .pacing import PendingText
from .part import MarkdownPart
from .segments import Segment

if TYPE_CHECKING:
    from .reconcile import Shown

__all__ = ["Finishing"]


class Finishing(MarkdownPart):
    """The finishing part of `StreamingMarkdown` (a mixin: the state is the widget's)."""

    _stream_lock: asyncio.Lock
    _built_final: bool
    _drained: asyncio.Event
    _catching_up: bool
    _backlog: str
    _pending: PendingText
    _references: dict[str, object]
    _segments: list[Segment]
    _tail: str
    _tail_line: int
    _tail_shown: list[Shown]
    parsed_chars: int

    if TYPE_CHECKING:

        @property
        def source(self) -> str: ...

        async def _park_backlog(self) -> None: ...

        async def _end_catch_up(self) -> None: ...

        async def _reconcile(
            self, tokens: list[Token], groups: list[Group], shown: list[Shown], line_base: int
        ) -> list[Shown]: ...

        def schedule_sweep(self) -> None: ...

        def release_room(self) -> None: ...

    async def _build_final(self) -> None:
        """Show the rest of the text as a plain `Markdown` of the whole reply would show it.

        Only the tail is parsed: the blocks before it are final. The one thing that changes a
        final block is a link reference defined elsewhere in the reply; those are looked for
        (off the loop, and only in a text holding "]:") and any segment built without them is
        rebuilt (parked ones are built with them when they come into view).
        """
        async with self._stream_lock:
            if self._built_final:
                return
            self._built_final = True
            try:
                await self._show_final()
            finally:
                self.release_room()  # however it ends (Esc, an error): the room must not outlive the reply
        self.schedule_sweep()

    async def _show_final(self) -> None:
        """`_build_final`'s work, under its lock: the tail parsed in full and shown, every block final."""
        self._drained.set()
        if self._backlog:
            await self._park_backlog()
        if self._catching_up:
            await self._end_catch_up()
        if self._pending:  # finish() from this widget's own queue, or before mount
            self._tail += self._pending.take(self._pending.chars)
        text = self.source
        tail = self._tail
        loop = asyncio.get_running_loop()
        self._references = await loop.run_in_executor(None, link_references, text)
        self.parsed_chars += len(tail)
        # Parsed off the loop (as Markdown.update parses), with a parser of its own.
        tokens = await loop.run_in_executor(None, _parse_in_full, tail, dict(self._references))
        self._tail_shown = await self._reconcile(tokens, top_level_groups(tokens), self._tail_shown, self._tail_line)
        set_markdown_source(self, text)
        # Every block is final now: give the segments the text of the tail's blocks, so that
        # they can be parked too.
        shown = self._tail_shown
        if shown:
            lines = [0] + [entry.start for entry in shown[1:]]
            starts = line_offsets(tail, lines)
            for entry, line, start, end in zip(shown, lines, starts, starts[1:] + [len(tail)]):
                segment = entry.segment
                if segment is not None:
                    if segment.first_line < 0:
                        segment.first_line = self._tail_line + line
                    segment.texts.append(tail[start:end])
        self._tail_shown = []
        self._tail = ""
        if self._references:
            for segment in self._segments:
                if not segment.parked and segment.texts:
                    await segment.rebuild()


def _parse_in_full(text: str, references: dict[str, object]) -> list[Token]:
    """`text` parsed in full with `references` known (for a thread: a parser of its own)."""
    return new_parser().parse(text, {"references": references})
