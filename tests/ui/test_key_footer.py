"""The key footer: rebuilt once for a burst of binding changes, and always showing the keys of now."""

from __future__ import annotations

import pytest

from tui_chat.ui.widgets.key_footer import KeyFooter

from .conftest import SIZE, make_app
from .test_voice import chat, voice_app, voice_on, wait_for


async def test_a_burst_of_binding_changes_rebuilds_the_footer_once(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        footer = app.screen.query_one(KeyFooter)
        # Start from a quiet footer: no rebuild of the start-up's changes still to come.
        await wait_for(pilot, lambda: footer._bindings_ready and not footer._recompose_scheduled)
        await pilot.pause()
        assert not footer._recompose_scheduled
        recomposes = 0
        recompose = KeyFooter.recompose

        async def counted(self: KeyFooter) -> None:
            nonlocal recomposes
            recomposes += 1
            await recompose(self)

        monkeypatch.setattr(KeyFooter, "recompose", counted)
        for _ in range(4):
            app.screen.refresh_bindings()
        await pilot.pause()
        await pilot.pause()
        assert recomposes == 1
        app.screen.refresh_bindings()  # a later change is not lost
        await pilot.pause()
        await pilot.pause()
        assert recomposes == 2
        assert footer.is_attached


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
