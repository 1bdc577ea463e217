"""What a search hit holds: its values cleaned as every read cleans them, and exactly the lines
that hold a word (on a real SQLite file, written as another program would write it)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from tui_chat.chunks import Role
from tui_chat.safe_text import clean
from tui_chat.store.history import open_store

CONTROLS = "".join(map(chr, [*range(0x20), 0x7F, *range(0x80, 0xA0), 0x202E, 0x2066]))

TEXTS = (
    "key first line\nsecond key line\n\nno word here\nkey",
    "key key key on one line\nand KEY again\n",
    "  key padded  \n\tkey tabbed\t\nlast",
    "crlf key\r\nline two key\r\n",
    "key\x0bvertical\x0cfeed\x1cfile key\x85next",
    "key between\u2028separators key\u2029and after",
    "STRASSE key\nstraße",
    "key KEY\u0131 dotless\nkeyI plain",
    "key in one\x1b[31m red \x1b[0mline\nbare",
    "key first line, then a word found only folded:\nambér",
    "key ünïcode KÉY line\nplain",
    "key",
    "key\n\n\n",
)
"""Texts of every kind of line: several words on a line, line breaks that `clean` removes and
that it keeps, casefolding that changes a text's length, accents FTS5 folds and a regex does not."""

QUERIES = ("key", "key line", "key strasse", "key keyi", "key key\u0131", "key ambér", "key amber", "key ünïcode", "key on")


def reference_lines(text: str, words: list[str]) -> tuple[str, ...]:
    """The lines of `text` holding a casefolded word, stripped, else its first line: the plain way."""
    holds = re.compile("|".join(re.escape(word.casefold()) for word in words)).search
    found = tuple(line.strip() for line in text.splitlines() if holds(line.casefold()))
    return found or tuple((text.strip().splitlines() or [""])[:1])


def write_as_another_program(db: Path, chats: list[tuple[str, str, str, str, str, object]]) -> None:
    """Rows (chat id, title, message id, role, created_at, text) written with no cleaning at all."""
    open_store(db).close()
    other = sqlite3.connect(db, isolation_level=None)
    for chat_id, title, message_id, role, created, text in chats:
        other.execute(
            "INSERT OR IGNORE INTO chats (id, title, created_at, updated_at) VALUES (?, ?, 'now', 'now')", (chat_id, title)
        )
        other.execute(
            "INSERT INTO messages (id, chat_id, role, text, created_at) VALUES (?, ?, ?, CAST(? AS TEXT), ?)",
            (message_id, chat_id, role, text, created),
        )
    other.close()


@pytest.mark.parametrize("query", QUERIES)
async def test_the_lines_of_a_hit_are_those_holding_a_word(db: Path, query: str) -> None:
    write_as_another_program(db, [("c", "t", f"m{n}", "user", "now", text) for n, text in enumerate(TEXTS)])
    store = open_store(db)
    try:
        texts = {m.id: m.text for m in (await store.load_chat("c")).messages}
        hits = await store.search(query)
    finally:
        store.close()
    assert hits, query
    for hit in hits:
        assert hit.lines == reference_lines(texts[hit.message_id], query.split()), (query, texts[hit.message_id])


ASCII_CONTROLS = "".join(map(chr, [*range(0x20), 0x7F]))


@pytest.mark.parametrize("controls", ["", ASCII_CONTROLS, CONTROLS], ids=["none", "ascii", "all"])
async def test_every_value_of_a_hit_is_cleaned_as_any_read_cleans_it(db: Path, controls: str) -> None:
    """Plain ASCII rows (read the quick way when all are plain), and among them one row another
    program wrote with controls (ASCII ones only, or with bidi overrides and C1 too, and bytes that
    are not UTF-8) in every column."""
    rows: list[tuple[str, str, str, str, str, object]] = [
        (f"chat{n}", f"title {n}", f"m{n}", "assistant", f"2026-01-0{n}", f"plain key {n}") for n in range(1, 6)
    ]
    if controls:
        text: object = b"key \xed\xa0\x80 \xc3 end" if controls == CONTROLS else f"key {controls} end"
        rows.insert(2, (f"c{controls}", f"ti{controls}tle", f"m{controls}", "user", f"now{controls}", text))
    write_as_another_program(db, rows)
    store = open_store(db)
    try:
        hits = await store.search("key")
    finally:
        store.close()
    assert [hit.message_id for hit in hits] == [clean(row[2]) for row in reversed(rows)]
    for hit, (chat_id, title, message_id, role, created, _) in zip(hits, reversed(rows), strict=True):
        assert (hit.chat_id, hit.chat_title, hit.message_id, hit.role, hit.created_at) == (
            clean(chat_id), clean(title), clean(message_id), Role(role), clean(created),
        )  # fmt: skip
    if controls:
        assert hits[-3].lines == (("key \ufffd\ufffd\ufffd \ufffd end",) if controls == CONTROLS else ("key",))
        assert hits[-3].chat_title == "ti\t\ntle" and hits[-3].created_at == "now\t\n"
    assert [hit.lines for hit in hits if len(hit.message_id) == 2] == [(f"plain key {n}",) for n in range(5, 0, -1)]


