"""The main screen: the chat log, the prompt, the status bar and the keys that drive them.

Each turn runs in a Textual worker on the app's loop. The worker consumes the tool loop's stream
(chunks, tool events, notes) and hands text to the reply widget, which coalesces it into at most
one render per frame, and tool events to tool items; approvals are asked by the app's modal
approver. Nothing here parses a wire format or blocks the loop.

Voice mode (F5) is the screen's other half, `chat_voice.ChatVoice`, which this screen extends.
While voice is on, what is typed goes to the voice session, and Esc stops the assistant speaking.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import aclosing
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.widgets import Static
from textual.worker import Worker

from ...chunks import (
    ErrorChunk,
    Interrupted,
    Notice,
    ReplyStatus,
    RetryNotice,
    TextDelta,
    ToolCallChunk,
    Usage,
)
from ...errors import TuiChatError
from ...safe_text import clean
from .._textual_frames import RedrawsOnlyChanges, RepaintsWithFrames
from .._textual_internals import FocusedAtOnce, PaintBeforeLayout, PlainCallbacks, QuickDispatch, TooltipClearedQuietly
from .._textual_reflow import LayoutOnce, ReflowsWithin
from ..widgets.audio_meter import AudioMeter
from ..widgets.chat_log import ChatLog
from ..widgets.key_footer import KeyFooter
from ..widgets.prompt_input import PromptInput
from ..widgets.status_bar import StatusBar
from ..wording import counted
from .chat_voice import ChatVoice

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.widget import Widget
    from textual.widgets import Markdown

    from ...store.records import ChatRecord
    from ...tools.loop import Turn
    from ..app import TuiChatApp
    from ..widgets.message import AssistantMessage
    from .chat_list import ChatChoice
    from .pack_picker import McpPromptChoice, PackChoice

RETRY_HINT = "Ctrl+R asks again"
INCOGNITO = "incognito: this chat is not saved"
NOT_SAVED = "saving failed: this chat is not saved"


class ChatScreen(
    QuickDispatch,
    PlainCallbacks,
    TooltipClearedQuietly,
    RepaintsWithFrames,
    RedrawsOnlyChanges,
    FocusedAtOnce,
    PaintBeforeLayout,
    ReflowsWithin,
    LayoutOnce,
    ChatVoice,
):
    """Where the conversation happens (voice mode: `ChatVoice`)."""

    LAYOUT_ONCE_WITHIN = (ChatLog,)  # where replies grow

    DEFAULT_CSS = """
    ChatScreen .-found { background: $accent 25%; }
    """

    BINDINGS = [
        Binding("escape", "cancel", "Stop reply"),
        Binding("f1", "help", "Keys"),
        Binding("question_mark", "help", "Keys", show=False),
        Binding("f5", "voice", "Voice"),
        Binding("f4", "talk", "Talk"),
        Binding("f3", "voice_mode", "Voice mode"),
        Binding("ctrl+t", "copy_reply", "Copy reply", show=False),
        Binding("ctrl+b", "copy_code", "Copy code", show=False),
        Binding("ctrl+r", "retry", "Retry", show=False),
        Binding("ctrl+o", "pick_pack", "Pack"),
        Binding("ctrl+n", "pick_model", "Model"),
        Binding("ctrl+l", "clear", "New chat", show=False),
        Binding("f2", "chat_list", "Chats", show=False),
        Binding("pageup", "scroll_log('page_up')", "Scroll up", show=False, priority=True),
        Binding("pagedown", "scroll_log('page_down')", "Scroll down", show=False, priority=True),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._reply_worker: Worker[None] | None = None
        self._queued = ""
        """What was sent while a reply streamed: sent when it ends, or put back in the box by Esc."""
        self.chat_cost: Decimal | None = Decimal(0)
        """What this chat's replies cost so far (None once one's price is unknown); a new chat starts at 0."""
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        """The wall clock the chat list says "5 min ago" by (fixed in tests)."""
        self.deleted_chats: list[dict[str, Any]] = []
        """The exports of chats deleted in the chat list, for its Ctrl+Z (kept while the app runs)."""
        self._left_by_delete: str | None = None
        """The chat on screen, when it was deleted: brought back, it is saved into again."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """This screen's notices are tui-chat's own, always shown literally (`TuiChatApp.tell`)."""
        self.chat_app.tell(message, title=title, severity=severity, timeout=timeout)

    @property
    def chat_app(self) -> TuiChatApp:
        return cast("TuiChatApp", self.app)

    def compose(self) -> ComposeResult:
        yield ChatLog(id="log")
        yield Static("", id="queued")
        saying = f"Message, {INCOGNITO}" if self.incognito else "Message"
        yield PromptInput(id="prompt", placeholder=f"{saying} (Enter sends, Shift+Enter new line, F1 keys)")
        yield AudioMeter(id="meter")
        yield StatusBar(id="status", clock=self.chat_app.clock)
        yield KeyFooter()

    @property
    def incognito(self) -> bool:
        """History is off (`--no-history`, `[history] enabled = false`): nothing of this chat is saved."""
        return self.chat_app.session.incognito

    def show_saving(self) -> None:
        """Mark the chat unsaved where the person looks (the status bar, the sub-title) when nothing
        of it is saved: history is off (incognito), or the store could not save it."""
        session = self.chat_app.session
        if not (session.incognito or session.unsaved):
            return
        self.sub_title = INCOGNITO if session.incognito else NOT_SAVED
        for bar in self.query(StatusBar):  # (none before it is composed)
            bar.mark_unsaved()

    def on_mount(self) -> None:
        self.show_saving()
        self.refresh_description()
        self._check_key()
        self.voice_mode = self.chat_app.session.config.voice.effective_mode
        self.query_one(AudioMeter).set_mode(self.voice_mode)
        self.query_one(PromptInput).focus()
        self.watch(self.app, "app_focus", self._app_focus_changed, init=False)
        self.app.app_suspend_signal.subscribe(self, self._stop_holding)
        if self.chat_app.session.conversation.history:  # a saved chat, reopened (--continue, --chat)
            self.run_worker(self._show_history(), group="history")

    async def _show_history(self, highlight: int | None = None) -> Widget | None:
        """Show the messages the conversation starts with: text, tool calls with their results, statuses
        (a long chat a window at a time: `ChatLog.show_saved`).

        The message at position `highlight` of the history is marked found; its widget is returned."""
        from ..widgets.saved_entries import saved_entries

        log = self.query_one(ChatLog)
        entries, where = saved_entries(self.chat_app.session.conversation.history)
        found = await log.show_saved(entries, None if highlight is None else where.get(highlight))
        if found is not None:
            # Laid out first: the window's heights are known only then. The scroll lets go of the
            # anchor only where it moves the view, so a chat that fits goes on following new text,
            # as one opened from its row does (let go of before the frame, the log kept the offset
            # of a frame of the chat before, or of none, and was drawn blank: issue 14).
            await log.laid_out()
            log.scroll_to_widget(found, animate=False, top=True, immediate=True)
            found.add_class("-found")  # last: the chat is open there
        return found

    def _check_key(self) -> None:
        """A provider that needs an API key and has none says so at start, not after the first message."""
        provider = self.chat_app.session.provider
        if not getattr(provider, "requires_key", False):
            return
        try:
            provider.api_key()  # type: ignore[attr-defined]  (an HTTP provider)
        except TuiChatError as error:
            self.query_one(StatusBar).alert(error.message)
            self.notify(f"{error.message}: {error.hint}." if error.hint else error.message, severity="error", timeout=30)

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
        if self.voice is not None and self.voice.running:
            await self._send_to_voice(event.text)
            return
        if self.streaming:
            self._queued = f"{self._queued}\n\n{event.text}" if self._queued else event.text
            self._show_queue()
            return
        await self._send_text(event.text)

    async def _send_text(self, text: str) -> None:
        await self._voice_closed()  # its last exchange goes in the history before this turn
        conversation = self.chat_app.session.conversation
        if problem := await asyncio.to_thread(conversation.context_problem, text):  # the first lookup loads prices
            self.chat_app.tell(f"{problem.message}: {problem.hint}", title="Too long", severity="warning")
            self.query_one(PromptInput).load_text(text)  # nothing typed is lost
            return
        await self.query_one(ChatLog).add_user(text)
        await self._start(self.chat_app.tool_loop.send(text))

    def _show_queue(self) -> None:
        """The line above the prompt that says a message waits for the reply to end."""
        label = self.query_one("#queued", Static)
        first = clean(self._queued.strip().splitlines()[0]) if self._queued.strip() else ""
        label.update(Content(f"Queued, sent when the reply ends (Esc puts it back in the box): {first}"))
        label.display = bool(self._queued)

    def _unqueue(self) -> None:
        """Put the queued message back in the box, before what is being written there."""
        prompt = self.query_one(PromptInput)
        prompt.load_text("\n".join(part for part in (self._queued, prompt.text) if part))
        prompt.move_cursor(prompt.document.end)
        self._queued = ""
        self._show_queue()

    async def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The reply ended (however it ended): send what was queued while it streamed."""
        if event.worker is self._reply_worker and event.worker.is_finished and self._queued:
            text, self._queued = self._queued, ""
            self._show_queue()
            await self._send_text(text)

    async def _start(self, turn: Turn) -> None:
        view = await self.query_one(ChatLog).add_reply()
        self.query_one(StatusBar).begin()
        self._reply_worker = self._stream(turn, view)

    @work(group="reply", exclusive=True)
    async def _stream(self, turn: Turn, view: AssistantMessage) -> None:
        """Show one turn: the model's text, each tool call as an item, the model's text after them."""
        from ...tools.loop import LoopNote, ToolEvent, ToolStatus
        from ..widgets.tool_item import ToolItem

        log = self.query_one(ChatLog)
        status = self.query_one(StatusBar)
        tools: dict[str, ToolItem] = {}
        hint = ""
        new_view_needed = False
        try:
            async with aclosing(turn) as items:
                async for item in items:
                    status.waiting_on_person(isinstance(item, ToolEvent) and item.status is ToolStatus.WAITING)
                    if isinstance(item, TextDelta):
                        if new_view_needed:
                            view = await log.add_reply()
                            new_view_needed = False
                        view.append(item.text)
                        status.text_received(item.text)
                    elif isinstance(item, (ToolCallChunk, ToolEvent)):
                        if not new_view_needed:
                            # The text before the tools ends here: finished, it keeps no room ahead
                            # (blank rows) between itself and the tool items mounted below it.
                            await view.finish(ReplyStatus.COMPLETE)
                            new_view_needed = True
                        if isinstance(item, ToolCallChunk):
                            tools[item.call.id] = await log.add_tool(ToolItem(item.call))
                        else:
                            await self._show_tool_event(tools, item)
                    elif isinstance(item, LoopNote):
                        self.notify(item.message, title="Tools", severity="warning")
                    elif isinstance(item, RetryNotice):
                        status.retrying(item.delay, item.attempt, item.attempts)
                    elif isinstance(item, Notice):
                        self.chat_app.tell(item.message, title="Request")
                    elif isinstance(item, (ErrorChunk, Interrupted)):
                        hint = getattr(item, "hint", "")
                        hint = "" if hint in (turn.error or "") else hint  # the error's text says it already
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
            self._show_usage([reply.usage for reply in turn.replies if reply.usage.input_tokens or reply.usage.output_tokens])

    @work(group="usage")
    async def _show_usage(self, calls: list[Usage]) -> None:
        """The turn's tokens, context in use and cost, and the chat's cost so far, in the status bar.

        The model's card comes from the catalog off the loop: its first lookup loads the price table.
        A turn whose cost is unknown makes the chat's unknown too: never a made-up number.
        """
        if not calls:
            return
        from ...models.catalog import card_for
        from ...models.usage import turn_cost, usage_line

        card = await asyncio.to_thread(card_for, self.chat_app.session.provider)
        spent = turn_cost(card, calls)
        self.chat_cost = None if spent is None or self.chat_cost is None else self.chat_cost + spent
        for bar in self.query(StatusBar):  # (none once the app has closed while the card loaded)
            bar.show_usage(usage_line(card, calls, self.chat_cost))

    # --- actions ------------------------------------------------------------------------------

    def action_cancel(self) -> None:
        """Esc: take a queued message back into the box, else stop the reply streaming in, or the
        assistant speaking (voice)."""
        if self._queued:
            self._unqueue()
        elif self.streaming:
            self.workers.cancel_group(self, "reply")
        elif self.voice is not None and self.voice.assistant_active:
            self.run_worker(self.voice.interrupt(), name="voice-stop", group="voice-stop", exit_on_error=False)

    def action_scroll_log(self, where: str) -> None:
        """PageUp/PageDown scroll the chat, wherever the focus is (the prompt is never a page long)."""
        getattr(self.query_one(ChatLog), f"scroll_{where}")()

    def action_help(self) -> None:
        from .help import HelpScreen

        self.app.push_screen(HelpScreen([*self.BINDINGS, *self.app.BINDINGS]))

    def action_copy_reply(self) -> None:
        text = self.query_one(ChatLog).last_reply_text()
        if not text:
            self.notify("There is no reply to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied the reply ({counted(len(text), 'character')}).")

    def action_copy_code(self, index: int = -1) -> None:
        from ..code_blocks import code_blocks

        text = self.query_one(ChatLog).last_reply_text()
        blocks = code_blocks(text) if text else []
        if not blocks:
            self.notify("The last reply has no code block.", severity="warning")
            return
        block = blocks[index]
        self.app.copy_to_clipboard(block.code)
        lines = block.code.count("\n") + (0 if block.code.endswith("\n") else 1)
        self.notify(f"Copied the {block.language or 'code'} block ({counted(lines, 'line')}).")

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

    def action_clear(self) -> None:
        """Ctrl+L: start a new chat. The old one stays in the chat list (F2); when nothing is saved
        (history off), a chat with messages would be gone for good, so that is asked about first."""
        history = self.chat_app.session.conversation.history
        if self.chat_app.session.recorder is not None or not history:
            self.run_worker(self._clear(), group="clear")
            return

        async def answer(yes: bool | None) -> None:
            if yes:
                await self._clear()

        from .confirm import ConfirmScreen

        lost = f"{counted(len(history), 'message')} will be gone for good: this chat is not saved."
        self.app.push_screen(ConfirmScreen("Start a new chat?", lost), answer)

    async def _clear(self) -> None:
        """Leave the chat on screen (its messages stay saved, if history is on) for an empty one."""
        if self._queued:
            self._unqueue()
        self.action_cancel()
        self._voice_views.clear()  # a voice reply in progress goes on, unseen
        self.chat_app.session.conversation.clear()
        self.chat_cost = Decimal(0)
        self.query_one(StatusBar).show_usage("")
        if self.chat_app.session.recorder is not None:
            self.chat_app.session.recorder.switch_to(None)
        await self.query_one(ChatLog).clear()

    def action_chat_list(self) -> None:
        """F2: the saved chats, to open, rename, delete or search (history off: there are none)."""
        recorder = self.chat_app.session.recorder
        if recorder is None:
            self.notify("History is off: no chat is saved, so there is no chat list.", severity="warning")
            return
        self.run_worker(self._push_chat_list(), group="chat-list", exclusive=True)

    async def _push_chat_list(self) -> None:
        from .chat_list import ChatListScreen

        recorder = self.chat_app.session.recorder
        assert recorder is not None  # checked by action_chat_list
        store = await recorder.opened()

        def deleted(chat_id: str) -> None:
            if recorder.chat_id == chat_id:
                recorder.switch_to(None)  # what follows on screen starts a new chat
                self._left_by_delete = chat_id

        def restored(chat_id: str) -> None:
            if recorder.chat_id is None and self._left_by_delete == chat_id:  # nothing sent since
                recorder.switch_to(chat_id)

        screen = ChatListScreen(store, now=self.now, on_deleted=deleted, on_restored=restored, deleted=self.deleted_chats)
        await self.app.push_screen(screen, self._chosen)

    def _chosen(self, choice: ChatChoice | None) -> None:
        if choice is not None:
            self.run_worker(self.open_chat(choice), group="history", exclusive=True)

    async def open_chat(self, choice: ChatChoice) -> Widget | None:
        """Show a saved chat as it was and go on with it: the model gets its history, what is sent
        next joins it. With a message chosen (a search hit) the log shows it, highlighted."""
        import sqlite3

        from ...store.resume import chat_cost, history_messages, history_position
        from ...store.schema import StoreError

        recorder = self.chat_app.session.recorder
        assert recorder is not None  # the chat list is only offered with history on
        store = await recorder.opened()
        try:
            record: ChatRecord = await store.load_chat(choice.chat_id)
        except (StoreError, sqlite3.Error) as error:  # deleted by another process, an unreadable file
            self.notify(f"The chat cannot be opened: {error}", title="Chat not opened", severity="error")
            return None
        await self._clear()
        self.chat_app.use_saved_settings(record.info)
        self.refresh_description()
        self.chat_app.session.conversation.history[:] = history_messages(record)
        self.chat_cost = chat_cost(record)  # the chat's cost goes on from what it had cost
        recorder.switch_to(record.info.id)
        return await self._show_history(history_position(record, choice.message_id))

    def action_pick_pack(self) -> None:
        from .pack_picker import PackPickerScreen

        session = self.chat_app.session
        current_prompt = session.rendered.prompt_id if session.rendered else None
        self.app.push_screen(PackPickerScreen(session.pack, current_prompt, session.config.variables, session.mcp), self._use_pack)

    def _use_pack(self, choice: PackChoice | McpPromptChoice | None) -> None:
        if choice is None:
            return
        from .pack_picker import McpPromptChoice

        if isinstance(choice, McpPromptChoice):  # an MCP server's prompt: its messages start the chat from here
            self.run_worker(self._start_with(choice), group="history")
            return
        try:
            self.chat_app.use_pack(choice.path, choice.prompt_id, choice.variables)
        except Exception as error:  # a PackError, e.g. a required variable with no value
            self.notify(str(error), title="Prompt pack not changed", severity="error")
            return
        self.refresh_description()
        self.notify(f"Now using {self.chat_app.session.conversation.prompt.label}.")

    async def _start_with(self, choice: McpPromptChoice) -> None:
        """Add an MCP server prompt's messages to the chat (shown, and sent with the next message)."""
        from ...chunks import Role

        if self.streaming:
            self.notify("Wait for the reply to end (or Esc), then pick the prompt again.", title="Prompt not used", severity="warning")
            return
        log = self.query_one(ChatLog)
        recorder = self.chat_app.session.recorder
        for message in choice.messages:
            self.chat_app.session.conversation.append(message)
            if recorder is not None:  # saved too: a reopened chat gives the model the same history
                recorder.added(message)
            if message.role is Role.USER:
                await log.add_user(message.content)
            else:
                view = await log.add_reply()
                view.append(message.content)
                await view.finish(message.status)
        self.notify(f"{choice.label}: its {len(choice.messages)} messages go to the model with your next one.")

    def action_pick_model(self) -> None:
        from .model_picker import ModelPickerScreen

        self.app.push_screen(ModelPickerScreen(self.chat_app.session.provider), self._use_model)

    def _use_model(self, model: str | None) -> None:
        if model is None:
            return
        self.chat_app.session.provider.model = model
        self.refresh_description()
        self.notify(f"Now using {model}.")

    # --- links in replies ---------------------------------------------------------------------

    def on_markdown_link_clicked(self, event: Markdown.LinkClicked) -> None:
        """A link in a reply was clicked (handled by name: Textual's Markdown module loads with the first reply)."""
        event.stop()
        href = event.href
        if not href.lower().startswith(("http://", "https://")):
            self.notify("Only http and https links are opened.", title="Link not opened", severity="warning")
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.app.open_url(href)

        from .confirm import ConfirmScreen

        self.app.push_screen(ConfirmScreen("Open this link in your browser?", href), answer)
