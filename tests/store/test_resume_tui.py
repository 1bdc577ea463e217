"""A saved chat reopened in the TUI (`tui-chat --chat ID`): the log shows it, and the model gets it."""

from __future__ import annotations

from pathlib import Path

from tui_chat.chunks import ReplyStatus, Role, ToolCall
from tui_chat.session import Choices, build_session, start_history
from tui_chat.store.history import open_store
from tui_chat.ui.app import TuiChatApp


def saved_chat(db: Path) -> str:
    store = open_store(db)
    chat = store.new_chat(provider="demo", model="demo-1")
    store.add_message(chat, Role.USER, "what is 2+2")
    reply = store.start_reply(chat)
    store.append_text(reply, "Let me work it out.")
    store.add_tool_call(reply, ToolCall("c1", "calculator", '{"expression": "2+2"}'))
    store.set_tool_result(reply, "c1", "4")
    store.finish_message(reply, ReplyStatus.COMPLETE)
    store.add_message(chat, Role.ASSISTANT, "It is fou", status=ReplyStatus.INTERRUPTED)
    store.close()
    return chat


async def test_a_reopened_chat_is_shown_and_goes_on(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    chat_id = saved_chat(data / "tui-chat" / "chats.db")
    choices = Choices(provider="demo", provider_options={"speed": 0}, chat=chat_id[:8])
    session = build_session(choices)
    start_history(session, choices, wait=False)
    assert [m.role for m in session.conversation.history] == [Role.USER, Role.ASSISTANT, Role.TOOL, Role.ASSISTANT]

    app = TuiChatApp(session, save_settings=False, tune_collector=False)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        log = app.screen.query_one("#log")
        assert [w.__class__.__name__ for w in log.children] == [
            "UserMessage", "AssistantMessage", "ToolItem", "AssistantMessage"
        ]  # fmt: skip
        tool = log.children[2]
        assert tool.final and tool.result.content == "4"
        assert [reply.text for reply in log.query("AssistantMessage")] == ["Let me work it out.", "It is fou"]
    session.close_history()
