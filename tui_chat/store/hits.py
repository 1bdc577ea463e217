"""A search's hits, made from the rows it read: every value cleaned as any read cleans it, and the
lines of each text that hold a searched word.

A search returns up to 50 hits and at 100,000 messages it usually does, so what it costs per hit
is most of what a search over a large history costs more than one over a small one. Hence one
pass for all the hits where it can be: the values cleaned and decoded at once
(`database.untrusted_values`), the lines found in all the (ASCII) texts joined into one
(`_lines_in_ascii`), the hits built without a Python call each.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from itertools import accumulate, repeat
from typing import Any

from ..chunks import Role
from .database import untrusted_values
from .records import SearchHit

HIT_COLUMNS = (
    "CAST(m.chat_id AS TEXT), CAST(c.title AS TEXT), CAST(m.id AS TEXT), CAST(m.role AS TEXT),"
    " CAST(m.created_at AS TEXT), CAST(m.text AS TEXT)"
)
"""What a hit is made of, from a message `m` and its chat `c`, in `SearchHit`'s order (the text in
place of its lines): for `database.untrusted_values`, which reads and cleans them all at once."""

_PER_ROW = 6

_ROLES = {role.value: role for role in Role}
"""Each role by its stored name: a dict look-up, about a tenth of the cost of calling `Role` (which
still answers, or refuses, a name that is not one of ours)."""


def read_hits(conn: sqlite3.Connection, sql: str, parameters: Sequence[Any], words: re.Pattern[str]) -> list[SearchHit]:
    """The hits `sql` reads (`HIT_COLUMNS` of each message, in the order to show), with the lines of
    each text that hold one of `words` (`lines_holding`)."""
    fields = untrusted_values(conn, sql, parameters)
    texts = fields[_PER_ROW - 1 :: _PER_ROW]
    if all(map(str.isascii, texts)):
        lines = _lines_in_ascii(texts, words)
    else:
        lines = [_lines_in_ascii([text], words)[0] if text.isascii() else _lines_in_any(text, words) for text in texts]
    roles = [_ROLES.get(role) or Role(role) for role in fields[3::_PER_ROW]]
    values = zip(fields[0::_PER_ROW], fields[1::_PER_ROW], fields[2::_PER_ROW], roles, fields[4::_PER_ROW], lines)
    # `tuple.__new__` builds each hit from its complete values without a call to `SearchHit`'s
    # own `__new__`, a Python function (a third of what making the hits costs)
    return list(map(tuple.__new__, repeat(SearchHit), values))


def lines_holding(words: list[str]) -> re.Pattern[str]:
    """What finds a line holding one of `words` in casefolded text: the first word found, and the
    rest of its line (so that the next search starts on the next line)."""
    return re.compile("(?:" + "|".join(re.escape(word.casefold()) for word in words) + ")[^\n]*")


def _lines_in_ascii(texts: list[str], words: re.Pattern[str]) -> list[tuple[str, ...]]:
    """For each of `texts` (cleaned ASCII), its lines that hold one of `words` (`lines_holding`),
    stripped; else its first line (`_first_line`).

    All the texts are joined (each ends with a newline) and lowercased once, the words searched
    for in the whole, and each line holding one cut out where it was found and given to the text
    it lies in. This holds because cleaned ASCII text breaks lines only at a newline (`clean`
    removed the others), lowercasing ASCII keeps every character where it was, and no word holds
    a newline, so a match never runs from one line, or one text, into the next."""
    whole = "\n".join(texts) + "\n"
    folded = whole.lower()
    ends = list(accumulate([len(text) + 1 for text in texts]))  # where each text's part ends
    found: list[list[str]] = [[] for _ in texts]
    line_before = folded.rfind
    n = 0
    for match in words.finditer(folded):
        word_at, line_end = match.span()
        start = line_before("\n", 0, word_at) + 1
        while ends[n] <= start:
            n += 1
        found[n].append(whole[start:line_end].strip())
    lines = list(map(tuple, found))
    if () in lines:  # (rare: FTS5 matched a text by a word folded, see `_first_line`)
        lines = [held or _first_line(text) for held, text in zip(lines, texts, strict=True)]
    return lines


def _lines_in_any(text: str, words: re.Pattern[str]) -> tuple[str, ...]:
    """`_lines_in_ascii` for one text that is not ASCII: it is split into lines and casefolded once
    (casefolding never adds or removes a line break, so its lines pair with the text's), and each
    line searched."""
    lines = text.splitlines()
    found = tuple(lines[n].strip() for n, folded in enumerate(text.casefold().splitlines()) if words.search(folded))
    return found or _first_line(text)


def _first_line(text: str) -> tuple[str, ...]:
    """What a hit shows when no line holds a searched word as written (FTS5 matched it folded: an
    accent, a ligature): the first line of the text."""
    return tuple((text.strip().splitlines() or [""])[:1])
