"""The Store API on a real file: a chat saved as it happens, read back whole, searched, deleted."""

from __future__ import annotations

import concurrent.futures
import sqlite3
from pathlib import Path

import pytest

from tui_chat.chunks import OpaqueBlock, ReplyStatus, Role, ToolCall, Usage
from tui_chat.store import database, reads
from tui_chat.store.history import Store, open_store
from tui_chat.store.records import (
    AttachmentRef,
    ToolCallRecord,
    ToolDecision,
    VoiceTurn,
)


async def test_everything_a_chat_shows_is_saved_and_read_back(store: Store) -> None:
    chat = store.new_chat(provider="openai", model="gpt-4o", pack="coder", prompt="review", variables={"lang": "Go"})
    question = store.add_message(chat, Role.USER, "\n  Review this function please\nfunc f() {}", pack="coder")
    reply = store.start_reply(chat, provider="openai", model="gpt-4o", pack="coder")
    for delta in ("Let me ", "read it."):
        store.append_text(reply, delta)
    for call in (ToolCall("c1", "read_file", '{"path": "f.go"}'), ToolCall("c2", "run_shell", '{"cmd": "rm -rf /"}'),
                 ToolCall("c3", "write_file", '{"path": "a"}')):  # fmt: skip
        store.add_tool_call(reply, call)
    store.decide_tool_call(reply, "c1", ToolDecision.APPROVED)
    store.decide_tool_call(reply, "c2", ToolDecision.DENIED, reason="never that")
    store.decide_tool_call(reply, "c3", ToolDecision.EDITED, edited_arguments='{"path": "b"}')
    store.set_tool_result(reply, "c1", "func f() {}")
    store.set_tool_result(reply, "c3", "no such folder", is_error=True)
    thinking = OpaqueBlock("anthropic", "thinking", '{"type": "thinking", "signature": "x"}')
    store.finish_message(reply, ReplyStatus.COMPLETE, usage=Usage(120, 30), cost_usd=0.0021, opaque=[thinking])
    tool = store.add_message(chat, Role.TOOL, "func f() {}", tool_call_id="c1")
    failed = store.start_reply(chat, provider="openai", model="gpt-4o")
    store.append_text(failed, "It looks")
    store.finish_message(failed, ReplyStatus.ERROR, error="HTTP 500: server error")
    spoken = store.add_message(chat, Role.USER, "stop, that's enough")
    store.mark_voice(spoken, started_ms=1200, ended_ms=2300, barge_in=True)

    record = await store.load_chat(chat)
    info = record.info
    assert (info.title, info.provider, info.model, info.pack, info.prompt, dict(info.variables), info.message_count) == (
        "Review this function please", "openai", "gpt-4o", "coder", "review", {"lang": "Go"}, 5,
    )
    messages = record.messages
    assert [m.id for m in messages] == [question, reply, tool, failed, spoken]
    assert [m.parent_id for m in messages] == [None, question, reply, tool, failed], "each follows the one before"
    assert messages[1].text == "Let me read it."
    assert (messages[1].status, messages[1].usage, messages[1].cost_usd, messages[1].opaque) == (
        ReplyStatus.COMPLETE, Usage(120, 30), 0.0021, (thinking,),
    )
    assert messages[1].tool_calls == (
        ToolCallRecord("c1", "read_file", '{"path": "f.go"}', ToolDecision.APPROVED, result="func f() {}"),
        ToolCallRecord("c2", "run_shell", '{"cmd": "rm -rf /"}', ToolDecision.DENIED, reason="never that"),
        ToolCallRecord("c3", "write_file", '{"path": "a"}', ToolDecision.EDITED, edited_arguments='{"path": "b"}',
                       result="no such folder", result_is_error=True),
    )  # fmt: skip
    assert (messages[2].role, messages[2].tool_call_id) == (Role.TOOL, "c1")
    assert (messages[3].text, messages[3].status, messages[3].error) == ("It looks", ReplyStatus.ERROR, "HTTP 500: server error")
    assert messages[4].voice == VoiceTurn(1200, 2300, barge_in=True)
    assert (messages[1].provider, messages[1].model, messages[1].pack) == ("openai", "gpt-4o", "coder")


