"""A modal list to choose one thing from: type to narrow it, Enter picks, Esc leaves things as they are.

The pack picker and the model picker are both this screen with their own options; the model
picker fills its list when the provider has answered, and offers what was typed as a choice of
its own (a model the list does not name, or any model when the list could not be fetched).
"""

from __future__ import annotations

from typing import Callable, Generic, Sequence, TypeVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from .dialog import Dialog

T = TypeVar("T")


def matches(label: Content, words: list[str]) -> bool:
    """Every one of `words` (lower case) is in the label's text, in any order and case."""
    text = label.plain.lower()
    return all(word in text for word in words)


class PickerScreen(Dialog["T | None"], Generic[T]):
    """A titled, filtered list of labelled values; dismisses with the chosen value, or None.

    The filter box keeps the focus: Up and Down move through the list, Enter picks the highlighted
    entry. With `typed`, text in the box that names no listed value is offered as one more entry,
    `typed(text)`.
    """

    DEFAULT_CSS = """
    PickerScreen .title { margin-bottom: 1; }
    PickerScreen #filter { margin-bottom: 1; }
    PickerScreen OptionList { height: auto; max-height: 20; }
    """

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close"),
        Binding("down", "move('cursor_down')", "Next", show=False),
        Binding("up", "move('cursor_up')", "Previous", show=False),
        Binding("pagedown", "move('page_down')", "Page down", show=False),
        Binding("pageup", "move('page_up')", "Page up", show=False),
    ]

    def __init__(
        self,
        title: str,
        choices: Sequence[tuple[Content, T]] = (),
        *,
        current: T | None = None,
        typed: Callable[[str], T] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.values: list[T] = []
        """The values shown now, in the list's order."""
        self._choices = list(choices)
        self._current = current
        self._typed = typed

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self.title_text), classes="title")
            yield Input(placeholder="Type to filter" + (", or a name to use" if self._typed else ""), id="filter")
            option_list = OptionList()
            option_list.can_focus = False  # the filter keeps the focus; Up/Down reach the list from there
            yield option_list
            yield Static("", classes="note")

    def on_mount(self) -> None:
        self.query_one("#filter", Input).focus()
        self._show()

    def show_choices(self, choices: Sequence[tuple[Content, T]]) -> None:
        """Replace every choice with `choices` (the filter still applies)."""
        self._choices = list(choices)
        self._show()

    def show_note(self, text: str) -> None:
        """A line under the list (loading, errors); shown literally."""
        self.query_one(".note", Static).update(Content(text))

    @property
    def filter_text(self) -> str:
        return self.query_one("#filter", Input).value.strip()

    def _show(self) -> None:
        """Fill the list with the choices the filter lets through, and the typed entry if any."""
        words = self.filter_text.lower().split()
        shown = [(label, value) for label, value in self._choices if matches(label, words)]
        if self._typed is not None and self.filter_text:
            value = self._typed(self.filter_text)
            if value not in (known for _, known in self._choices):
                shown.append((Content.assemble("Use ", (repr(self.filter_text), "bold"), " (not in the list)"), value))
        option_list = self.query_one(OptionList)
        option_list.clear_options()
        option_list.add_options([Option(label) for label, _ in shown])
        self.values = [value for _, value in shown]
        if self.values:
            current = self._current in self.values and not words
            option_list.highlighted = self.values.index(self._current) if current else 0  # type: ignore[arg-type]

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        highlighted = self.query_one(OptionList).highlighted
        if highlighted is not None and highlighted < len(self.values):
            self.choose(self.values[highlighted])

    def action_move(self, where: str) -> None:
        """Up/Down/PageUp/PageDown in the filter box move the list's highlight."""
        getattr(self.query_one(OptionList), f"action_{where}")()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choose(self.values[event.option_index])

    def choose(self, value: T) -> None:
        """`value` was picked: close with it (a picker that needs more first overrides this)."""
        self.dismiss(value)
