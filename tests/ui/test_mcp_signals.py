"""SIGTERM and SIGHUP end the TUI with no MCP server process left behind.

The real app runs in a pty (tests/ui/test_signals.py) with a stdio server in its config that keeps
running after its stdin closes (`--linger`), so only a client that ends it leaves no orphan. The
signal is sent once the server is up: the app has listed its tools and shows the notice about the
one whose schema it cannot check.
"""

from __future__ import annotations

import sys

import pytest

if sys.platform == "win32":
    pytest.skip("POSIX signals, ptys and named pipes", allow_module_level=True)

import os
import signal
from pathlib import Path

from tests.tools.mcp.servers import stdio_toml

from .test_mcp import process_alive
from .test_signals import read_until, run_until_drawn


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_ends_the_app_and_every_server_process(tmp_path: Path, number: int) -> None:
    (tmp_path / "config.toml").write_text(stdio_toml("fake", "--linger"))
    process, master, drawn = run_until_drawn(tmp_path)
    servers: list[int] = []
    try:
        read_until(master, lambda out: b"unavailable" in drawn + out)  # the odd_schema notice: tools listed
        servers = children(process.pid)
        assert servers and all(process_alive(pid) for pid in servers)
        process.send_signal(number)
        after = read_until(master, lambda out: False)  # to the end: the child has closed the pty
        assert process.wait(30) == 0
        assert b"Traceback" not in after
        assert not any(process_alive(pid) for pid in servers), "a server process outlived the app"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for pid in servers:
            if process_alive(pid):
                os.kill(pid, signal.SIGKILL)
        os.close(master)
