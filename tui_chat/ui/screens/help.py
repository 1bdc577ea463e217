"""F1: every key the chat answers to, gathered from the live bindings so the list never goes stale."""

from __future__ import annotations

from typing import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from ..widgets.prompt_input import PromptInput
from .dialog import Dialog


class HelpScreen(Dialog[None]):
    """A table of keys and what they do. Esc, F1, q or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen > Vertical { width: 72; max-height: 90%; }
    HelpScreen .title { margin-bottom: 1; }
    HelpScreen DataTable { height: auto; max-height: 30; }
    """

    BINDINGS = [Binding("escape,f1,q,question_mark", "dismiss", "Close")]

    def __init__(self, bindings: Iterable[Binding]) -> None:
        super().__init__()
        self._listed = [b for b in bindings if b.description]

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Keys", classes="title")
            table: DataTable[str] = DataTable(cursor_type="none", zebra_stripes=True, show_header=False)
            table.add_columns("key", "action")
            keys_of: dict[str, list[str]] = {}  # description -> its keys, in the order first bound
            for binding in [*PromptInput.BINDINGS, *self._listed]:
                assert isinstance(binding, Binding)
                keys = keys_of.setdefault(binding.description, [])
                for key in binding.key.split(","):
                    shown = self.app.get_key_display(Binding(key.strip(), ""))
                    if shown not in keys:
                        keys.append(shown)
            for description, keys in keys_of.items():
                table.add_row(" / ".join(keys), description)
            yield table
            yield Static("Ctrl+P opens the command palette for everything else. Esc closes this.", classes="note")
