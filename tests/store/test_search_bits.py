"""Searches for common words through their bitsets (`word_bits`) answer exactly as FTS5 does, on a
real SQLite file, while this connection, another one and another program add, change and delete
messages."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_chat.chunks import ReplyStatus, Role
from tui_chat.store import reads
from tui_chat.store.history import Store, open_store
from tui_chat.store.records import SearchHit
from tui_chat.store.schema import FTS_ADDED_KEPT
from tui_chat.store.word_bits import WordBits, newest_first

COUNT = 1500


def text_of(n: int) -> str:
    """Message n's text: common words at fixed rates (each past the probe's cap of 256), some
    meeting often, some never, two rarely; and look-alikes FTS5 reads otherwise than a substring
    search would."""
    words = [f"filler{n}"]
    if n % 2 == 0:
        words.append("alphabet" if n % 7 == 0 else "alpha")  # (alphabet holds no word alpha)
    if n % 3 == 0:
        words.append("Beta,")
    if n % 2 == 1:
        words.append("gamma")
    if n % 4 == 3 or n in (100, 778, 1202):
        words.append("sigma")
    if n % 4 == 1 or n in (100, 778, 1202):
        words.append("TAU")
    if n % 11 == 0:
        words.append("beta-gamma")  # (both words, to FTS5)
    if n % 13 == 0:
        words.append("alpha_sigma9 xgamma")  # (alpha and sigma9, not sigma; not gamma)
    words.append(("amberlime", "amber", "lime")[n % 3])  # (amberlime: neither)
    return " ".join(words[:2]) + "\n" + " ".join(words[2:])


QUERIES = (
    "alpha beta", "beta alpha", "alpha gamma", "gamma ALPHA", "sigma tau", "alpha sigma", "alpha beta gamma",
    "beta gamma", "gamma sigma", "amber lime", "lime AMBER", "amber lime alpha",
)  # fmt: skip
"""Words that meet often (alpha beta), rarely (sigma tau, alpha sigma), never (amber lime), or
only through what FTS5 reads as two words (alpha gamma)."""


@pytest.fixture
def filled(db: Path) -> Path:
    open_store(db).close()
    other = sqlite3.connect(db, isolation_level=None)  # as another program writes
    other.execute("BEGIN")
    other.execute("INSERT INTO chats (id, title, created_at, updated_at) VALUES ('c', 'words', 'now', 'now')")
    other.executemany(
        "INSERT INTO messages (id, chat_id, role, text, created_at) VALUES (?, 'c', 'user', ?, 'now')",
        [(f"m{n}", text_of(n)) for n in range(COUNT)],
    )
    other.execute("COMMIT")
    other.close()
    return db


@pytest.fixture
def store(filled: Path) -> Iterator[Store]:
    opened = open_store(filled)
    yield opened
    opened.close()


def by_fts5(db: Path, text: str, limit: int = 50) -> list[SearchHit]:
    """The same search on a plain sqlite3 connection, which keeps no bitsets: FTS5 answers."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        return reads.search(conn, text, limit)
    finally:
        conn.close()


async def kept_words(store: Store) -> list[bytes]:
    def words(conn: sqlite3.Connection) -> list[bytes]:
        return conn.word_bits.words if conn.word_bits else []  # type: ignore[attr-defined]

    return await store.query(words)


@pytest.mark.parametrize("limit", [1, 7, 50, COUNT])
async def test_common_words_found_through_their_bits_are_what_fts5_finds(store: Store, filled: Path, limit: int) -> None:
    for query in QUERIES:
        for _ in range(2):  # (the bits made, then kept)
            assert await store.search(query, limit) == by_fts5(filled, query, limit), query
    assert set(await kept_words(store)) == {b"alpha", b"beta", b"gamma", b"sigma", b"tau", b"amber", b"lime"}, "by bits"
    assert await store.search("sigma tau", COUNT) != [] and await store.search("alpha gamma", COUNT) != [], "data"


async def test_warm_searches_answer_from_the_bits_and_texts_without_asking_fts5(store: Store) -> None:
    for query in ("amber lime", "alpha beta"):
        await store.search(query)  # (the bits made)
    statements: list[str] = []
    await store.query(lambda conn: conn.set_trace_callback(statements.append))
    for _ in range(3):
        assert await store.search("lime amber") == []
        assert [hit.message_id for hit in await store.search("beta alpha", 5)] == [
            f"m{n}" for n in range(COUNT - 1, -1, -1) if n % 2 == 0 and (n % 7 != 0 or n % 13 == 0) and (n % 3 == 0 or n % 11 == 0)
        ][:5]
    assert statements, "traced"
    assert not [statement for statement in statements if "MATCH" in statement], statements


def newest_hits(db: Path, query: str) -> list[str]:
    return [hit.message_id for hit in by_fts5(db, query, COUNT)]


