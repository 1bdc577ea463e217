"""The chat screen's voice half: voice mode on and off, its keys, and what its controller posts.

`ChatVoice` is the base of `ChatScreen` and holds everything voice there is on it: F5 runs a
`ui.voice.VoiceController` in a worker of its own, set up from the config's `[voice]` table; the
controller posts `Voice*` messages (`ui.voice_messages`), handled here by name (`on_voice_...`):
what the user is heard saying shows as one growing, dimmed user message that the final transcript
replaces, replies become replies (shown complete when their words have all come, and marked
interrupted if their audio is then cut), readings go to the meter above the status bar, tool calls
become tool items. The voice module (numpy, the audio layer) is imported only when voice is turned
on. Every voice exchange also goes into the chat's conversation, so when voice stops, for whatever
reason, text chat goes on with the same history; unless history is off it is also saved with the
chat as it happens, each message marked spoken (`store.recorder.Recorder.spoken`).

It is a base class, not a helper object, because Textual routes key bindings (`action_voice`,
`action_talk`, `action_voice_mode`) and messages (`on_voice_...`, key releases, the screen being
covered) to methods of the screen's class; as a base, those live here without a forwarding method
for each in `chat.py`. What it needs of the chat screen (`chat_app`, `streaming`) is declared
below; `_show_tool_event`, here, serves the text chat's tool calls too.
"""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, Any

from textual.screen import Screen
from textual.worker import Worker, WorkerCancelled, WorkerFailed

from ...chunks import ReplyStatus
from ...errors import TuiChatError
from ..widgets.audio_meter import VOICE_MODES, AudioMeter
from ..widgets.chat_log import ChatLog
from ..widgets.spoken import mark_spoken

if TYPE_CHECKING:
    from ...chunks import Message as ChatMessage
    from ...store.records import VoiceTurn
    from ...tools.loop import ToolEvent
    from ..app import TuiChatApp
    from ..key_release import KeyReleased, KeyReleaseStatus
    from ..voice import VoiceController
    from ..voice_messages import (
        VoiceHeard,
        VoiceHearing,
        VoiceMeter,
        VoiceNotice,
        VoiceReplyDone,
        VoiceReplyEnded,
        VoiceReplyStarted,
        VoiceReplyText,
        VoiceStarted,
        VoiceStopped,
        VoiceToolEvent,
    )
    from ..widgets.message import AssistantMessage, UserMessage
    from ..widgets.tool_item import ToolItem


class ChatVoice(Screen[None]):
    """Voice mode on the chat screen (see the module text)."""

    DEFAULT_CSS = """
    ChatVoice UserMessage.-spoken, ChatVoice AssistantMessage.-spoken {
        border-left: dashed $accent;
    }
    """
    """A message said aloud (live or reopened) is marked by a dashed bar, seen without colour too."""

    VOICE_ACTIONS = frozenset({"talk", "voice_mode"})
    """Keys that act (and show in the footer) only while voice is on."""

    if TYPE_CHECKING:  # the chat screen's, used here

        @property
        def chat_app(self) -> TuiChatApp: ...

        @property
        def streaming(self) -> bool: ...

    def __init__(self) -> None:
        super().__init__()
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The talk and mode keys act (and show in the footer) only while voice is on."""
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
            record=lambda message, spoken: self._record_voice(controller, message, spoken),
            history=lambda: session.conversation.history,
            stream=session.recorder.spoken_replies(lambda: _voice_names(controller)) if session.recorder is not None else None,
        )
        controller.report_releases(self._key_releases_reported)
        self.voice = controller
        self._voice_worker = self.run_worker(controller.run(), name="voice", group="voice", exclusive=True, exit_on_error=False)
        self.refresh_bindings()
        self._want_key_releases()

    def _record_voice(self, controller: VoiceController, message: ChatMessage, spoken: VoiceTurn | None) -> None:
        """A voice exchange goes into the conversation (the model's next context) and, unless
        history is off, into the saved chat, marked spoken, as soon as it is final."""
        session = self.chat_app.session
        session.conversation.append(message)
        if session.recorder is not None:
            provider, model = _voice_names(controller)
            session.recorder.spoken(message, spoken, provider=provider, model=model)

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
        mark_spoken(user)
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
        view = self._voice_views[(id(message.controller), message.reply)] = await self.query_one(ChatLog).add_reply()
        mark_spoken(view)

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

    async def on_voice_reply_done(self, message: VoiceReplyDone) -> None:
        """Its words have all come: shown complete, unless its audio is cut before it is heard out."""
        view = self._voice_views.get((id(message.controller), message.reply))
        if view is not None and view.status is ReplyStatus.STREAMING:
            await view.finish(ReplyStatus.COMPLETE)

    async def on_voice_reply_ended(self, message: VoiceReplyEnded) -> None:
        """How the reply ended, heard out or not: its final status (one shown complete may be cut)."""
        key = (id(message.controller), message.reply)
        view = self._voice_views.get(key)
        if view is None or view.status not in (ReplyStatus.STREAMING, ReplyStatus.COMPLETE):
            return
        try:
            status = ReplyStatus(message.status)
        except ValueError:
            status = ReplyStatus.ERROR
        if status is view.status:
            return
        if status is ReplyStatus.COMPLETE:
            if not view.text and message.text:
                view.append(message.text)
        elif view.text != message.text:  # cut: the words heard of it, not all that came
            view = self._voice_views[key] = await self._shown_instead(view, message.text)
        reason = ""
        if status is ReplyStatus.INTERRUPTED:
            reason = self._cut_reason(message.cause, message.played_s)
        elif status is ReplyStatus.ERROR:
            reason = "the voice session ended"
        await view.finish(status, reason)

    async def _shown_instead(self, view: AssistantMessage, text: str) -> AssistantMessage:
        """A reply view in place of `view`, holding `text` (what was heard of a cut voice reply)."""
        from ..widgets.message import AssistantMessage

        heard = AssistantMessage()
        mark_spoken(heard)
        await self.query_one(ChatLog).mount(heard, before=view)
        await view.remove()
        heard.append(text)
        return heard

    @staticmethod
    def _cut_reason(cause: str, played_s: float) -> str:
        """Why a voice reply was cut, for its status line."""
        after = f"after {played_s:.1f} s of its audio"
        if cause == "stop":
            return f"stopped with Esc {after}"
        if cause in ("speech", "server"):
            return f"you spoke over it {after}"
        return f"cut off {after}"

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


def _voice_names(controller: VoiceController) -> tuple[str | None, str | None]:
    """The voice provider and model speaking in `controller`'s session (what its replies are saved as)."""
    model = getattr(controller.session.bidi, "model", None) if controller.session is not None else None
    return controller.provider or None, model
