"""Start one app headless, and print a JSON line once its prompt has focus.

Run by bench/startup.py and tests/test_startup.py in a fresh process:
`python bench/startup_probe.py tui-chat|bare`. The line has `ready` (time.time() when the prompt
had focus) and `modules` (every module imported by then).
"""

from __future__ import annotations

import json
import sys
import time


async def _until_focused(pilot, widget_type: type) -> None:  # type: ignore[no-untyped-def]
    while not isinstance(pilot.app.focused, widget_type):
        await pilot.pause()
    print(json.dumps({"ready": time.time(), "modules": sorted(sys.modules)}), flush=True)
    pilot.app.exit()


def run_tui_chat() -> None:
    from tui_chat.cli import choices_from, build_parser
    from tui_chat.session import build_session
    from tui_chat.ui.app import TuiChatApp
    from tui_chat.ui.widgets.prompt_input import PromptInput

    session = build_session(choices_from(build_parser().parse_args([])))
    TuiChatApp(session, save_settings=False).run(
        headless=True, size=(100, 32), auto_pilot=lambda pilot: _until_focused(pilot, PromptInput)
    )


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
