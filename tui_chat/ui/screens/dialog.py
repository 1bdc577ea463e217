"""The look the small modal dialogs share: a bordered box in the middle of the screen.

A dialog composes one `Vertical` holding its parts; `.title` is its first line and `.note` a muted
line under the rest. Subclasses add only the rules for their own parts.
"""

from __future__ import annotations

from typing import TypeVar

from textual.screen import ModalScreen

R = TypeVar("R")


class Dialog(ModalScreen[R]):
    """A modal screen drawn as a centred, bordered box 80 columns wide."""

    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > Vertical {
        width: 80;
        height: auto;
        max-height: 80%;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    Dialog .title { text-style: bold; }
    Dialog .note { color: $text-muted; margin-top: 1; }
    """
