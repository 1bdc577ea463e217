"""Run a command for a tool: a time limit, bounded output, and nothing left running afterwards.

The command runs in a process group (a session) of its own, so that on a timeout or when the
turn is cancelled the whole group is killed, children included. Standard output and standard
error are read together; at most `limit` bytes are kept (the head and the tail). The provider API
key variables are left out of the command's environment: a command the model asked for has no
business with them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..providers.registry import PROVIDERS
from .result import FULL_OUTPUT_LIMIT, HeadTail

_READ_SIZE = 64 * 1024


@dataclass(frozen=True, slots=True)
class ProcessOutput:
    """What a finished (or killed) command left: its output, exit status, and whether it timed out.

    `output` is at most the run's limit; `total_bytes` counts everything it wrote.
    """

    output: bytes
    total_bytes: int
    exit_code: int | None
    timed_out: bool = False

    def status_note(self, timeout: float) -> str:
        """A line saying how the command ended, to follow its output."""
        if self.timed_out:
            return f"[timed out after {timeout:g} s; the command and its children were killed]"
        if self.exit_code is None:
            return "[the command did not finish]"
        if self.exit_code < 0:
            try:
                name = signal.Signals(-self.exit_code).name
            except ValueError:
                name = f"signal {-self.exit_code}"
            return f"[killed by {name}]"
        return f"[exit status {self.exit_code}]"


async def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    stdin: bytes | None = None,
    limit: int = FULL_OUTPUT_LIMIT,
) -> ProcessOutput:
    """Run `argv` in `cwd`, feeding it `stdin` (or nothing), for at most `timeout` seconds.

    When the calling task is cancelled, the process group is killed and the cancellation goes on.
    Raises `OSError` when the command cannot be started.
    """
    starting = asyncio.ensure_future(
        asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=sys.platform != "win32",
            env=command_environment(),
        )
    )
    try:
        # Shielded: the command may already run (and start children) before its pipes are set up,
        # so a cancellation here must still end with the group killed, not with it left running.
        process = await asyncio.shield(starting)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            started = await starting
            _kill_group(started)
            await asyncio.shield(started.wait())
        raise
    buffer = HeadTail(limit)

    async def pump() -> None:
        assert process.stdout is not None
        while data := await process.stdout.read(_READ_SIZE):
            buffer.add(data)

    async def feed() -> None:
        if process.stdin is None:
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            process.stdin.write(stdin or b"")
            await process.stdin.drain()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            process.stdin.close()

    timed_out = finished = False
    try:
        try:
            async with asyncio.timeout(timeout):
                await asyncio.gather(pump(), feed())
                await process.wait()
                finished = True
        except TimeoutError:
            timed_out = True
    finally:
        if not finished:  # timed out or cancelled: the whole group goes, children included
            _kill_group(process)
            if process.returncode is None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(process.wait())
    return ProcessOutput(buffer.value(), buffer.total, process.returncode, timed_out)


def command_environment() -> dict[str, str]:
    """The environment for a tool's command: this one, less every provider's API key variable."""
    secret = {var for spec in PROVIDERS.values() for var in spec.key_env}
    return {name: value for name, value in os.environ.items() if name not in secret}


def _kill_group(process: asyncio.subprocess.Process) -> None:
    if sys.platform == "win32":
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
