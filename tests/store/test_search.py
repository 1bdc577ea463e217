"""Search answers exactly as FTS5 does, however `reads.search` finds the hits (on a real SQLite file)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tui_chat.store import reads
from tui_chat.store.history import open_store

ASCII = (
    "rare amber lime", "rare AMBER,LIME", "rare amber_lime", "rare amber-lime", "rare amberlime",
    "rare xamber lime", "rare amber9 lime", "rare 9amber lime", "rare am\x01ber lime", "rare amber\x01lime",
    "rare $amber|lime~", "rare\tamber\nlime", "rare amber's lime", "rare 'amber' \"lime\"", "rare Amber",
    "rare lime", "rare", "RARE amber lime\r\n", "rare@amber.lime", "rare amber\x7flime 42", "rare xamber9 lime amber",
)  # fmt: skip
"""Texts whose words meet and part at every kind of ASCII boundary (the lead word "rare" in each)."""

MIXED = (
    "odd amber lime", "odd ambér lime", "odd amber lime ünïcode", "odd AMBER\u00a0lime", "odd amber",
    "odd ﬁre amber",
)  # fmt: skip
"""Texts some of which are not ASCII (FTS5 folds accents and reads other separators)."""

COMMON = "amber lime amber9 am ber amberlime xamber 9amber s 42 lime42 amber_lime fire ﬁre unicode"
"""In 40 more messages: every word searched for is commoner than the lead word, so the lead's hits are
where the others are looked for."""

QUERIES = (
    "amber", "amber lime", "lime amber", "AMBER Lime", "amber9", "am", "ber", "amberlime", "xamber", "9amber",
    "s", "42", "lime42", "amber_lime", "amber lime nowhere", "ambér", "fire", "ﬁre", "ünïcode", "unicode",
)  # fmt: skip


@pytest.fixture
def db_with_texts(db: Path) -> Path:
    open_store(db).close()
    other = sqlite3.connect(db, isolation_level=None)  # written as another program would: controls kept
    other.execute("INSERT INTO chats (id, title, created_at, updated_at) VALUES ('c', 'texts', 'now', 'now')")
    for n, text in enumerate(ASCII + MIXED + (COMMON,) * 40):
        other.execute(
            "INSERT INTO messages (id, chat_id, role, text, created_at) VALUES (?, 'c', 'user', ?, 'now')",
            (f"m{n}", text),
        )
    other.close()
    return db


def fts5_and(db: Path, words: list[str]) -> list[str]:
    """The ids of the messages FTS5 itself finds holding every word, newest first."""
    conn = sqlite3.connect(db)
    try:
        query = " ".join(f'"{word}"' for word in words)
        return [
            message_id
            for (message_id,) in conn.execute(
                "SELECT m.id FROM messages_fts f JOIN messages m ON m.seq = f.rowid"
                " WHERE messages_fts MATCH ? ORDER BY f.rowid DESC",
                (query,),
            )
        ]
    finally:
        conn.close()


@pytest.mark.parametrize("lead", ["rare", "odd"])
@pytest.mark.parametrize("query", QUERIES)
async def test_a_rare_word_with_others_finds_exactly_what_fts5_finds(
    db_with_texts: Path, lead: str, query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether the rare word's hits are read and the others looked for in them, or FTS5 steps
    through the others' lists (which `reads` chooses by their lengths), the hits are FTS5's, in the
    same order, with the same matching lines."""
    words = [lead, *query.split()]
    rarity = len(fts5_and(db_with_texts, [lead]))
    assert all(len(fts5_and(db_with_texts, [word])) > rarity for word in words[1:] if word != "nowhere"), "the lead"
    store = open_store(db_with_texts)
    try:
        for typed in (" ".join(words), " ".join(reversed(words))):
            monkeypatch.setattr(reads, "_STEPS_PER_TEXT", 0)  # texts read for any rare word
            read, newest = await store.search(typed), await store.search(typed, limit=2)
            monkeypatch.setattr(reads, "_STEPS_PER_TEXT", 10**9)  # never
            assert (await store.search(typed), await store.search(typed, limit=2)) == (read, newest), typed
            assert [hit.message_id for hit in read] == fts5_and(db_with_texts, words), typed
            assert newest == read[:2], typed
    finally:
        store.close()


async def test_the_boundary_cases_are_really_in_the_texts(db_with_texts: Path) -> None:
    """The data above is worth testing against: FTS5 parts and joins words where a naive reading would not."""
    ids = {text: f"m{n}" for n, text in enumerate(ASCII + MIXED)}
    assert fts5_and(db_with_texts, ["rare", "am", "ber"]) == [ids["rare am\x01ber lime"]], "a control parts words"
    assert ids["rare amber\x01lime"] in fts5_and(db_with_texts, ["rare", "amber", "lime"])
    assert ids["rare amberlime"] not in fts5_and(db_with_texts, ["rare", "amber"])
    assert ids["rare xamber9 lime amber"] in fts5_and(db_with_texts, ["rare", "amber"]), "alone the second time"
    assert ids["odd ambér lime"] in fts5_and(db_with_texts, ["odd", "amber", "lime"]), "FTS5 folds the accent away"
    assert fts5_and(db_with_texts, ["rare", "amber_lime"]) != [], "a phrase of two words"
