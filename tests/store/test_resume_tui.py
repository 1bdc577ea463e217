"""A saved chat reopened in the TUI (`tui-chat --chat ID`): the log shows it, and the model gets it."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.scripted import ScriptedProvider
from tests.tools.helpers import answer
from tui_chat.chunks import Message, ReplyStatus, Role, ToolCall
from tui_chat.packs import DEFAULT_PACK_ID
from tui_chat.session import Choices, build_session, start_history
from tui_chat.store.history import open_store
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.chat_list import ChatListScreen

from ..ui.conftest import screen_text
from ..ui.test_chat_screen import type_and_send, wait_for


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

    reopened = tuple(session.conversation.history)
    model = ScriptedProvider(answer("It is 6."))  # records what it is sent
    session.conversation.use_provider(model)

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

        await type_and_send(pilot, "and 3+3?")  # it goes on: the model gets the reopened chat, then this
        await wait_for(pilot, lambda: not app.screen.streaming and len(log.query("AssistantMessage")) == 3)
        await pilot.app.workers.wait_for_complete()
        [request] = model.requests
        assert request.messages == (*reopened, Message(Role.USER, "and 3+3?"))
        store = await session.recorder.opened()
        await store.flush()
        assert [chat.id for chat in await store.list_chats()] == [chat_id]  # no new chat: the same one goes on
        saved = (await store.load_chat(chat_id)).messages
        assert [(m.role, m.text) for m in saved[-2:]] == [(Role.USER, "and 3+3?"), (Role.ASSISTANT, "It is 6.")]
        assert len(saved) == 5 and saved[-2].parent_id == saved[-3].id  # (the tool result is on its call)
    session.close_history()


def chat_made_with(db: Path, provider: str, model: str) -> str:
    store = open_store(db)
    chat = store.new_chat(provider=provider, model=model, pack=DEFAULT_PACK_ID)
    store.add_message(chat, Role.USER, f"hello {provider}")
    store.add_message(chat, Role.ASSISTANT, "hi")
    store.close()
    return chat


async def test_a_reopened_chat_goes_on_with_its_provider_and_model_when_usable(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-sent")  # configured; nothing is sent in this test
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    db = data / "tui-chat" / "chats.db"
    usable = chat_made_with(db, "openai", "gpt-4o-mini")
    unusable = chat_made_with(db, "anthropic", "claude-sonnet-4")
    choices = Choices(provider_options={"speed": 0}, chat=usable[:8])  # no --provider: the chat's own
    session = build_session(choices)
    start_history(session, choices, wait=False)
    assert (session.provider_name, session.provider.model) == ("openai", "gpt-4o-mini")
    assert not session.warnings

    app = TuiChatApp(session, save_settings=False, tune_collector=False)
    async with app.run_test(size=(100, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: "openai · gpt-4o-mini" in screen_text(app))
        await pilot.press("f2")  # the chat made with anthropic, opened from the list: no key for it here
        await wait_for(pilot, lambda: isinstance(app.screen, ChatListScreen) and app.screen.rows != ())
        await pilot.press(*"anthropic")
        await wait_for(pilot, lambda: [getattr(row, "chat_id", None) for row in app.screen.rows] == [unusable])
        await pilot.press("enter")
        await wait_for(pilot, lambda: "hello anthropic" in screen_text(app))
        await pilot.app.workers.wait_for_complete()
        told = [n.message for n in app._notifications if "This chat used" in n.message]
        assert len(told) == 1 and "anthropic/claude-sonnet-4" in told[0] and "goes on with openai/gpt-4o-mini" in told[0]
        assert (session.provider_name, session.provider.model) == ("openai", "gpt-4o-mini")
        assert "openai · gpt-4o-mini" in screen_text(app)
    session.close_history()


def test_the_command_line_provider_wins_over_the_saved_one(tmp_path: Path, monkeypatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-sent")
    chat = chat_made_with(data / "tui-chat" / "chats.db", "openai", "gpt-4o-mini")
    choices = Choices(provider="demo", provider_options={"speed": 0}, chat=chat)
    session = build_session(choices)
    start_history(session, choices, wait=False)
    assert session.provider_name == "demo" and session.conversation.history
    session.close_history()
