"""The footer of key bindings, rebuilt once per frame however often the bindings change in it.

Textual's `Footer` schedules a full recompose (new `FooterKey` widgets, each styled anew) for
every `bindings_updated` signal, and a screen sends several in one frame: at start-up (mount,
focus, the first layout) five recomposes of eight keys cost about a fifth of the time to a focused
prompt. `KeyFooter` coalesces them: the first change of a frame schedules one recompose after the
refresh, and later changes before it runs only ride along (the recompose reads the bindings as
they are then).
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

from .._textual_internals import mark_bindings_ready


class KeyFooter(Footer):
    """Textual's `Footer`, recomposed at most once per refresh."""

    _recompose_scheduled = False

    def bindings_changed(self, screen: Screen) -> None:
        """Schedule one recompose after the next refresh, unless one is scheduled already."""
        mark_bindings_ready(self)
        if self._recompose_scheduled or not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self._recompose_scheduled = True
            self.call_after_refresh(self._recompose_once)

    async def _recompose_once(self) -> None:
        self._recompose_scheduled = False
        await self.recompose()
