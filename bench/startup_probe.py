"""Start one app headless, and print a JSON line once its prompt has focus.

Run by bench/startup.py and tests/test_startup.py in a fresh process:
`python bench/startup_probe.py bare|tui-chat [tui-chat's options]`. `tui-chat` starts the way the `tui-chat` command
does (`cli._cmd_tui`): the collector off, the session, then history as `start_history(wait=False)` starts it (the
store opens on a thread once the first screen is drawn), then the app;
the database is the one in the data directory the environment names (`XDG_DATA_HOME`:
bench/startup.py points it at a pre-made one).

The line has `ready` (time.time() when the prompt had focus), `modules` (every module imported
by then), `collector_on` (whether the garbage collector runs by then), and the CPU seconds spent by then in the main thread (`main_cpu`: the work on the path
to the first screen) and in the whole process (`process_cpu`: that and what ran beside it on other
threads, such as opening the store); for tui-chat with history on, measured after `ready`: `store_open`
(time.time() when the store had opened: later than `ready` means the first screen did not wait
for it), `chats` and `list_ms` (loading the chat list, as F2 does).
"""

from __future__ import annotations

import gc
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def _until_focused(
    pilot, widget_type: type, after: Callable[[], Awaitable[dict[str, Any]]] | None = None  # type: ignore[no-untyped-def]
) -> None:
    while not isinstance(pilot.app.focused, widget_type):
        await pilot.pause()
    report: dict[str, Any] = {
        "ready": time.time(),
        "main_cpu": time.thread_time(),
        "process_cpu": time.process_time(),
        "modules": sorted(sys.modules),
        "collector_on": gc.isenabled(),
    }
    if after is not None:
        report |= await after()
    print(json.dumps(report), flush=True)
    pilot.app.exit()


def run_tui_chat() -> None:
    from tui_chat.cli import build_parser, choices_from

    gc.disable()  # as cli._cmd_tui does; the app turns it on again
    from tui_chat.session import build_session, start_history

    choices = choices_from(build_parser().parse_args(sys.argv[2:]))
    session = build_session(choices)
    start_history(session, choices, wait=False)
    # The app is imported once the store has started opening, as cli._cmd_tui does.
    from tui_chat.ui.app import TuiChatApp
    from tui_chat.ui.widgets.prompt_input import PromptInput

    async def history_figures() -> dict[str, Any]:
        if session.recorder is None:
            return {}
        store = await session.recorder.opened()
        opened = time.time()
        started = time.perf_counter()
        chats = await store.list_chats()
        return {"store_open": opened, "chats": len(chats), "list_ms": (time.perf_counter() - started) * 1000}

    try:
        TuiChatApp(session, save_settings=False).run(
            headless=True, size=(100, 32), auto_pilot=lambda pilot: _until_focused(pilot, PromptInput, history_figures)
        )
    finally:
        session.close_history()


def run_bare() -> None:
    """A bare Textual app with the same widgets: a scrolling log, a TextArea prompt, a status line, a footer."""
    from textual.app import App, ComposeResult
    from textual.containers import VerticalScroll
    from textual.widgets import Footer, Static, TextArea

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            with VerticalScroll():
                yield Static("welcome")
            yield TextArea(id="prompt")
            yield Static("status")
            yield Footer()

        def on_mount(self) -> None:
            self.query_one(TextArea).focus()

    Bare().run(headless=True, size=(100, 32), auto_pilot=lambda pilot: _until_focused(pilot, TextArea))


if __name__ == "__main__":
    {"tui-chat": run_tui_chat, "bare": run_bare}[sys.argv[1]]()
