"""The chat as a new user meets it: editing a multi-line message, sending while a reply streams,
clearing, tools on a plain start, the pickers, the keys and notices of the first minutes."""

from __future__ import annotations

from tui_chat.ui.widgets.prompt_input import PromptInput

from .conftest import SIZE, make_app
from .test_chat_screen import type_and_send


async def test_up_and_down_move_inside_a_multi_line_message_and_recall_only_at_its_ends() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await type_and_send(pilot, "sent before")
        await app.workers.wait_for_complete()
        await pilot.press(*"alpha", "ctrl+j", *"beta", "ctrl+j", *"gamma")
        draft = "alpha\nbeta\ngamma"
        await pilot.press("up")
        assert (prompt.text, prompt.cursor_location[0]) == (draft, 1)
        await pilot.press("up")
        assert (prompt.text, prompt.cursor_location[0]) == (draft, 0)
        await pilot.press("down", "down")
        assert (prompt.text, prompt.cursor_location[0]) == (draft, 2)
        await pilot.press("down")  # past the newest entry with nothing recalled: nothing changes
        assert prompt.text == draft
        prompt.move_cursor((0, 0))
        await pilot.press("up")  # on the first line: the previous message
        assert prompt.text == "sent before"
        await pilot.press("down")  # walking past the newest entry brings the draft back
        assert prompt.text == draft
