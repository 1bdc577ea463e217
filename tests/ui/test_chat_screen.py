"""Pilot tests of the chat screen on the demo provider: type, send, stream, cancel, copy, packs, themes."""

from __future__ import annotations

from typing import Callable

from textual import events
from textual.pilot import Pilot
from textual.widgets import TextArea

from tui_chat.chunks import ReplyStatus, Role
from tui_chat.config import load_config
from tui_chat.providers.demo import compose_reply, split_tokens
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.widgets.chat_log import ChatLog
from tui_chat.ui.widgets.message import AssistantMessage, UserMessage
from tui_chat.ui.widgets.prompt_input import PromptInput
from tui_chat.ui.widgets.status_bar import StatusBar

from .conftest import SIZE, make_app, screen_text


async def wait_for(pilot: Pilot, condition: Callable[[], bool], turns: int = 3000) -> None:
    """Let the app run until `condition` holds (bounded, so a bug fails the test instead of hanging)."""
    for _ in range(turns):
        if condition():
            return
        await pilot.pause()
    raise AssertionError("condition never became true")


async def type_and_send(pilot: Pilot, text: str) -> None:
    pilot.app.query_one(PromptInput).insert(text)
    await pilot.press("enter")


def last_reply(app: TuiChatApp) -> AssistantMessage:
    return app.query_one(ChatLog).replies[-1]


async def test_send_streams_the_whole_reply_and_records_it() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(*"hello")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one(PromptInput).text == ""
        assert [m.text for m in app.query(UserMessage)] == ["hello"]
        view = last_reply(app)
        assert view.text == compose_reply("hello", 1)
        assert view.status is ReplyStatus.COMPLETE
        status = app.query_one(StatusBar)
        assert status.stats.state == "done"
        assert status.stats.tokens == len(split_tokens(view.text))
        history = app.session.conversation.history
        assert [(m.role, m.status) for m in history] == [
            (Role.USER, ReplyStatus.COMPLETE),
            (Role.ASSISTANT, ReplyStatus.COMPLETE),
        ]


async def test_shift_enter_and_ctrl_j_add_lines_instead_of_sending() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "shift+enter", "b", "ctrl+j", "c")
        assert app.query_one(PromptInput).text == "a\nb\nc"
        assert not app.query(UserMessage)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        assert [m.text for m in app.query(UserMessage)] == ["a\nb\nc"]


async def test_typing_posts_no_text_area_messages_nobody_listens_for() -> None:
    # Textual's TextArea posts Changed and SelectionChanged on every key, each dispatched to the
    # box, the screen and the app; nothing in the app handles them.
    posted: list[type] = []
    app = make_app()
    async with app.run_test(size=SIZE, message_hook=lambda message: posted.append(type(message))) as pilot:
        await pilot.press("h", "i", "left", "backspace")
        assert app.query_one(PromptInput).text == "i"
        assert PromptInput.Changed is TextArea.Changed and PromptInput.SelectionChanged is TextArea.SelectionChanged
        assert events.Key in posted  # the hook sees what is posted
        assert TextArea.Changed not in posted and TextArea.SelectionChanged not in posted


async def test_up_recalls_previous_prompts_and_down_restores_the_draft() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        for text in ("first", "second"):
            await type_and_send(pilot, text)
            await app.workers.wait_for_complete()
        prompt.insert("draft")
        await pilot.press("up")
        assert prompt.text == "second"
        await pilot.press("up")
        assert prompt.text == "first"
        await pilot.press("down", "down")
        assert prompt.text == "draft"


async def test_empty_prompt_is_not_sent() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "enter")
        await pilot.pause()
        assert not app.query(UserMessage)
        assert app.session.conversation.history == []


