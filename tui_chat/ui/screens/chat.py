"""The main screen: the chat log, the prompt, the status bar and the keys that drive them.

Each turn runs in a Textual worker on the app's loop. The worker consumes the tool loop's stream
(chunks, tool events, notes) and hands text to the reply widget, which coalesces it into at most
one render per frame, and tool events to tool items; approvals are asked by the app's modal
approver. Nothing here parses a wire format or blocks the loop.

Voice mode (F5) runs a `voice.VoiceController` in a worker of its own, set up from the config's
`[voice]` table; the controller posts `Voice*` messages, handled here by name (`on_voice_...`):
what the user is heard saying shows as one growing, dimmed user message that the final transcript
replaces, replies become replies, readings go to the meter above the status bar. The voice module
(numpy, the audio layer) is imported only when voice is turned on. While voice is on, what is
typed goes to the voice session, and Esc stops the assistant speaking. Every voice exchange also
goes into the chat's conversation, so when voice stops, for whatever reason, text chat goes on
with the same history.
"""

from __future__ import annotations

from contextlib import aclosing, suppress
from typing import TYPE_CHECKING, Any, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from ...chunks import ErrorChunk, Interrupted, ReplyStatus, RetryNotice, TextDelta, ToolCallChunk
from ...errors import TuiChatError
from ...safe_text import clean
from ..widgets.audio_meter import VOICE_MODES, AudioMeter
from ..widgets.chat_log import ChatLog
from ..widgets.key_footer import KeyFooter
from ..widgets.prompt_input import PromptInput
from ..widgets.status_bar import StatusBar
from ..wording import counted

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.widgets import Markdown

    from ...tools.loop import ToolEvent, Turn
    from ..app import TuiChatApp
    from ..key_release import KeyReleased, KeyReleaseStatus
    from ..widgets.message import AssistantMessage, UserMessage
    from ..widgets.tool_item import ToolItem
    from ..voice import (
        VoiceController,
        VoiceHeard,
        VoiceHearing,
        VoiceInterrupted,
        VoiceMeter,
        VoiceNotice,
        VoiceReplyEnded,
        VoiceReplyStarted,
        VoiceReplyText,
        VoiceStarted,
        VoiceStopped,
        VoiceToolEvent,
    )
    from .pack_picker import PackChoice

RETRY_HINT = "Ctrl+R asks again"


