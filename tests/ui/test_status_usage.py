"""The status bar says what each turn used and cost, and what the chat has cost so far (issue 13)."""

from __future__ import annotations

from decimal import Decimal

from tui_chat.models.catalog import card_for
from tui_chat.ui.widgets.prompt_input import PromptInput
from tui_chat.ui.widgets.status_bar import StatusBar

from .conftest import make_app
from .test_chat_screen import wait_for


async def test_each_turn_shows_its_tokens_context_and_cost_and_the_chat_adds_up() -> None:
    app = make_app()
    async with app.run_test(size=(200, 30)) as pilot:
        status = app.screen.query_one(StatusBar)
        assert status.usage == ""  # nothing is known before a reply
        conversation = app.session.conversation
        card = card_for(app.session.provider)
        for turn, text in enumerate(("first question", "second question"), start=1):
            app.screen.query_one(PromptInput).insert(text)
            await pilot.press("enter")
            await wait_for(pilot, lambda: len(conversation.history) == 2 * turn and bool(status.usage))
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
        # The demo is local: its price is known to be 0, so both the turn and the chat cost $0.
        assert card.price_input is not None and card.price_input.per_million(0) == 0
        assert app.screen.chat_cost == Decimal(0)
        assert status.usage.startswith("in ") and status.usage.endswith("$0 (chat $0)")
        assert " · ctx " in status.usage and "window unknown" not in status.usage
        assert status.usage in status.render().plain  # shown, not only kept