async def test_escape_cancels_and_keeps_the_partial_reply() -> None:
    app = make_app(hold_after_chunks=12)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hello")
        expected = "".join(split_tokens(compose_reply("hello", 1))[:12])
        await wait_for(pilot, lambda: bool(app.query(AssistantMessage)) and last_reply(app).text == expected)
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        view = last_reply(app)
        assert view.status is ReplyStatus.CANCELLED
        assert view.text == expected
        assert "cancelled" in str(view.status_line.render())
        last = app.session.conversation.history[-1]
        assert (last.content, last.status) == (expected, ReplyStatus.CANCELLED)
        assert app.query_one(StatusBar).stats.state == "cancelled"
        # The chat goes on: the next message streams normally.
        await type_and_send(pilot, "again")
        assert app.query_one(PromptInput).text == ""


async def test_provider_error_shows_inline_with_what_to_do() -> None:
    app = make_app(fail_after_chunks=5)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hello")
        await app.workers.wait_for_complete()
        await pilot.pause()
        view = last_reply(app)
        assert view.status is ReplyStatus.ERROR
        line = str(view.status_line.render())
        assert "failed on purpose" in line and "fail_after_chunks" in line and "Ctrl+R" in line
        assert view.text == "".join(split_tokens(compose_reply("hello", 1))[:5])
        assert app.query_one(StatusBar).stats.state == "error"


async def test_retry_asks_again_after_an_error() -> None:
    app = make_app(fail_after_chunks=5)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hello")
        await app.workers.wait_for_complete()
        app.session.conversation.provider.fail_after_chunks = None
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert last_reply(app).status is ReplyStatus.COMPLETE
        assert [m.content for m in app.session.conversation.history] == ["hello", compose_reply("hello", 1)]


async def test_copy_reply_and_code_block() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+t")
        assert app.clipboard == ""
        await type_and_send(pilot, "alpha beta")
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+t")
        assert app.clipboard == compose_reply("alpha beta", 1)
        await pilot.press("ctrl+b")
        assert app.clipboard.startswith("words = ['alpha', 'beta']\n")
        assert "```" not in app.clipboard


async def test_model_markup_and_escapes_render_literally_and_run_nothing() -> None:
    hostile = (
        "[bold]not bold[/] arr[i] [@click=app.quit]click me[/]\n\n"
        "osc \x1b]52;c;ZXZpbA==\x07 clear \x1b[2J c1 \x9b31m bidi \u202eevil\u202c end\n"
    )
    app = make_app(reply=hostile)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "x")
        await app.workers.wait_for_complete()
        await pilot.pause()
        view = last_reply(app)
        assert "\x1b" not in view.text and "\x9b" not in view.text and "\u202e" not in view.text
        shown = screen_text(app)
        assert "[bold]not bold[/] arr[i] [@click=app.quit]click me[/]" in shown
        assert "osc ]52;c;ZXZpbA== clear [2J c1 31m bidi evil end" in shown
        assert "\x1b" not in shown and "\u202e" not in shown
        column = next(line for line in shown.splitlines() if "click me" in line).index("click me")
        row = next(i for i, line in enumerate(shown.splitlines()) if "click me" in line)
        await pilot.click(offset=(column + 2, row))
        await pilot.pause()
        assert app.is_running and app.return_code is None


async def test_pick_pack_changes_the_system_prompt() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        before = app.session.conversation.prompt.system
        await pilot.press("ctrl+o")
        await pilot.pause()
        from tui_chat.ui.screens.pack_picker import PackPickerScreen

        picker = app.screen
        assert isinstance(picker, PackPickerScreen)
        target = next(i for i, c in enumerate(picker.values) if "storyteller" in c.path.name)
        picker.query_one("OptionList").highlighted = target
        await pilot.press("enter")
        await pilot.pause()
        prompt = app.session.conversation.prompt
        assert prompt.system != before
        assert prompt.parameters.get("temperature", 0) > 1
        assert "Storyteller" in prompt.label or "storyteller" in prompt.label.lower()
        assert prompt.label in str(app.query_one(StatusBar).render())


