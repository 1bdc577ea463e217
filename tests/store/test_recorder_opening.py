"""The recorder while its store is still opening (the TUI opens it on a thread): nothing waits for
it on the event loop, and everything told meanwhile reaches the real file, in order, once it opens."""

from __future__ import annotations

import asyncio
import concurrent.futures
from contextlib import aclosing
from pathlib import Path

from tests.fakes.scripted import ScriptedProvider
from tests.fixtures import replayed
from tests.tools.helpers import ScriptedApprover, args
from tui_chat.chunks import Done, FinishReason, ReplyStatus, Role, TextDelta
from tui_chat.conversation import Conversation
from tui_chat.store.history import Store, open_store
from tui_chat.store.reads import list_chats
from tui_chat.store.recorder import Recorder
from tui_chat.store.records import ToolDecision
from tui_chat.store.resume import history_messages
from tui_chat.tools import Decision
from tui_chat.tools.loop import ToolLoop
from tui_chat.tools.registry import ToolRegistry

from .test_recorder import SETTINGS, play, recorded_loop


async def test_a_whole_turn_with_tools_told_before_the_store_opens_is_saved_once_it_opens(db: Path, tmp_path: Path) -> None:
    opening: concurrent.futures.Future[Store] = concurrent.futures.Future()
    approver = ScriptedApprover(
        Decision.approve,
        lambda request: Decision.edit(request, args(expression="5*5")),
        lambda request: Decision.deny(request, "private"),
    )
    loop = recorded_loop(opening, replayed("three_tool_calls"), tmp_path, approver)  # type: ignore[arg-type]
    await play(loop, "Work it out")  # the whole turn, while the store is still opening
    assert not opening.done()
    store = open_store(db)
    opening.set_result(store)
    assert await loop.recorder.opened() is store
    await store.flush()
    [chat] = await store.list_chats()
    assert chat.id == loop.recorder.chat_id and chat.title == "Work it out"
    record = await store.load_chat(chat.id)
    assert history_messages(record) == loop.conversation.history
    user, asked, done = record.messages
    assert (user.role, user.provider, user.pack) == (Role.USER, "scripted", "tools-demo")
    assert [size for _, size in asked.chunks] == [7, 7] and asked.status is ReplyStatus.COMPLETE
    assert [c.decision for c in asked.tool_calls] == [ToolDecision.APPROVED, ToolDecision.EDITED, ToolDecision.DENIED]
    assert done.parent_id == asked.id
    await play(loop, "And again")  # what follows joins the same chat
    await store.flush()
    assert [m.role for m in (await store.load_chat(chat.id)).messages][3:] == [Role.USER, Role.ASSISTANT]
    store.close()


async def test_a_reply_streaming_when_the_store_opens_goes_on_into_it(db: Path) -> None:
    gate = asyncio.Event()  # the provider waits on it before its second chunk
    provider = ScriptedProvider([TextDelta("Half "), TextDelta("and the rest."), Done(FinishReason.STOP)], gate=gate)
    opening: concurrent.futures.Future[Store] = concurrent.futures.Future()
    recorder = Recorder(opening, lambda: SETTINGS)
    loop = ToolLoop(Conversation(provider), ToolRegistry([]), recorder=recorder)
    async with aclosing(loop.send("go on")) as turn:
        items = aiter(turn)
        assert await anext(items) == TextDelta("Half ")
        store = open_store(db)
        opening.set_result(store)
        await recorder.opened()  # handed over mid-reply
        gate.set()
        async for _ in items:
            pass
    await store.flush()
    reply = (await store.load_chat(recorder.chat_id)).messages[1]
    assert (reply.text, reply.status, [size for _, size in reply.chunks]) == ("Half and the rest.", ReplyStatus.COMPLETE, [5, 13])
    store.close()


def test_without_an_event_loop_the_recorder_waits_for_the_store(db: Path) -> None:
    """(`tui-chat ask` and `voice` may wait: they have no screen to keep going.)"""
    opening: concurrent.futures.Future[Store] = concurrent.futures.Future()
    opened: list[Store] = []

    def open_now() -> None:  # what the session's opener does once let: here, at once
        if not opened:
            opened.append(open_store(db))
            opening.set_result(opened[0])

    recorder = Recorder(opening, lambda: SETTINGS, open_now=open_now)
    recorder.user("no loop here")
    assert recorder.store is opened[0]
    recorder.close()
    store = open_store(db)
    assert [chat.title for chat in store.run(list_chats).result()] == ["no loop here"]
    store.close()
