"""Snapshot of a chat marked unsaved in the status bar (an incognito one: fixed size, clock and text)."""

from __future__ import annotations

from tui_chat.session import Choices, start_history

from .conftest import SIZE, make_app


def test_an_unsaved_chat_is_marked_in_the_status_bar(snap_compare) -> None:
    app = make_app()
    start_history(app.session, Choices(no_history=True))  # history off: nothing opens, nothing is saved
    assert app.session.incognito and app.session.recorder is None
    assert snap_compare(app, terminal_size=SIZE)
