"""The terminal approver for `tui-chat ask`: y/n/e/a on a terminal, refusals elsewhere."""

from __future__ import annotations

import io
from pathlib import Path

from tui_chat.tools import ApprovalRequest, DecisionKind, TerminalApprover


def request(**extra: object) -> ApprovalRequest:
    values: dict = dict(
        call_id="c1",
        tool="list_directory",
        description="List a directory",
        reason="list_directory reads your files, so it asks by default",
        arguments='{"path": "a\\u001b[31m\u202eb"}',
        index=2,
        total=3,
        workspace=Path("/work"),
    )
    values.update(extra)
    return ApprovalRequest(**values)


async def ask(answers: str, **extra: object) -> tuple[object, str]:
    out = io.StringIO()
    approver = TerminalApprover(io.StringIO(answers), out, interactive=True)
    decision = await approver.decide(request(**extra))
    return decision, out.getvalue()


async def test_shows_the_call_escaped() -> None:
    decision, shown = await ask("y\n")
    assert decision.kind is DecisionKind.APPROVE and decision.matches(request())
    assert "tool call 2 of 3: list_directory" in shown and "workspace: /work" in shown
    assert '"path": "a\\u001b[31m\\u202eb"' in shown
    assert "\x1b" not in shown and "\u202e" not in shown


async def test_answers() -> None:
    assert (await ask("a\n"))[0].kind is DecisionKind.APPROVE_ALWAYS
    denied, _ = await ask("n\ntoo risky\x1b[0m\n")
    assert denied.kind is DecisionKind.DENY and denied.reason == "too risky[0m"
    edited, _ = await ask('e\n{"path": "."}\n')
    assert edited.kind is DecisionKind.EDIT and edited.arguments == '{"path": "."}'
    again, shown = await ask("what\nyes\n")
    assert again.kind is DecisionKind.APPROVE and "Please answer" in shown
    eof, _ = await ask("")
    assert eof.kind is DecisionKind.DENY and "end of input" in eof.reason


async def test_always_is_not_offered_where_it_is_not_allowed() -> None:
    decision, shown = await ask("a\nn\n\n", can_always=False, tool="run_shell")
    assert "[a]lways" not in shown and decision.kind is DecisionKind.DENY


async def test_client_tool_result() -> None:
    decision, _ = await ask("order 42 shipped\n", needs_result=True)
    assert decision.kind is DecisionKind.RESULT and decision.text == "order 42 shipped"
    empty, _ = await ask("\n", needs_result=True)
    assert empty.kind is DecisionKind.DENY


async def test_not_a_terminal_refuses_with_a_clear_message() -> None:
    out = io.StringIO()
    approver = TerminalApprover(io.StringIO("y\n"), out)
    assert not approver.interactive
    decision = await approver.decide(request())
    assert decision.kind is DecisionKind.DENY and "--yes" in decision.reason
    assert "not reading from a terminal" in out.getvalue()
    shell = await approver.decide(request(tool="run_shell", always_asks=True))
    assert "always needs approval, even with --yes" in shell.reason
