"""Building the app for UI tests: the demo provider, a fixed clock, no settings written by default."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from tui_chat.session import Choices, build_session
from tui_chat.ui.app import TuiChatApp

SIZE = (100, 32)


def fixed_clock() -> float:
    return 1000.0


def make_app(
    *, save_settings: bool = False, pack: str | None = None, workspace: str | None = None, **demo_options: Any
) -> TuiChatApp:
    """The real app on the demo provider; `demo_options` go to the provider (speed defaults to 0).

    Approval dialogs take keys at once (no arming delay), so tests need not wait for it; text
    cursors do not blink, so a screenshot never depends on when it is taken.
    """
    options = {"speed": 0, **demo_options}
    session = build_session(Choices(provider="demo", pack=pack, provider_options=options, workspace=workspace))
    return TuiChatApp(
        session, clock=fixed_clock, save_settings=save_settings, approval_arm_delay=0, tune_collector=False, blink=False
    )


@pytest.fixture
def app_factory() -> Callable[..., TuiChatApp]:
    return make_app


def screen_text(app: TuiChatApp) -> str:
    """The plain text the terminal would show now (what a person reads), line by line."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True, record=True)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()