ONE_PASS = (
    "key at the start",
    "at the end: key",
    "key",
    "  key  ",
    "first line\n  key, indented and padded \t\nno\nKEY again\n\tand key tabbed\t",
    "nothing on the first line\nnor the second\nlast line holds KeY",
    "ends with the word key\n",
    "key\nbegins with it",
    "\n\nkey after blank lines\n\n",
    "only folded: amber here\nsecond line",
    "a key in a long line " + "word " * 400 + "key again",
)
"""ASCII texts, read together in one pass (`hits._lines_in_ascii`): a word at a text's start and
end, next to the next text's, several lines, padding, and a text FTS5 finds only by a folded word."""


@pytest.mark.parametrize("query", ["key", "key key", "key amber", "ambér"])
@pytest.mark.parametrize("batch", ["ascii", "with one not ascii", "with one to clean"])
async def test_the_lines_of_many_hits_read_together_are_each_texts_own(db: Path, query: str, batch: str) -> None:
    """All ASCII and clean, the hits' values are read and their lines found in one pass over all
    the texts; one text that is not ASCII, or that holds a control character, sends the others
    the other way. Either way each hit has exactly its own text's lines (the plain way's: for
    `ambér`, which FTS5 finds folded, each text's first line), and the chat's title, which holds
    the word too, gives none."""
    texts = list(ONE_PASS)
    if batch == "with one not ascii":
        texts.insert(4, "key ünïcode\nline")
    elif batch == "with one to clean":
        texts.insert(4, "key \x1b[31mred\x1b[0m\r\nand key \u202e")
    if "amb" in query:
        texts = [text if "amber" in text else text + " amber" for text in texts]
    write_as_another_program(
        db, [(f"chat {n % 3}", "the key title", f"m{n}", "user", f"t{n}", text) for n, text in enumerate(texts)]
    )
    store = open_store(db)
    try:
        hits = await store.search(query)
    finally:
        store.close()
    holding = [n for n, text in enumerate(texts) if query == "ambér" or "key" in text.lower()]
    assert [hit.message_id for hit in hits] == [f"m{n}" for n in reversed(holding)]
    for hit in hits:
        text = clean(texts[int(hit.message_id[1:])])
        assert hit.chat_title == "the key title"
        assert hit.lines == reference_lines(text, query.split()), (query, text)
    assert (("only folded: amber here",) in [hit.lines for hit in hits]) == (query == "ambér")


async def test_values_that_are_not_text_are_read_as_text(db: Path) -> None:
    """Another program may store a BLOB in a TEXT column, UTF-8 or not, even with controls: each is
    read as its text would be, cleaned."""
    open_store(db).close()
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("INSERT INTO chats (id, title, created_at, updated_at) VALUES ('c', x'6b6579201b5b33316d', 'now', 'now')")
    for n, text in enumerate([b"key plain", b"key \x1b]0;x\x07 ok", b"key \xff\xfe not utf-8"]):
        other.execute(
            "INSERT INTO messages (id, chat_id, role, text, created_at) VALUES (?, 'c', 'user', ?, 'now')", (f"m{n}", text)
        )
    other.close()
    store = open_store(db)
    try:
        hits = await store.search("key")
    finally:
        store.close()
    assert [(hit.chat_title, hit.lines) for hit in hits] == [
        ("key [31m", ("key \ufffd\ufffd not utf-8",)), ("key [31m", ("key ]0;x ok",)), ("key [31m", ("key plain",)),
    ]  # fmt: skip
