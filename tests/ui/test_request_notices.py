"""The chat screen tells what was done to a request (a `Notice`) and refuses a message too long for the window."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.scripted import ScriptedProvider
from tui_chat.chunks import Done, Notice, TextDelta
from tui_chat.session import Choices, build_session
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.widgets.message import UserMessage
from tui_chat.ui.widgets.prompt_input import PromptInput

from .conftest import SIZE, fixed_clock, screen_text
from .test_chat_screen import type_and_send, wait_for


def _app(config: Path | None = None) -> TuiChatApp:
    session = build_session(Choices(config_path=config, provider="demo", provider_options={"speed": 0}))
    return TuiChatApp(session, clock=fixed_clock, save_settings=False, approval_arm_delay=0, tune_collector=False)


async def test_each_notice_of_a_reply_is_shown_once_and_literally() -> None:
    app = _app()
    notices = ["gpt-5-mini does not take temperature [b]x[/b]", "tools left out: script-1 takes none"]
    provider = ScriptedProvider([*(Notice(text) for text in notices), TextDelta("hi"), Done()])
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.session.conversation.use_provider(provider)
        await type_and_send(pilot, "hello")
        await app.workers.wait_for_complete()
        await wait_for(pilot, lambda: len(app._notifications) == 2)
        assert [notification.message for notification in app._notifications] == notices
        text = screen_text(app)
        assert all(notice in text for notice in notices)


async def test_a_message_too_long_for_the_window_stays_in_the_box_with_what_to_do(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[models."demo-1"]\ncontext_window = 50\n', encoding="utf-8")
    app = _app(config)
    too_long = "word " * 60  # 300 characters: about 75 tokens of 50
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await type_and_send(pilot, too_long)
        await wait_for(pilot, lambda: bool(app._notifications))
        [notification] = app._notifications
        assert "would not fit demo-1's context window" in notification.message
        assert "Ctrl+L" in notification.message and "Ctrl+N" in notification.message
        assert app.query_one(PromptInput).text == too_long
        assert list(app.query(UserMessage)) == [] and app.session.conversation.history == []
