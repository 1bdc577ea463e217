"""What narrow and wide terminals show: whole footer keys and status items (dropped by priority,
never cut mid-word), and Markdown tables as wide as their content."""

from __future__ import annotations

from typing import Any

import pytest

from textual.pilot import Pilot
from textual.widgets import Markdown
from textual.widget import Widget

from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.widgets.key_footer import KeyFooter
from tui_chat.ui.widgets.markdown.safe_table import SafeTable
from tui_chat.ui.widgets.status_bar import StatusBar

from .conftest import make_app, screen_text
from .test_chat_screen import type_and_send, wait_for
from .test_voice import voice_app, voice_on

TABLE = "| tool | kind |\n| --- | --- |\n| calculator | built-in |\n| read_file | built-in |\n"
WIDE_TABLE = "| " + " | ".join(f"column {n} with a long heading" for n in range(6)) + " |\n" + "| --- " * 6 + "|\n"
WIDE_TABLE += "| " + " | ".join(f"cell {n} holds several words of text" for n in range(6)) + " |\n"


def shown_keys(app: TuiChatApp) -> list[Any]:
    """The footer's `FooterKey`s on show (found by CSS type name: Textual keeps the class private)."""
    footer = app.screen.query_one(KeyFooter)
    return [key for key in footer.query("FooterKey") if key.display and "-command-palette" not in key.classes]


def assert_footer_keys_whole(app: TuiChatApp) -> None:
    """Every key shown ends before the command palette key and the footer's edge."""
    footer = app.screen.query_one(KeyFooter)
    palette = footer.query_one(".-command-palette", Widget)
    for key in shown_keys(app):
        assert key.region.right <= palette.region.x, (key.description, key.region, palette.region)
    assert palette.region.right <= footer.region.right


async def test_at_80_columns_the_footer_drops_whole_keys_and_keeps_quit_and_help() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: bool(shown_keys(app)))
        await pilot.pause()
        descriptions = [key.description for key in shown_keys(app)]
        assert "Quit" in descriptions and "Keys" in descriptions
        assert_footer_keys_whole(app)
        footer_line = screen_text(app).splitlines()[-1]
        for key in shown_keys(app):
            assert f"{key.key_display} {key.description}" in footer_line


@pytest.mark.parametrize("width", [100, 120])
async def test_in_voice_mode_quit_stays_in_the_footer(width: int) -> None:
    app, rig = voice_app()
    async with app.run_test(size=(width, 30)) as pilot:
        await voice_on(pilot, rig)
        await wait_for(pilot, lambda: "Talk" in [key.description for key in shown_keys(app)])
        await pilot.pause()
        assert "Quit" in [key.description for key in shown_keys(app)]
        assert_footer_keys_whole(app)
        await pilot.press("f5")


async def test_at_80_columns_the_status_bar_drops_whole_items_and_keeps_the_state() -> None:
    app = make_app(pack="storyteller", hold_after_chunks=3)
    async with app.run_test(size=(80, 24)) as pilot:
        await type_and_send(pilot, "a story please")
        status = app.query_one(StatusBar)
        await wait_for(pilot, lambda: status.stats.state == "streaming")
        shown = str(status.render())
        assert "…" not in shown
        assert len(shown) <= status.content_size.width
        assert "streaming" in shown and shown.startswith("demo · demo-1")
        await pilot.press("escape")
        await app.workers.wait_for_complete()


async def table_reply(pilot: Pilot) -> None:
    await type_and_send(pilot, "a table")
    await pilot.app.workers.wait_for_complete()
    await wait_for(pilot, lambda: bool(pilot.app.query(SafeTable)))
    await pilot.pause()


async def test_a_table_is_as_wide_as_its_content_on_a_wide_terminal() -> None:
    app = make_app(reply=TABLE)
    async with app.run_test(size=(200, 30)) as pilot:
        await table_reply(pilot)
        table = app.query_one(SafeTable)
        widest = max(len(word) for word in ("calculator", "built-in")) * 2
        assert table.region.width < widest + 12, table.region  # two columns, their padding and lines
        assert table.region.width < app.query_one(Markdown).region.width // 2
        assert "│ calculator │ built-in │" in screen_text(app)  # every cell whole, on one line


async def test_a_wide_table_is_no_wider_than_the_reply() -> None:
    app = make_app(reply=WIDE_TABLE)
    async with app.run_test(size=(80, 30)) as pilot:
        await table_reply(pilot)
        table = app.query_one(SafeTable)
        assert table.region.right <= app.query_one(Markdown).region.right
        text = screen_text(app)
        assert all(f"cell {n}" in text for n in range(6))  # the columns shrank to fit, none was cut off


def test_table_reply_at_80_columns(snap_compare) -> None:
    assert snap_compare(make_app(reply=TABLE + "\n" + WIDE_TABLE), terminal_size=(80, 30), run_before=table_reply)


def test_table_reply_at_200_columns(snap_compare) -> None:
    assert snap_compare(make_app(reply=TABLE + "\n" + WIDE_TABLE), terminal_size=(200, 30), run_before=table_reply)
