"""Private chats stay private: exports are 0600 and replace a file whole, the data folder is 0700."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.test_damage import _saved_chat
from tui_chat.cli import main
from tui_chat.store.database import default_path
from tui_chat.store.history import open_store


@pytest.fixture
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("form", ["json", "md"])
def test_an_export_is_private_and_replaces_the_old_file_whole(
    db: Path, tmp_path: Path, form: str, usual_umask: None, capsys: pytest.CaptureFixture[str]
) -> None:
    chat = _saved_chat(db)
    target = tmp_path / f"out.{form}"
    assert main(["history", "--db", str(db), "export", chat, "--format", form, "-o", str(target)]) == 0
    assert _mode(target) == 0o600 and "Teapots" in target.read_text()

    target.write_text("an older export")
    target.chmod(0o644)
    other_name = tmp_path / "hard-link"
    os.link(target, other_name)  # written in place, both names would show the new text
    assert main(["history", "--db", str(db), "export", chat, "--format", form, "-o", str(target)]) == 0
    assert _mode(target) == 0o600 and "Teapots" in target.read_text()
    assert other_name.read_text() == "an older export"  # a new file took the name: never half-written
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("out", "."))) == [f"out.{form}"]


def test_the_data_folder_is_tightened_to_0700_when_opened_but_a_chosen_files_folder_is_left_alone(
    tmp_path: Path, usual_umask: None
) -> None:
    ours = default_path().parent
    ours.mkdir(parents=True, mode=0o755)
    ours.chmod(0o755)
    open_store().close()
    assert _mode(ours) == 0o700
    theirs = tmp_path / "shared"
    theirs.mkdir(mode=0o755)
    open_store(theirs / "chats.db").close()
    assert _mode(theirs) == 0o755 and _mode(theirs / "chats.db") == 0o600
