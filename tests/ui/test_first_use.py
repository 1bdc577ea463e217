"""The chat as a new user meets it: editing a multi-line message, sending while a reply streams,
clearing, tools on a plain start, the pickers, the keys and notices of the first minutes."""

from __future__ import annotations

from tui_chat.chunks import ReplyStatus
from tui_chat.ui.screens.approval import ApprovalScreen
from tui_chat.ui.screens.confirm import ConfirmScreen
from tui_chat.ui.widgets.chat_log import ChatLog
from tui_chat.ui.widgets.message import AssistantMessage, UserMessage
from tui_chat.ui.widgets.prompt_input import PromptInput

from .conftest import SIZE, make_app, screen_text
from .test_chat_screen import last_reply, type_and_send, wait_for


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


async def test_a_message_sent_while_a_reply_streams_is_queued_and_sent_when_the_reply_ends() -> None:
    app = make_app(pack="tools-demo")
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await type_and_send(pilot, "list the files here")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))  # the reply waits on the person
        prompt.insert("and then this")
        prompt.action_submit()
        await wait_for(pilot, lambda: "Queued" in screen_text(app))
        assert prompt.text == ""
        assert [m.text for m in app.query(UserMessage)] == ["list the files here"]
        await pilot.press("y")
        await wait_for(pilot, lambda: [m.text for m in app.query(UserMessage)] == ["list the files here", "and then this"])
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert last_reply(app).status is ReplyStatus.COMPLETE
        assert "Queued" not in screen_text(app)
        assert [m.content for m in app.session.conversation.history if m.role.value == "user"][-1] == "and then this"


async def test_escape_takes_a_queued_message_back_into_the_box_before_it_stops_the_reply() -> None:
    app = make_app(hold_after_chunks=3)
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await type_and_send(pilot, "hello")
        await wait_for(pilot, lambda: bool(app.query(AssistantMessage)) and bool(last_reply(app).text))
        await type_and_send(pilot, "second")
        await wait_for(pilot, lambda: "Queued" in screen_text(app))
        assert prompt.text == ""
        await pilot.press("escape")
        await pilot.pause()
        assert prompt.text == "second"
        assert "Queued" not in screen_text(app)
        assert last_reply(app).status is ReplyStatus.STREAMING
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert last_reply(app).status is ReplyStatus.CANCELLED
        assert prompt.text == "second"
        assert [m.text for m in app.query(UserMessage)] == ["hello"]


async def test_ctrl_l_asks_before_discarding_a_chat_and_no_keeps_it() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+l")  # an empty chat: nothing to lose, nothing asked
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
        await type_and_send(pilot, "keep me")
        await app.workers.wait_for_complete()
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")
        await pilot.pause()
        assert [m.text for m in app.query(UserMessage)] == ["keep me"]
        assert len(app.session.conversation.history) == 2
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await wait_for(pilot, lambda: not app.query(UserMessage))
        assert app.session.conversation.history == []
        assert app.query_one(ChatLog).query(".welcome")



async def test_a_missing_key_is_said_at_start_in_the_status_bar_and_one_notice_with_one_hint(tmp_path, monkeypatch) -> None:
    from tui_chat.session import Choices, build_session
    from tui_chat.ui.app import TuiChatApp
    from tui_chat.ui.widgets.status_bar import StatusBar

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    session = build_session(Choices(config_path=tmp_path / "config.toml", provider="openai"))
    app = TuiChatApp(session, save_settings=False, tune_collector=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.pause()
        notices = [n for n in app._notifications if "API key" in n.message]
        assert len(notices) == 1
        assert notices[0].message.count("OPENAI_API_KEY") == 1
        assert "no API key" in str(app.query_one(StatusBar).render())


async def test_page_up_and_down_scroll_the_chat_from_the_message_box() -> None:
    app = make_app(reply_chunks=400)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "long")
        await app.workers.wait_for_complete()
        await pilot.pause()
        log = app.query_one(ChatLog)
        await wait_for(pilot, lambda: log.scroll_y == log.max_scroll_y > 0)
        await pilot.press("pageup")
        await wait_for(pilot, lambda: log.scroll_y < log.max_scroll_y)
        assert app.focused is app.query_one(PromptInput)
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: log.scroll_y == log.max_scroll_y)


async def test_textual_notices_keep_their_markup_and_ours_show_data_literally() -> None:
    app = make_app()
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        app.action_help_quit()  # what Ctrl+C shows
        await pilot.pause()
        await pilot.pause()
        text = screen_text(app)
        assert "ctrl+q" in text and "[b]" not in text


async def test_a_cancelled_reply_says_cancelled_once_in_the_status_bar() -> None:
    from tui_chat.ui.widgets.status_bar import StatusBar

    app = make_app(hold_after_chunks=3)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hello")
        await wait_for(pilot, lambda: bool(app.query(AssistantMessage)) and bool(last_reply(app).text))
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = str(app.query_one(StatusBar).render())
        assert shown.count("cancelled") == 1, shown


async def test_a_plain_start_offers_the_read_only_tools_with_approval_and_never_the_shell(tmp_path) -> None:
    app = make_app(workspace=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        offered = set(app.tool_loop.registry.names())
        assert {"calculator", "current_time", "read_file", "list_directory", "search_files"} == offered
        await type_and_send(pilot, "list the files here")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))


async def test_question_mark_opens_help_from_an_empty_box_and_is_typed_into_a_message() -> None:
    from tui_chat.ui.screens.help import HelpScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        prompt = app.query_one(PromptInput)
        await pilot.press(*"why", "question_mark")
        assert prompt.text == "why?"
        assert not isinstance(app.screen, HelpScreen)
        prompt.clear()
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        assert prompt.text == ""
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        assert app.focused is prompt


async def test_the_tokens_per_second_leave_out_the_time_a_tool_call_waits_for_approval(tmp_path) -> None:
    import re

    from tui_chat.providers.demo import split_tokens
    from tui_chat.session import Choices, build_session
    from tui_chat.ui.app import TuiChatApp
    from tui_chat.ui.widgets.status_bar import StatusBar

    now = [1000.0]
    before_the_tool = len(split_tokens("Let me use the `list_directory` tool for that.\n"))
    options = {"speed": 0, "hold_after_chunks": before_the_tool + 3}  # the (longer) answer after the tool holds
    session = build_session(Choices(provider="demo", pack="tools-demo", provider_options=options, workspace=str(tmp_path)))
    app = TuiChatApp(session, clock=lambda: now[0], save_settings=False, approval_arm_delay=0, tune_collector=False)
    async with app.run_test(size=SIZE) as pilot:
        status = app.query_one(StatusBar)
        await type_and_send(pilot, "list the files here")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        now[0] += 100.0  # the person thinks it over
        await pilot.press("y")
        await wait_for(pilot, lambda: status.stats.tokens == 2 * before_the_tool + 3)
        now[0] += 1.0  # a second of streaming
        shown = str(status.render())
        rate = re.search(r"(\d+) tok/s", shown)
        assert rate is not None, shown
        assert int(rate.group(1)) == status.stats.tokens  # tokens in one second, not in 101
        await pilot.press("escape")
        await app.workers.wait_for_complete()
