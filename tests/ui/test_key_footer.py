"""The key footer: rebuilt once for a burst of binding changes, and always showing the keys of now."""

from __future__ import annotations

import pytest

from tui_chat.ui.widgets.key_footer import KeyFooter

from .conftest import SIZE, make_app
from .test_voice import chat, voice_app, voice_on, wait_for


async def _quiet_footer_counting_recomposes(app, pilot, monkeypatch: pytest.MonkeyPatch) -> list[int]:  # type: ignore[no-untyped-def]
    """Wait until the footer has settled after start-up, then count its recomposes (one list item each)."""
    footer = app.screen.query_one(KeyFooter)
    await wait_for(pilot, lambda: footer._bindings_ready and not footer._recompose_scheduled)
    await pilot.pause()
    assert not footer._recompose_scheduled
    recomposes: list[int] = []
    recompose = KeyFooter.recompose

    async def counted(self: KeyFooter) -> None:
        recomposes.append(1)
        await recompose(self)

    monkeypatch.setattr(KeyFooter, "recompose", counted)
    return recomposes


def _footer_actions(app) -> set[str]:  # type: ignore[no-untyped-def]
    return {str(key.action) for key in app.screen.query_one(KeyFooter).query_children("FooterKey")}


async def test_a_burst_of_binding_changes_rebuilds_the_footer_once(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        recomposes = await _quiet_footer_counting_recomposes(app, pilot, monkeypatch)
        assert "talk" not in _footer_actions(app)
        # The voice keys apply while a voice session is there (`check_action`); any object stands
        # for one here, only to change which keys apply.
        app.screen.voice = object()
        for _ in range(4):
            app.screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert len(recomposes) == 1
        assert "talk" in _footer_actions(app)
        app.screen.voice = None
        app.screen.refresh_bindings()  # a later change is not lost
        await pilot.pause()
        await pilot.pause()
        assert len(recomposes) == 2
        assert "talk" not in _footer_actions(app)
        assert app.screen.query_one(KeyFooter).is_attached


async def test_binding_signals_that_change_no_key_rebuild_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        recomposes = await _quiet_footer_counting_recomposes(app, pilot, monkeypatch)
        shown = _footer_actions(app)
        for _ in range(3):
            app.screen.refresh_bindings()
            await pilot.pause()
            await pilot.pause()
        assert recomposes == []
        assert _footer_actions(app) == shown


async def test_the_footer_shows_the_keys_that_apply_now() -> None:
    app, rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()

        def shown() -> str:
            return " ".join(str(key.render()) for key in app.screen.query_one(KeyFooter).children)

        assert "Voice" in shown() and "Talk" not in shown()
        await voice_on(pilot, rig)  # its keys join the footer
        await wait_for(pilot, lambda: "Talk" in shown())
        assert "Voice mode" in shown()
        await pilot.press("f5")
        await wait_for(pilot, lambda: chat(app).voice is None and "Talk" not in shown())
