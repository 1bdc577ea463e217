"""A data page damaged after the file opened fine: every read path says so in one sentence that names
the file and what to do, never with a traceback (the store turns SQLite's error into its own where
it runs a query)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.store.damage import damage_table
from tui_chat.chunks import ReplyStatus, Role
from tui_chat.cli import main
from tui_chat.store.database import default_path
from tui_chat.store.history import open_store
from tui_chat.store.reads import list_chats
from tui_chat.store.schema import StoreError


def _saved_chat(db: Path) -> str:
    store = open_store(db)
    chat = store.new_chat(provider="demo", model="demo-1")
    store.add_message(chat, Role.USER, "Teapots")
    reply = store.start_reply(chat, provider="demo", model="demo-1")
    store.append_text(reply, "A teapot holds tea.")
    store.finish_message(reply, ReplyStatus.COMPLETE)
    store.close()
    return chat


def _said_once(err: str, db: Path) -> None:
    assert err.startswith("tui-chat: error: ") and err.count("\n") == 1, err
    assert str(db) in err and "damaged" in err and ".recover" in err and "move it away" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "action", [["list"], ["list", "--json"], ["show", "ID"], ["search", "teapot"], ["export", "ID", "--format", "md"]]
)
def test_every_history_read_of_a_damaged_page_is_one_clear_error(
    db: Path, action: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    chat = _saved_chat(db)
    damage_table(db, "chats")
    code = main(["history", "--db", str(db), *(chat if word == "ID" else word for word in action)])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    _said_once(err, db)


@pytest.mark.parametrize(
    "argv", [["ask", "--provider", "demo", "--speed", "0", "-c", "more"], ["-c"], ["--chat", "ID"], ["ask", "--chat", "ID", "x"]]
)
def test_continuing_from_a_damaged_default_file_is_one_clear_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    db = default_path()
    chat = _saved_chat(db)
    damage_table(db, "chats")
    code = main([chat if word == "ID" else word for word in argv])
    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    _said_once(err, db)


async def test_a_query_in_the_ui_gets_the_stores_error_with_the_file_and_the_remedy(db: Path) -> None:
    _saved_chat(db)
    damage_table(db, "chats")
    store = open_store(db)
    try:
        with pytest.raises(StoreError) as raised:
            await store.query(list_chats, None)
    finally:
        store.close()
    assert str(db) in str(raised.value) and ".recover" in str(raised.value)
