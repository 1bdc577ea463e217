"""Keeping secrets (keys, tokens, header values, URL passwords) out of every message."""

from __future__ import annotations

from typing import Iterable
from urllib.parse import unquote, urlsplit


class Secrets(list[str]):
    """The keys and tokens in use, to be removed from messages; its repr never shows them."""

    def __repr__(self) -> str:
        return f"<{len(self)} secret(s) hidden>"


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (of 4 characters or more) replaced by `***`."""
    for secret in secrets:
        if secret and len(secret) >= 4 and secret in text:
            text = text.replace(secret, "***")
    return text


def url_password(url: str) -> list[str]:
    """The password in `url`'s user info (`https://user:secret@host`), as written and decoded; none when it has none."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []
