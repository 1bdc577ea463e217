"""Counted nouns for what the UI says: "1 line", "2 lines", "1,024 characters"."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` (with thousands separators) and `noun`, in the plural unless `count` is 1."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"
