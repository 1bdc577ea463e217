"""Room ahead: blank rows kept below a streaming reply, so that a new line of text fills them.

A reply streams into a log anchored at its bottom. Were the reply exactly as tall as its text,
every new line would grow the log by a row and scroll it: every row on screen moves, and the
terminal is sent the whole screen again (a layout and a full re-render per line, most of the CPU a
reply cost at model speeds). Instead, while it streams, the reply is as tall as its text rounded
up to a *step* (half the log's height, at least `MIN_STEP` rows): a new line lands in the
blank rows below the text, and nothing else on screen moves. The log grows, by a step, only when
the text reaches the end of its room.

This also reads better: the text grows down into the room as on paper, and the log moves up a
step at a time, the way a terminal pager pages, rather than every line of the screen shifting up
by one each time the model writes a line (text that moves while you read it is hard to follow).
Someone who scrolled up to read back sees nothing move at all: the room is below them.

While the text fits the log, the room never makes the reply taller than the log: a step past its
bottom would scroll the top of the text out of view, under blank rows (a reply about as tall as
the log was a row short of its text). Past the log, the room grows by steps below the text again.

The room never shrinks while the reply streams (a block that parses shorter for a moment does not
make the log jump back), but for the log's height changing: then it is cut to at most a step of
the new log (half a tall log would fill a short one with blank rows, the text scrolled out of
view above them), and to the log's height. It is released when the reply ends, however it ends: the finished reply is
exactly as tall as a plain `Markdown` of its text.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Room"]

MIN_STEP = 3
"""The fewest rows the room grows by."""
STEP_SHARE = 2
"""The room grows by the log's height over this: half the log, as a pager's half-page scroll. (A
third moved the text two thirds as far but 1.5 times as often: each step is a layout and a repaint of the
whole log, about 6% of the CPU a reply cost at 200 chunks/s.)"""


@dataclass(slots=True)
class Room:
    """The rows a streaming reply takes: its text's height rounded up to a step, never shrinking
    while the log keeps its height.

    Pure bookkeeping: `StreamingMarkdown.get_content_height` asks `height` for its text's height.
    """

    open: bool = True
    """Kept while the reply streams; False once released (the reply is as tall as its text)."""
    rows: int = 0
    """The rows the reply takes now (its text and the room below it)."""
    view_height: int = 0
    """The height of the log it was last measured in (0: not yet)."""

    @staticmethod
    def step(view_height: int) -> int:
        """How many rows the room grows by in a log showing `view_height` rows."""
        return max(MIN_STEP, -(-view_height // STEP_SHARE))

    def height(self, text_height: int, view_height: int) -> int:
        """The height for a reply whose text is `text_height` rows tall, in a log `view_height` tall."""
        if not self.open or not text_height:
            return text_height
        if view_height != self.view_height:
            self.view_height = view_height
            cut = min(self.rows, text_height + self.step(view_height) - 1)
            self.rows = self._within_view(cut, text_height)
        self.rows = self.rows_for(text_height)
        return self.rows

    def rows_for(self, text_height: int) -> int:
        """The rows the reply takes once its text is `text_height` rows tall (in the log it was last
        measured in), without taking them: the rows it has, grown by whole steps if the text is past them."""
        rows = self.rows
        if text_height > rows:
            step = self.step(self.view_height)
            rows += -(-(text_height - rows) // step) * step
        return self._within_view(rows, text_height)

    def growth(self, over: int) -> int:
        """How many rows the room grows by for its text to run `over` rows past its end."""
        return self.rows_for(self.rows + over) - self.rows

    def _within_view(self, rows: int, text_height: int) -> int:
        """`rows`, but no more than the log's height while the text fits the log: a reply taller than
        its log scrolls its top out of view, and text that fits is not hidden for blank rows."""
        if text_height <= self.view_height:
            return min(rows, self.view_height)
        return rows

    def release(self) -> None:
        """The reply ended: from now on it is as tall as its text."""
        self.open = False
        self.rows = 0
