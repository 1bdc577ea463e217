"""A streamed list spliced at any depth (`markdown/lists.py`) on a `RedrawsOnlyChanges` screen: rows
kept, items that grow gaining blocks in their column, nested lists gaining items; each frame, a
terminal rebuilt from the updates the app writes shows what a full render does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from tui_chat.ui import _textual_frames as frames
from tui_chat.ui.widgets.markdown.streaming import StreamingMarkdown

from .test_markdown_splicing import NESTED
from .test_textual_internals import running_with_terminal


class ReplyScreen(frames.RedrawsOnlyChanges, Screen[None]):
    """A log holding a streamed reply, and a line under it."""

    DEFAULT_CSS = "ReplyScreen VerticalScroll { height: 10; }"

    def __init__(self) -> None:
        super().__init__()
        self.reply = StreamingMarkdown()

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield self.reply
        yield Static("under the log")


async def test_nested_lists_streamed_in_show_on_the_terminal_what_a_full_render_does() -> None:
    screen = ReplyScreen()
    async with running_with_terminal(screen) as (app, pilot, terminal):
        pieces = [piece for piece in NESTED.replace("\n", "\n\0").replace(" ", " \0").split("\0") if piece]
        for piece in pieces:
            screen.reply.append(piece)
            await screen.reply.wait_flushed()
            await screen.wait_for_refresh()
            await pilot.pause()
            assert terminal.matches_a_full_render(), repr(piece)
        await screen.reply.finish()
        await screen.wait_for_refresh()
        await pilot.pause()
        assert terminal.matches_a_full_render()
