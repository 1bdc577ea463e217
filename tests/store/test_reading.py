"""Reading saved chats without writing: a read-only data folder still shows them (opened read-only),
history turned off creates no file, and `-c` says why there is nothing to continue."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.store.frozen import frozen
from tests.store.test_damage import _saved_chat
from tui_chat.cli import main
from tui_chat.providers.demo import compose_reply
from tui_chat.store.database import default_path
from tui_chat.store.schema import VERSION

FAST = ["--provider", "demo", "--speed", "0"]


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_read_commands_work_on_a_read_only_data_folder_and_say_once_that_nothing_new_is_saved(
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = default_path()
    chat = _saved_chat(db)
    with frozen(db.parent):
        for action in (["list"], ["show", chat[:8]], ["search", "teapot"], ["export", chat, "--format", "json"]):
            code, out, err = _run(capsys, "history", *action)
            assert code == 0, err
            assert "Teapots" in out or "teapot" in out.lower()
            [said] = err.splitlines()
            assert str(db) in said and "read-only" in said and "not saved" in said
        code, out, err = _run(capsys, "history", "delete", chat)
        assert (code, out) == (1, "") and err.count("\n") == 1
        assert err.startswith("tui-chat: error: cannot delete") and str(db) in err
    code, out, _ = _run(capsys, "history", "list", "--json")
    assert [c["id"] for c in json.loads(out)] == [chat]  # nothing was deleted


def test_continuing_from_a_read_only_data_folder_answers_with_the_history_and_says_it_is_not_saved(
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = default_path()
    _saved_chat(db)
    with frozen(db.parent):
        code, out, err = _run(capsys, "ask", *FAST, "-c", "more")
    assert code == 0, err
    assert out == compose_reply("more", 2)  # the saved question came with it
    [warning] = err.splitlines()
    assert str(db) in warning and "not saved" in warning


def test_history_turned_off_creates_no_database_and_continue_says_saving_is_off(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[history]\nenabled = false\n")
    code, out, err = _run(capsys, "ask", *FAST, "--config", str(config), "-c", "hello")
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert "there is no saved chat to continue" in err and "saving is off: [history] enabled = false" in err
    code, out, err = _run(capsys, "ask", *FAST, "--no-history", "-c", "hello")
    assert (code, out) == (1, "") and "saving is off: --no-history" in err
    assert _run(capsys, "history", "list") == (0, "", "")
    assert not default_path().parent.exists()  # no command made a chats.db (nor its folder)


def test_continue_with_history_off_still_reads_an_existing_chat_without_writing_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = default_path()
    _saved_chat(db)
    before = db.read_bytes()
    config = tmp_path / "config.toml"
    config.write_text("[history]\nenabled = false\n")
    code, out, err = _run(capsys, "ask", *FAST, "--config", str(config), "-c", "more")
    assert (code, err) == (0, "")
    assert out == compose_reply("more", 2)
    assert db.read_bytes() == before
    log = db.with_name("chats.db-wal")
    assert not log.exists() or log.stat().st_size == 0  # (a reader may make the log's files; it writes no page)


def test_continue_from_a_newer_file_says_why_it_cannot_be_used(capsys: pytest.CaptureFixture[str]) -> None:
    db = default_path()
    _saved_chat(db)
    with sqlite3.connect(db) as conn:
        conn.execute(f"PRAGMA user_version = {VERSION + 1}")
    code, out, err = _run(capsys, "ask", *FAST, "-c", "more")
    assert (code, out) == (1, "")
    [said] = [line for line in err.splitlines() if line.startswith("tui-chat: error: ")]
    assert "cannot continue a saved chat" in said and "newer tui-chat" in said and str(db) in said
    code, out, err = _run(capsys, "history", "list")
    assert code == 1 and "newer tui-chat" in err and err.count("\n") == 1
