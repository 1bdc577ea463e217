"""A modal list to choose one thing from: Enter picks, Esc leaves things as they are.

The pack picker and the model picker are both this screen with their own options; the model
picker fills its list when the provider has answered.
"""

from __future__ import annotations

from typing import Generic, Sequence, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

T = TypeVar("T")


class PickerScreen(ModalScreen["T | None"], Generic[T]):
    """A titled list of labelled values; dismisses with the chosen value, or None."""

    DEFAULT_CSS = """
    PickerScreen { align: center middle; }
    PickerScreen > Vertical {
        width: 80;
        height: auto;
        max-height: 80%;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    PickerScreen .title { text-style: bold; margin-bottom: 1; }
    PickerScreen .note { color: $text-muted; margin-top: 1; }
    PickerScreen OptionList { height: auto; max-height: 20; }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, title: str, choices: Sequence[tuple[Content, T]] = (), *, current: T | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.values: list[T] = []
        self._initial = list(choices)
        self._current = current

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self.title_text), classes="title")
            yield OptionList()
            yield Static("", classes="note")

    def on_mount(self) -> None:
        if self._initial:
            self.show_choices(self._initial)

    def show_choices(self, choices: Sequence[tuple[Content, T]]) -> None:
        """Replace the list with `choices`, highlighting the current value."""
        option_list = self.query_one(OptionList)
        option_list.clear_options()
        self.values = [value for _, value in choices]
        option_list.add_options([Option(label) for label, _ in choices])
        if self.values:
            option_list.highlighted = self.values.index(self._current) if self._current in self.values else 0
        option_list.focus()

    def show_note(self, text: str) -> None:
        """A line under the list (loading, errors); shown literally."""
        self.query_one(".note", Static).update(Content(text))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.values[event.option_index])
