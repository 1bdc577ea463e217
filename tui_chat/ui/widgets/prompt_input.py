"""The multi-line prompt: Enter sends, Shift+Enter or Ctrl+J starts a new line, Up recalls.

Up and Down move the cursor between the lines of the message; only Up on its first line walks back
through what was sent before, and Down on its last line walks forward again. The text being written
when the walk started comes back when the walk goes past the newest entry.

`?` in an empty box opens the screen's help (`screen.help`); with text in the box it is typed. The
box takes printable keys before any screen binding is looked at, so the rule is kept here.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

from .._textual_frames import AncestryKept
from .._textual_text_area import ThemeAppliedOnChange


class PromptInput(AncestryKept, ThemeAppliedOnChange, TextArea):
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
        # Nothing listens for these, and the box posted both on every key, each dispatched to the
        # box, the screen and the app in turn (about 1% of the CPU a streaming reply costs while
        # someone types): a listener added later enables them again.
        self.disable_messages(TextArea.Changed, TextArea.SelectionChanged)
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
        if handler := handlers.get(event.key):
            event.stop()
            event.prevent_default()
            handler()
            return
        if event.character == "?" and not self.text:
            event.stop()
            event.prevent_default()
            await self.run_action("screen.help")
            return
        await super()._on_key(event)

    @property
    def cursor_on_first_row(self) -> bool:
        """The cursor is on the first row shown (a wrapped line counts as the rows it takes)."""
        return self.navigator.is_first_wrapped_line(self.cursor_location)

    @property
    def cursor_on_last_row(self) -> bool:
        return self.navigator.is_last_wrapped_line(self.cursor_location)

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
        """Up: the row above, or on the first row the message sent before."""
        if not self.cursor_on_first_row:
            self.action_cursor_up()
            return
        if not self.sent:
            return
        if self._history_index is None:
            self._draft = self.text
            self._history_index = len(self.sent)
        if self._history_index > 0:
            self._history_index -= 1
            self._show(self.sent[self._history_index])

    def action_history_forward(self) -> None:
        """Down: the row below, or on the last row the next message (the draft after the newest)."""
        if not self.cursor_on_last_row:
            self.action_cursor_down()
            return
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