class ChatScreen(Screen[None]):
    """Where the conversation happens."""

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
        Binding("ctrl+l", "clear", "Clear", show=False),
        Binding("pageup", "scroll_log('page_up')", "Scroll up", show=False, priority=True),
        Binding("pagedown", "scroll_log('page_down')", "Scroll down", show=False, priority=True),
    ]

    VOICE_ACTIONS = frozenset({"talk", "voice_mode"})
    """Keys that act (and show in the footer) only while voice is on."""

    def __init__(self) -> None:
        super().__init__()
        self._reply_worker: Worker[None] | None = None
        self._queued = ""
        """What was sent while a reply streamed: sent when it ends, or put back in the box by Esc."""
        self.voice: VoiceController | None = None
        """The voice session's controller while voice is on."""
        self.voice_mode = "push-to-talk"
        self._voice_worker: Worker[None] | None = None
        self._closing_voice: Worker[None] | None = None
        """A voice session's worker since voice was turned off: it records the last exchange as it ends."""
        self._asked_key_releases = False
        self._key_releases_reported = False
        self._voice_views: dict[tuple[int, int], AssistantMessage] = {}  # (id(controller), reply) -> view
        self._voice_hearing: dict[int, UserMessage] = {}  # id(controller) -> what is heard so far
        self._voice_tools: dict[str, ToolItem] = {}  # call id -> item, for the voice session's tool calls

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
        yield PromptInput(id="prompt", placeholder="Message (Enter sends, Shift+Enter new line, F1 keys)")
        yield AudioMeter(id="meter")
        yield StatusBar(id="status", clock=self.chat_app.clock)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.refresh_description()
        self._check_key()
        self.voice_mode = self.chat_app.session.config.voice.effective_mode
        self.query_one(AudioMeter).set_mode(self.voice_mode)
        self.query_one(PromptInput).focus()
        self.watch(self.app, "app_focus", self._app_focus_changed, init=False)
        self.app.app_suspend_signal.subscribe(self, self._stop_holding)

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
                            await view.finish(ReplyStatus.COMPLETE)
                            view = await log.add_reply()
                            new_view_needed = False
                        view.append(item.text)
                        status.text_received(item.text)
                    elif isinstance(item, ToolCallChunk):
                        tools[item.call.id] = await log.add_tool(ToolItem(item.call))
                        new_view_needed = True
                    elif isinstance(item, ToolEvent):
                        await self._show_tool_event(tools, item)
                        new_view_needed = True
                    elif isinstance(item, LoopNote):
                        self.notify(item.message, title="Tools", severity="warning")
                    elif isinstance(item, RetryNotice):
                        status.retrying(item.delay, item.attempt, item.attempts)
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

    def _last_reply(self) -> AssistantMessage | None:
        replies = self.query_one(ChatLog).replies
        return replies[-1] if replies else None

    def action_copy_reply(self) -> None:
        reply = self._last_reply()
        if reply is None or not reply.text:
            self.notify("There is no reply to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(reply.text)
        self.notify(f"Copied the reply ({counted(len(reply.text), 'character')}).")

    def action_copy_code(self, index: int = -1) -> None:
        from ..code_blocks import code_blocks

        reply = self._last_reply()
        blocks = code_blocks(reply.text) if reply else []
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
        """Ctrl+L: forget the chat; chats are not saved, so a chat with messages is asked about first."""
        history = self.chat_app.session.conversation.history
        if not history:
            self.run_worker(self._clear(), group="clear")
            return

        async def answer(yes: bool | None) -> None:
            if yes:
                await self._clear()

        from .confirm import ConfirmScreen

        lost = f"{counted(len(history), 'message')} will be gone for good: chats are not saved."
        self.app.push_screen(ConfirmScreen("Clear the chat?", lost), answer)

    async def _clear(self) -> None:
        if self._queued:
            self._unqueue()
        self.action_cancel()
        self._voice_views.clear()  # a voice reply in progress goes on, unseen
        self.chat_app.session.conversation.clear()
        await self.query_one(ChatLog).clear()

    def action_pick_pack(self) -> None:
        from .pack_picker import PackPickerScreen

        session = self.chat_app.session
        current_prompt = session.rendered.prompt_id if session.rendered else None
        self.app.push_screen(PackPickerScreen(session.pack, current_prompt, session.config.variables), self._use_pack)

    def _use_pack(self, choice: PackChoice | None) -> None:
        if choice is None:
            return
        try:
            self.chat_app.use_pack(choice.path, choice.prompt_id, choice.variables)
        except Exception as error:  # a PackError, e.g. a required variable with no value
            self.notify(str(error), title="Prompt pack not changed", severity="error")
            return
        self.refresh_description()
        self.notify(f"Now using {self.chat_app.session.conversation.prompt.label}.")

    def action_pick_model(self) -> None:
        from .model_picker import ModelPickerScreen

        self.app.push_screen(ModelPickerScreen(self.chat_app.session.provider), self._use_model)

    def _use_model(self, model: str | None) -> None:
        if model is None:
            return
        self.chat_app.session.provider.model = model
        self.refresh_description()
        self.notify(f"Now using {model}.")

    # --- voice --------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in self.VOICE_ACTIONS:
            return self.voice is not None
        return True

    def action_voice(self) -> None:
        """Turn voice on (a session with the chat's provider, or the demo) or off."""
        if self.voice is not None:
            self._voice_off()
            self.notify("Voice off.")
            return
        if self.streaming:  # both would write the same history, out of turn
            self.notify("A reply is still streaming: Esc stops it, then F5 turns voice on.", severity="warning")
            return
        from ..voice import VoiceController, VoiceSetup

        session = self.chat_app.session
        controller = VoiceController(
            self,
            (self.chat_app.voice_setup or VoiceSetup()).with_config(session.config.voice),
            chat_provider=session.provider_name,
            chat_settings=session.config.provider_settings,
            instructions=session.conversation.prompt.system or "",
            mode=self.voice_mode,
            tool_loop=self.chat_app.tool_loop,
            record=session.conversation.append,
            history=lambda: session.conversation.history,
            revise=session.conversation.revise,
        )
        controller.report_releases(self._key_releases_reported)
        self.voice = controller
        self._voice_worker = self.run_worker(controller.run(), name="voice", group="voice", exclusive=True, exit_on_error=False)
        self.refresh_bindings()
        self._want_key_releases()

    def _voice_off(self) -> None:
        """Stop the session (its worker is cancelled; the microphone and the speaker are closed)."""
        self.voice = None
        if self._voice_worker is not None:
            self._voice_worker.cancel()
            self._closing_voice = self._voice_worker
            self._voice_worker = None
        self.query_one(AudioMeter).display = False
        self.refresh_bindings()
        self._want_key_releases()

    # --- key releases (hold to talk) ---------------------------------------------------------------

    def _want_key_releases(self) -> None:
        """Ask the terminal for key releases while hold mode is on, and only then (see `ui.key_release`)."""
        from ..key_release import report_key_releases

        want = self.voice is not None and self.voice_mode == "hold"
        if want != self._asked_key_releases:
            self._asked_key_releases = want
            report_key_releases(self.app, want, notify=self)

    def on_key_release_status(self, message: KeyReleaseStatus) -> None:
        """The terminal said whether it reports releases: hold mode waits for F4's release if it does."""
        self._key_releases_reported = message.reporting
        if self.voice is not None:
            self.voice.report_releases(message.reporting)

    def on_key_released(self, message: KeyReleased) -> None:
        if message.bare_key == "f4" and self.voice is not None:
            self.app.call_later(self.voice.release)  # after the F4 press's own binding, queued before it

    def on_screen_suspend(self) -> None:
        """A modal over the chat gets the keys, a held F4's release too: talking stops now."""
        self._stop_holding()

    def _stop_holding(self, *_: object) -> None:
        """Hold mode stops talking: F4's release will not come to this screen (a modal, the terminal
        window losing focus, the app suspended; kitty sends no release on a window switch)."""
        if self.voice is not None:
            self.voice.release()

    def _app_focus_changed(self, focused: bool) -> None:
        if not focused:
            self._stop_holding()

    async def _voice_closed(self) -> None:
        """Wait until a voice session turned off has recorded its last exchange in the history."""
        closing, self._closing_voice = self._closing_voice, None
        if closing is not None:
            with suppress(WorkerCancelled, WorkerFailed):
                await closing.wait()

    async def _restart_voice(self) -> None:
        """A new voice session in place of this one, opened once the old one is over: its clean-up
        puts a reply cut off by the switch in the history, which the new session starts from."""
        self._voice_off()
        await self._voice_closed()
        if self.voice is None:  # F5 may have been pressed meanwhile
            self.action_voice()

    def action_talk(self) -> None:
        """The talk key: toggles talking (push-to-talk), keeps talking (hold), mutes (hands-free)."""
        if self.voice is not None:
            self.voice.talk()

    def action_voice_mode(self) -> None:
        """Switch to the next voice mode."""
        modes = list(VOICE_MODES)
        self.set_voice_mode(modes[(modes.index(self.voice_mode) + 1) % len(modes)])

    def set_voice_mode(self, mode: str) -> None:
        """Use voice mode `mode` (a key of `VOICE_MODES`) now if voice is on, and from now on."""
        if mode not in VOICE_MODES:
            raise ValueError(f"unknown voice mode {mode!r}")
        self.voice_mode = mode
        self.query_one(AudioMeter).set_mode(mode)
        restart = ""
        if self.voice is not None and self.voice.needs_restart(mode):
            # Server and local turn detection are set when a session opens: this mode needs a new one.
            restart = f" Voice restarts so that {'the service' if mode == 'hands-free' else 'F4'} takes the turns."
            self.run_worker(self._restart_voice(), name="voice restart", group="voice-restart", exclusive=True)
        elif self.voice is not None:
            self.voice.set_mode(mode)
        self._want_key_releases()
        self.notify(f"Voice mode: {VOICE_MODES[mode]}. {self._talk_hint(mode)}{restart}")

    @staticmethod
    def _talk_hint(mode: str) -> str:
        return {
            "push-to-talk": "F4 starts and stops talking.",
            "hold": "Hold F4 while talking.",
            "hands-free": "Just talk; F4 mutes.",
        }[mode]

    async def _send_to_voice(self, text: str) -> None:
        assert self.voice is not None
        await self.query_one(ChatLog).add_user(text)
        try:
            await self.voice.send_text(text)
        except TuiChatError as error:
            self.notify(str(error), title="Not sent to the voice session", severity="warning")

    def _is_current(self, controller: Any) -> bool:
        return controller is self.voice

    def on_voice_started(self, message: VoiceStarted) -> None:
        if not self._is_current(message.controller):
            return
        meter = self.query_one(AudioMeter)
        meter.set_mode(self.voice_mode)
        meter.reset()
        meter.display = True
        note = f" ({message.note})" if message.note else ""
        self.notify(
            f"Voice on with {message.provider}{note}: {VOICE_MODES[self.voice_mode]}. "
            f"{self._talk_hint(self.voice_mode)} F3 changes the mode, F5 turns voice off.",
            title="Voice",
        )

    def on_voice_meter(self, message: VoiceMeter) -> None:
        if self._is_current(message.controller):
            self.query_one(AudioMeter).show(message.input, message.output, message.state)

    async def _add_heard(self, controller: Any, text: str) -> UserMessage:
        """A user message for what `controller` heard; a transcript may come after its reply
        began, so it goes before a reply of that controller still streaming."""
        log = self.query_one(ChatLog)
        user = await log.add_user(text)
        replies = [view for (owner, _reply), view in self._voice_views.items() if owner == id(controller)]
        if replies and replies[-1].status is ReplyStatus.STREAMING and replies[-1].parent is log:
            log.move_child(user, before=replies[-1])
        return user

    async def on_voice_hearing(self, message: VoiceHearing) -> None:
        """The user's words so far: one entry that grows, replaced by the final transcript."""
        owner = id(message.controller)
        user = self._voice_hearing.get(owner)
        if user is None or not user.is_attached:
            user = self._voice_hearing[owner] = await self._add_heard(message.controller, message.text)
        user.set_text(message.text, partial=True)

    async def on_voice_heard(self, message: VoiceHeard) -> None:
        user = self._voice_hearing.pop(id(message.controller), None)
        if user is not None and user.is_attached:
            if message.text.strip():
                user.set_text(message.text, partial=False)
            else:
                await user.remove()  # nothing was made out of it after all
        elif message.text.strip():
            await self._add_heard(message.controller, message.text)

    async def on_voice_reply_started(self, message: VoiceReplyStarted) -> None:
        self._voice_views[(id(message.controller), message.reply)] = await self.query_one(ChatLog).add_reply()

    def on_voice_reply_text(self, message: VoiceReplyText) -> None:
        if message.reply is None:
            return
        view = self._voice_views.get((id(message.controller), message.reply))
        if view is None or view.status is not ReplyStatus.STREAMING:
            return
        if not message.final:
            view.append(message.text)
        elif not view.text:
            view.append(message.text)

    async def on_voice_reply_ended(self, message: VoiceReplyEnded) -> None:
        view = self._voice_views.get((id(message.controller), message.reply))
        if view is None or view.status is not ReplyStatus.STREAMING:
            return
        if not view.text and message.text:
            view.append(message.text)
        try:
            status = ReplyStatus(message.status)
        except ValueError:
            status = ReplyStatus.ERROR
        reason = ""
        if status is ReplyStatus.INTERRUPTED:
            reason = self._cut_reason(message.cause, message.played_s)
        elif status is ReplyStatus.ERROR:
            reason = "the voice session ended"
        await view.finish(status, reason)

    @staticmethod
    def _cut_reason(cause: str, played_s: float) -> str:
        """Why a voice reply was cut, for its status line."""
        after = f"after {played_s:.1f} s of its audio"
        if cause == "stop":
            return f"stopped with Esc {after}"
        if cause in ("speech", "server"):
            return f"you spoke over it {after}"
        return f"cut off {after}"

    async def on_voice_interrupted(self, message: VoiceInterrupted) -> None:
        # A reply whose text was complete but whose audio was cut is marked too (one still in
        # progress is marked when it ends).
        view = self._voice_views.get((id(message.controller), message.reply)) if message.reply is not None else None
        if view is not None and view.status is ReplyStatus.COMPLETE:
            await view.finish(ReplyStatus.INTERRUPTED, self._cut_reason(message.cause, message.played_s))

    async def on_voice_tool_event(self, message: VoiceToolEvent) -> None:
        if message.controller is self.voice:
            await self._show_tool_event(self._voice_tools, message.event)

    async def _show_tool_event(self, tools: dict[str, ToolItem], event: ToolEvent) -> None:
        """Update the item of `event`'s call, adding one to the log for a call not seen yet."""
        from ..widgets.tool_item import ToolItem

        if (tool := tools.get(event.call.id)) is None or tool.final:
            tools[event.call.id] = tool = await self.query_one(ChatLog).add_tool(ToolItem.from_event(event))
        tool.update(event)

    def on_voice_notice(self, message: VoiceNotice) -> None:
        severity = message.severity if message.severity in ("information", "warning", "error") else "warning"
        self.notify(message.message, title="Voice", severity=severity)  # type: ignore[arg-type]

    async def on_voice_stopped(self, message: VoiceStopped) -> None:
        owner = id(message.controller)
        hearing = self._voice_hearing.pop(owner, None)
        if hearing is not None and hearing.is_attached:
            hearing.set_text(hearing.text, partial=False)  # what was heard before voice stopped stays
        for key in [key for key in self._voice_views if key[0] == owner]:
            view = self._voice_views.pop(key)
            if view.status is ReplyStatus.STREAMING:
                ended = ReplyStatus.ERROR if message.error else ReplyStatus.CANCELLED
                await view.finish(ended, message.error or "")
        if not self._is_current(message.controller):
            return  # turned off by the person, who was told
        self._voice_off()
        if message.error:
            hint = f"\n{message.hint}" if message.hint else ""
            self.notify(f"{message.error}{hint}\nText chat still works.", title="Voice off", severity="error", timeout=20)
        else:
            self.notify("The voice session ended.", title="Voice off")

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
