"""Real processes on a real file: one killed with SIGKILL mid-reply, two writing at once."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tui_chat.chunks import ReplyStatus, Role
from tui_chat.store.history import FLUSH_INTERVAL, open_store

CHILD = Path(__file__).with_name("child.py")
DELTA = re.compile(r"<(\d+):([\d.]+)>")


def _child(*args: str, **kwargs: object) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.Popen(
        [sys.executable, str(CHILD), *args], stdout=subprocess.PIPE, text=True, env=env, **kwargs  # type: ignore[call-overload]
    )


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
async def test_a_reply_killed_mid_stream_is_kept_interrupted_losing_at_most_a_second(tmp_path: Path) -> None:
    db = tmp_path / "chats.db"
    child = _child("stream", str(db))
    assert child.stdout is not None
    reply_id = child.stdout.readline().strip()
    sent = []
    for line in child.stdout:  # wait until two seconds of reply have been streamed
        sent.append(line.strip())
        if float(DELTA.fullmatch(sent[-1]).group(2)) >= 2.0:  # type: ignore[union-attr]
            break
    child.send_signal(signal.SIGKILL)
    sent += [line.strip() for line in child.stdout]  # what it printed before it died
    child.wait()
    assert child.returncode == -signal.SIGKILL

    store = open_store(db)
    try:
        chat = next(c for c in await store.list_chats())
        record = await store.load_chat(chat.id)
    finally:
        store.close()
    reply = record.messages[-1]
    assert reply.id == reply_id and reply.role is Role.ASSISTANT
    assert reply.status is ReplyStatus.INTERRUPTED
    written = "".join(sent)
    assert reply.text and written.startswith(reply.text), "the kept text is a prefix of what was streamed"
    kept = DELTA.findall(reply.text)
    assert reply.text == "".join(f"<{n}:{t}>" for n, t in kept), "no delta is cut in half"
    lost_seconds = float(DELTA.fullmatch(sent[-1]).group(2)) - float(kept[-1][1])  # type: ignore[union-attr]
    print(f"kept {len(kept)} of {len(sent)} deltas; lost the last {lost_seconds:.3f} s (flush every {FLUSH_INTERVAL} s)")
    assert lost_seconds <= 1.0


def test_two_processes_writing_at_once_both_keep_every_message(tmp_path: Path) -> None:
    db = tmp_path / "chats.db"
    open_store(db).close()  # created first, so neither child is the one that makes it
    count = 150
    children = [_child("burst", str(db), name, str(count), stdin=subprocess.PIPE) for name in ("a", "b")]
    for child in children:  # both start writing together
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    outputs = [child.communicate(timeout=120)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0]
    assert outputs == ["done None\n", "done None\n"], "neither process was told of a failure"

    store = open_store(db)
    try:
        chats = asyncio.run(store.list_chats())
        assert sorted(c.title for c in chats) == sorted(f"{n}-{i}" for n in "ab" for i in range(count))
        for info in chats:
            name, i = info.title.split("-")
            record = asyncio.run(store.load_chat(info.id))
            assert [(m.role, m.text, m.status) for m in record.messages] == [
                (Role.USER, f"question {name} {i}", ReplyStatus.COMPLETE),
                (Role.ASSISTANT, f"answer {name} {i} ", ReplyStatus.COMPLETE),
            ]
    finally:
        store.close()
