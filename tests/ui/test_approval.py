"""The approval dialog, the modal approver and the tool item, driven with Pilot (no sleeps).

Each decision must be made from the request shown, so tied to its call id and argument bytes;
the model's text on the dialog must be shown escaped; quitting or cancelling never approves.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Input, Static, TextArea
from textual.worker import Worker, WorkerState

from tests.fakes.scripted import ScriptedProvider
from tui_chat.chunks import ToolCall, ToolSpec
from tui_chat.conversation import Conversation
from tui_chat.tools import (
    Approval,
    ApprovalPolicy,
    ApprovalRequest,
    Decision,
    DecisionKind,
    Tool,
    ToolContext,
    ToolEvent,
    ToolLoop,
    ToolRegistry,
    ToolStatus,
    Workspace,
)
from tui_chat.tools.approval import denial_text, digest
from tui_chat.tools.result import error_result, text_result
from tui_chat.ui.approver import ModalApprover, registry_check
from tui_chat.ui.screens.approval import ApprovalScreen, editable_arguments
from tui_chat.ui.widgets.tool_item import ToolItem

from ..tools.helpers import answer, calls
from .conftest import SIZE, screen_text
from .test_chat_screen import wait_for

ARGS = '{"path": "notes.txt", "limit": 10}'
SCHEMA = {
    "type": "object",
    "properties": {"path": {"type": "string"}, "limit": {"type": "integer"}},
    "required": ["path"],
    "additionalProperties": False,
}


def request(arguments: str = ARGS, **fields: Any) -> ApprovalRequest:
    values: dict[str, Any] = {
        "call_id": "call-7",
        "tool": "read_file",
        "description": "Reads a text file in the workspace.",
        "reason": "read_file asks before it runs",
        "arguments": arguments,
        "workspace": Path("/home/me/project"),
    }
    values.update(fields)
    return ApprovalRequest(**values)


class Host(App[None]):
    """A blank app to put the dialog on; `decisions` collects what it dismissed with."""

    def __init__(self) -> None:
        super().__init__()
        self.decisions: list[Decision] = []

    def compose(self) -> ComposeResult:
        yield Static("host")

    def ask(self, req: ApprovalRequest, **options: Any) -> ApprovalScreen:
        screen = ApprovalScreen(req, **options)
        self.push_screen(screen, self.decisions.append)
        return screen


async def open_dialog(pilot: Pilot, req: ApprovalRequest, **options: Any) -> ApprovalScreen:
    app: Host = pilot.app  # type: ignore[assignment]
    screen = app.ask(req, **options)
    await wait_for(pilot, lambda: app.screen is screen and screen.is_mounted)
    await pilot.pause()
    return screen


async def decided(pilot: Pilot) -> Decision:
    app: Host = pilot.app  # type: ignore[assignment]
    await wait_for(pilot, lambda: bool(app.decisions) and not isinstance(app.screen, ApprovalScreen))
    assert len(app.decisions) == 1
    return app.decisions[0]


def tied(decision: Decision, req: ApprovalRequest) -> bool:
    return decision.call_id == req.call_id and decision.digest == digest(req.arguments) and decision.matches(req)


# --- each key -----------------------------------------------------------------------------------


async def test_y_approves_this_call_and_these_bytes() -> None:
    req = request()
    async with Host().run_test(size=SIZE) as pilot:
        await open_dialog(pilot, req)
        await pilot.press("y")
        decision = await decided(pilot)
    assert decision.kind is DecisionKind.APPROVE
    assert tied(decision, req)
    assert not decision.matches(request(ARGS + " "))  # other bytes: not the same decision


async def test_a_approves_always_only_where_offered() -> None:
    req = request()
    async with Host().run_test(size=SIZE) as pilot:
        await open_dialog(pilot, req)
        assert "a always for this chat" in screen_text(pilot.app)
        await pilot.press("a")
        decision = await decided(pilot)
    assert decision.kind is DecisionKind.APPROVE_ALWAYS and tied(decision, req)

    req = request(can_always=False, always_asks=True)
    async with Host().run_test(size=SIZE) as pilot:
        screen = await open_dialog(pilot, req)
        assert "always for this chat" not in screen_text(pilot.app)
        await pilot.press("a")
        await pilot.pause()
        assert pilot.app.screen is screen and screen.decision is None
        await pilot.press("y")
        decision = await decided(pilot)
    assert decision.kind is DecisionKind.APPROVE and tied(decision, req)


async def test_e_edits_with_valid_json() -> None:
    req = request()
    async with Host().run_test(size=SIZE) as pilot:
        screen = await open_dialog(pilot, req, check=lambda text: None)
        await pilot.press("e")
        editor = screen.query_one("#editor", TextArea)
        assert screen.mode == "edit" and editor.has_focus
        assert json.loads(editor.text) == json.loads(ARGS)
        editor.text = '{"path": "other.txt"}'
        await pilot.pause()
        assert "✔ valid" in screen_text(pilot.app)
        await pilot.press("ctrl+s")
        decision = await decided(pilot)
    assert decision.kind is DecisionKind.EDIT
    assert decision.arguments == '{"path": "other.txt"}'
    assert tied(decision, req)  # tied to the arguments shown, carrying the new ones


async def test_e_then_accepting_unchanged_text_approves_the_original_bytes() -> None:
    req = request()
    async with Host().run_test(size=SIZE) as pilot:
        await open_dialog(pilot, req)
        await pilot.press("e", "ctrl+s")
        decision = await decided(pilot)
    assert decision.kind is DecisionKind.APPROVE and tied(decision, req)


async def test_e_with_invalid_json_is_refused_then_fixed() -> None:
    req = request()
    async with Host().run_test(size=SIZE) as pilot:
        app: Host = pilot.app  # type: ignore[assignment]
        screen = await open_dialog(pilot, req)
        await pilot.press("e")
        editor = screen.query_one("#editor", TextArea)
        editor.text = '{"path": "x.txt",'
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen and screen.decision is None and not app.decisions
        text = screen_text(app)
        assert "not accepted" in text and "JSON" in text
        editor.text = '{"path": "x.txt"}'
        await pilot.pause()
        await pilot.press("ctrl+s")
        decision = await decided(pilot)
    assert decision.kind is DecisionKind.EDIT and decision.arguments == '{"path": "x.txt"}' and tied(decision, req)


async def test_e_refuses_arguments_the_check_finds_wrong() -> None:
    req = request()
    registry = ToolRegistry([Tool(ToolSpec("read_file", "reads", SCHEMA), None)])
    check = registry_check(registry)
    async with Host().run_test(size=SIZE) as pilot:
        app: Host = pilot.app  # type: ignore[assignment]
        screen = await open_dialog(pilot, req, check=lambda text: check(req, text))
        await pilot.press("e")
        editor = screen.query_one("#editor", TextArea)
        editor.text = '{"limit": "ten"}'
        await pilot.pause()
        assert "path" in screen_text(app)  # the live check names the missing property
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen and not app.decisions
        editor.text = '{"path": "a.txt", "limit": 3}'
        await pilot.pause()
        await pilot.press("ctrl+s")
        decision = await decided(pilot)
    assert decision.kind is DecisionKind.EDIT and decision.arguments == '{"path": "a.txt", "limit": 3}'


async def test_a_check_that_raises_refuses_the_edit() -> None:
    def broken(text: str) -> None:
        raise RuntimeError("boom")

    async with Host().run_test(size=SIZE) as pilot:
        screen = await open_dialog(pilot, request(), check=broken)
        await pilot.press("e")
        screen.query_one("#editor", TextArea).text = '{"path": "b"}'
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.decision is None and "could not be checked" in screen_text(pilot.app)


async def test_esc_leaves_edit_mode_without_deciding() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        screen = await open_dialog(pilot, request())
        await pilot.press("e", "x", "escape")
        await pilot.pause()
        assert screen.mode == "view" and screen.decision is None
        await pilot.press("y")
        decision = await decided(pilot)
    assert decision.kind is DecisionKind.APPROVE


async def test_n_denies_with_a_reason() -> None:
    req = request()
    async with Host().run_test(size=SIZE) as pilot:
        screen = await open_dialog(pilot, req)
        await pilot.press("n")
        assert screen.query_one("#reason", Input).has_focus
        await pilot.press(*"not that file")  # letters here are typed, not keys of the dialog
        await pilot.press("enter")
        decision = await decided(pilot)
    assert decision.kind is DecisionKind.DENY and decision.reason == "not that file" and tied(decision, req)
    assert denial_text(decision.reason) == "denied by user: not that file"


async def test_n_then_enter_denies_without_a_reason_and_esc_goes_back() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        screen = await open_dialog(pilot, request())
        await pilot.press("n", "escape")
        assert screen.mode == "view" and screen.decision is None
        await pilot.press("n", "enter")
        decision = await decided(pilot)
    assert decision.kind is DecisionKind.DENY and decision.reason == ""


async def test_esc_denies() -> None:
    req = request()
    async with Host().run_test(size=SIZE) as pilot:
        await open_dialog(pilot, req)
        await pilot.press("escape")
        decision = await decided(pilot)
    assert decision.kind is DecisionKind.DENY and tied(decision, req)
    assert denial_text(decision.reason) == "denied by user"


async def test_keys_do_nothing_until_the_dialog_is_armed() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        screen = await open_dialog(pilot, request(), arm_delay=600)
        await pilot.press("y", "a", "escape", "n")
        await pilot.pause()
        assert screen.decision is None and screen.mode == "view"
        screen._arm()
        await pilot.press("y")
        decision = await decided(pilot)
    assert decision.kind is DecisionKind.APPROVE


# --- what is shown ------------------------------------------------------------------------------


async def test_control_and_bidi_characters_in_arguments_are_shown_escaped() -> None:
    arguments = json.dumps(
        {"path": "notes/\u202etxt.exe", "cmd": "echo \x1b[31mred \x1b]8;;http://evil\x07link", "x": "a\x9bb\x7f"},
        ensure_ascii=False,
    )
    req = request(arguments, tool="read_\x1b[2Jfile", reason="why \u202eevil", problem="bad \x1b]0;title\x07")
    async with Host().run_test(size=SIZE) as pilot:
        screen = await open_dialog(pilot, req)
        text = screen_text(pilot.app)
        for raw in ("\x1b", "\x07", "\x9b", "\x7f", "\u202e"):
            assert raw not in text
        assert "notes/\\u202etxt.exe" in text
        assert "\\u001b[31mred" in text and "\\u001b]8;;http://evil\\u0007link" in text
        assert "read_\\x1b[2Jfile" in text and "why \\u202eevil" in text and "bad \\x1b]0;title\\x07" in text
        await pilot.press("r")  # the exact text, escaped the same way
        await pilot.pause()
        assert "\u202e" not in screen_text(pilot.app) and '{"path": "notes/\\u202etxt.exe"' in screen_text(pilot.app)
        await pilot.press("r", "e")
        editor = screen.query_one("#editor", TextArea)
        assert "\u202e" not in editor.text and "\x7f" not in editor.text
        assert json.loads(editor.text) == json.loads(arguments)  # the escapes are JSON escapes


async def test_arguments_that_are_not_json_are_shown_escaped_as_they_are() -> None:
    req = request('{"cmd": "\x1b]52;c;aGk=\x07"')
    async with Host().run_test(size=SIZE) as pilot:
        await open_dialog(pilot, req)
        text = screen_text(pilot.app)
        assert "\x1b" not in text and '{"cmd": "\\x1b]52;c;aGk=\\x07"' in text


def test_editable_arguments_decode_to_the_same_object() -> None:
    arguments = json.dumps({"a": "x\u202ey\x85\x7f", "n": [1, 2.5, None, True]}, ensure_ascii=False)
    text = editable_arguments(arguments)
    assert json.loads(text) == json.loads(arguments)
    assert all(c not in text for c in "\u202e\x85\x7f")
    assert editable_arguments("not json \x1b") == "not json \\x1b"


async def test_parallel_calls_show_k_of_n_and_the_workspace() -> None:
    async with Host().run_test(size=SIZE) as pilot:
        await open_dialog(pilot, request(index=2, total=3))
        text = screen_text(pilot.app)
        assert "Tool call 2 of 3" in text and "Workspace: /home/me/project" in text
        assert "read_file asks before it runs" in text


async def test_a_problem_with_refused_edits_is_shown() -> None:
    req = request(problem="the edited arguments were refused: invalid arguments for read_file: missing path")
    async with Host().run_test(size=SIZE) as pilot:
        await open_dialog(pilot, req)
        assert "the edited arguments were refused" in screen_text(pilot.app)


async def test_long_arguments_scroll() -> None:
    arguments = json.dumps({f"key{n:02}": "value" for n in range(60)})
    async with Host().run_test(size=SIZE) as pilot:
        screen = await open_dialog(pilot, request(arguments))
        view = screen.query_one("#arguments")
        assert view.has_focus and view.max_scroll_y > 0
        await pilot.press("end")
        await wait_for(pilot, lambda: view.scroll_y == view.max_scroll_y)
        assert '"key59": "value"' in screen_text(pilot.app)


# --- client tools -------------------------------------------------------------------------------


async def test_a_client_tool_is_answered_with_typed_text() -> None:
    req = request('{"question": "colour?"}', tool="ask_user", needs_result=True, can_always=False, workspace=None)
    async with Host().run_test(size=SIZE) as pilot:
        app: Host = pilot.app  # type: ignore[assignment]
        screen = await open_dialog(pilot, req)
        assert screen.mode == "result" and screen.query_one("#result", TextArea).has_focus
        assert "Answer ask_user?" in screen_text(app)
        await pilot.press("ctrl+s")  # nothing typed yet: refused
        await pilot.pause()
        assert screen.decision is None and "Type the result first" in screen_text(app)
        await pilot.press(*"yellow", "enter", *"ok")  # y and enter are text here, not keys
        await pilot.press("ctrl+s")
        decision = await decided(pilot)
    assert decision.kind is DecisionKind.RESULT and decision.text == "yellow\nok" and tied(decision, req)


async def test_a_client_tool_can_be_denied_with_esc() -> None:
    req = request("{}", tool="ask_user", needs_result=True, can_always=False)
    async with Host().run_test(size=SIZE) as pilot:
        await open_dialog(pilot, req)
        await pilot.press("escape")
        decision = await decided(pilot)
    assert decision.kind is DecisionKind.DENY and tied(decision, req)


# --- the modal approver -------------------------------------------------------------------------


class ApproverHost(Host):
    """Asks through a `ModalApprover` from a worker, as the chat screen does."""

    def __init__(self) -> None:
        super().__init__()
        self.approver = ModalApprover(self, arm_delay=0)
        self.outcomes: list[Decision | str] = []

    def start(self, req: ApprovalRequest, *, nested: bool = False) -> Worker[Decision]:
        async def ask() -> Decision:
            try:
                if nested:  # the tool loop asks from a task it made inside the worker
                    decision = await asyncio.create_task(self.approver.decide(req))
                else:
                    decision = await self.approver.decide(req)
            except asyncio.CancelledError:
                self.outcomes.append("cancelled")
                raise
            self.outcomes.append(decision)
            return decision

        return self.run_worker(ask(), group="ask")


async def approver_dialog(pilot: Pilot) -> ApprovalScreen:
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ApprovalScreen) and pilot.app.screen.is_mounted)
    await pilot.pause()
    return pilot.app.screen  # type: ignore[return-value]


async def test_modal_approver_from_a_worker() -> None:
    req = request()
    app = ApproverHost()
    async with app.run_test(size=SIZE) as pilot:
        worker = app.start(req)
        await approver_dialog(pilot)
        await pilot.press("y")
        await wait_for(pilot, lambda: worker.state is WorkerState.SUCCESS)
        assert worker.result is not None and worker.result.kind is DecisionKind.APPROVE and tied(worker.result, req)
        assert not isinstance(app.screen, ApprovalScreen) and app.approver.screen is None

        worker = app.start(request(call_id="call-8"), nested=True)
        await approver_dialog(pilot)
        await pilot.press("n", *"no", "enter")
        await wait_for(pilot, lambda: worker.state is WorkerState.SUCCESS)
        assert worker.result is not None and worker.result.kind is DecisionKind.DENY
        assert worker.result.call_id == "call-8" and worker.result.reason == "no"


async def test_modal_approver_from_a_thread_asks_on_the_app_loop() -> None:
    req = request()
    app = ApproverHost()
    async with app.run_test(size=SIZE) as pilot:
        worker = app.run_worker(lambda: asyncio.run(app.approver.decide(req)), thread=True)
        await approver_dialog(pilot)
        await pilot.press("a")
        await wait_for(pilot, lambda: worker.state is WorkerState.SUCCESS)
    assert worker.result is not None and worker.result.kind is DecisionKind.APPROVE_ALWAYS and tied(worker.result, req)


async def test_modal_approver_checks_edits_with_its_check() -> None:
    req = request()
    registry = ToolRegistry([Tool(ToolSpec("read_file", "reads", SCHEMA), None)])
    app = ApproverHost()
    app.approver.check = registry_check(registry)
    async with app.run_test(size=SIZE) as pilot:
        worker = app.start(req)
        screen = await approver_dialog(pilot)
        await pilot.press("e")
        screen.query_one("#editor", TextArea).text = '{"path": 5}'
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen and worker.is_running
        screen.query_one("#editor", TextArea).text = '{"path": "5"}'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: worker.state is WorkerState.SUCCESS)
    assert worker.result is not None and worker.result.kind is DecisionKind.EDIT
    assert worker.result.arguments == '{"path": "5"}'


async def test_cancelling_the_wait_takes_the_dialog_away() -> None:
    app = ApproverHost()
    async with app.run_test(size=SIZE) as pilot:
        worker = app.start(request(), nested=True)
        screen = await approver_dialog(pilot)
        worker.cancel()
        await wait_for(pilot, lambda: not isinstance(app.screen, ApprovalScreen) and worker.is_finished)
        assert app.outcomes == ["cancelled"]
        assert screen.decision is not None and screen.decision.kind is DecisionKind.DENY


async def test_cancelling_while_another_screen_covers_the_dialog() -> None:
    from textual.screen import ModalScreen

    app = ApproverHost()
    async with app.run_test(size=SIZE) as pilot:
        worker = app.start(request())
        screen = await approver_dialog(pilot)
        cover: ModalScreen[None] = ModalScreen()
        app.push_screen(cover)
        await wait_for(pilot, lambda: app.screen is cover)
        worker.cancel()
        await wait_for(pilot, lambda: worker.is_finished)
        assert screen in app.screen_stack  # not popped from under the other screen
        app.pop_screen()
        await wait_for(pilot, lambda: screen not in app.screen_stack and not isinstance(app.screen, ModalScreen))
        assert app.outcomes == ["cancelled"]


async def test_quitting_while_the_dialog_is_open_denies() -> None:
    req = request()
    app = ApproverHost()
    task: asyncio.Task[Decision] | None = None
    async with app.run_test(size=SIZE) as pilot:
        task = asyncio.create_task(app.approver.decide(req))
        await approver_dialog(pilot)
        worker = app.start(request(call_id="call-9"))
        await wait_for(pilot, lambda: len(app.screen_stack) == 3)
        await pilot.press("ctrl+q")  # the app's priority binding, even with the dialog open
    decision = await asyncio.wait_for(task, 5)
    assert decision.kind is DecisionKind.DENY and tied(decision, req)
    assert all(
        outcome == "cancelled" or (isinstance(outcome, Decision) and outcome.kind is DecisionKind.DENY)
        for outcome in app.outcomes
    )
    assert worker.state is not WorkerState.SUCCESS or worker.result.kind is DecisionKind.DENY


async def test_no_dialog_once_the_app_is_closing() -> None:
    app = ApproverHost()
    req = request()
    assert (await app.approver.decide(req)).kind is DecisionKind.DENY  # not running at all
    async with app.run_test(size=SIZE):
        app.exit()
        decision = await app.approver.decide(req)
    assert decision.kind is DecisionKind.DENY


async def test_the_tool_loop_asks_through_the_modal_in_order(tmp_path: Path) -> None:
    seen: list[dict[str, Any]] = []

    async def handler(arguments: dict[str, Any], context: ToolContext) -> str:
        seen.append(arguments)
        return f"read {arguments['path']}"

    tool = Tool(ToolSpec("read_file", "reads", SCHEMA), handler, default_approval=Approval.ASK)
    provider = ScriptedProvider(
        calls(("read_file", '{"path": "a"}'), ("read_file", '{"path": "b"}'), ("read_file", '{"path": "c"}')),
        answer("ok"),
    )
    registry = ToolRegistry([tool], workspace=Workspace(tmp_path))
    app = ApproverHost()
    loop = ToolLoop(Conversation(provider), registry, ApprovalPolicy(), app.approver)
    app.approver.check = registry_check(registry)
    events: list[ToolEvent] = []

    async def consume() -> None:
        async for item in loop.send("go"):
            if isinstance(item, ToolEvent):
                events.append(item)

    async with app.run_test(size=SIZE) as pilot:
        worker = app.run_worker(consume())
        await approver_dialog(pilot)
        assert "Tool call 1 of 3" in screen_text(app)
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen) and app.screen.request.index == 2)
        await pilot.pause()
        assert "Tool call 2 of 3" in screen_text(app)
        await pilot.press("n", *"skip", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen) and app.screen.request.index == 3)
        await pilot.pause()
        await pilot.press("e")
        app.screen.query_one("#editor", TextArea).text = '{"path": "c2"}'
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: worker.is_finished)
    assert seen == [{"path": "a"}, {"path": "c2"}]
    finals = {e.call.id: e for e in events if e.final}
    assert finals["call-2"].status is ToolStatus.DENIED and finals["call-2"].result is not None
    assert finals["call-2"].result.content == "denied by user: skip"
    assert finals["call-3"].arguments == '{"path": "c2"}'


# --- the tool item ------------------------------------------------------------------------------

CALL = ToolCall("call-1", "read_file", '{"path": "notes.txt"}')


def event(status: ToolStatus, *, call: ToolCall = CALL, arguments: str | None = None, **extra: Any) -> ToolEvent:
    return ToolEvent(call, status, 1, 1, 1, call.arguments if arguments is None else arguments, **extra)


class ItemHost(App[None]):
    def __init__(self, *items: ToolItem) -> None:
        super().__init__()
        self.items = items

    def compose(self) -> ComposeResult:
        yield from self.items


async def test_tool_item_follows_its_events_and_folds_when_done() -> None:
    item = ToolItem(CALL)
    async with ItemHost(item).run_test(size=SIZE) as pilot:
        assert not item.collapsed and "requested" in screen_text(pilot.app)
        item.update(event(ToolStatus.WAITING, request=request(CALL.arguments)))
        await pilot.pause()
        assert item.has_class("-waiting") and "waiting for approval" in screen_text(pilot.app)
        item.update(event(ToolStatus.RUNNING))
        await pilot.pause()
        assert item.has_class("-running") and item._timer is not None
        frame = item.frame
        await wait_for(pilot, lambda: item.frame > frame)  # the spinner turns while it runs
        item.update(event(ToolStatus.DONE, result=text_result("line one\nline two")))
        await pilot.pause()
        assert item._timer is None and item.collapsed and item.has_class("-done")
        text = screen_text(pilot.app)
        assert "done" in text and "line one…" in text and "line two" not in text
        item.collapsed = False
        await pilot.pause()
        assert "line two" in screen_text(pilot.app)


async def test_tool_item_respects_a_person_who_opened_it() -> None:
    item = ToolItem(CALL, animate=False)
    async with ItemHost(item).run_test(size=SIZE) as pilot:
        await pilot.click("CollapsibleTitle")
        await pilot.click("CollapsibleTitle")
        await pilot.pause()
        assert not item.collapsed and item.user_toggled
        item.update(event(ToolStatus.ERROR, result=error_result("read_file: no such file")))
        await pilot.pause()
        assert not item.collapsed and item.has_class("-error")
        assert "no such file" in screen_text(pilot.app)


async def test_tool_item_shows_the_models_text_escaped_and_edits_marked() -> None:
    call = ToolCall("c", "[b]x[/b]\x1b[2J", '{"p": "\u202e\x1b"}')
    item = ToolItem(call, animate=False)
    async with ItemHost(item).run_test(size=SIZE) as pilot:
        item.update(event(ToolStatus.RUNNING, call=call, arguments='{"p": "edited"}'))
        await pilot.pause()
        text = screen_text(pilot.app)
        assert "[b]x[/b]\\x1b[2J" in text and "\x1b" not in text
        assert "Arguments (edited)" in text and '"p": "edited"' in text
        item.update(event(ToolStatus.DONE, call=call, result=text_result("out\x1b[31m\u202e")))
        item.collapsed = False
        await pilot.pause()
        text = screen_text(pilot.app)
        assert "\x1b" not in text and "\u202e" not in text and "out[31m" in text


async def test_tool_item_cuts_very_long_output_for_the_screen() -> None:
    from tui_chat.ui.widgets.tool_item import OUTPUT_SHOWN_LIMIT, output_text

    result = text_result("x" * (OUTPUT_SHOWN_LIMIT * 3))
    assert len(output_text(result)) <= OUTPUT_SHOWN_LIMIT
    item = ToolItem(CALL, animate=False)
    async with ItemHost(item).run_test(size=SIZE) as pilot:
        item.update(event(ToolStatus.DONE, result=result))
        item.collapsed = False
        await pilot.pause()
        assert "not shown here" in str(item._note.visual)


async def test_tool_item_left_without_events_can_be_abandoned() -> None:
    item = ToolItem(CALL, animate=False)
    async with ItemHost(item).run_test(size=SIZE) as pilot:
        item.update(event(ToolStatus.RUNNING))
        item.abandon(error_result("cancelled: the turn was stopped before this call finished"))
        await pilot.pause()
        assert item.status is ToolStatus.CANCELLED and item.collapsed and item._timer is None
        assert "cancelled: the turn was stopped" in screen_text(pilot.app)
        item.abandon()  # final already: nothing changes
        assert item.result is not None and item.result.is_error
