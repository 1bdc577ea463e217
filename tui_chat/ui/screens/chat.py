"""The main screen: the chat log, the prompt, the status bar and the keys that drive them.

Each turn runs in a Textual worker on the app's loop. The worker consumes the tool loop's stream
(chunks, tool events, notes) and hands text to the reply widget, which coalesces it into at most
one render per frame, and tool events to tool items; approvals are asked by the app's modal
approver. Nothing here parses a wire format or blocks the loop.
"""

from __future__ import annotations

from contextlib import aclosing
from typing import TYPE_CHECKING, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Markdown
from textual.worker import Worker

from ...chunks import ErrorChunk, Interrupted, ReplyStatus, RetryNotice, TextDelta, ToolCallChunk
from ...tools.loop import LoopNote, ToolEvent, Turn
from ..code_blocks import code_blocks
from ..widgets.chat_log import ChatLog
from ..widgets.message import AssistantMessage
from ..widgets.prompt_input import PromptInput
from ..widgets.status_bar import StatusBar
from ..widgets.tool_item import ToolItem
from .confirm import ConfirmScreen
from .help import HelpScreen
from .model_picker import ModelPickerScreen
from .pack_picker import PackChoice, PackPickerScreen

if TYPE_CHECKING:
    from ..app import TuiChatApp

RETRY_HINT = "Ctrl+R asks again"


