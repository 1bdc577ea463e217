"""A small form for the variables a pack's prompt needs and has no value for (what `--var` gives).

One box per variable, under its name and description; Enter applies (each box must hold a value,
and `check` may refuse the whole set, saying why), Esc goes back to the list it came from.
"""

from __future__ import annotations

from typing import Callable, Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Input, Static

from ...packs.model import Variable
from .dialog import Dialog


class VariablesForm(Dialog["dict[str, str] | None"]):
    """Asks for `variables`; dismisses with their values by name, or None on Esc."""

    DEFAULT_CSS = """
    VariablesForm .lead { color: $text-muted; }
    VariablesForm VerticalScroll { height: auto; }
    VariablesForm .name { margin-top: 1; }
    VariablesForm .problem { color: $error; margin-top: 1; display: none; }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Back")]

    def __init__(self, title: str, variables: Sequence[Variable], check: Callable[[dict[str, str]], str]) -> None:
        super().__init__()
        self.title_text = title
        self.variables = list(variables)
        self.check = check
        """The problem with a complete set of values ("" when there is none)."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(self.title_text), classes="title")
            yield Static("This prompt needs a value for:", classes="lead")
            with VerticalScroll():
                for variable in self.variables:
                    about = f": {variable.description}" if variable.description else ""
                    yield Static(Content.assemble((variable.name, "bold"), about), classes="name")
                    default = "" if variable.default is None else str(variable.default)
                    example = "" if variable.example is None else f"e.g. {variable.example}"
                    yield Input(default, placeholder=example, name=variable.name)
            yield Static("", classes="problem")
            yield Static("Enter applies · Tab next box · Esc goes back", classes="note")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        boxes = list(self.query(Input))
        values = {box.name or "": box.value.strip() for box in boxes}
        empty = next((box for box in boxes if not box.value.strip()), None)
        problem = f"{empty.name} needs a value." if empty is not None else self.check(values)
        if not problem:
            self.dismiss(values)
            return
        shown = self.query_one(".problem", Static)
        shown.update(Content(problem))
        shown.display = True
        if empty is not None:
            empty.focus()
