"""`tui-chat ask` when saving fails part way (a damaged page, a full disk): the reply still comes,
the exit code is about the reply, and the store's notice is said once on stderr."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.store.damage import damage_table
from tests.store.test_damage import _saved_chat
from tui_chat.cli import main
from tui_chat.providers.demo import compose_reply
from tui_chat.store.database import default_path

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--provider", "demo", "--speed", "0"]


def test_ask_on_a_damaged_file_answers_and_warns_once_that_the_chat_was_not_saved(
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = default_path()
    _saved_chat(db)
    damage_table(db, "chats")
    code = main(["ask", *FAST, "new on corrupt"])
    out, err = capsys.readouterr()
    assert code == 0
    assert out == compose_reply("new on corrupt", 1)
    [warning] = err.splitlines()
    assert warning.startswith("tui-chat: warning: ") and "could not be saved" in warning
    assert str(db) in warning and "damaged" in warning


def _limit_file_size(size: int) -> None:
    """In the child: files it writes stop at `size` bytes (EFBIG), as on a full disk."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def test_ask_on_a_full_disk_answers_and_warns_once_that_the_chat_is_not_saved(tmp_path: Path) -> None:
    """A real process whose files cannot grow past a little more than the shared-memory index: the
    database's write-ahead log fills with the chat's first message. (Sized from the database file
    instead, the log filled only after so many transactions that a writer batching more on a busy
    machine sometimes fitted them all: no warning, 2 runs in 12.)"""
    db = default_path()
    _saved_chat(db)
    room = 32768 + 4096  # its 32 KB shared-memory index fits, and 4 KB of log: less than the prompt takes
    prompt = "many words " * 2200  # 24 KB: more than the log may hold (and within the demo model's window)
    result = subprocess.run(
        [sys.executable, "-m", "tui_chat", "ask", *FAST, prompt],
        cwd=ROOT, env=os.environ, capture_output=True, text=True, timeout=60, check=False,
        preexec_fn=lambda: _limit_file_size(room),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == compose_reply(prompt, 1)
    [warning] = result.stderr.splitlines()
    assert warning.startswith("tui-chat: warning: Saving chats to ") and str(db) in warning
    assert "not saved" in warning