class ChatScreen(Screen[None]):
    """Where the conversation happens."""

    BINDINGS = [
        Binding("escape", "cancel", "Stop reply"),
        Binding("f1", "help", "Keys"),
        Binding("question_mark", "help", "Keys", show=False),
        Binding("ctrl+t", "copy_reply", "Copy reply"),
        Binding("ctrl+b", "copy_code", "Copy code"),
        Binding("ctrl+r", "retry", "Retry"),
        Binding("ctrl+o", "pick_pack", "Pack"),
        Binding("ctrl+n", "pick_model", "Model"),
        Binding("ctrl+l", "clear", "Clear", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._reply_worker: Worker[None] | None = None

    @property
    def chat_app(self) -> TuiChatApp:
        return cast("TuiChatApp", self.app)

    def compose(self) -> ComposeResult:
        yield ChatLog(id="log")
        yield PromptInput(id="prompt", placeholder="Message (Enter sends, Shift+Enter new line, F1 keys)")
        yield StatusBar(id="status", clock=self.chat_app.clock)
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_description()
        self.query_one(PromptInput).focus()

    def refresh_description(self) -> None:
        session = self.chat_app.session
        provider = session.conversation.provider
        self.query_one(StatusBar).describe(session.provider_name, provider.model, session.conversation.prompt.label)

    @property
    def streaming(self) -> bool:
        return self._reply_worker is not None and self._reply_worker.is_running

    # --- sending and streaming ----------------------------------------------------------------

    @on(PromptInput.Submitted)
    async def send(self, event: PromptInput.Submitted) -> None:
        if self.streaming:
            self.notify("A reply is still streaming: Esc stops it.", severity="warning")
            return
        await self.query_one(ChatLog).add_user(event.text)
        await self._start(self.chat_app.tool_loop.send(event.text))

    async def _start(self, turn: Turn) -> None:
        view = await self.query_one(ChatLog).add_reply()
        self.query_one(StatusBar).begin()
        self._reply_worker = self._stream(turn, view)

    @work(group="reply", exclusive=True)
    async def _stream(self, turn: Turn, view: AssistantMessage) -> None:
        """Show one turn: the model's text, each tool call as an item, the model's text after them."""
        log = self.query_one(ChatLog)
        status = self.query_one(StatusBar)
        tools: dict[str, ToolItem] = {}
        hint = ""
        new_view_needed = False
        try:
            async with aclosing(turn) as items:
                async for item in items:
                    if isinstance(item, TextDelta):
                        if new_view_needed:
                            await view.finish(ReplyStatus.COMPLETE)
                            view = await log.add_reply()
                            new_view_needed = False
                        view.append(item.text)
                        status.text_received(item.text)
                    elif isinstance(item, ToolCallChunk):
                        tools[item.call.id] = await log.add_tool(ToolItem(item.call))
                        new_view_needed = True
                    elif isinstance(item, ToolEvent):
                        if (tool := tools.get(item.call.id)) is None or tool.final:
                            tools[item.call.id] = tool = await log.add_tool(ToolItem.from_event(item))
                        tool.update(item)
                        new_view_needed = True
                    elif isinstance(item, LoopNote):
                        self.notify(item.message, title="Tools", severity="warning")
                    elif isinstance(item, RetryNotice):
                        status.retrying(item.delay, item.attempt, item.attempts)
                    elif isinstance(item, (ErrorChunk, Interrupted)):
                        hint = getattr(item, "hint", "")
        finally:
            # Runs on completion, failure and cancellation (Esc, quitting) alike: the partial text
            # is rendered in full and marked with how the turn ended; unfinished tool calls too.
            for tool in tools.values():
                tool.abandon(turn.results.get(tool.call_id))
            ended = turn.status if turn.status is not ReplyStatus.STREAMING else ReplyStatus.CANCELLED
            if ended in (ReplyStatus.ERROR, ReplyStatus.INTERRUPTED):
                hint = f"{hint}; {RETRY_HINT}" if hint else RETRY_HINT
            await view.finish(ended, turn.error or "", hint)
            if not view.text and ended is ReplyStatus.COMPLETE:
                await view.remove()  # a reply that only called tools leaves no empty box
            state = "done" if ended is ReplyStatus.COMPLETE else ended.value
            tokens = sum(reply.usage.output_tokens for reply in turn.replies)
            status.end(state, tokens=tokens or None, detail=turn.error or "")

    # --- actions ------------------------------------------------------------------------------

    def action_cancel(self) -> None:
        if self.streaming:
            self.workers.cancel_group(self, "reply")

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen([*self.BINDINGS, *self.app.BINDINGS]))

    def _last_reply(self) -> AssistantMessage | None:
        replies = self.query_one(ChatLog).replies
        return replies[-1] if replies else None

    def action_copy_reply(self) -> None:
        reply = self._last_reply()
        if reply is None or not reply.text:
            self.notify("There is no reply to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(reply.text)
        self.notify(f"Copied the reply ({len(reply.text):,} characters).")

    def action_copy_code(self, index: int = -1) -> None:
        reply = self._last_reply()
        blocks = code_blocks(reply.text) if reply else []
        if not blocks:
            self.notify("The last reply has no code block.", severity="warning")
            return
        block = blocks[index]
        self.app.copy_to_clipboard(block.code)
        lines = block.code.count("\n") + (0 if block.code.endswith("\n") else 1)
        self.notify(f"Copied the {block.language or 'code'} block ({lines} lines).")

    async def action_retry(self) -> None:
        if self.streaming:
            self.notify("A reply is still streaming: Esc stops it first.", severity="warning")
            return
        try:
            turn = self.chat_app.tool_loop.retry()
        except ValueError:
            self.notify("There is nothing to retry yet.", severity="warning")
            return
        await self._start(turn)

    async def action_clear(self) -> None:
        self.action_cancel()
        self.chat_app.session.conversation.clear()
        await self.query_one(ChatLog).clear()

    def action_pick_pack(self) -> None:
        session = self.chat_app.session
        current_prompt = session.rendered.prompt_id if session.rendered else None
        self.app.push_screen(PackPickerScreen(session.pack, current_prompt), self._use_pack)

    def _use_pack(self, choice: PackChoice | None) -> None:
        if choice is None:
            return
        try:
            self.chat_app.use_pack(choice.path, choice.prompt_id)
        except Exception as error:  # a PackError, e.g. a required variable with no value
            self.notify(str(error), title="Prompt pack not changed", severity="error")
            return
        self.refresh_description()
        self.notify(f"Now using {self.chat_app.session.conversation.prompt.label}.")

    def action_pick_model(self) -> None:
        self.app.push_screen(ModelPickerScreen(self.chat_app.session.provider), self._use_model)

    def _use_model(self, model: str | None) -> None:
        if model is None:
            return
        self.chat_app.session.provider.model = model
        self.refresh_description()
        self.notify(f"Now using {model}.")

    # --- links in replies ---------------------------------------------------------------------

    @on(Markdown.LinkClicked)
    def confirm_link(self, event: Markdown.LinkClicked) -> None:
        event.stop()
        href = event.href
        if not href.lower().startswith(("http://", "https://")):
            self.notify("Only http and https links are opened.", title="Link not opened", severity="warning")
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.app.open_url(href)

        self.app.push_screen(ConfirmScreen("Open this link in your browser?", href), answer)
