"""A tool call in the chat log: its name, status and result preview, with the details folded under.

The title line says which tool, how the call stands (requested, waiting for approval, running
with a spinner, done, denied, error, cancelled) and the start of its result. Expanded, it shows
the arguments (escaped, exactly as they run, marked when the person edited them) and the whole
output (cleaned; very long output is cut in the middle for the screen). The item is open while
the call is pending and folds when it ends, unless the person opened or closed it themselves.
Names, arguments and output are the model's or a tool's: they are shown as `Content`, never markup.
"""

from __future__ import annotations

from textual.content import Content
from textual.timer import Timer
from textual.widgets import Collapsible, Static

from ...chunks import ToolCall
from ...safe_text import clean, escape_controls
from ...tools.arguments import pretty_arguments
from ...tools.loop import ToolEvent, ToolStatus
from ...tools.result import ToolResult, cut_middle
from .._textual_internals import CollapsibleTitle

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
SPIN_INTERVAL = 0.1
OUTPUT_SHOWN_LIMIT = 100_000
"""At most this many characters of a result's output are put on the screen."""

_LABELS = {
    None: ("…", "requested"),
    ToolStatus.WAITING: ("?", "waiting for approval"),
    ToolStatus.RUNNING: ("", "running"),
    ToolStatus.DONE: ("✔", "done"),
    ToolStatus.DENIED: ("⊘", "denied"),
    ToolStatus.ERROR: ("✖", "error"),
    ToolStatus.CANCELLED: ("⏹", "cancelled"),
}
_STYLES = {
    None: "$foreground-muted",
    ToolStatus.WAITING: "bold $warning",
    ToolStatus.RUNNING: "bold $primary",
    ToolStatus.DONE: "$success",
    ToolStatus.DENIED: "$warning",
    ToolStatus.ERROR: "bold $error",
    ToolStatus.CANCELLED: "$foreground-muted",
}


