"""Store tests use a real SQLite file in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tui_chat.store.history import Store, open_store


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "chats.db"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    opened = open_store(db)
    assert opened.saved and opened.notice is None
    yield opened
    opened.close()
