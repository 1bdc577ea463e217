"""A separate tui-chat process writing to a chat database, for the crash and two-process tests.

    python child.py stream DB   prints the reply id, then each delta it streams, as "<n:seconds>",
                                one per line, until it is killed
    python child.py burst DB NAME N
                                waits for a line on stdin, then writes N chats of two messages and
                                prints "done" and the store's notice (or "None")
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tui_chat.chunks import ReplyStatus, Role
from tui_chat.store.history import open_store


def stream(db: Path) -> None:
    store = open_store(db)
    chat = store.new_chat(title="streaming", provider="demo", model="demo")
    store.add_message(chat, Role.USER, "tell me a long story")
    reply = store.start_reply(chat, provider="demo", model="demo")
    print(reply, flush=True)
    start = time.monotonic()
    n = 0
    while True:
        n += 1
        delta = f"<{n}:{time.monotonic() - start:.3f}>"
        store.append_text(reply, delta)
        print(delta, flush=True)
        time.sleep(0.005)  # the pace of a model's reply: ~200 chunks a second


def burst(db: Path, name: str, count: int) -> None:
    store = open_store(db, flush_interval=0.05)
    sys.stdin.readline()
    for i in range(count):
        chat = store.new_chat(title=f"{name}-{i}")
        store.add_message(chat, Role.USER, f"question {name} {i}")
        reply = store.start_reply(chat)
        for word in ("answer", name, str(i)):
            store.append_text(reply, word + " ")
        store.finish_message(reply, ReplyStatus.COMPLETE)
    store.close()
    print("done", store.notice, flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "stream":
        stream(Path(sys.argv[2]))
    else:
        burst(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
