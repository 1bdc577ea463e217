"""`tui-chat history ...` on a real database, through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tui_chat.chunks import ReplyStatus, Role
from tui_chat.cli import main
from tui_chat.store.history import open_store


@pytest.fixture
def chats(db: Path) -> list[str]:
    """Two chats in `db`, the second newer."""
    store = open_store(db)
    ids = []
    for title, answer in (("Teapots", "A teapot holds tea.\nIt has a spout."), ("Kettles", "A kettle boils water.")):
        chat = store.new_chat(provider="demo", model="demo-1")
        store.add_message(chat, Role.USER, f"{title}\ntell me")
        reply = store.start_reply(chat, provider="demo", model="demo-1")
        store.append_text(reply, answer)
        store.finish_message(reply, ReplyStatus.COMPLETE)
        ids.append(chat)
    store.close()
    return ids


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_chats_newest_first_as_text_and_json(db: Path, chats: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "history", "--db", str(db), "list")
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == [chats[1][:8], chats[0][:8]]
    assert lines[0].endswith("2 msgs  demo / demo-1  Kettles")
    code, out, _ = _run(capsys, "history", "--db", str(db), "list", "--json", "--limit", "1")
    assert code == 0
    assert [(c["id"], c["title"], c["messages"]) for c in json.loads(out)] == [(chats[1], "Kettles", 2)]


def test_show_prints_the_chat_by_a_short_id(db: Path, chats: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "history", "--db", str(db), "show", chats[0][:6])
    assert code == 0
    assert out.startswith("# Teapots\n") and "## Assistant (demo-1)\n\nA teapot holds tea.\nIt has a spout.\n" in out
    code, out, _ = _run(capsys, "history", "--db", str(db), "show", chats[0], "--json")
    assert json.loads(out)["chat"]["id"] == chats[0]
    code, _, err = _run(capsys, "history", "--db", str(db), "show", "nothing")
    assert code == 1 and err == "tui-chat: error: the chat id 'nothing' is not in the history (tui-chat history list shows the ids)\n"


def test_search_shows_the_matching_lines(db: Path, chats: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "history", "--db", str(db), "search", "spout")
    assert code == 0
    assert out.splitlines()[1:] == ["    It has a spout."] and "Teapots  [assistant]" in out.splitlines()[0]
    code, out, _ = _run(capsys, "history", "--db", str(db), "search", "tell", "--json")
    assert [(h["chat_id"], h["lines"]) for h in json.loads(out)] == [(chats[1], ["tell me"]), (chats[0], ["tell me"])]
    code, out, err = _run(capsys, "history", "--db", str(db), "search", "zebra")
    assert (code, out) == (0, "") and "no messages" in err


def test_export_delete_import_brings_the_chat_back(db: Path, chats: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exported = tmp_path / "teapots.json"
    assert _run(capsys, "history", "--db", str(db), "export", chats[0], "--format", "json", "-o", str(exported))[0] == 0
    code, markdown, _ = _run(capsys, "history", "--db", str(db), "export", chats[0], "--format", "md")
    assert code == 0 and markdown.startswith("# Teapots")
    assert _run(capsys, "history", "--db", str(db), "delete", chats[0])[1] == f"deleted {chats[0][:8]}\n"
    _, out, _ = _run(capsys, "history", "--db", str(db), "list", "--json")
    assert [c["id"] for c in json.loads(out)] == [chats[1]]
    code, out, _ = _run(capsys, "history", "--db", str(db), "import", str(exported))
    assert code == 0 and out == f"imported {chats[0][:8]}  Teapots  (2 messages)\n"
    again = tmp_path / "again.json"
    _run(capsys, "history", "--db", str(db), "export", chats[0], "--format", "json", "-o", str(again))
    assert again.read_text() == exported.read_text()
    code, _, err = _run(capsys, "history", "--db", str(db), "import", str(tmp_path / "missing.json"))
    assert code == 1 and "missing.json" in err


def test_the_default_database_and_an_unusable_one(chats: list[str], db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "history", "list")  # the user data folder of the test's temporary home
    assert (code, out) == (0, "")
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = _run(capsys, "history", "--db", str(blocker / "chats.db"), "list")
    assert code == 1 and err.count("\n") == 1 and "cannot be read" in err
    code, _, err = _run(capsys, "history", "--db", str(blocker / "chats.db"), "delete", "feedbeef")
    assert code == 1 and err.count("\n") == 1 and "not saved" in err
    code, _, err = _run(capsys, "history", "--db", str(db), "list", "--limit", "0")
    assert code == 2 and "at least 1" in err


def _edited_export(db: Path, chat: str, path: Path, capsys: pytest.CaptureFixture[str], edit: Any) -> Path:
    _run(capsys, "history", "--db", str(db), "export", chat, "--format", "json", "-o", str(path))
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    return path


def _another_id(document: dict[str, Any]) -> None:
    document["chat"]["id"] = "f" * 32


def _a_stranger_parent(document: dict[str, Any]) -> None:
    _another_id(document)
    for message in document["messages"]:
        message["id"] = message["id"][::-1]
    document["messages"][1]["parent_id"] = "0" * 32


def _twice_the_same_call(document: dict[str, Any]) -> None:
    _another_id(document)
    for message in document["messages"]:
        message["id"] = message["id"][::-1]
    document["messages"][0]["parent_id"] = None
    document["messages"][1]["parent_id"] = document["messages"][0]["id"]
    call = {"call_id": "c1", "name": "calculator", "arguments": "{}", "decision": None, "edited_arguments": None,
            "reason": None, "result": None, "result_is_error": False}  # fmt: skip
    document["messages"][1]["tool_calls"] = [call, call]


@pytest.mark.parametrize(
    ("edit", "said"),
    [
        (_another_id, "is already in the history"),
        (_a_stranger_parent, "parent"),
        (_twice_the_same_call, "call id 'c1'"),
    ],
)
def test_an_import_that_conflicts_is_one_error_naming_the_file_and_imports_nothing(
    db: Path, chats: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Any, said: str
) -> None:
    exported = _edited_export(db, chats[0], tmp_path / "edited.json", capsys, edit)
    before = _run(capsys, "history", "--db", str(db), "list", "--json")[1]
    code, out, err = _run(capsys, "history", "--db", str(db), "import", str(exported))
    assert (code, out) == (1, "")
    assert err.startswith(f"tui-chat: error: {exported}: ") and err.count("\n") == 1 and said in err, err
    assert _run(capsys, "history", "--db", str(db), "list", "--json")[1] == before  # nothing half-imported
