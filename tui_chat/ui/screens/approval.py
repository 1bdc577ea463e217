"""The approval dialog: one tool call, shown exactly and safely, and the person's decision about it.

The dialog shows the tool, why it asks, the workspace of a file tool, a problem with edited
arguments asked about again, and the arguments as indented JSON with control and bidi
characters shown as escapes (`r` switches to the exact text). Every string on it is shown as
`Content`, never parsed as markup. Keys: `y` runs the call, `a` runs it and stops asking about
the tool for this chat (only where the policy allows it), `e` edits the arguments (checked before
they can run), `n` refuses it with an optional reason, Esc refuses it at once. A client tool,
which a person answers, gets a box for the result text instead.

Whatever happens, the screen decides exactly once: a `Decision` made from its request, so tied to
the call id and the exact argument bytes. A screen removed before the person decided (the app
quitting, the turn cancelled) decides to refuse.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Callable, Literal

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static, TextArea

from ...safe_text import clean, escape_controls
from ...tools.approval import ApprovalRequest, Decision
from ...tools.arguments import ArgumentError, parse_arguments

Check = Callable[[str], "list[str] | str | None"]
"""Checks edited argument text: the problems found (a message or a list of them), or None."""

Mode = Literal["view", "edit", "deny", "result"]

CLOSED_REASON = "the approval dialog was closed before a decision"
LIVE_CHECK_LIMIT = 200_000
"""Edited arguments longer than this are checked when the person asks to run them, not on each key."""


class ApprovalScreen(ModalScreen[Decision]):
    """Asks about one `ApprovalRequest` and dismisses with the `Decision`.

    `check` checks edited argument text as it is typed and again before an edit is accepted
    (pass a closure over `ToolRegistry.problems`); the text is always checked to be a JSON object.
    `on_decided` is called once with the decision, also when the screen goes away undecided
    (then with a refusal). `arm_delay` seconds pass before keys count, so that typing meant for
    the prompt cannot answer a dialog that has just appeared.
    """

    DEFAULT_CSS = """
    ApprovalScreen { align: center middle; }
    ApprovalScreen > #dialog {
        width: 90%;
        scrollbar-size-vertical: 1;
        max-width: 110;
        height: auto;
        max-height: 90%;
        border: thick $warning;
        border-title-style: bold;
        border-title-color: $text;
        background: $surface;
        padding: 0 1;
    }
    ApprovalScreen .heading { text-style: bold; }
    ApprovalScreen .description { color: $text-muted; }
    ApprovalScreen .reason { margin-top: 1; }
    ApprovalScreen .workspace { color: $text-muted; }
    ApprovalScreen .problem { color: $error; text-style: bold; margin-top: 1; }
    ApprovalScreen .label { margin-top: 1; color: $text-muted; }
    ApprovalScreen #arguments {
        height: auto;
        max-height: 16;
        border: round $panel-lighten-2;
        padding: 0 1;
        scrollbar-size-vertical: 1;
    }
    ApprovalScreen #arguments:focus { border: round $accent; }
    ApprovalScreen #arguments-text { width: 1fr; }
    ApprovalScreen #editor { height: auto; min-height: 7; max-height: 16; }
    ApprovalScreen #result { height: auto; min-height: 5; max-height: 10; }
    ApprovalScreen .box-label { margin-top: 1; color: $text-muted; }
    ApprovalScreen .check { color: $error; height: auto; }
    ApprovalScreen .check.-ok { color: $success; }
    ApprovalScreen .keys { margin-top: 1; color: $text-muted; }
    ApprovalScreen.-view #editor, ApprovalScreen.-view .deny, ApprovalScreen.-view .result,
    ApprovalScreen.-view .check,
    ApprovalScreen.-edit #arguments, ApprovalScreen.-edit .deny, ApprovalScreen.-edit .result,
    ApprovalScreen.-deny #editor, ApprovalScreen.-deny .result, ApprovalScreen.-deny .check,
    ApprovalScreen.-result #editor, ApprovalScreen.-result .deny {
        display: none;
    }
    """

    BINDINGS = [
        Binding("y", "approve", "Run"),
        Binding("a", "approve_always", "Always"),
        Binding("e", "edit", "Edit"),
        Binding("n", "deny", "Deny"),
        Binding("r", "toggle_exact", "Exact text", show=False),
        Binding("ctrl+s", "save", "Accept", priority=True),
        Binding("escape", "escape", "Back / deny", priority=True),
    ]

    def __init__(
        self,
        request: ApprovalRequest,
        *,
        check: Check | None = None,
        on_decided: Callable[[Decision], None] | None = None,
        arm_delay: float = 0.0,
    ) -> None:
        super().__init__()
        self.request = request
        self.check = check
        self.on_decided = on_decided
        self.arm_delay = arm_delay
        self.armed = arm_delay <= 0
        self.decision: Decision | None = None
        self.mode: Mode = "result" if request.needs_result else "view"
        self.exact = False
        self.editable = editable_arguments(request.arguments)
        self._close_on_resume = False

    # --- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        request = self.request
        with VerticalScroll(id="dialog", can_focus=False) as dialog:
            place = f" {request.index} of {request.total}" if request.total > 1 else ""
            dialog.border_title = Content(f"Tool call{place}")
            verb = "Answer" if request.needs_result else "Run"
            yield Static(Content.assemble(f"{verb} ", (escape_controls(request.tool), "bold $accent"), "?"),
                         classes="heading")
            if request.server:
                yield Static(Content(f"MCP server: {escape_controls(request.server)}"), classes="server")
            if request.description:
                yield Static(Content(escape_controls(request.description)), classes="description")
            if request.reason:
                yield Static(Content(f"Why it asks: {escape_controls(request.reason)}"), classes="reason")
            if request.workspace is not None:
                yield Static(Content(f"Workspace: {escape_controls(str(request.workspace))}"), classes="workspace")
            if request.problem:
                yield Static(Content(f"⚠ {escape_controls(request.problem)}"), classes="problem")
            yield Static(Content("Arguments"), classes="label", id="arguments-label")
            with VerticalScroll(id="arguments", can_focus=True):
                yield Static(Content(self.shown_text()), id="arguments-text")
            yield TextArea(self.editable, id="editor", show_line_numbers=True, soft_wrap=True, tab_behavior="focus")
            yield Static(Content("Your answer: the model receives it as the tool's result"), classes="box-label result")
            yield TextArea("", id="result", classes="result", soft_wrap=True, tab_behavior="focus")
            yield Static("", classes="check")
            yield Static(Content('Why not? (optional) The model receives "denied by user: <reason>".'),
                         classes="box-label deny")
            yield Input(placeholder="Reason for the model (optional)", id="reason", classes="deny")
            yield Static("", classes="keys")

    def on_mount(self) -> None:
        editor = self.query_one("#editor", TextArea)
        try:
            editor.language = "json"
        except Exception:  # noqa: BLE001 - no syntax highlighting installed: plain text is fine
            pass
        if not self.armed:
            self.set_timer(self.arm_delay, self._arm)
        self.set_mode(self.mode)

    def _arm(self) -> None:
        self.armed = True
        self._show_keys()

    def shown_text(self) -> str:
        request = self.request
        text = request.shown_arguments if self.exact else request.pretty_arguments
        return text if text.strip() else "(empty: no arguments)"

    # --- modes ----------------------------------------------------------------------------------

    def set_mode(self, mode: Mode) -> None:
        """Show one of the dialog's states: the call (view), the editor, the reason box, the result box."""
        self.mode = mode
        for name in ("view", "edit", "deny", "result"):
            self.set_class(name == mode, f"-{name}")
        label = "Edit the arguments (JSON)" if mode == "edit" else "Arguments"
        self.query_one("#arguments-label", Static).update(Content(label))
        if mode == "view":
            self.query_one("#arguments").focus()
        elif mode == "edit":
            editor = self.query_one("#editor", TextArea)
            editor.focus()
            self._live_check(editor.text)
        elif mode == "deny":
            self.query_one("#reason", Input).focus()
        elif mode == "result":
            self.query_one("#result", TextArea).focus()
            self._show_check("")
        self._show_keys()
        self.refresh_bindings()

    def _show_keys(self) -> None:
        request = self.request
        if self.mode == "view":
            parts = ["y run", *(["a always for this chat"] if request.can_always else []), "e edit", "n deny",
                     "Esc deny", "r show " + ("pretty JSON" if self.exact else "exact text")]
        elif self.mode == "edit":
            parts = ["Ctrl+S run with these arguments", "Esc back"]
        elif self.mode == "deny":
            parts = ["Enter deny", "Esc back"]
        else:
            parts = ["Ctrl+S give this result", "Esc deny"]
        text = " · ".join(parts)
        if not self.armed:
            text = "…  " + text
        self.query_one(".keys", Static).update(Content(text))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("approve", "edit", "deny", "toggle_exact"):
            return self.mode == "view"
        if action == "approve_always":
            return self.mode == "view" and self.request.can_always
        if action == "save":
            return self.mode in ("edit", "result")
        return True

    # --- deciding -------------------------------------------------------------------------------

    def decide(self, decision: Decision) -> None:
        """Settle the dialog with `decision` (the first decision counts) and close it."""
        if self.decision is not None:
            return
        self.decision = decision
        if self.on_decided is not None:
            self.on_decided(decision)
        if self.is_active:
            self.dismiss(decision)
        else:
            self._close_on_resume = True

    def close(self, reason: str = CLOSED_REASON) -> None:
        """Refuse the call unless already decided, and take the dialog away (from code, not keys)."""
        if self.decision is None:
            self.decide(Decision.deny(self.request, reason))
        elif self.is_active and self.is_attached:
            self.dismiss(self.decision)
        else:
            self._close_on_resume = True

    def on_screen_resume(self) -> None:
        if self._close_on_resume and self.is_active:
            self._close_on_resume = False
            self.dismiss(self.decision)

    def on_unmount(self) -> None:
        # Gone without an answer (the app quits, the screen was removed): that is a refusal.
        if self.decision is None:
            self.decision = Decision.deny(self.request, CLOSED_REASON)
            if self.on_decided is not None:
                self.on_decided(self.decision)

    def action_approve(self) -> None:
        if self.armed:
            self.decide(Decision.approve(self.request))

    def action_approve_always(self) -> None:
        if self.armed and self.request.can_always:
            self.decide(Decision.approve_always(self.request))

    def action_edit(self) -> None:
        if self.armed:
            self.set_mode("edit")

    def action_deny(self) -> None:
        if self.armed:
            self.set_mode("deny")

    def action_toggle_exact(self) -> None:
        self.exact = not self.exact
        self.query_one("#arguments-text", Static).update(Content(self.shown_text()))
        self._show_keys()

    def action_escape(self) -> None:
        if self.mode in ("edit", "deny"):
            self.set_mode("view")
        elif self.armed:
            self.decide(Decision.deny(self.request))

    def action_save(self) -> None:
        if not self.armed:
            return
        if self.mode == "edit":
            text = self.query_one("#editor", TextArea).text
            problems = self.problems(text)
            if problems:
                self._show_check("✖ not accepted: " + "; ".join(problems))
                self.app.bell()
                return
            if text == self.editable:
                # Unchanged: the person approves the call as shown, with its own argument bytes.
                self.decide(Decision.approve(self.request))
            else:
                self.decide(Decision.edit(self.request, text))
        elif self.mode == "result":
            text = self.query_one("#result", TextArea).text
            if not text.strip():
                self._show_check("Type the result first, or press Esc to deny the call.")
                self.app.bell()
                return
            self.decide(Decision.result(self.request, text))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.mode == "deny" and self.armed:
            self.decide(Decision.deny(self.request, clean(event.value).strip()))

    # --- checking edited arguments --------------------------------------------------------------

    def problems(self, text: str) -> list[str]:
        """What is wrong with edited argument text: not a JSON object, or the `check`'s findings."""
        try:
            parse_arguments(text)
        except ArgumentError as error:
            return [str(error)]
        if self.check is None:
            return []
        try:
            found = self.check(text)
        except Exception as error:  # noqa: BLE001 - a broken check must not accept the text
            return [f"the arguments could not be checked ({type(error).__name__}: {error})"]
        if not found:
            return []
        return [found] if isinstance(found, str) else [str(problem) for problem in found]

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area.id == "editor" and self.mode == "edit":
            self._live_check(event.text_area.text)
        elif event.text_area.id == "result" and self.mode == "result":
            self._show_check("")

    def _live_check(self, text: str) -> None:
        if len(text) > LIVE_CHECK_LIMIT:
            self._show_check("(checked when you accept)")
            return
        problems = self.problems(text)
        if problems:
            self._show_check("✖ " + "; ".join(problems))
        else:
            self._show_check("✔ valid", ok=True)

    def _show_check(self, text: str, *, ok: bool = False) -> None:
        line = self.query_one(".check", Static)
        line.set_class(ok, "-ok")
        line.update(Content(escape_controls(text)))


@functools.cache
def _controls() -> re.Pattern[str]:
    """The characters `safe_text.clean` removes (the basic plane holds them all)."""
    chars = [chr(code) for code in range(0x10000) if not 0xD800 <= code < 0xE000 and clean(chr(code)) != chr(code)]
    return re.compile("[" + "".join(re.escape(char) for char in chars) + "]")


def editable_arguments(text: str) -> str:
    """The arguments as indented JSON to edit: control and bidi characters as JSON `\\uXXXX` escapes.

    The result decodes to the same object as `text` and puts no control character on the screen.
    Text that is not a JSON object is given as it is, with such characters shown escaped.
    """
    try:
        value = parse_arguments(text)
    except ArgumentError:
        return escape_controls(text)
    pretty = json.dumps(value, indent=2, ensure_ascii=False)
    return _controls().sub(lambda match: f"\\u{ord(match.group()):04x}", pretty)
