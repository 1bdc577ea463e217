"""The footer of key bindings: whole keys only, dropped by priority when they do not fit, and
rebuilt once per frame however often the bindings change in it.

Textual's `Footer` lays its keys out in a row and cuts the row at the edge, mid-word; at 80
columns (or with the voice keys at 120) that cut off Quit. `KeyFooter` hides whole keys instead,
the least important first (`KEEP_FIRST` ranks them; Quit and help come first, so they stay while
anything does), each time the keys or the width change.

Textual's `Footer` also schedules a full recompose (new `FooterKey` widgets, each styled anew) for
every `bindings_updated` signal, and a screen sends several in one frame: at start-up (mount,
focus, the first layout) five recomposes of eight keys cost about a fifth of the time to a focused
prompt. `KeyFooter` coalesces them: the first change of a frame schedules one recompose after the
refresh, and later changes before it runs only ride along (the recompose reads the bindings as
they are then). And a signal that leaves the keys as shown (most of those at start-up, which come
in different frames) recomposes nothing: the keys are rebuilt only when what they show changed.
"""

from __future__ import annotations

from collections.abc import Hashable

from textual import events
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from .._textual_internals import mark_bindings_ready

KEEP_FIRST = ("quit", "help", "submit", "cancel", "talk", "voice", "voice_mode", "pick_model", "pick_pack")
"""Actions in the order their keys are kept when the footer is too narrow; others go first."""


def keep_rank(key: Widget) -> int:
    """Lower is kept longer (`key` is a Textual `FooterKey`, found by its CSS type name: its module is private)."""
    action = str(getattr(key, "action", "")).rpartition(".")[2]
    return KEEP_FIRST.index(action) if action in KEEP_FIRST else len(KEEP_FIRST)


def cells(key: Widget) -> int:
    """The columns `key` takes in the row: its text, padding, border and margin."""
    return key.render().cell_len + key.styles.gutter.width + key.styles.margin.width


class KeyFooter(Footer):
    """Textual's `Footer`, showing whole keys that fit, recomposed at most once per refresh."""

    _recompose_scheduled = False
    _shown: Hashable = None
    """What the keys were last built from (`_keys_to_show`)."""

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
        shown = self._keys_to_show()
        if shown == self._shown:
            return
        self._shown = shown
        await self.recompose()
        self.fit()

    def _keys_to_show(self) -> Hashable:
        """What `Footer.compose` builds the keys from: the shown bindings with their state, and the palette key."""
        bindings = tuple(
            (binding, enabled, tooltip)
            for (_, binding, enabled, tooltip) in self.screen.active_bindings.values()
            if binding.show
        )
        return bindings, self.show_command_palette

    def on_resize(self, event: events.Resize) -> None:
        self.fit()

    def fit(self) -> None:
        """Show the most important keys that fit beside the command palette key; hide the rest."""
        width = {key: cells(key) for key in self.query_children("FooterKey")}
        row = [key for key in width if "-command-palette" not in key.classes]
        room = self.size.width - sum(width[key] for key in width if key not in row)
        shown: set[Widget] = set()
        for key in sorted(row, key=keep_rank):  # stable: equal ranks keep their order
            if width[key] <= room:
                shown.add(key)
                room -= width[key]
            else:
                room = 0  # a less important key never takes the place of a more important one
        for key in row:
            key.display = key in shown