async def test_the_list_is_newest_first_with_sizes_and_a_limit(store: Store) -> None:
    chats = []
    for n in range(3):
        chats.append(store.new_chat(title=f"chat {n}"))
        for _ in range(n + 1):
            store.add_message(chats[-1], Role.USER, "hi")
    store.add_message(chats[0], Role.USER, "chat 0 again")  # now the most recently updated
    listed = await store.list_chats()
    assert [(c.title, c.message_count) for c in listed] == [("chat 0", 2), ("chat 2", 3), ("chat 1", 2)]
    assert [c.title for c in await store.list_chats(limit=2)] == ["chat 0", "chat 2"]
    store.update_chat(chats[1], title="renamed")
    assert "renamed" in [c.title for c in await store.list_chats()]


async def test_an_attachment_is_stored_once_and_goes_with_the_last_chat_using_it(store: Store) -> None:
    image = b"\x89PNG fake image bytes"
    chats = [store.new_chat(), store.new_chat()]
    users = [store.add_message(chat, Role.USER, "look") for chat in chats]
    shas = [store.attach(user, image, name=f"shot{n}.png", mime="image/png") for n, user in enumerate(users)]
    assert shas[0] == shas[1]
    blobs = lambda conn: conn.execute("SELECT count(*) FROM attachments").fetchone()[0]
    assert await store.query(blobs) == 1
    assert (await store.load_chat(chats[1])).messages[0].attachments == (
        AttachmentRef(shas[0], "shot1.png", "image/png", len(image)),
    )
    store.delete_chat(chats[0])
    assert await store.query(blobs) == 1, "still used by the other chat"
    store.delete_chat(chats[1])
    assert await store.query(blobs) == 0
    assert await store.list_chats() == []


async def test_search_finds_every_word_newest_first_with_the_matching_lines(store: Store) -> None:
    old = store.new_chat(title="old")
    store.add_message(old, Role.USER, "intro\nThe Quick brown fox\noutro")
    new = store.new_chat(title="new")
    reply = store.start_reply(new)
    store.append_text(reply, "nothing here\n")
    store.append_text(reply, "a quick fox jumps\nand a brown dog")
    store.finish_message(reply, ReplyStatus.COMPLETE)
    hits = await store.search("quick fox")
    assert [(h.chat_title, h.role, h.lines) for h in hits] == [
        ("new", Role.ASSISTANT, ("a quick fox jumps",)),
        ("old", Role.USER, ("The Quick brown fox",)),
    ]
    assert await store.search('fox" AND (NOT') == await store.search("fox and not"), "typed text is never FTS syntax"
    assert await store.search("   ") == []
    store.delete_chat(old)
    assert [h.chat_title for h in await store.search("fox")] == ["new"]


async def test_search_answers_the_same_whatever_the_order_or_rarity_of_the_words(store: Store) -> None:
    chat = store.new_chat(title="words")
    for n in range(600):  # "common" in all, "both" in every other (both past the rarity probe's cap), "rare" in two
        text = f"common line {n}" + ("\nrare one" if n in (4, 30) else "") + ("\nboth" if n % 2 else "")
        store.add_message(chat, Role.USER, text)
    rare = [("common line 30", "rare one"), ("common line 4", "rare one")]
    for query in ("rare common", "common rare", "COMMON Rare common"):
        assert [h.lines for h in await store.search(query)] == rare, query
    newest_odd = [(f"common line {n}", "both") for n in range(599, 499, -2)]
    for query in ("common both", "both common"):
        assert [h.lines for h in await store.search(query)] == newest_odd, query
    assert [h.message_id for h in await store.search("both")] == [h.message_id for h in await store.search("common both")]
    assert await store.search("rare both") == [], "two words that never meet"
    assert await store.search("common nowhere") == [], "a word no message holds"
    assert [h.lines for h in await store.search("rare __ common")] == rare, "underscores alone are no word"


async def test_a_failing_change_is_reported_and_the_rest_of_its_batch_is_kept(store: Store) -> None:
    notices: list[str] = []
    store.on_notice = notices.append
    chat = store.new_chat()
    store.add_message(chat, Role.USER, "first")
    store.add_message("no-such-chat", Role.USER, "orphan")  # breaks the foreign key
    store.add_message(chat, Role.USER, "second")
    record = await store.load_chat(chat)
    assert [m.text for m in record.messages] == ["first", "second"]
    assert len(notices) == 1 and "could not be saved" in notices[0]
    assert store.saved


