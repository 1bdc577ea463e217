"""Snapshots of the tools UI at a fixed size: the approval dialog in its states, and tool items.

Update them with `python -m pytest tests/ui/test_tool_snapshots.py --snapshot-update` after
checking the report that a failing run writes.
"""

from __future__ import annotations

import json
from pathlib import Path

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Static

from tui_chat.chunks import ToolCall
from tui_chat.tools import ApprovalRequest, ToolEvent, ToolStatus
from tui_chat.tools.result import ToolResult, error_result, text_result
from tui_chat.ui.screens.approval import ApprovalScreen
from tui_chat.ui.widgets.tool_item import ToolItem

from .conftest import SIZE
from .test_chat_screen import wait_for


class DialogApp(App[None]):
    """Something behind the dialog, and the dialog for `request` on top."""

    def __init__(self, request: ApprovalRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        yield Static("The chat would be here.")

    def on_mount(self) -> None:
        self.push_screen(ApprovalScreen(self.request))


def read_file(**fields: object) -> ApprovalRequest:
    values: dict = {
        "call_id": "call-1",
        "tool": "read_file",
        "description": "Read a text file in the workspace.",
        "reason": "read_file asks before it runs",
        "arguments": json.dumps({"path": "src/app.py", "start_line": 1, "max_lines": 200}),
        "workspace": Path("/home/me/project"),
    }
    values.update(fields)
    return ApprovalRequest(**values)  # type: ignore[arg-type]


async def dialog_ready(pilot: Pilot) -> None:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen) and pilot.app.screen.is_mounted)
    await pilot.pause()


def test_approval_one_call(snap_compare) -> None:
    assert snap_compare(DialogApp(read_file()), terminal_size=SIZE, run_before=dialog_ready)


def test_approval_two_of_three(snap_compare) -> None:
    request = read_file(
        call_id="call-2",
        tool="run_shell",
        description="Run a shell command in the workspace.",
        reason="run_shell always asks before it runs",
        arguments=json.dumps({"command": "printf '\x1b]0;pwned\x07' && ls \u202etxt.exe"}, ensure_ascii=False),
        index=2,
        total=3,
        can_always=False,
        always_asks=True,
    )
    assert snap_compare(DialogApp(request), terminal_size=SIZE, run_before=dialog_ready)


def test_approval_edit_mode(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await dialog_ready(pilot)
        await pilot.press("e")
        await pilot.pause()

    assert snap_compare(DialogApp(read_file()), terminal_size=SIZE, run_before=run_before)


def test_approval_edit_refused(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await dialog_ready(pilot)
        await pilot.press("e", "end", "backspace", "ctrl+s")
        await pilot.pause()

    request = read_file(
        problem="the edited arguments were refused: invalid arguments for read_file: 'path' is required"
    )
    assert snap_compare(DialogApp(request), terminal_size=SIZE, run_before=run_before)


def test_approval_long_arguments_scrolled(snap_compare) -> None:
    arguments = json.dumps({"path": "notes.md", "content": [f"line {n}" for n in range(1, 41)]})

    async def run_before(pilot: Pilot) -> None:
        await dialog_ready(pilot)
        view = pilot.app.screen.query_one("#arguments")
        await pilot.press("pagedown")
        await pilot.wait_for_scheduled_animations()
        await wait_for(pilot, lambda: view.scroll_y > 0)
        await pilot.pause()

    request = read_file(tool="write_file", description="Write a text file in the workspace.",
                        reason="write_file asks before it runs", arguments=arguments)
    assert snap_compare(DialogApp(request), terminal_size=SIZE, run_before=run_before)


def test_approval_deny_reason(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await dialog_ready(pilot)
        await pilot.press("n", *"use the README instead")
        await pilot.pause()

    assert snap_compare(DialogApp(read_file()), terminal_size=SIZE, run_before=run_before)


def test_approval_client_tool(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await dialog_ready(pilot)
        await pilot.press(*"Blue, mostly.")
        await pilot.pause()

    request = read_file(
        tool="ask_user",
        description="Ask the person a question.",
        reason="ask_user has no handler here: you give its result",
        arguments=json.dumps({"question": "What colour should the logo be?"}),
        workspace=None,
        needs_result=True,
        can_always=False,
    )
    assert snap_compare(DialogApp(request), terminal_size=SIZE, run_before=run_before)


# --- tool items ---------------------------------------------------------------------------------


def _item(
    number: int, name: str, arguments: dict, status: ToolStatus, result: ToolResult | None = None, *, edited: str = ""
) -> ToolItem:
    call = ToolCall(f"call-{number}", name, json.dumps(arguments))
    item = ToolItem(call, animate=False, frame=3)
    item.update(ToolEvent(call, status, number, 5, 1, edited or call.arguments, result=result))
    return item


class ItemsApp(App[None]):
    """One tool item in each status, as the chat log would show them."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield _item(1, "read_file", {"path": "README.md"}, ToolStatus.WAITING)
            yield _item(2, "run_shell", {"command": "pytest -q"}, ToolStatus.RUNNING)
            yield _item(3, "calculator", {"expression": "17*23"}, ToolStatus.DONE, text_result("391"))
            yield _item(4, "write_file", {"path": "out.txt", "content": "hi"}, ToolStatus.DENIED,
                        error_result("denied by user: not now"))
            yield _item(5, "list_directory", {"path": "missing"}, ToolStatus.ERROR,
                        error_result("list_directory: missing is not a folder in the workspace"))


def test_tool_items_in_each_status(snap_compare) -> None:
    assert snap_compare(ItemsApp(), terminal_size=SIZE)


class ExpandedApp(App[None]):
    """A finished call opened to show its edited arguments and whole output."""

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            item = _item(1, "read_file", {"path": "notes.txt"}, ToolStatus.DONE,
                         text_result("first line\n\tindented\nlast line"), edited='{"path": "todo.txt"}')
            item.collapsed = False
            yield item


def test_tool_item_expanded(snap_compare) -> None:
    assert snap_compare(ExpandedApp(), terminal_size=SIZE)