async def test_messages_added_changed_and_deleted_by_others_are_seen(store: Store, filled: Path) -> None:
    """Another Store (another connection, as another tui-chat would be) and another program write."""
    query = "alpha gamma"
    before = await store.search(query, COUNT)
    other = open_store(filled)
    raw = sqlite3.connect(filled, isolation_level=None)
    try:
        chat = other.new_chat(title="other")
        other.add_message(chat, Role.USER, "gamma then alpha")
        reply = other.start_reply(chat)
        other.append_text(reply, "alpha and gamma, still streaming")
        await other.flush()
        found = await store.search(query, COUNT)
        assert found == by_fts5(filled, query, COUNT) and len(found) == len(before) + 1, "a new message; a streaming one not"
        other.finish_message(reply, ReplyStatus.COMPLETE)
        await other.flush()
        assert [hit.message_id for hit in await store.search(query, 2)] == [reply, newest_hits(filled, query)[1]]

        raw.execute("UPDATE messages SET text = 'alpha now, and gamma' WHERE id = 'm4'")  # held alpha only
        raw.execute("UPDATE messages SET text = 'neither' WHERE id = ?", (before[0].message_id,))
        assert await store.search(query, COUNT) == by_fts5(filled, query, COUNT)
        assert "m4" in newest_hits(filled, query) and before[0].message_id not in newest_hits(filled, query)

        other.delete_chat(chat)
        await other.flush()
        newest = raw.execute("SELECT max(seq) FROM messages").fetchone()[0]
        raw.execute("DELETE FROM messages WHERE seq = ?", (newest,))
        raw.execute("INSERT INTO messages (id, chat_id, role, text, created_at) VALUES ('reused', 'c', 'user', 'gamma', 'now')")
        assert raw.execute("SELECT seq FROM messages WHERE id = 'reused'").fetchone()[0] == newest, "SQLite reused the seq"
        assert await store.search(query, COUNT) == by_fts5(filled, query, COUNT)
        raw.execute("UPDATE messages SET text = 'gamma alpha' WHERE id = 'reused'")
        assert [hit.message_id for hit in await store.search(query, 1)] == ["reused"]
        assert await store.search(query, COUNT) == by_fts5(filled, query, COUNT)

        raw.execute("DELETE FROM messages WHERE id = 'reused'")  # its bits stay; its seq comes back streaming
        raw.execute(
            "INSERT INTO messages (id, chat_id, role, text, status, created_at)"
            " VALUES ('streaming', 'c', 'assistant', 'alpha gamma so far', 'streaming', 'now')"
        )
        assert raw.execute("SELECT seq FROM messages WHERE id = 'streaming'").fetchone()[0] == newest
        assert await store.search(query, COUNT) == by_fts5(filled, query, COUNT), "not in the index: not found"
    finally:
        raw.close()
        other.close()
    assert set(await kept_words(store)) >= {b"alpha", b"gamma"}, "kept all along"


async def test_a_reader_that_missed_pruned_entries_starts_over(store: Store, filled: Path) -> None:
    """More messages than the log keeps arrive between two searches, the first ones holding both
    words: a reader that only read what is left of the log would miss them."""
    query = "alpha gamma"
    assert await store.search(query, COUNT) == by_fts5(filled, query, COUNT)
    raw = sqlite3.connect(filled, isolation_level=None)
    try:
        raw.execute("BEGIN")
        raw.executemany(
            "INSERT INTO messages (id, chat_id, role, text, created_at) VALUES (?, 'c', 'user', ?, 'now')",
            [(f"late{n}", "alpha gamma" if n < 3 else "alpha") for n in range(FTS_ADDED_KEPT + 5)],
        )
        raw.execute("COMMIT")
        assert raw.execute("SELECT count(*) FROM fts_added").fetchone()[0] == FTS_ADDED_KEPT, "the log is pruned"
    finally:
        raw.close()
    hits = await store.search(query, COUNT)
    assert hits == by_fts5(filled, query, COUNT)
    assert [hit.message_id for hit in hits[:3]] == ["late2", "late1", "late0"]


async def test_the_bits_kept_stay_within_their_bound_dropping_the_least_recently_used(store: Store) -> None:
    one_word = (COUNT + 7) // 8  # (a bit per seq, 1 to COUNT)

    def use(conn: sqlite3.Connection) -> list[tuple[list[bytes], int, bool]]:
        index = WordBits(max_bytes=2 * one_word)
        seen = []
        for words in ([b"alpha"], [b"beta"], [b"alpha"], [b"gamma"], [b"tau", b"sigma"]):
            bits = set(newest_first(index.holding_all(conn, words)))
            fts5 = set.intersection(*(
                {seq for (seq,) in conn.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (word.decode(),))}
                for word in words
            ))  # fmt: skip
            seen.append((index.words, index.size, bits == fts5))
        return seen

    seen = await store.query(use)
    assert [words for words, _, _ in seen] == [
        [b"alpha"], [b"alpha", b"beta"], [b"beta", b"alpha"], [b"alpha", b"gamma"], [b"tau", b"sigma"],
    ]  # fmt: skip
    assert [size <= 2 * one_word for _, size, _ in seen] == [True] * 5
    assert [exact for _, _, exact in seen] == [True] * 5, "the bits are FTS5's lists"


def test_newest_first_gives_the_bits_set_highest_first() -> None:
    assert list(newest_first(0)) == []
    assert list(newest_first(0b1011 | 1 << 100 | 1 << 64 | 1 << 63)) == [100, 64, 63, 3, 1, 0]