async def test_pick_model_from_the_providers_list() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        from tui_chat.ui.screens.model_picker import ModelPickerScreen

        picker = app.screen
        assert isinstance(picker, ModelPickerScreen)
        await wait_for(pilot, lambda: picker.values == ["demo-1"])
        assert "1 model" in screen_text(app)
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.provider.model == "demo-1"
        assert isinstance(app.screen, type(app.get_default_screen()))


async def test_switching_theme_from_the_palette_persists_it() -> None:
    app = make_app(save_settings=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"theme")
        await wait_for(pilot, lambda: "Change the current theme" in screen_text(app))
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"paper")
        await wait_for(pilot, lambda: "  tui-chat-paper " in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.theme == "tui-chat-paper")
        await app.workers.wait_for_complete()
        path = app.session.config_path
        assert load_config(path).config.theme == "tui-chat-paper"


async def test_help_lists_the_keys() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        from textual.widgets import DataTable

        table = app.screen.query_one(DataTable)
        actions = {str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert {"Send", "New line", "Stop reply", "Copy reply", "Copy code", "Retry", "Pack", "Quit"} <= actions
        await pilot.press("escape")
        assert app.screen.__class__.__name__ == "ChatScreen"


async def test_quitting_mid_stream_exits_cleanly() -> None:
    app = make_app(hold_after_chunks=5)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hello")
        await wait_for(pilot, lambda: bool(app.query(AssistantMessage)) and len(last_reply(app).text) > 0)
        await pilot.press("ctrl+q")
    assert app.return_code in (0, None)
    assert app.session.conversation.history[-1].status is ReplyStatus.CANCELLED


async def test_links_ask_before_opening_and_only_for_http() -> None:
    app = make_app(reply="[site](https://example.com/x) and [local](file:///etc/passwd)\n")
    opened: list[str] = []
    app.open_url = lambda url, **_: opened.append(url)  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "x")
        await app.workers.wait_for_complete()
        await pilot.pause()
        from textual.widgets import Markdown

        markdown = last_reply(app).query(Markdown).last()
        markdown.post_message(Markdown.LinkClicked(markdown, "file:///etc/passwd"))
        await pilot.pause()
        assert opened == [] and app.screen.__class__.__name__ == "ChatScreen"
        markdown.post_message(Markdown.LinkClicked(markdown, "https://example.com/x"))
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmScreen"
        assert opened == []
        await pilot.press("y")
        await pilot.pause()
        assert opened == ["https://example.com/x"]


async def test_broken_config_starts_on_defaults_and_says_where(tmp_path) -> None:
    from tui_chat.session import Choices, build_session
    from tui_chat.ui.app import TuiChatApp

    from .conftest import fixed_clock

    config = tmp_path / "config.toml"
    broken = 'theme = "tui-chat-paper"\n[providers.demo\nspeed = 0\n'
    config.write_text(broken)
    session = build_session(Choices(config_path=config, provider="demo", provider_options={"speed": 0}))
    app = TuiChatApp(session, clock=fixed_clock, save_settings=True, approval_arm_delay=0, tune_collector=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        shown = [str(n.message) for n in app._notifications]
        assert any(str(config) in message and "line 2" in message for message in shown), shown
        assert app.theme == "textual-dark"  # the defaults, not the broken file's theme
        app.theme = "tui-chat-dusk"  # a change the app would save...
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert any("not saved" in str(n.title) for n in app._notifications)
    assert config.read_text() == broken  # ...but a broken file is never overwritten


async def test_notices_show_provider_and_file_text_literally() -> None:
    """A notice carries text the app does not control (a provider's error, a pack file's value):
    markup in it is shown as it is and breaks nothing, from the app and from the chat screen."""
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.tell("bad [/x] and [@click=app.quit]click[/]", title="Warning")
        app.screen.notify("the [b]model[/b] said [/]")
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        assert "bad [/x] and [@click=app.quit]click[/]" in text
        assert "the [b]model[/b] said [/]" in text
        assert app.is_running
