"""Queries: the chat list, one whole chat, full-text search. Each takes the connection it runs on
(the writer thread's: see `Writer.call`)."""

from __future__ import annotations

import json
import re
import sqlite3
from itertools import islice

from ..chunks import OpaqueBlock, ReplyStatus, Role, Usage
from .hits import HIT_COLUMNS, lines_holding, read_hits
from .records import (
    AttachmentRef,
    ChatInfo,
    ChatRecord,
    MessageRecord,
    SearchHit,
    ToolCallRecord,
    ToolDecision,
    VoiceTurn,
)
from .schema import StoreError
from .word_bits import for_connection, holds_every, newest_first

_CHAT_COLUMNS = "c.id, c.title, c.created_at, c.updated_at, c.provider, c.model, c.pack, c.prompt, c.variables"


def _chat_info(row: sqlite3.Row | tuple, count: int) -> ChatInfo:
    id_, title, created, updated, provider, model, pack, prompt, variables = row
    return ChatInfo(id_, title, created, updated, provider, model, pack, prompt, json.loads(variables), count)


def list_chats(conn: sqlite3.Connection, limit: int | None = None) -> list[ChatInfo]:
    """Chats, most recently updated first, each with its number of messages."""
    rows = conn.execute(
        f"SELECT {_CHAT_COLUMNS}, (SELECT count(*) FROM messages m WHERE m.chat_id = c.id)"
        " FROM chats c ORDER BY c.updated_at DESC, c.rowid DESC LIMIT ?",
        (-1 if limit is None else limit,),
    ).fetchall()
    return [_chat_info(row[:-1], row[-1]) for row in rows]


