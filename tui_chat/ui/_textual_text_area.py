"""A TextArea that works its theme's styles out again only when they may have changed: Textual's
private API (see `_textual_internals`).

Textual's TextArea fills in the styles its theme leaves open from its CSS (`TextAreaTheme.apply_css`)
before every render: its own style (every ancestor's background, colour and text style combined)
and each of its component styles. While a reply streams and a person types, that was half the cost
of drawing the prompt for each key (about 0.3 ms of 0.55). What it reads is known: the styles of the
widget and of each of its ancestors (Textual counts every change to a node's styles, `_cache_key`),
its component styles (replaced each time the stylesheet is applied to it: a focus, a class, a
theme), its theme object and the app's theme. `ThemeAppliedOnChange` fills the theme in again only
when one of those differs from what it was filled in with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from ._textual_frames import styles_key

if TYPE_CHECKING:
    from textual.widgets import TextArea

    _TextAreaMixin = TextArea
else:
    _TextAreaMixin = object

__all__ = ["ThemeAppliedOnChange"]


class ThemeAppliedOnChange(_TextAreaMixin):
    """A TextArea whose theme takes its styles from the CSS once per change to them, not per render
    (see the module's docstring). A mixin, put before the TextArea class."""

    _theme_applied_with: tuple[object, ...] | None = None
    """What the theme's styles were last filled in from (see `_theme_inputs`)."""

    def render_lines(self, crop: Region) -> list[Strip]:
        # TextArea's own `render_lines` is `apply_css`, then Widget's (checked in the tests).
        theme = self._theme
        if theme is not None:
            inputs = self._theme_inputs()
            if inputs != self._theme_applied_with:
                theme.apply_css(self)
                self._theme_applied_with = inputs
        return Widget.render_lines(self, crop)

    def _theme_inputs(self) -> tuple[object, ...]:
        """Everything `TextAreaTheme.apply_css` reads, as something to compare (the objects themselves
        where they are replaced rather than changed, so that none is freed and its id reused)."""
        return (
            self._theme,
            self.app.current_theme,
            styles_key(self),
            tuple(self._component_styles.values()),
        )
