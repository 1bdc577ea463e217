"""Export and import: the JSON format round-trips a chat exactly; the Markdown reads as a document."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from tui_chat.chunks import OpaqueBlock, ReplyStatus, Role, ToolCall, Usage
from tui_chat.store.exchange import (
    chat_from_json,
    chat_to_markdown,
    export_chat,
    import_chat,
)
from tui_chat.store.export_format import SCHEMA
from tui_chat.store.history import Store, open_store
from tui_chat.store.records import ToolDecision
from tui_chat.store.schema import StoreError

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _rich_chat(store: Store) -> str:
    chat = store.new_chat(provider="anthropic", model="claude", pack="coder", prompt="review", variables={"lang": "Go"})
    question = store.add_message(chat, Role.USER, "Look at ```this``` file", prompt="review", variables={"lang": "Go"})
    store.attach(question, b"package main\n", name="main.go", mime="text/x-go")
    store.attach(question, b"\x89PNG", name="shot.png", mime="image/png")
    reply = store.start_reply(chat, provider="anthropic", model="claude")
    store.append_text(reply, "## Plan\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    store.add_tool_call(reply, ToolCall("t1", "read_file", '{"path":"main.go"}'))
    store.add_tool_call(reply, ToolCall("t2", "run_shell", '{"cmd":"make"}'))
    store.decide_tool_call(reply, "t1", ToolDecision.EDITED, edited_arguments='{"path":"./main.go"}')
    store.decide_tool_call(reply, "t2", ToolDecision.DENIED, reason="not now")
    store.set_tool_result(reply, "t1", "package main")
    store.finish_message(reply, ReplyStatus.CANCELLED, usage=Usage(10, 5), cost_usd=0.5,
                         opaque=[OpaqueBlock("anthropic", "thinking", '{"t":1}')])  # fmt: skip
    store.add_message(chat, Role.TOOL, "package main", tool_call_id="t1")
    spoken = store.add_message(chat, Role.USER, "wait")
    store.mark_voice(spoken, started_ms=0, ended_ms=400, barge_in=True)
    failed = store.start_reply(chat)
    store.finish_message(failed, ReplyStatus.ERROR, error="overloaded")
    return chat


async def test_export_then_import_gives_the_same_chat(tmp_path: Path) -> None:
    source = open_store(tmp_path / "a.db")
    target = open_store(tmp_path / "b.db")
    try:
        chat = _rich_chat(source)
        exported = await source.query(export_chat, chat)
        jsonschema.validate(exported, SCHEMA)  # the real validator agrees with the published schema
        text = json.dumps(exported, indent=2)
        record, blobs = chat_from_json(text, "chat.json")
        assert await target.query(import_chat, record, blobs) == chat
        assert await target.load_chat(chat) == await source.load_chat(chat)
        assert await target.query(export_chat, chat) == exported
        question = exported["messages"][0]
        assert (question["prompt"], question["variables"]) == ("review", {"lang": "Go"})
        assert (exported["messages"][1]["prompt"], exported["messages"][1]["variables"]) == (None, None)
        assert [h.message_id for h in await target.search("plan")] == [m.id for m in record.messages if "Plan" in m.text]
        with pytest.raises(StoreError, match="already in the history"):
            await target.query(import_chat, record, blobs)
    finally:
        source.close()
        target.close()


async def test_an_export_written_before_messages_kept_their_prompt_still_imports(store: Store) -> None:
    source = _rich_chat(store)
    exported = await store.query(export_chat, source)
    store.delete_chat(source)
    for message in exported["messages"]:
        del message["prompt"], message["variables"]

    record, blobs = chat_from_json(json.dumps(exported), "old.json")
    await store.query(import_chat, record, blobs)

    assert [(m.prompt, m.variables) for m in (await store.load_chat(source)).messages] == [(None, None)] * 5


def test_the_published_schema_is_the_one_import_checks() -> None:
    assert json.loads((DOCS / "chat-export.schema.json").read_text()) == SCHEMA
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert "chat-export.schema.json" in (DOCS / "chat-export.md").read_text()


def test_a_file_that_is_not_an_export_is_refused_naming_the_file_and_the_path() -> None:
    with pytest.raises(StoreError, match=r"^x\.json: not JSON"):
        chat_from_json("{", "x.json")
    good = {"format": "tui-chat.chat", "version": 1, "chat": {}, "messages": [], "attachments": {}}
    with pytest.raises(StoreError, match=r"x\.json: not a tui-chat chat export: \$\.chat\.id: .*required"):
        chat_from_json(json.dumps(good), "x.json")
    with pytest.raises(StoreError, match=r"\$\.version"):
        chat_from_json(json.dumps({**good, "version": 99}), "x.json")


async def test_an_imported_file_is_cleaned_of_terminal_controls_and_attachments_checked(store: Store) -> None:
    chat = store.new_chat(title="t")
    user = store.add_message(chat, Role.USER, "hi")
    store.attach(user, b"data", name="f.txt", mime="text/plain")
    exported = await store.query(export_chat, chat)
    exported["chat"]["title"] = "evil\x1b]52;c;bad\x07 title\u202e"
    exported["messages"][0]["text"] = "red \x1b[31mtext\x1b[0m"
    record, _blobs = chat_from_json(json.dumps(exported), "x.json")
    assert record.info.title == "evil]52;c;bad title"
    assert record.messages[0].text == "red [31mtext[0m"
    sha = next(iter(exported["attachments"]))
    exported["attachments"][sha] = "b3RoZXI="  # other bytes under the same hash
    with pytest.raises(StoreError, match="does not match its sha256"):
        chat_from_json(json.dumps(exported), "x.json")


async def test_the_markdown_export_reads_as_a_document(store: Store) -> None:
    chat = _rich_chat(store)
    text = chat_to_markdown(await store.load_chat(chat))
    assert text.startswith("# Look at ```this``` file\n\n*anthropic / claude · pack coder · started ")
    assert "## You\n\nLook at ```this``` file\n" in text
    assert "## Assistant (claude) — cancelled\n\n#### Plan\n\n| a | b |\n|---|---|\n| 1 | 2 |\n" in text
    assert '**Tool call** `read_file` — approved with edited arguments\n\n```json\n{"path":"./main.go"}\n```' in text
    assert "**Tool call** `run_shell` — denied: not now" in text
    assert "- Attachment: `shot.png` (image/png, 4 bytes" in text
    assert "## Assistant — error\n\n> **Error:** overloaded" in text
    assert "<sub>10 tokens in, 5 out, $0.5000</sub>" in text


async def test_a_replys_own_headings_sit_below_the_turn_headings_and_code_is_left_as_it_is(store: Store) -> None:
    chat = store.new_chat()
    store.add_message(chat, Role.USER, "# My notes\nplease")
    reply = store.start_reply(chat)
    store.append_text(reply, "# Title\n## Part\n   ### Indented\n###### Deepest\n#hashtag\n"
                             "```sh\n# a comment, not a heading\n```\n~~~\n## still code\n~~~\n    # indented code\n## After")
    store.finish_message(reply, ReplyStatus.COMPLETE)
    text = chat_to_markdown(await store.load_chat(chat))
    body = text.split("## Assistant\n\n", 1)[1]
    assert body.splitlines()[:5] == ["### Title", "#### Part", "   ##### Indented", "###### Deepest", "#hashtag"]
    assert "```sh\n# a comment, not a heading\n```\n~~~\n## still code\n~~~\n    # indented code\n#### After\n" in body
    assert "## You\n\n### My notes\nplease\n" in text
    assert [line for line in text.splitlines() if line.startswith(("# ", "## "))] == [
        "# # My notes", "## You", "## Assistant", "# a comment, not a heading", "## still code"  # (the last two: code)
    ]


async def test_a_retried_reply_is_marked_as_replacing_the_one_it_replaced(store: Store) -> None:
    chat = store.new_chat()
    question = store.add_message(chat, Role.USER, "a poem")
    first = store.add_message(chat, Role.ASSISTANT, "roses", parent_id=question)
    second = store.add_message(chat, Role.ASSISTANT, "violets", parent_id=question)
    store.add_message(chat, Role.USER, "thanks", parent_id=second)
    text = chat_to_markdown(await store.load_chat(chat))
    assert first != second
    first_part, second_part = text.split("roses")[0], text.split("roses")[1].split("violets")[0]
    assert "## Assistant\n\n*Version 1 of 2 of this reply: replaced by a later version (a retry).*\n\n" in first_part
    assert "## Assistant\n\n*Version 2 of 2 of this reply: replaces the earlier version.*\n\n" in second_part
    assert "Version" not in text.split("violets")[1]  # the follow-up is no version of anything
