"""The whole tool flow in the app, offline: the demo model asks, the modal decides, the loop goes on."""

from __future__ import annotations

from pathlib import Path

from tui_chat.chunks import ReplyStatus, Role
from tui_chat.tools.loop import ToolStatus
from tui_chat.ui.screens.approval import ApprovalScreen
from tui_chat.ui.widgets.chat_log import ChatLog
from tui_chat.ui.widgets.tool_item import ToolItem

from .conftest import SIZE, make_app, screen_text
from .test_chat_screen import type_and_send, wait_for


def tool_messages(app) -> list:
    return [m for m in app.session.conversation.history if m.role is Role.TOOL]


async def test_approved_call_runs_and_the_model_answers_with_its_result(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("x")
    app = make_app(pack="tools-demo", workspace=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "list the files here")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        assert "list_directory" in screen_text(app)
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        item = app.query_one(ToolItem)
        assert item.status is ToolStatus.DONE
        replies = app.query_one(ChatLog).replies
        assert "notes.md" in replies[-1].text
        assert replies[-1].status is ReplyStatus.COMPLETE
        assert [m.is_error for m in tool_messages(app)] == [False]


async def test_denied_call_sends_the_reason_to_the_model(tmp_path: Path) -> None:
    app = make_app(pack="tools-demo", workspace=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "list the files here")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("n", *"private", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one(ToolItem).status is ToolStatus.DENIED
        [result] = tool_messages(app)
        assert result.is_error and result.content == "denied by user: private"


async def test_auto_approved_tool_needs_no_modal() -> None:
    app = make_app(pack="tools-demo")
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "calculate 17*23")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one(ToolItem).status is ToolStatus.DONE
        assert "391" in app.query_one(ChatLog).replies[-1].text


async def test_escape_while_asking_stops_the_turn_and_runs_nothing(tmp_path: Path) -> None:
    app = make_app(pack="tools-demo", workspace=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "list the files here")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        chat = app.screen_stack[0]
        chat.action_cancel()  # what Esc does on the chat screen (Esc in the modal denies the call)
        await wait_for(pilot, lambda: not chat.streaming and not isinstance(app.screen, ApprovalScreen))
        await pilot.pause()
        assert not isinstance(app.screen, ApprovalScreen)
        assert app.query_one(ToolItem).status is not ToolStatus.DONE
        [result] = tool_messages(app)
        assert result.is_error and "cancelled" in result.content


async def test_quitting_while_the_modal_is_open_runs_nothing(tmp_path: Path) -> None:
    app = make_app(pack="tools-demo", workspace=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "list the files here")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("ctrl+q")
    assert all(m.is_error for m in tool_messages(app))


async def test_always_allows_the_tool_for_the_rest_of_the_chat(tmp_path: Path) -> None:
    app = make_app(pack="tools-demo", workspace=str(tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "list the files here")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("a")
        await app.workers.wait_for_complete()
        await type_and_send(pilot, "list the files here")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert [item.status for item in app.query(ToolItem)] == [ToolStatus.DONE, ToolStatus.DONE]
        assert [m.is_error for m in tool_messages(app)] == [False, False]
