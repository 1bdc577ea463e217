"""SIGTERM and SIGHUP end the TUI as quitting does: the terminal is given back as it was found.

The real app runs in a child process on a pty (this side plays the terminal); once it has drawn
its first screen it gets the signal, and what it writes from then on must leave the alternate
screen, turn mouse tracking off and show the cursor again. It exits with 0, as after Ctrl+Q: the
signal asked it to end and it ended cleanly.
"""

from __future__ import annotations

import sys

import pytest

if sys.platform == "win32":
    pytest.skip("POSIX signals and ptys", allow_module_level=True)

import fcntl
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
LEAVE_ALTERNATE_SCREEN = b"\x1b[?1049l"
MOUSE_OFF = (b"\x1b[?1000l", b"\x1b[?1003l", b"\x1b[?1006l")
SHOW_CURSOR = b"\x1b[?25h"


def run_until_drawn(tmp_path: Path) -> tuple[subprocess.Popen[bytes], int, bytes]:
    """The TUI on the demo provider in a pty, with its config in `tmp_path`; returns once it shows the welcome."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {name: value for name, value in os.environ.items() if not name.startswith("TEXTUAL")}
    env.update(TERM="xterm-256color", HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [sys.executable, "-m", "tui_chat", "--provider", "demo", "--config", str(tmp_path / "config.toml")],
        stdin=slave, stdout=slave, stderr=slave, env=env, cwd=tmp_path, start_new_session=True,
    )
    os.close(slave)
    output = read_until(master, lambda out: b"Type a message" in out)
    return process, master, output


def read_until(master: int, done: Callable[[bytes], bool], limit: float = 60) -> bytes:
    """What the app writes until `done` holds for it or the pty closes; bounded so a bug fails, not hangs."""
    output = b""
    deadline = time.monotonic() + limit
    while not done(output):
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"gave up; output {output[-2000:]!r}"
        ready, _, _ = select.select([master], [], [], remaining)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # the child closed its side (EIO on Linux)
                data = b""
            if not data:
                break
            output += data
    return output


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_ends_the_app_and_gives_the_terminal_back(tmp_path: Path, number: int) -> None:
    process, master, _ = run_until_drawn(tmp_path)
    try:
        process.send_signal(number)
        after = read_until(master, lambda out: False)  # to the end: the child has closed the pty
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    assert LEAVE_ALTERNATE_SCREEN in after
    assert all(code in after for code in MOUSE_OFF)
    assert SHOW_CURSOR in after
    assert b"Traceback" not in after

