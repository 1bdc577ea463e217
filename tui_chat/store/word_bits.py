"""Which messages hold each of the common words searched for, as bitsets over `messages.seq`.

Two words that many messages hold and that never meet (issue 14's `quartz lime`: one in 10% of
messages, the other in 50%) cost FTS5 a step through the shorter list, which grows with the
history. Here the messages holding such a word are one Python int (bit `seq` set): the AND of two
is microseconds at 100,000 messages, and when it is zero the search answers at once. The bits
are a superset of the truth (a message deleted, or changed, keeps its bits), so a search
confirms each candidate in its text (`holds_word`) and answers exactly what FTS5 answers.

One `WordBits` per connection (`database.ChatConnection.word_bits`), in memory: a word's bits are
made from FTS5's list the first time it is needed, and the least recently used dropped beyond
`MAX_BYTES`. They stay true while messages are added, by this process or any other writing the
file, through `fts_added` (schema V6): before each use, the messages added since the last look
are read and their bits set for the words they hold; when some of those have already left the
log (it keeps the newest `schema.FTS_ADDED_KEPT`), every word is dropped, to be made again.

Words are lowercased ASCII letters and digits (bytes): what `holds_word` can check as FTS5 would.
"""

from __future__ import annotations

import re
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator

from .database import ChatConnection

MAX_BYTES = 8 << 20
"""The memory one connection's bitsets may take: at 100,000 messages a word takes 12.5 kB, so 8 MiB
keeps about 670 words."""

_ASCII_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789")
"""What a word is made of in lowercased ASCII text for FTS5's default tokenizer (unicode61, which
folds case): letters and digits; every other ASCII byte parts words
(https://sqlite.org/fts5.html#unicode61_tokenizer)."""

_AS_BINARY_DIGITS = bytes.maketrans(b"\0\1", b"01")
_NOT_ZERO = re.compile(rb"[^\x00]")
_BITS_DOWN = tuple(tuple(bit for bit in range(7, -1, -1) if byte >> bit & 1) for byte in range(256))
"""The bits set in each byte, highest first."""


def holds_word(text: bytes, word: bytes) -> bool:
    """Whether `word` stands alone (as FTS5 reads it) somewhere in `text`, both lowercased ASCII."""
    at = text.find(word)
    while at != -1:
        end = at + len(word)
        starts = at == 0 or text[at - 1] not in _ASCII_WORD_BYTES
        if starts and (end == len(text) or text[end] not in _ASCII_WORD_BYTES):
            return True
        at = text.find(word, at + 1)
    return False


def holds_every(text: bytes, words: list[bytes]) -> bool | None:
    """Whether `text` (as stored: the bytes FTS5 indexed) holds every one of `words` as FTS5 reads
    it; None when it cannot be told here, the text not being ASCII (FTS5 folds accents, and parts
    words at other separators)."""
    if not text.isascii():
        return None
    folded = text.lower()
    return all(holds_word(folded, word) for word in words)


def for_connection(conn: sqlite3.Connection) -> WordBits | None:
    """The bitsets kept for `conn` (made on first need), or None for a connection that has no room
    for them (a plain sqlite3 one)."""
    if not isinstance(conn, ChatConnection):
        return None
    if conn.word_bits is None:
        conn.word_bits = WordBits()
    return conn.word_bits


def newest_first(bits: int) -> Iterator[int]:
    """The numbers of the bits set in `bits`, highest first (a message's bit is its `seq`)."""
    data = bits.to_bytes((bits.bit_length() + 7) // 8, "big")
    top = len(data) - 1
    for found in _NOT_ZERO.finditer(data):
        base = (top - found.start()) * 8
        for bit in _BITS_DOWN[data[found.start()]]:
            yield base + bit


def _bits_of(seqs: list[int]) -> int:
    """An int with the bits of `seqs` set (one byte per bit, then one conversion: setting the bits
    of an int one by one would copy it each time)."""
    if not seqs:
        return 0
    flags = bytearray(max(seqs) + 1)
    for seq in seqs:
        flags[seq] = 1
    return int(flags[::-1].translate(_AS_BINARY_DIGITS), 2)


class WordBits:
    """The bitsets of one connection; see the module docstring."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._bits: OrderedDict[bytes, int] = OrderedDict()
        """Each word's messages, least recently used first."""
        self._seen = 0
        """The newest `fts_added` entry that the bits hold."""

    @property
    def words(self) -> list[bytes]:
        """The words kept, least recently used first."""
        return list(self._bits)

    @property
    def size(self) -> int:
        """The bytes the bitsets take."""
        return sum((bits.bit_length() + 7) // 8 for bits in self._bits.values())

    def count(self, conn: sqlite3.Connection, word: bytes) -> int | None:
        """How many messages, at most, hold `word`, when its bits are kept (else None): the bits
        counted, which at 100,000 messages is 40 times quicker than FTS5 counting a common word."""
        self._catch_up(conn)
        bits = self._bits.get(word)
        return None if bits is None else bits.bit_count()

    def holding_all(self, conn: sqlite3.Connection, words: list[bytes]) -> int:
        """A superset of the messages (bit `seq` set) that hold every one of `words`."""
        self._catch_up(conn)
        found = -1
        for word in words:
            bits = self._bits.pop(word, None)
            if bits is None:
                query = '"' + word.decode("ascii") + '"'
                rows = conn.execute("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?", (query,))
                bits = _bits_of([seq for (seq,) in rows])
            self._bits[word] = bits
            found &= bits
        while len(self._bits) > 1 and self.size > self.max_bytes:
            self._bits.popitem(last=False)
        return found

    def _catch_up(self, conn: sqlite3.Connection) -> None:
        """Set the bits of the messages added to the search index since the last look (see the
        module docstring); the mark is taken before any bits are made, so nothing added while
        they are made is missed (at worst it is looked at twice)."""
        if not self._bits:
            self._seen = conn.execute("SELECT coalesce(max(id), 0) FROM fts_added").fetchone()[0]
            return
        added = conn.execute("SELECT id, seq FROM fts_added WHERE id > ? ORDER BY id", (self._seen,)).fetchall()
        if not added:
            return
        if added[0][0] != self._seen + 1:  # some left the log before this connection read them
            self._bits.clear()
            self._seen = added[-1][0]
            return
        holding: dict[bytes, list[int]] = {word: [] for word in self._bits}
        for seq, text in conn.execute(  # (a sub-query: up to the log's 1,000 entries, more than old SQLite's 999 parameters)
            "SELECT seq, CAST(text AS BLOB) FROM messages WHERE seq IN (SELECT seq FROM fts_added WHERE id > ?)",
            (self._seen,),
        ):
            plain, folded = text.isascii(), text.lower()
            for word, seqs_holding in holding.items():
                if not plain or holds_word(folded, word):  # (not ASCII: cannot be told, a candidate all the same)
                    seqs_holding.append(seq)
        for word, seqs_holding in holding.items():
            if seqs_holding:
                self._bits[word] |= _bits_of(seqs_holding)
        self._seen = added[-1][0]