class ToolItem(Collapsible):
    """One tool call: made from the model's `ToolCall`, then moved along by the loop's `ToolEvent`s.

    `animate` False keeps the spinner still at `frame` (for snapshots); otherwise a timer turns
    it only while the call runs.
    """

    DEFAULT_CSS = """
    ToolItem {
        margin: 1 0 0 0;
        padding: 0 0 0 1;
        border-top: none;
        border-left: outer $panel-lighten-2;
        background: $surface;
    }
    ToolItem.-waiting { border-left: outer $warning; }
    ToolItem.-running { border-left: outer $primary; }
    ToolItem.-done { border-left: outer $success; }
    ToolItem.-denied { border-left: outer $warning 60%; }
    ToolItem.-error { border-left: outer $error; }
    ToolItem > CollapsibleTitle {
        width: 1fr;
        padding: 0;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    ToolItem > Contents { padding: 0 0 0 2; }
    ToolItem .tool-label { color: $text-muted; }
    ToolItem .tool-arguments { margin-bottom: 1; }
    ToolItem .tool-note { color: $text-muted; text-style: italic; }
    ToolItem.-error .tool-output { color: $error; }
    ToolItem.-denied .tool-output { color: $warning; }
    """

    def __init__(self, call: ToolCall, *, animate: bool = True, frame: int = 0, id: str | None = None) -> None:
        self.call = call
        self.status: ToolStatus | None = None
        self.arguments = call.arguments
        self.result: ToolResult | None = None
        self.index = 1
        self.total = 1
        self.animated = animate
        self.frame = frame
        self.user_toggled = False
        self._timer: Timer | None = None
        self._output_shown: ToolResult | None = None
        self._arguments_label = Static(Content("Arguments"), classes="tool-label")
        self._arguments = Static(Content(self._shown_arguments()), classes="tool-arguments")
        self._output_label = Static(Content("Output"), classes="tool-label")
        self._output = Static("", classes="tool-output")
        self._note = Static("", classes="tool-note")
        super().__init__(
            self._arguments_label,
            self._arguments,
            self._output_label,
            self._output,
            self._note,
            title=self._heading(),  # type: ignore[arg-type] - Content, so the name is never markup
            collapsed=False,
            id=id,
        )

    @classmethod
    def from_event(cls, event: ToolEvent, **options: object) -> ToolItem:
        """An item for a call first seen through one of its events."""
        item = cls(event.call, **options)  # type: ignore[arg-type]
        item.update(event)
        return item

    @property
    def call_id(self) -> str:
        return self.call.id

    @property
    def final(self) -> bool:
        return self.status not in (None, ToolStatus.WAITING, ToolStatus.RUNNING)

    # --- state ----------------------------------------------------------------------------------

    def update(self, event: ToolEvent) -> None:
        """Apply one of this call's events: status, the arguments that run, the result."""
        self.status = event.status
        self.arguments = event.arguments
        self.index, self.total = event.index, event.total
        if event.result is not None:
            self.result = event.result
        for status in ToolStatus:
            self.set_class(status is event.status, f"-{status.value}")
        self._arguments_label.update(Content("Arguments (edited)" if self.edited else "Arguments"))
        self._arguments.update(Content(self._shown_arguments()))
        self.title = self._heading()  # type: ignore[assignment]
        if event.status is ToolStatus.RUNNING:
            self._start_spinner()
        else:
            self._stop_spinner()
        if self.final and not self.user_toggled:
            self.collapsed = True
        self._show_output()

    def abandon(self, result: ToolResult | None = None) -> None:
        """Mark a call that will get no more events as cancelled (the turn ended before it ran).

        The loop answers such calls itself without an event (a reply cut off, a turn stopped): pass
        `Turn.results.get(item.call_id)` as `result` to show the answer the model got.
        """
        if not self.final:
            cancelled = ToolEvent(self.call, ToolStatus.CANCELLED, self.index, self.total, 0, self.arguments, result=result)
            self.update(cancelled)

    @property
    def edited(self) -> bool:
        return self.arguments != self.call.arguments

    def _shown_arguments(self) -> str:
        return pretty_arguments(self.arguments) or "{}"

    def _heading(self) -> Content:
        icon, label = _LABELS.get(self.status, ("•", str(self.status)))
        style = _STYLES.get(self.status, "")
        if self.status is ToolStatus.RUNNING:
            icon = SPINNER[self.frame % len(SPINNER)]
        parts: list[Content | str | tuple[str, str]] = [
            (icon, style),
            " ",
            (escape_controls(self.call.name), "bold"),
            "  ",
            (label, style),
        ]
        if self.total > 1:
            parts.append((f"  ({self.index} of {self.total})", "$foreground-muted"))
        if self.result is not None and self.final:
            parts += ["  ", (escape_controls(self.result.preview.replace("\t", " ")), "$foreground-muted")]
        return Content.assemble(*parts)

    # --- spinner --------------------------------------------------------------------------------

    def _start_spinner(self) -> None:
        if self.animated and self._timer is None and self.is_mounted:
            self._timer = self.set_interval(SPIN_INTERVAL, self._spin)

    def _stop_spinner(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def on_mount(self) -> None:
        if self.status is ToolStatus.RUNNING:
            self._start_spinner()
        self._show_output()

    def on_unmount(self) -> None:
        self._stop_spinner()

    def _spin(self) -> None:
        if self.status is not ToolStatus.RUNNING:
            self._stop_spinner()
            return
        self.frame += 1
        self.title = self._heading()  # type: ignore[assignment]

    # --- the full output, rendered when it can be seen -------------------------------------------

    def on_collapsible_title_toggle(self, event: CollapsibleTitle.Toggle) -> None:
        """The person toggled the item (runs before Collapsible's own handler flips it)."""
        self.user_toggled = True

    def watch_collapsed(self, collapsed: bool) -> None:
        """Show the output once the item opens (after Collapsible's own watcher)."""
        self._show_output()

    def _show_output(self) -> None:
        result = self.result
        has_output = result is not None
        self._output_label.display = has_output
        self._output.display = has_output
        self._note.display = has_output and bool(self._note_text(result))
        if result is None or self.collapsed or self._output_shown is result:
            return
        self._output_shown = result
        self._output.update(Content(output_text(result)))
        self._note.update(Content(self._note_text(result)))

    @staticmethod
    def _note_text(result: ToolResult | None) -> str:
        if result is None:
            return ""
        notes = []
        if result.truncated:
            notes.append(f"the model received a shortened version of this output ({result.total_chars:,} characters)")
        shown = len(result.full_output or result.content)
        if shown > OUTPUT_SHOWN_LIMIT:
            notes.append(f"the middle of the output is not shown here ({shown:,} characters in all)")
        return "; ".join(notes)


def output_text(result: ToolResult) -> str:
    """A result's whole output as shown: cleaned, cut in the middle when very long."""
    text = clean(result.full_output or result.content).expandtabs(4)
    return cut_middle(text, OUTPUT_SHOWN_LIMIT) if text.strip() else "(no output)"
