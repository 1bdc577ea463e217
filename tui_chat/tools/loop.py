"""The tool loop: a turn in which the model may call tools, the calls are approved and run, and the
model carries on with their results, until it answers without tools.

`ToolLoop.send(text)` returns a `Turn`, an async iterator of the model's chunks mixed with
`ToolEvent`s (one per change of a call's status) and `LoopNote`s (a limit was reached). The
UI and `tui-chat ask` consume it alike. Per round:

1. The model's reply streams; its tool calls arrive as `ToolCallChunk`s.
2. Each call is checked (known tool, JSON object, schema) and put to the approval policy, and,
   where it asks, to the `Approver`, one call at a time ("call k of n").
3. The approved calls run: consecutive read-only calls at the same time, any other call on its
   own, in the order the model gave them.
4. Every call gets a result in the history (a `Role.TOOL` message), refused and failed ones as
   errors, and the model is asked again.

A turn stops after `max_rounds` rounds of tools with a note. Cancelling the task that consumes
the turn (or closing it) cancels everything under way: the approver's question, running tools
and their processes. Calls left without a result then get a "cancelled" one, so the history stays
valid for the next request.
"""

from __future__ import annotations

import asyncio
import enum
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, AsyncGenerator, AsyncIterator, Callable, Mapping, TypeAlias

from ..chunks import Chunk, Message, ReplyStatus, Role, ToolCall, ToolSpec, chunk_to_dict
from ..conversation import Conversation, Reply
from ..safe_text import clean, escape_controls
from .approval import ApprovalRequest, Approver, Decision, DecisionKind, DenyingApprover, denial_text
from .policy import ApprovalPolicy
from .registry import Approval, CheckedCall, ToolInputError, ToolRegistry
from .result import ToolResult, error_result, text_result

if TYPE_CHECKING:
    from ..store.recorder import Recorder

DEFAULT_MAX_ROUNDS = 5
DEFAULT_MAX_TOOL_CALLS = 25
MAX_ASKS_PER_CALL = 5
"""How often one call is put to the person when the edited arguments keep being refused."""

_TOOL_CHOICES = ("auto", "required", "none")


@dataclass(frozen=True, slots=True)
class LoopLimits:
    """How far a turn may go: rounds of tool calls, calls in all, and the model's tool choice.

    `tool_choice` "required" applies to the first model call of a turn only (or the model could
    never stop); "none" and "auto" to every call. None leaves it to the provider.
    """

    max_rounds: int = DEFAULT_MAX_ROUNDS
    max_tool_calls_per_turn: int = DEFAULT_MAX_TOOL_CALLS
    tool_choice: str | None = None

    @classmethod
    def from_tool_policy(cls, policy: Mapping[str, Any] | None) -> LoopLimits:
        """The limits from a pack prompt's `tool_policy` (already checked by the pack loader)."""
        policy = policy or {}
        rounds = policy.get("max_rounds")
        calls = policy.get("max_tool_calls_per_turn")
        choice = policy.get("tool_choice")
        return cls(
            max_rounds=rounds if isinstance(rounds, int) and rounds >= 1 else DEFAULT_MAX_ROUNDS,
            max_tool_calls_per_turn=calls if isinstance(calls, int) and calls >= 1 else DEFAULT_MAX_TOOL_CALLS,
            tool_choice=choice if choice in _TOOL_CHOICES else None,
        )


class ToolStatus(str, enum.Enum):
    """Where a tool call stands. DONE, DENIED, ERROR and CANCELLED are final."""

    WAITING = "waiting"
    """Waiting for the person's decision (`ToolEvent.request` says what is asked)."""
    RUNNING = "running"
    DONE = "done"
    DENIED = "denied"
    ERROR = "error"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class ToolEvent:
    """A tool call's status changed. `arguments` is the text that runs (edited, if it was).

    `result` is set on the final statuses; `request` on WAITING. `index` of `total` places the
    call in its round. The call's name and arguments are the model's: show them escaped
    (`title`, `ApprovalRequest.shown_arguments`).
    """

    call: ToolCall
    status: ToolStatus
    index: int
    total: int
    round: int
    arguments: str
    request: ApprovalRequest | None = None
    result: ToolResult | None = None

    @property
    def title(self) -> str:
        """The tool's name, safe to show."""
        return escape_controls(self.call.name)

    @property
    def final(self) -> bool:
        return self.status not in (ToolStatus.WAITING, ToolStatus.RUNNING)

    @property
    def preview(self) -> str:
        """A line for a collapsed tool item: the start of the result, or the status."""
        return self.result.preview if self.result is not None else self.status.value


