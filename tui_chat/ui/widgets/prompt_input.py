"""The multi-line prompt: Enter sends, Shift+Enter or Ctrl+J starts a new line, Up recalls.

Up on the first line walks back through what was sent before, Down walks forward again; the text
being written when the walk started comes back at the end of it.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea


class PromptInput(TextArea):
    """A TextArea that submits on Enter and keeps a history of sent prompts."""

    DEFAULT_CSS = """
    PromptInput {
        height: auto;
        min-height: 3;
        max-height: 12;
        border: tall $primary 40%;
        &:focus { border: tall $primary; }
    }
    """

    BINDINGS = [
        Binding("enter", "submit", "Send", show=True, priority=False),
        Binding("shift+enter,ctrl+j", "newline", "New line", show=False),
        Binding("up", "history_back", "Previous prompt", show=False),
        Binding("down", "history_forward", "Next prompt", show=False),
    ]

    class Submitted(Message):
        """The person sent `text` (never empty or only white space)."""

        def __init__(self, prompt: PromptInput, text: str) -> None:
            super().__init__()
            self.prompt = prompt
            self.text = text

        @property
        def control(self) -> PromptInput:
            return self.prompt

    def __init__(self, *, id: str | None = None, placeholder: str = "") -> None:
        super().__init__(
            id=id,
            soft_wrap=True,
            show_line_numbers=False,
            tab_behavior="focus",
            compact=True,
            placeholder=placeholder,
        )
        self.sent: list[str] = []
        self._history_index: int | None = None
        self._draft = ""

    async def _on_key(self, event: events.Key) -> None:
        # TextArea inserts a newline for Enter and moves the cursor for Up/Down before any binding
        # is looked at, so the keys that mean something else here are taken first.
        handlers = {
            "enter": self.action_submit,
            "shift+enter": self.action_newline,
            "ctrl+j": self.action_newline,
        }
        if event.key == "up" and self.cursor_location[0] == 0:
            handlers["up"] = self.action_history_back
        if event.key == "down" and self._history_index is not None and self.cursor_at_last_line:
            handlers["down"] = self.action_history_forward
        if handler := handlers.get(event.key):
            event.stop()
            event.prevent_default()
            handler()
            return
        await super()._on_key(event)

    @property
    def cursor_at_last_line(self) -> bool:
        return self.cursor_location[0] == self.document.line_count - 1

    def action_submit(self) -> None:
        text = self.text
        if not text.strip():
            return
        if not self.sent or self.sent[-1] != text:
            self.sent.append(text)
        self._history_index = None
        self._draft = ""
        self.clear()
        self.post_message(self.Submitted(self, text))

    def action_newline(self) -> None:
        self.insert("\n")

    def action_history_back(self) -> None:
        if not self.sent:
            return
        if self._history_index is None:
            self._draft = self.text
            self._history_index = len(self.sent)
        if self._history_index > 0:
            self._history_index -= 1
            self._show(self.sent[self._history_index])

    def action_history_forward(self) -> None:
        if self._history_index is None:
            return
        self._history_index += 1
        if self._history_index >= len(self.sent):
            self._history_index = None
            self._show(self._draft)
        else:
            self._show(self.sent[self._history_index])

    def _show(self, text: str) -> None:
        self.load_text(text)
        self.move_cursor(self.document.end)