def resolve_chat_id(conn: sqlite3.Connection, given: str) -> str:
    """The full id of the one chat whose id is or starts with `given`; `StoreError` otherwise."""
    pattern = given.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    ids = [row[0] for row in conn.execute("SELECT id FROM chats WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (pattern,))]
    if len(ids) == 1 and given:
        return ids[0]
    if given in ids:
        return given
    reason = "matches more than one chat" if ids else "is not in the history"
    raise StoreError(f"the chat id {given!r} {reason}", hint="tui-chat history list shows the ids")


def load_chat(conn: sqlite3.Connection, chat_id: str) -> ChatRecord:
    """The whole chat with this exact id, messages in the order they were written."""
    row = conn.execute(f"SELECT {_CHAT_COLUMNS} FROM chats c WHERE c.id = ?", (chat_id,)).fetchone()
    if row is None:
        raise StoreError(f"the chat id {chat_id!r} is not in the history")
    calls: dict[str, list[ToolCallRecord]] = {}
    for message_id, *fields in conn.execute(
        "SELECT t.message_id, t.call_id, t.name, t.arguments, t.decision, t.edited_arguments, t.reason,"
        " t.result, t.result_is_error FROM tool_calls t JOIN messages m ON m.id = t.message_id"
        " WHERE m.chat_id = ? ORDER BY t.seq",
        (chat_id,),
    ):
        call_id, name, arguments, decision, edited, reason, result, is_error = fields
        calls.setdefault(message_id, []).append(
            ToolCallRecord(
                call_id, name, arguments, ToolDecision(decision) if decision else None, edited, reason, result, bool(is_error)
            )
        )
    voices = {
        message_id: VoiceTurn(started, ended, bool(barge_in))
        for message_id, started, ended, barge_in in conn.execute(
            "SELECT v.message_id, v.started_ms, v.ended_ms, v.barge_in FROM voice_turns v"
            " JOIN messages m ON m.id = v.message_id WHERE m.chat_id = ?",
            (chat_id,),
        )
    }
    files: dict[str, list[AttachmentRef]] = {}
    for message_id, sha, name, mime, size in conn.execute(
        "SELECT a.message_id, a.sha256, a.name, b.mime, b.size FROM message_attachments a"
        " JOIN attachments b ON b.sha256 = a.sha256 JOIN messages m ON m.id = a.message_id"
        " WHERE m.chat_id = ? ORDER BY a.message_id, a.position",
        (chat_id,),
    ):
        files.setdefault(message_id, []).append(AttachmentRef(sha, name, mime, size))
    messages = []
    for (
        id_, parent, role, text, status, error, created, provider, model, pack, prompt, variables, tin, tout, cost,
        call_id, opaque, chunks,
    ) in conn.execute(
        "SELECT id, parent_id, role, text, status, error, created_at, provider, model, pack, prompt, variables,"
        " input_tokens, output_tokens, cost_usd, tool_call_id, opaque, chunks FROM messages WHERE chat_id = ?"
        " ORDER BY seq",
        (chat_id,),
    ):
        messages.append(
            MessageRecord(
                id=id_,
                chat_id=chat_id,
                parent_id=parent,
                role=Role(role),
                text=text,
                status=ReplyStatus(status),
                created_at=created,
                error=error,
                provider=provider,
                model=model,
                pack=pack,
                prompt=prompt,
                variables=None if variables is None else json.loads(variables),
                usage=None if tin is None and tout is None else Usage(tin or 0, tout or 0),
                cost_usd=cost,
                tool_call_id=call_id,
                opaque=tuple(OpaqueBlock(**block) for block in json.loads(opaque)),
                tool_calls=tuple(calls.get(id_, ())),
                voice=voices.get(id_),
                attachments=tuple(files.get(id_, ())),
                chunks=tuple((at, size) for at, size in json.loads(chunks)),
            )
        )
    return ChatRecord(_chat_info(row, len(messages)), tuple(messages))


def attachment_data(conn: sqlite3.Connection, sha256: str) -> bytes:
    """The stored bytes of an attachment."""
    row = conn.execute("SELECT data FROM attachments WHERE sha256 = ?", (sha256,)).fetchone()
    if row is None:
        raise StoreError(f"no attachment {sha256} in the history")
    data: bytes = row[0]
    return data


_WORD = re.compile(r"\w*[^\W_]\w*")
"""A run of word characters holding a letter or digit: each becomes one quoted FTS5 phrase. A run of
underscores alone is left out (it holds no token, so FTS5 would ignore it anyway)."""

_PROBE_CAP = 256
"""How far `_messages_holding` counts (beyond, it estimates): cheap for any word, and enough to tell a
rare word from a common one."""

_STEPS_PER_TEXT = 300
"""Reading one message's text and looking for words in it costs about what FTS5 spends stepping
this many entries of a word's list (measured at 100,000 messages: about 2 us against 7 ns)."""

_HITS = f"SELECT {HIT_COLUMNS} FROM messages m JOIN chats c ON c.id = m.chat_id"
"""What a `SearchHit` is made of (`hits.read_hits`), from each message `m`."""
_NEWEST_HITS = _HITS.replace(
    " FROM messages m", " FROM messages_fts f JOIN messages m ON m.seq = f.rowid"
) + " WHERE messages_fts MATCH ? ORDER BY f.rowid DESC LIMIT ?"
_FORWARDS = "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid"


def _phrase(word: str) -> str:
    """`word` as one FTS5 phrase: quoted, so what a person types is never FTS syntax."""
    return '"' + word + '"'


def search(conn: sqlite3.Connection, text: str, limit: int = 50) -> list[SearchHit]:
    """Messages holding every word of `text`, newest first, each with the lines that hold a word.

    Newest first lets FTS5 walk its index backwards and stop at `limit`, so the time grows with
    the number of hits returned, not with the size of the history. With several words, each is
    first counted (up to `_PROBE_CAP` messages): a word no message holds answers at once, with no
    walk through the others' long lists; the rarest word leads the AND (FTS5 steps the others to
    it); and when that word is rare, all its few hits are found walking forwards, which FTS5 does
    at about half the cost of backwards; and when the others' lists are long next to its hits,
    those hits are read and the others looked for in them (`_few_holding_all`) rather than
    stepped through. When every word is common, FTS5 would step through the shortest list to know
    that they never meet (or meet rarely); instead the bitsets of the messages holding each word,
    kept in memory per connection (`word_bits`), are ANDed and the candidates confirmed in their
    texts, newest first (`_newest_holding_all`).

    Each hit costs about 3.7 us at 100,000 messages (the reads, about 1.8, and the Python that
    makes it a hit), against 10 two versions ago: see `hits.read_hits`.
    """
    words = list({word.casefold(): word for word in _WORD.findall(text)}.values())
    if not words:
        return []
    counts = {word: _messages_holding(conn, word) for word in words} if len(words) > 1 else {}
    if 0 in counts.values():
        return []
    words.sort(key=lambda word: counts.get(word, 0))
    query = " ".join(map(_phrase, words))
    if counts and counts[words[0]] < _PROBE_CAP:
        steps = sum(counts[word] for word in words[1:])
        seqs = _few_holding_all(conn, words) if counts[words[0]] * _STEPS_PER_TEXT < steps else None
        if seqs is None:
            seqs = [seq for (seq,) in conn.execute(_FORWARDS, (query,))]
        seqs = seqs[::-1][:limit]
    elif counts and (held := _newest_holding_all(conn, words, limit)) is not None:
        seqs = held
    else:
        return read_hits(conn, _NEWEST_HITS, (query, limit), lines_holding(words))
    return read_hits(conn, f"{_HITS} WHERE m.seq IN ({', '.join('?' * len(seqs))}) ORDER BY m.seq DESC", seqs, lines_holding(words))


def _few_holding_all(conn: sqlite3.Connection, words: list[str]) -> list[int] | None:
    """The messages (oldest first) that hold every word, found from the few that hold `words[0]`.

    FTS5 would step each other word's list up to every hit of the first, about all of a common
    word's list; instead the few texts are read (as stored: the bytes FTS5 indexed) and each other
    word looked for in them with FTS5's own rules for ASCII. None, to let FTS5 answer, when a
    word is not one plain ASCII word or a text is not ASCII (accents folded, other separators).
    """
    if not all(word.isascii() and word.isalnum() for word in words[1:]):
        return None
    seqs = [seq for (seq,) in conn.execute(_FORWARDS, (_phrase(words[0]),))]
    others = [word.lower().encode() for word in words[1:]]
    found = []
    for seq, text in conn.execute(
        f"SELECT seq, CAST(text AS BLOB) FROM messages WHERE seq IN ({', '.join('?' * len(seqs))}) ORDER BY seq", seqs
    ):
        holds = holds_every(text, others)
        if holds is None:
            return None
        if holds:
            found.append(seq)
    return found


def _newest_holding_all(conn: sqlite3.Connection, words: list[str], limit: int) -> list[int] | None:
    """The newest `limit` messages (newest first) holding every one of `words` (all common),
    found from the AND of their bitsets (`word_bits`): candidates, newest first, whose texts are
    read (as stored: the bytes FTS5 indexed) and the words looked for in them with FTS5's own
    rules for ASCII, until `limit` are found or no candidate is left.

    None, to let FTS5 answer, when a word is not one plain ASCII word, a text is not ASCII, or the
    connection keeps no bitsets. (Asking FTS5 about each candidate instead, `MATCH ? AND rowid = ?`,
    costs 30 us to 1 ms a candidate at 100,000 messages: it does not seek, it steps.)
    """
    index = for_connection(conn)
    if index is None or not all(word.isascii() and word.isalnum() for word in words):
        return None
    folded_words = [word.lower().encode() for word in words]
    candidates = newest_first(index.holding_all(conn, folded_words))
    found: list[int] = []
    while len(found) < limit and (batch := list(islice(candidates, limit))):
        in_batch = ", ".join("?" * len(batch))
        # (a reply still streaming is not in the index: a stale bit of a reused seq must not find it)
        for seq, text in conn.execute(
            f"SELECT seq, CAST(text AS BLOB) FROM messages WHERE seq IN ({in_batch}) AND status != 'streaming'"
            " ORDER BY seq DESC",
            batch,
        ):
            holds = holds_every(text, folded_words)
            if holds is None:
                return None
            if holds:
                found.append(seq)
                if len(found) == limit:
                    break
    return found


def _messages_holding(conn: sqlite3.Connection, word: str) -> float:
    """How many messages hold `word`: counted up to `_PROBE_CAP` (in index order, the cheap way),
    and beyond that estimated from how closely those first ones lie, over the whole history; or,
    for a common word whose bitset is kept (`word_bits`), counted there (at most that many)."""
    index = for_connection(conn) if word.isascii() and word.isalnum() else None
    if index is not None and (kept := index.count(conn, word.lower().encode())) is not None:
        return float(kept)
    count, first, last = conn.execute(
        "SELECT count(*), min(rowid), max(rowid) FROM"
        " (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? LIMIT ?)",
        (_phrase(word), _PROBE_CAP),
    ).fetchone()
    if count < _PROBE_CAP:
        return float(count)
    newest: int = conn.execute("SELECT max(seq) FROM messages").fetchone()[0]
    return float(count * (newest - first + 1) / (last - first + 1))
