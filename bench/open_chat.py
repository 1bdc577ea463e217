"""Opening a saved chat: the time until its newest screen is painted, for 2,000 messages against 20.

Run:  python bench/open_chat.py [--small 20] [--large 2000] [--runs 5] [--size 120x40]

Two chats are saved in a temporary history database, alike but for their length: user questions
and replies of a paragraph, a Python code block and a table, the last reply ending in a marker
word. Each run is a fresh Python process (this script with `--probe`), as `tui-chat --chat ID`
would be, headless at `--size`; the time runs from just before the session is built (the chat is
read from the file then) to the first frame whose screen shows the marker, with the prompt
focused. Runs alternate between the two chats so that machine noise falls on both; the medians
are printed with their ratio, next to the target (the large chat within 2x of the small one), and
how many message widgets each had mounted when its newest screen was painted.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET = 2.0
MARKER = "zanzibar-end"
REPLY = """Here is how it goes, step {n}: the parser reads the tokens, then the checker walks the tree.

```python
def step_{n}(items: list[int]) -> int:
    total = 0
    for item in items:
        total += item * {n}
    return total
```

| step | cost | note |
| --- | --- | --- |
| {n} | {cost} ms | parsed |
| {m} | {cost2} ms | checked |
"""


def save_chat(db: Path, messages: int) -> str:
    """A chat of `messages` messages (user and assistant in turn) in the history at `db`; its id."""
    from tui_chat.chunks import Role
    from tui_chat.store.history import open_store

    store = open_store(db)
    chat = store.new_chat(provider="demo", model="demo-1")
    for n in range(messages // 2):
        store.add_message(chat, Role.USER, f"Question {n}: how does step {n} work?")
        reply = REPLY.format(n=n, m=n + 1, cost=n % 97, cost2=(n * 7) % 89)
        if n == messages // 2 - 1:
            reply += f"\nThat is all: {MARKER}.\n"
        store.add_message(chat, Role.ASSISTANT, reply)
    store.close()
    return chat


def probe(chat_id: str, size: tuple[int, int]) -> None:
    """In this process: open chat `chat_id` as `tui-chat --chat` does and print when its newest screen showed."""
    began = time.perf_counter()
    from tui_chat.session import Choices, build_session, start_history
    from tui_chat.ui.app import TuiChatApp
    from tui_chat.ui.widgets.chat_log import ChatLog
    from tui_chat.ui.widgets.prompt_input import PromptInput

    choices = Choices(provider="demo", chat=chat_id, no_history=True)
    session = build_session(choices)
    start_history(session, choices)

    async def until_painted(pilot) -> None:  # type: ignore[no-untyped-def]
        app = pilot.app
        while not (isinstance(app.focused, PromptInput) and MARKER in _screen_text(app)):
            await pilot.pause()
        painted = time.perf_counter() - began
        mounted = len(app.screen.query_one(ChatLog).query("UserMessage, AssistantMessage"))
        print(json.dumps({"seconds": painted, "mounted": mounted}), flush=True)
        app.exit()

    TuiChatApp(session, save_settings=False).run(headless=True, size=size, auto_pilot=until_painted)


def _screen_text(app) -> str:  # type: ignore[no-untyped-def]
    """What the terminal shows now, as plain text."""
    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def open_once(data: Path, chat_id: str, size: str) -> dict[str, float]:
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    out = subprocess.run(
        [sys.executable, __file__, "--probe", chat_id, "--size", size], env=env, capture_output=True, text=True, check=True
    ).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("{")))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=20)
    parser.add_argument("--large", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="120x40")
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))
    if args.probe:
        probe(args.probe, (width, height))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder)
        db = data / "tui-chat" / "chats.db"
        chats = {args.small: save_chat(db, args.small), args.large: save_chat(db, args.large)}
        for chat in chats.values():
            open_once(data, chat, args.size)  # warm the disk cache and the bytecode
        results: dict[int, list[dict[str, float]]] = {size: [] for size in chats}
        for _ in range(args.runs):
            for size, chat in chats.items():
                results[size].append(open_once(data, chat, args.size))
    medians = {}
    for size, runs in results.items():
        seconds = [run["seconds"] for run in runs]
        medians[size] = statistics.median(seconds)
        print(
            f"{size:>6} messages: median {medians[size] * 1000:6.0f} ms  min {min(seconds) * 1000:6.0f} ms"
            f"  max {max(seconds) * 1000:6.0f} ms  ({args.runs} runs, {int(runs[-1]['mounted'])} message widgets mounted)"
        )
    ratio = medians[args.large] / medians[args.small]
    met = "met" if ratio <= TARGET else "NOT met"
    print(f"   ratio: {ratio:.2f}x the {args.small}-message chat (target <= {TARGET:.1f}x: {met})")
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
