"""Asking a person about a tool call: the request shown, the decision given, and who decides.

An `ApprovalRequest` carries everything a dialog shows: the tool, why it asks, the exact argument
text and a pretty form of it (both with control and bidi characters shown escaped), the workspace
for file tools, and "call k of n". An `Approver` answers with a `Decision` made from that request,
so that each decision is tied to one call id and the exact argument bytes shown: a decision
that does not match the call it is applied to is treated as a refusal.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..safe_text import clean
from .arguments import pretty_arguments, shown_arguments


def digest(arguments: str) -> str:
    """A fingerprint of the exact argument text (SHA-256 of its UTF-8 bytes)."""
    return hashlib.sha256(arguments.encode("utf-8", errors="surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """One tool call waiting for a person's decision.

    `arguments` is the exact text that will run; show `shown_arguments` or `pretty_arguments`,
    never `arguments` itself. `index` of `total` places the call among those the model made at
    once. `needs_result` marks a client tool, which a person answers with the result text.
    `can_always` says whether "always allow for this chat" may be offered. `problem` is set when
    the request is asked again because edited arguments were refused. `server` names the MCP
    server that runs the tool ("" for tools of tui-chat itself).
    """

    call_id: str
    tool: str
    description: str
    reason: str
    arguments: str
    index: int = 1
    total: int = 1
    workspace: Path | None = None
    needs_result: bool = False
    can_always: bool = True
    always_asks: bool = False
    problem: str = ""
    server: str = ""

    @property
    def shown_arguments(self) -> str:
        """The exact argument text, control and bidi characters shown as escapes."""
        return shown_arguments(self.arguments)

    @property
    def pretty_arguments(self) -> str:
        """The arguments as indented JSON, control and bidi characters shown as escapes."""
        return pretty_arguments(self.arguments)

    @property
    def digest(self) -> str:
        return digest(self.arguments)


class DecisionKind(str, enum.Enum):
    APPROVE = "approve"
    APPROVE_ALWAYS = "approve_always"
    EDIT = "edit"
    DENY = "deny"
    RESULT = "result"


@dataclass(frozen=True, slots=True)
class Decision:
    """A person's answer to one `ApprovalRequest`. Make it with the class methods."""

    kind: DecisionKind
    call_id: str
    digest: str
    arguments: str | None = None
    """The new argument text, for EDIT."""
    reason: str = ""
    """Why, for DENY."""
    text: str = ""
    """The result, for RESULT (a client tool answered by a person)."""

    @classmethod
    def approve(cls, request: ApprovalRequest) -> Decision:
        return cls(DecisionKind.APPROVE, request.call_id, request.digest)

    @classmethod
    def approve_always(cls, request: ApprovalRequest) -> Decision:
        """Run it, and run this tool without asking for the rest of the chat (where allowed)."""
        return cls(DecisionKind.APPROVE_ALWAYS, request.call_id, request.digest)

    @classmethod
    def edit(cls, request: ApprovalRequest, arguments: str) -> Decision:
        """Run it with `arguments` instead; they are checked against the schema before anything runs."""
        return cls(DecisionKind.EDIT, request.call_id, request.digest, arguments=arguments)

    @classmethod
    def deny(cls, request: ApprovalRequest, reason: str = "") -> Decision:
        return cls(DecisionKind.DENY, request.call_id, request.digest, reason=reason)

    @classmethod
    def result(cls, request: ApprovalRequest, text: str) -> Decision:
        """Do not run anything; give the model `text` as the call's result."""
        return cls(DecisionKind.RESULT, request.call_id, request.digest, text=text)

    def matches(self, request: ApprovalRequest) -> bool:
        """Whether this decision was made for `request`: the same call and the same argument bytes."""
        return self.call_id == request.call_id and self.digest == request.digest


def denial_text(reason: str) -> str:
    """What the model receives for a call the person refused."""
    reason = clean(reason).strip()
    return f"denied by user: {reason}" if reason else "denied by user"


@runtime_checkable
class Approver(Protocol):
    """Decides about tool calls for a person: the UI's dialog, the terminal prompt, a test script.

    `decide` may take as long as the person does; when the turn is cancelled it is cancelled too.
    """

    async def decide(self, request: ApprovalRequest) -> Decision: ...


class DenyingApprover:
    """Refuses every call that needs a decision, with `reason` (for places where nobody can answer)."""

    def __init__(self, reason: str = "no one is there to approve tool calls") -> None:
        self.reason = reason

    async def decide(self, request: ApprovalRequest) -> Decision:
        return Decision.deny(request, self.reason)
