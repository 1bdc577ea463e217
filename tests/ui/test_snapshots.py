"""Snapshots of every screen and modal of the text chat, at a fixed size, clock and reply.

Update them with `python -m pytest tests/ui/test_snapshots.py --snapshot-update` after checking
the report that a failing run writes.
"""

from __future__ import annotations

from textual.pilot import Pilot

from tui_chat.providers.demo import compose_reply, split_tokens
from tui_chat.ui.widgets.chat_log import ChatLog
from tui_chat.ui.widgets.prompt_input import PromptInput

from .conftest import SIZE, make_app, screen_text
from .test_chat_screen import wait_for


async def send(pilot: Pilot, text: str) -> None:
    pilot.app.query_one(PromptInput).insert(text)
    await pilot.press("enter")


async def send_and_finish(pilot: Pilot, text: str = "How do I read a file in Python?") -> None:
    await send(pilot, text)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_empty_chat(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE)


def test_mid_stream(snap_compare) -> None:
    held = 60
    expected = "".join(split_tokens(compose_reply("Show me a list", 1))[:held])

    async def run_before(pilot: Pilot) -> None:
        await send(pilot, "Show me a list")
        log = pilot.app.query_one(ChatLog)
        await wait_for(pilot, lambda: bool(log.replies) and log.replies[-1].text == expected)
        body = log.replies[-1].body  # received is not shown: wait until the frame budget has let it all through
        await wait_for(pilot, lambda: body.shown_chars == len(expected))
        # The status line shows the count every few ticks: wait until it shows the last of it.
        await wait_for(pilot, lambda: f"streaming {len(expected):,} chars" in screen_text(pilot.app))
        await pilot.pause()

    assert snap_compare(make_app(hold_after_chunks=held), terminal_size=SIZE, run_before=run_before)


def test_finished_reply(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=send_and_finish)


def test_error_reply(snap_compare) -> None:
    assert snap_compare(make_app(fail_after_chunks=30), terminal_size=SIZE, run_before=send_and_finish)


def test_help_screen(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, press=["f1"])


def test_pack_picker(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, press=["ctrl+o"])


def test_link_confirmation(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await send_and_finish(pilot, "x")
        from textual.widgets import Markdown

        markdown = pilot.app.query(Markdown).last()
        markdown.post_message(Markdown.LinkClicked(markdown, "https://example.com/docs"))
        await pilot.pause()

    app = make_app(reply="See [the docs](https://example.com/docs).\n")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def _themed(theme: str):
    async def run_before(pilot: Pilot) -> None:
        pilot.app.theme = theme
        await send_and_finish(pilot)

    return run_before


def test_dark_theme(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_themed("tui-chat-dusk"))


def test_light_theme(snap_compare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_themed("tui-chat-paper"))
