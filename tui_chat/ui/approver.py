"""The UI's `Approver`: each tool call that needs a decision is put to the person in a modal.

`ModalApprover.decide` pushes an `ApprovalScreen` and waits for its decision. It works from any
task on the app's loop (a Textual worker, or a task the tool loop made inside one) and, through
the app's loop, from a thread. It never approves by default: when the app is quitting, the dialog
is closed without an answer, or the answer is not for this call and these argument bytes, the
call is refused. Cancelling the waiting task (the turn was stopped) takes the dialog away.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import TYPE_CHECKING, Callable

from ..chunks import ToolCall
from ..tools.approval import ApprovalRequest, Decision
from .screens.approval import ApprovalScreen, Check

if TYPE_CHECKING:
    from textual.app import App

    from ..tools.registry import ToolRegistry

ARM_DELAY = 0.3
"""Seconds a new dialog ignores keys, so that typing meant for the prompt cannot answer it."""

QUITTING = "the app is closing"

RequestCheck = Callable[[ApprovalRequest, str], "list[str] | str | None"]
"""Checks edited argument text for a request: the problems found, or None."""


def registry_check(registry: ToolRegistry) -> RequestCheck:
    """A check of edited arguments against the tool's schema in `registry` (`ToolRegistry.problems`)."""

    def check(request: ApprovalRequest, text: str) -> str | None:
        return registry.problems(ToolCall(request.call_id, request.tool, request.arguments), text)

    return check


class ModalApprover:
    """Asks the person about each call in an `ApprovalScreen` pushed onto `app`.

    `check` checks edited arguments as they are typed (see `registry_check`); it may be set after
    the tool loop is built. `arm_delay` is passed on to each screen.
    """

    def __init__(self, app: App, *, check: RequestCheck | None = None, arm_delay: float = ARM_DELAY) -> None:
        self.app = app
        self.check = check
        self.arm_delay = arm_delay
        self.screen: ApprovalScreen | None = None
        """The dialog on screen now, if any."""

    def _closing(self) -> bool:
        app = self.app
        return bool(getattr(app, "_exit", False)) or not app.is_running

    async def decide(self, request: ApprovalRequest) -> Decision:
        if self._closing():
            return Decision.deny(request, QUITTING)
        running = asyncio.get_running_loop()
        app_loop = getattr(self.app, "_loop", None)
        if isinstance(app_loop, asyncio.AbstractEventLoop) and app_loop is not running:
            # Called from another thread's loop: ask on the app's loop (cancelling this cancels that).
            future = asyncio.run_coroutine_threadsafe(self._ask_in_app_context(request), app_loop)
            return await asyncio.wrap_future(future)
        return await self._ask(request)

    async def _ask_in_app_context(self, request: ApprovalRequest) -> Decision:
        # A task started from another thread lacks the app's context variables, which the screen needs.
        context = getattr(self.app, "_context", None)
        if context is None:
            return await self._ask(request)
        with context():
            return await self._ask(request)

    async def _ask(self, request: ApprovalRequest) -> Decision:
        if self._closing():
            return Decision.deny(request, QUITTING)
        answer: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()

        def settled(decision: Decision) -> None:
            if not answer.done():
                answer.set_result(decision)

        request_check = self.check
        check: Check | None = partial(request_check, request) if request_check is not None else None
        screen = ApprovalScreen(request, check=check, on_decided=settled, arm_delay=self.arm_delay)
        try:
            self.app.push_screen(screen)
        except Exception as error:  # noqa: BLE001 - no dialog, no approval
            return Decision.deny(request, f"the approval dialog could not be shown ({type(error).__name__})")
        self.screen = screen
        try:
            decision = await answer
        except asyncio.CancelledError:
            screen.close("the turn was stopped")
            raise
        finally:
            if self.screen is screen:
                self.screen = None
        if not isinstance(decision, Decision) or not decision.matches(request):
            return Decision.deny(request, "the decision was not for this call")
        return decision
