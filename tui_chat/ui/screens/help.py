"""F1: every key the chat answers to, gathered from the live bindings so the list never goes stale."""

from __future__ import annotations

from typing import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from ..widgets.prompt_input import PromptInput


class HelpScreen(ModalScreen[None]):
    """A table of keys and what they do. Esc, F1 or q closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical {
        width: 72;
        height: auto;
        max-height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    HelpScreen .title { text-style: bold; margin-bottom: 1; }
    HelpScreen .foot { color: $text-muted; margin-top: 1; }
    HelpScreen DataTable { height: auto; max-height: 30; }
    """

    BINDINGS = [Binding("escape,f1,q", "dismiss", "Close")]

    def __init__(self, bindings: Iterable[Binding]) -> None:
        super().__init__()
        self._listed = [b for b in bindings if b.description]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Keys", classes="title")
            table: DataTable[str] = DataTable(cursor_type="none", zebra_stripes=True, show_header=False)
            table.add_columns("key", "action")
            seen: set[str] = set()
            for binding in [*PromptInput.BINDINGS, *self._listed]:
                assert isinstance(binding, Binding)
                if binding.description in seen:
                    continue
                seen.add(binding.description)
                keys = " / ".join(
                    self.app.get_key_display(Binding(key.strip(), "")) for key in binding.key.split(",")
                )
                table.add_row(keys, binding.description)
            yield table
            yield Static("Ctrl+P opens the command palette for everything else. Esc closes this.", classes="foot")
