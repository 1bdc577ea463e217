"""Approve tool calls at a terminal, for `tui-chat ask`.

On a terminal the call is shown (arguments escaped, exactly as they will run) and the person
answers y (run), n (refuse, with an optional reason), e (edit the arguments) or a (always allow
this tool for this chat, where that is allowed). When standard input is not a terminal nobody can
answer, so every call that asks is refused with a message saying why and what to do; `--yes`
(an `ApprovalPolicy` setting) lets the tools that may run unasked do so without reaching here.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from typing import TextIO

from ..safe_text import clean, escape_controls
from .approval import ApprovalRequest, Decision


class TerminalApprover:
    """Asks on `output` and reads answers from `input` (default: stderr and stdin).

    `interactive` None means "when `input` is a terminal".
    """

    def __init__(self, input: TextIO | None = None, output: TextIO | None = None, *, interactive: bool | None = None) -> None:
        self.input = input if input is not None else sys.stdin
        self.output = output if output is not None else sys.stderr
        if interactive is None:
            try:
                interactive = self.input.isatty()
            except (AttributeError, ValueError, OSError):
                interactive = False
        self.interactive = interactive

    async def decide(self, request: ApprovalRequest) -> Decision:
        if not self.interactive:
            reason = _not_interactive(request)
            self._say(f"tui-chat: {escape_controls(request.tool)} not run: {reason}\n")
            return Decision.deny(request, reason)
        self._say(_describe(request))
        if request.needs_result:
            self._say("Type the result to give the model, on one line (an empty line refuses the call): ")
            text = await self._readline()
            if not text or not text.strip():
                return Decision.deny(request, "no result was given")
            return Decision.result(request, text.rstrip("\n"))
        choices = "[y]es, [n]o, [e]dit" + (", [a]lways for this chat" if request.can_always else "")
        while True:
            self._say(f"Run it? {choices}: ")
            line = await self._readline()
            if not line:
                self._say("\n")
                return Decision.deny(request, "no answer (end of input)")
            answer = line.strip().lower()
            if answer in ("y", "yes"):
                return Decision.approve(request)
            if answer in ("a", "always") and request.can_always:
                return Decision.approve_always(request)
            if answer in ("n", "no"):
                self._say("Reason, for the model (optional): ")
                return Decision.deny(request, clean((await self._readline()).strip()))
            if answer in ("e", "edit"):
                self._say("New arguments, as JSON on one line: ")
                return Decision.edit(request, (await self._readline()).strip())
            self._say(f"Please answer {choices}.\n")

    def _say(self, text: str) -> None:
        self.output.write(text)
        self.output.flush()

    async def _readline(self) -> str:
        """One line of input, without blocking the event loop where the platform allows."""
        try:
            fd = self.input.fileno()
        except (AttributeError, ValueError, OSError):
            return self.input.readline()  # an in-memory stream never blocks
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        try:
            loop.add_reader(fd, lambda: ready.done() or ready.set_result(None))
        except (NotImplementedError, ValueError, OSError):
            return await asyncio.to_thread(self.input.readline)
        try:
            await ready
        finally:
            with contextlib.suppress(Exception):
                loop.remove_reader(fd)
        return self.input.readline()


def _not_interactive(request: ApprovalRequest) -> str:
    where = "tui-chat is not reading from a terminal, so no one can approve tool calls"
    if request.always_asks:
        return f"{where}; {request.tool} always needs approval, even with --yes"
    if request.needs_result:
        return f"{where}; {request.tool} needs a person to give its result"
    return f"{where}; run it in a terminal to approve calls, or pass --yes to allow {request.tool} without asking"


def _describe(request: ApprovalRequest) -> str:
    lines = [
        "",
        f"── tool call {request.index} of {request.total}: {escape_controls(request.tool)} ──",
        f"why: {escape_controls(request.reason)}",
    ]
    if request.server:
        lines.append(f"MCP server: {escape_controls(request.server)}")
    if request.workspace is not None:
        lines.append(f"workspace: {escape_controls(str(request.workspace))}")
    if request.problem:
        lines.append(f"problem: {escape_controls(request.problem)}")
    lines.append("arguments:")
    lines.extend("  " + line for line in request.pretty_arguments.splitlines() or ["{}"])
    return "\n".join(lines) + "\n"
