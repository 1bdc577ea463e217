"""Tool calls in a voice session: the chat's tools, its approval policy and approver, reused as is.

A voice session has no `Conversation` to run a `ToolLoop` over: the provider keeps the history. So
a session is given a `SessionTools` (the loop's registry, policy, approver and limits) and, for each
batch of calls the model makes, `run(calls)` puts them through exactly what the tool loop does in
one round (checks, policy, the approver one call at a time, approved calls run, read-only ones
together) and returns one result per call, in order, for the provider to send back.

What the front end passes: `SessionTools.from_loop(tool_loop, on_event=...)` with the chat's
`ToolLoop` (from `tools.build_tool_loop`), so the approval modal (its `Approver`) and "always allow"
answers are shared with the text chat; `on_event` receives the loop's `ToolEvent`s (one per change
of a call's status, WAITING carrying the `ApprovalRequest`) and `LoopNote`s, to show tool items.

`new_turn()` starts counting rounds and calls afresh (the provider calls it when the user's turn
begins); `limits.max_rounds` rounds of calls per turn are run, later ones are answered with an
error result and a `LoopNote`, as in the tool loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from ..chunks import ToolCall, ToolSpec
from ..safe_text import escape_controls
from ..tools.approval import Approver, DenyingApprover
from ..tools.loop import LoopLimits, LoopNote, ToolEvent, ToolLoop, ToolRound, ToolStatus
from ..tools.policy import ApprovalPolicy
from ..tools.registry import Approval, ToolRegistry
from ..tools.result import ToolResult, error_result

ToolEventHandler = Callable[["ToolEvent | LoopNote"], None]


@dataclass(slots=True)
class _TurnCount:
    """What `ToolRound` needs of a turn: the loop it belongs to, the calls made so far, the notes."""

    loop: SessionTools
    calls: int = 0
    rounds: int = 0
    notes: list[LoopNote] = field(default_factory=list)


class SessionTools:
    """The tools of a voice session and how calls to them are decided (see the module text)."""

    def __init__(
        self,
        registry: ToolRegistry,
        policy: ApprovalPolicy | None = None,
        approver: Approver | None = None,
        *,
        limits: LoopLimits | None = None,
        on_event: ToolEventHandler | None = None,
    ) -> None:
        self.registry = registry
        self.policy = policy or ApprovalPolicy()
        self.approver: Approver = approver or DenyingApprover()
        self.limits = limits or LoopLimits()
        self.on_event = on_event
        self._turn = _TurnCount(self)

    @classmethod
    def from_loop(cls, loop: ToolLoop, *, on_event: ToolEventHandler | None = None) -> SessionTools:
        """The tools, policy, approver and limits of a chat's tool loop (shared, not copied)."""
        return cls(loop.registry, loop.policy, loop.approver, limits=loop.limits, on_event=on_event)

    def offered(self) -> tuple[ToolSpec, ...]:
        """The tool specs offered to the model: the registry's, less those the policy refuses."""
        return tuple(tool.spec for tool in self.registry if self.policy.rule(tool).mode is not Approval.DENY)

    def new_turn(self) -> None:
        """The user's turn begins: rounds and calls are counted afresh."""
        self._turn = _TurnCount(self)

    def _emit(self, item: Any) -> None:
        if self.on_event is not None and isinstance(item, (ToolEvent, LoopNote)):
            self.on_event(item)

    async def run(self, calls: Sequence[ToolCall]) -> list[ToolResult]:
        """Decide about `calls`, run the approved ones; one result per call, in the model's order.

        Cancelling it cancels the approver's question and running tools; the calls left without a
        result are reported CANCELLED to `on_event`.
        """
        calls = list(calls)
        turn = self._turn
        if turn.rounds >= self.limits.max_rounds:
            limit = self.limits.max_rounds
            note = LoopNote(
                "max_rounds",
                f"Stopped after {limit} rounds of tool calls: the model asked for more "
                f"({', '.join(escape_controls(c.name) for c in calls)}).",
            )
            turn.notes.append(note)
            self._emit(note)
            return [error_result(f"not run: this turn reached its limit of {limit} rounds of tool calls") for _ in calls]
        turn.rounds += 1
        results: dict[int, ToolResult] = {}
        work = ToolRound(turn, calls, turn.rounds, self._emit, results)  # type: ignore[arg-type]
        try:
            await work.work()
        except BaseException:
            missing = error_result("cancelled: the call was withdrawn before it finished")
            for index, call in enumerate(calls, start=1):
                if index not in results:
                    self._emit(ToolEvent(call, ToolStatus.CANCELLED, index, len(calls), turn.rounds, call.arguments, result=missing))
            raise
        return [results.get(index) or error_result("not run") for index in range(1, len(calls) + 1)]


NO_TOOLS = "no tools are available in this voice session"


async def run_calls(tools: SessionTools | None, calls: Sequence[ToolCall]) -> list[ToolResult]:
    """`tools.run(calls)`, or an error result for each call when the session has no tools."""
    if tools is None:
        return [error_result(f"not run: {NO_TOOLS}") for _ in calls]
    return await tools.run(calls)


__all__ = ["SessionTools", "run_calls"]
