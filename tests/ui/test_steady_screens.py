"""Screenshots that do not depend on when they are taken: the test app's text cursors never blink."""

from __future__ import annotations

from textual.widgets import Input, TextArea

from tui_chat.ui.widgets.prompt_input import PromptInput

from .conftest import SIZE, make_app
from .test_chat_screen import wait_for


async def test_the_test_apps_text_cursors_stay_shown_instead_of_blinking() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await wait_for(pilot, lambda: not prompt.cursor_blink)
        assert prompt._cursor_visible and not prompt.blink_timer._active.is_set()
        await pilot.press("ctrl+o", *"tutor", "enter")  # the pack's variables form: Inputs
        await wait_for(pilot, lambda: isinstance(app.focused, Input))
        focused = app.focused
        assert isinstance(focused, (Input, TextArea))
        await wait_for(pilot, lambda: not focused.cursor_blink)