@dataclass(frozen=True, slots=True)
class LoopNote:
    """Something the person should know about the turn as a whole.

    `kind` "max_rounds": the turn stopped because the model kept calling tools; "max_tool_calls":
    calls beyond the turn's limit were not run (the model still answers).
    """

    kind: str
    message: str


TurnItem: TypeAlias = Chunk | ToolEvent | LoopNote


class ToolLoop:
    """Runs turns with tools over a `Conversation`.

    `registry` holds the tools offered (it overrides the prompt's own list: build it with
    `tools_for_prompt` to offer the pack's tools), `policy` and `approver` decide about calls,
    `limits` bound each turn. `recorder`, when set, is told of every event of every turn (the
    chat is saved as it streams; see `store.recorder`).
    """

    def __init__(
        self,
        conversation: Conversation,
        registry: ToolRegistry,
        policy: ApprovalPolicy | None = None,
        approver: Approver | None = None,
        *,
        limits: LoopLimits | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.conversation = conversation
        self.registry = registry
        self.policy = policy or ApprovalPolicy()
        self.approver: Approver = approver or DenyingApprover()
        self.limits = limits or LoopLimits()
        self.recorder = recorder

    def send(self, text: str) -> Turn:
        """Add the user's message and return the turn that answers it."""
        if self.recorder is not None:
            self.recorder.user(text)
        return Turn(self, self.conversation.send(text, **self.request_tools(first=True)))

    def retry(self) -> Turn:
        """Answer the last user message again, dropping everything after it (tool results too)."""
        if self.recorder is not None:
            self.recorder.retry()
        return Turn(self, self.conversation.retry(**self.request_tools(first=True)))

    def resume(self) -> Turn:
        """Let the model carry on from the history as it is (say, after a turn cut short by a limit)."""
        return Turn(self, self.next_reply())

    def offered(self) -> tuple[ToolSpec, ...]:
        """The tool specs offered to the model: the registry's, less those the policy refuses."""
        return tuple(
            tool.spec for tool in self.registry if self.policy.rule(tool).mode is not Approval.DENY
        )

    def request_tools(self, *, first: bool) -> dict[str, Any]:
        """The tools and tool choice for a model call of this loop (the first of a turn, or a later one)."""
        tools = self.offered()
        choice = self.limits.tool_choice
        if choice == "required" and not first:
            choice = "auto"
        return {"tools": tools, "tool_choice": choice if tools else None}

    def next_reply(self) -> Reply:
        """A reply continuing the history as it stands (no new user message)."""
        return self.conversation.continue_reply(**self.request_tools(first=False))


_END = object()


class Turn:
    """One turn of the tool loop. Iterate it (once) for `Chunk`s, `ToolEvent`s and `LoopNote`s.

    Afterwards it keeps the model's `replies`, each call's `results` (by call id) and any `notes`.
    Cancelling the task that awaits the next item stops everything at once; a consumer that may
    stop iterating in any other way should iterate inside `contextlib.aclosing(turn)`, so that
    running tools are stopped then too, not when the turn is garbage collected.
    """

    def __init__(self, loop: ToolLoop, first: Reply) -> None:
        self.loop = loop
        self._first = first
        self.replies: list[Reply] = []
        self.results: dict[str, ToolResult] = {}
        self.notes: list[LoopNote] = []
        self.rounds = 0
        self.calls = 0
        self._stream: AsyncGenerator[TurnItem, None] | None = None

    @property
    def reply(self) -> Reply:
        """The model's latest reply in this turn."""
        return self.replies[-1] if self.replies else self._first

    @property
    def text(self) -> str:
        """All the text the model wrote in this turn, as it was streamed."""
        return "".join(reply.text for reply in self.replies)

    @property
    def status(self) -> ReplyStatus:
        return self.reply.status

    @property
    def error(self) -> str | None:
        return self.reply.error

    def __aiter__(self) -> AsyncIterator[TurnItem]:
        if self._stream is not None:
            raise RuntimeError("a Turn can be iterated only once")
        self._stream = self._run()
        return self._stream

    async def aclose(self) -> None:
        """Stop the turn early; whatever is under way is cancelled."""
        if self._stream is not None:
            await self._stream.aclose()

    async def _run(self) -> AsyncGenerator[TurnItem, None]:
        loop = self.loop
        recorder = loop.recorder
        record = recorder.chunk if recorder is not None else None  # (looked up once: it is called per chunk)
        reply = self._first
        while True:
            self.replies.append(reply)
            if recorder is not None:
                recorder.reply_started()
            try:
                async with aclosing(aiter(reply)) as stream:
                    async for chunk in stream:
                        if record is not None:
                            record(chunk)
                        yield chunk
            finally:
                if recorder is not None:
                    recorder.reply_ended(reply)
                if reply.tool_calls and reply.status is not ReplyStatus.COMPLETE:
                    # Cut off, failed or cancelled: its calls never run, but each needs a result.
                    self._answer(list(reply.tool_calls), {}, "not run: the reply that asked for it did not finish")
            calls = list(reply.tool_calls)
            if not calls or reply.status is not ReplyStatus.COMPLETE:
                return
            if self.rounds >= loop.limits.max_rounds:
                limit = loop.limits.max_rounds
                self._answer(calls, {}, f"not run: this turn reached its limit of {limit} rounds of tool calls")
                note = LoopNote(
                    "max_rounds",
                    f"Stopped after {limit} rounds of tool calls: the model asked for more "
                    f"({', '.join(escape_controls(c.name) for c in calls)}). "
                    "Send a message to let it carry on.",
                )
                self.notes.append(note)
                yield note
                return
            self.rounds += 1
            async with aclosing(self._round(calls)) as round_items:
                async for item in round_items:
                    yield item
            reply = loop.next_reply()

    async def _round(self, calls: list[ToolCall]) -> AsyncGenerator[TurnItem, None]:
        """Settle and run one round's calls, yielding their events; their results go into the history."""
        queue: asyncio.Queue[Any] = asyncio.Queue()
        results: dict[int, ToolResult] = {}
        worker = asyncio.create_task(ToolRound(self, calls, self.rounds, queue.put_nowait, results).work())
        recorder = self.loop.recorder
        try:
            while (item := await queue.get()) is not _END:
                if recorder is not None and isinstance(item, ToolEvent):
                    recorder.tool_event(item)
                yield item
            await worker
        finally:
            if not worker.done():
                worker.cancel()
                await asyncio.gather(worker, return_exceptions=True)
            self._answer(calls, results, "cancelled: the turn was stopped before this call finished")

    def _answer(self, calls: list[ToolCall], results: Mapping[int, ToolResult], missing: str) -> None:
        """Put a result for every call into the history, in the model's order."""
        for index, call in enumerate(calls, start=1):
            result = results.get(index) or error_result(missing)
            self.results[call.id] = result
            self.loop.conversation.append(
                Message(Role.TOOL, result.content, tool_call_id=call.id, name=call.name, is_error=result.is_error)
            )


@dataclass(frozen=True, slots=True)
class _Final:
    status: ToolStatus
    result: ToolResult
    arguments: str


class ToolRound:
    """One round of tool calls, in a task of its own: decide about each call, then run the approved.

    `ToolLoop` runs one per model reply; a voice session (`realtime.tools`) runs one per batch of
    calls the realtime model makes, with its own turn and emitter.
    """

    def __init__(
        self, turn: Turn, calls: list[ToolCall], number: int, emit: Callable[[Any], None], results: dict[int, ToolResult]
    ) -> None:
        self.turn = turn
        self.loop = turn.loop
        self.calls = calls
        self.number = number
        self.emit = emit
        self.results = results

    def event(self, index: int, status: ToolStatus, arguments: str, **extra: Any) -> None:
        call = self.calls[index - 1]
        self.emit(ToolEvent(call, status, index, len(self.calls), self.number, arguments, **extra))

    def finish(self, index: int, status: ToolStatus, result: ToolResult, arguments: str) -> None:
        self.results[index] = result
        self.event(index, status, arguments, result=result)

    async def work(self) -> None:
        try:
            approved: list[tuple[int, CheckedCall]] = []
            limit = self.loop.limits.max_tool_calls_per_turn
            for index, call in enumerate(self.calls, start=1):
                if self.turn.calls >= limit:
                    if not any(note.kind == "max_tool_calls" for note in self.turn.notes):
                        note = LoopNote("max_tool_calls", f"This turn reached its limit of {limit} tool calls; "
                                        "further calls are not run.")
                        self.turn.notes.append(note)
                        self.emit(note)
                    result = error_result(f"not run: this turn reached its limit of {limit} tool calls")
                    self.finish(index, ToolStatus.ERROR, result, call.arguments)
                    continue
                self.turn.calls += 1
                outcome = await self.settle(index, call)
                if isinstance(outcome, _Final):
                    self.finish(index, outcome.status, outcome.result, outcome.arguments)
                else:
                    approved.append((index, outcome))
            for batch in _batches(approved):
                async with asyncio.TaskGroup() as group:
                    for index, checked in batch:
                        group.create_task(self.run(index, checked))
        finally:
            self.emit(_END)

    async def settle(self, index: int, call: ToolCall) -> CheckedCall | _Final:
        """Check the call and get it approved: a call ready to run, or its final outcome."""
        loop = self.loop
        try:
            checked = loop.registry.check(call)
        except ToolInputError as error:
            return _Final(ToolStatus.ERROR, error_result(str(error)), call.arguments)
        tool = checked.tool
        rule = loop.policy.rule(tool)
        if rule.mode is Approval.DENY:
            return _Final(ToolStatus.DENIED, error_result(f"denied by policy: {rule.reason}"), call.arguments)
        if rule.mode is Approval.AUTO:
            return checked
        text, problem = call.arguments, ""
        candidate: CheckedCall | None = checked
        for _ in range(MAX_ASKS_PER_CALL):
            request = ApprovalRequest(
                call_id=call.id,
                tool=tool.name,
                description=clean(tool.spec.description),
                reason=rule.reason,
                arguments=text,
                index=index,
                total=len(self.calls),
                workspace=loop.registry.workspace.root if tool.uses_workspace else None,
                needs_result=tool.is_client,
                can_always=loop.policy.can_always_allow(tool),
                always_asks=tool.always_ask,
                problem=problem,
                server=tool.server or "",
            )
            self.event(index, ToolStatus.WAITING, text, request=request)
            try:
                decision = await loop.approver.decide(request)
            except Exception as error:  # noqa: BLE001 - a broken dialog refuses; it does not end the chat
                result = error_result(f"not run: asking for approval failed ({type(error).__name__}: {error})")
                return _Final(ToolStatus.ERROR, result, text)
            if not isinstance(decision, Decision) or not decision.matches(request):
                result = error_result("denied: the approval given was not for this call and these arguments")
                return _Final(ToolStatus.DENIED, result, text)
            if decision.kind is DecisionKind.DENY:
                return _Final(ToolStatus.DENIED, error_result(denial_text(decision.reason)), text)
            if decision.kind is DecisionKind.RESULT:
                return _Final(ToolStatus.DONE, text_result(decision.text), text)
            if decision.kind is DecisionKind.EDIT:
                text = decision.arguments if decision.arguments is not None else ""
                try:
                    return loop.registry.check(call, text)
                except ToolInputError as error:
                    candidate, problem = None, f"the edited arguments were refused: {error}"
                    continue
            if tool.is_client:
                problem = f"{tool.name} is answered by you: give its result, or deny the call"
                continue
            if candidate is None:
                continue  # approving arguments that were refused: ask again, with the problem shown
            if decision.kind is DecisionKind.APPROVE_ALWAYS:
                loop.policy.allow_for_chat(tool)
            return candidate
        result = error_result(f"not run: no usable decision after {MAX_ASKS_PER_CALL} questions ({problem})")
        return _Final(ToolStatus.ERROR, result, text)

    async def run(self, index: int, checked: CheckedCall) -> None:
        self.event(index, ToolStatus.RUNNING, checked.text)
        result = await self.loop.registry.run(checked)
        if checked.text != checked.call.arguments:
            note = f"[the user edited the arguments to: {checked.text}]\n"
            result = replace(result, content=clean(note) + result.content)
        self.finish(index, ToolStatus.ERROR if result.is_error else ToolStatus.DONE, result, checked.text)


def _batches(approved: list[tuple[int, CheckedCall]]) -> list[list[tuple[int, CheckedCall]]]:
    """Consecutive read-only calls together; every other call alone."""
    batches: list[list[tuple[int, CheckedCall]]] = []
    for item in approved:
        if item[1].tool.read_only and batches and all(c.tool.read_only for _, c in batches[-1]):
            batches[-1].append(item)
        else:
            batches.append([item])
    return batches


def item_to_dict(item: TurnItem) -> dict[str, Any]:
    """A JSON-ready dict of a turn item, for `ask --json`: chunks as `chunk_to_dict` gives them."""
    if isinstance(item, ToolEvent):
        out: dict[str, Any] = {
            "type": "tool_event",
            "id": item.call.id,
            "name": item.call.name,
            "status": item.status.value,
            "index": item.index,
            "total": item.total,
            "round": item.round,
            "arguments": item.arguments,
        }
        if item.result is not None:
            out.update(content=item.result.content, is_error=item.result.is_error)
        return out
    if isinstance(item, LoopNote):
        return {"type": "note", "kind": item.kind, "message": item.message}
    return chunk_to_dict(item)
