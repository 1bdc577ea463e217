"""The Textual messages a voice controller (`ui.voice.VoiceController`) posts to the chat screen.

Each carries the controller that posted it: after voice is turned off and on again, an old
session may still report, and the screen tells them apart. Texts in them are untrusted (cleaned
where they entered, in the session) and shown as plain text, never as markup.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.message import Message

from ..voice.meter import MeterLevels

if TYPE_CHECKING:
    from .voice import VoiceController


class VoiceMessage(Message, bubble=False):
    """Something from a voice controller; `controller` says which (an old one may still report)."""

    def __init__(self, controller: VoiceController) -> None:
        super().__init__()
        self.controller = controller


class VoiceStarted(VoiceMessage):
    """The session is open and listening."""

    def __init__(self, controller: VoiceController, provider: str, note: str) -> None:
        super().__init__(controller)
        self.provider = provider
        self.note = note
        """Why this provider (the chat's has no voice), or empty."""


class VoiceMeter(VoiceMessage):
    """New readings for the meter."""

    def __init__(self, controller: VoiceController, input: MeterLevels, output: MeterLevels, state: str) -> None:
        super().__init__(controller)
        self.input, self.output, self.state = input, output, state


class VoiceHearing(VoiceMessage):
    """The user's words so far, while the provider transcribes them (`text` grows; untrusted)."""

    def __init__(self, controller: VoiceController, text: str) -> None:
        super().__init__(controller)
        self.text = text


class VoiceHeard(VoiceMessage):
    """The user's words, transcribed (a whole utterance; empty when nothing was made out of it)."""

    def __init__(self, controller: VoiceController, text: str) -> None:
        super().__init__(controller)
        self.text = text


class VoiceReplyStarted(VoiceMessage):
    def __init__(self, controller: VoiceController, reply: int) -> None:
        super().__init__(controller)
        self.reply = reply


class VoiceReplyText(VoiceMessage):
    """Text of the reply in progress: a piece of it, or (`final`) the whole of it."""

    def __init__(self, controller: VoiceController, reply: int | None, text: str, final: bool = False) -> None:
        super().__init__(controller)
        self.reply, self.text, self.final = reply, text, final


class VoiceReplyDone(VoiceMessage):
    """All the words of reply `reply` have come: its text is whole. Its audio may still be
    playing; how it ends (heard out, or cut) comes in `VoiceReplyEnded`."""

    def __init__(self, controller: VoiceController, reply: int) -> None:
        super().__init__(controller)
        self.reply = reply


class VoiceReplyEnded(VoiceMessage):
    """Reply `reply` ended, heard out or not (`status`), with `text` what was heard of it (all of it
    when complete; `ReplyEnded.text`). For an interrupted one `cause` says who cut it: "speech" or
    "server" (the user spoke over it, heard here or by the provider), "stop" (the person stopped
    it: Esc)."""

    def __init__(
        self, controller: VoiceController, reply: int, status: str, text: str, audio_s: float, played_s: float, cause: str = ""
    ) -> None:
        super().__init__(controller)
        self.reply, self.status, self.text = reply, status, text
        self.audio_s, self.played_s = audio_s, played_s
        self.cause = cause


class VoiceNotice(VoiceMessage):
    """Something to tell the person that does not stop voice (a warning, a provider's error)."""

    def __init__(self, controller: VoiceController, message: str, severity: str = "warning") -> None:
        super().__init__(controller)
        self.message, self.severity = message, severity


class VoiceToolEvent(VoiceMessage):
    """A tool call of the voice session changed state (asked, running, done, denied...)."""

    def __init__(self, controller: VoiceController, event: Any) -> None:
        super().__init__(controller)
        self.event = event


class VoiceStopped(VoiceMessage):
    """The voice session is over: turned off (`error` None) or failed (`error`, `hint`)."""

    def __init__(self, controller: VoiceController, error: str | None, hint: str = "") -> None:
        super().__init__(controller)
        self.error, self.hint = error, hint