async def test_a_change_failing_with_a_bug_is_reported_and_saving_goes_on(store: Store) -> None:
    """Not only SQLite's errors: a change that raises anything (here a reply's timings that cannot be
    worked out) is dropped and reported, and the writer thread goes on with the rest."""
    notices: list[str] = []
    store.on_notice = notices.append
    chat = store.new_chat()
    reply = store.start_reply(chat)
    store.append_text(reply, "kept")
    store.finish_message(reply, ReplyStatus.COMPLETE, chunks=lambda: str(1 / 0))
    store.add_message(chat, Role.USER, "after it")
    record = store.run(reads.load_chat, chat).result(timeout=30)  # (with the thread dead it never comes)
    assert [(m.text, m.status) for m in record.messages] == [("kept", ReplyStatus.STREAMING), ("after it", ReplyStatus.COMPLETE)]
    assert len(notices) == 1 and "could not be saved" in notices[0] and "ZeroDivisionError" in notices[0]
    assert store.saved


async def test_closing_marks_an_unfinished_reply_interrupted_but_another_live_process_reply_is_left(db: Path) -> None:
    writer = open_store(db)
    chat = writer.new_chat()
    reply = writer.start_reply(chat)
    writer.append_text(reply, "half a rep")
    await writer.flush()
    reader = open_store(db)  # a second store on the file while the first one is still streaming
    try:
        assert (await reader.load_chat(chat)).messages[0].status is ReplyStatus.STREAMING
    finally:
        reader.close()
    writer.close()
    again = open_store(db)
    try:
        kept = (await again.load_chat(chat)).messages[0]
        assert (kept.text, kept.status) == ("half a rep", ReplyStatus.INTERRUPTED)
    finally:
        again.close()


async def test_writes_wait_out_another_process_holding_the_file_and_none_is_dropped(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(database, "BUSY_TIMEOUT", 0.05)  # so the writer gives up, and tries again, many times
    store = open_store(db)
    other = sqlite3.connect(db, isolation_level=None)
    try:
        chat = store.new_chat()
        other.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
        store.add_message(chat, Role.USER, "written while the file was held")
        waiting = store.run(reads.list_chats)
        with pytest.raises(concurrent.futures.TimeoutError):
            waiting.result(timeout=0.5)  # the read waits behind the write, which waits for the file
        other.execute("COMMIT")
        assert [c.message_count for c in waiting.result(timeout=30)] == [1]
        assert [m.text for m in (await store.load_chat(chat)).messages] == ["written while the file was held"]
    finally:
        other.close()
        store.close()


async def test_text_another_program_wrote_is_read_back_cleaned_of_controls_and_bad_bytes(db: Path) -> None:
    """Every TEXT value is cleaned where it leaves the file (ASCII and not, controls, bidi, bytes that are no UTF-8)."""
    open_store(db).close()
    controls = "".join(map(chr, [*range(0x20), 0x7F])) + "".join(map(chr, range(0x80, 0xA0)))
    texts = {
        "ascii": f"plain {controls} end\nline two\ttab",
        "accents": f"café {controls}\u202etxt.exe\u2066 naïve\u200f",
    }
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("INSERT INTO chats (id, title, created_at, updated_at) VALUES ('c', 'ti\x1b[31mtle', 'now', 'now')")
    for message_id, text in texts.items():
        other.execute(
            "INSERT INTO messages (id, chat_id, role, text, created_at) VALUES (?, 'c', 'user', ?, 'now')",
            (message_id, text),
        )
    other.execute(  # bytes that are not UTF-8 (a lone surrogate, a cut sequence), stored as TEXT
        "INSERT INTO messages (id, chat_id, role, text, created_at)"
        " VALUES ('bytes', 'c', 'user', CAST(? AS TEXT), 'now')",
        (b"a\xed\xa0\x80b\xc3 \x1b[2Jc",),
    )
    other.close()
    store = open_store(db)
    try:
        chat = await store.load_chat("c")
    finally:
        store.close()
    assert chat.info.title == "ti[31mtle"
    assert [m.text for m in chat.messages] == [
        "plain \t\n end\nline two\ttab",  # (tab and newline are kept)
        "café \t\ntxt.exe naïve",
        "a\ufffd\ufffd\ufffdb\ufffd [2Jc",
    ]
