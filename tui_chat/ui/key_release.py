"""Key-release events, from terminals that speak the kitty keyboard protocol.

Textual gives no key-release events, so hold-to-talk has had to guess the release from the end of
the terminal's auto-repeat. Terminals with the kitty keyboard protocol (kitty, foot, WezTerm with
`enable_kitty_keyboard`, ghostty, Alacritty 0.13+...) report releases when asked with the "report
event types" enhancement (flag 0b10). This module makes those reports usable in tui-chat:

- `KeyReleaseParser`, Textual's `XTermParser` taught the event-type sub-field of a kitty key
  (`CSI key-code ; modifiers:event-type [u~A-S]`): a press (1, or no sub-field) and a repeat (2)
  become the `Key` Textual makes of the press, so typing and auto-repeat work as before; a release
  (3) becomes a `KeyReleased` message and never a `Key`, so it types nothing and fires no binding.
  It also reads the terminal's answer to the flags query (`CSI ? flags u`), which Textual's parser
  would otherwise hand to the app as typed text, and it drops a malformed sequence instead of
  raising (Textual's `int()` and `chr()` calls on the parameters would end the input thread, and
  with it the app).
- `KeyReleaseDriver`, Textual's `LinuxDriver` reading input with that parser, and switching the
  enhancement on and off at run time (`report_key_releases`). Only Linux and macOS: Windows, the
  headless driver of tests and the inline driver stay Textual's own.

Switching: Textual pushes its own flags (`CSI > 25 u`: disambiguate, all keys as escape codes,
associated text) on entering application mode, and pops them (`CSI < u`) on leaving it. This module
never pushes: it sets and clears the one bit on that entry with `CSI = 2 ; 2 u` and `CSI = 2 ; 3 u`
(the spec's "set these bits, leave the others" and "reset these bits, leave the others"), so the
terminal's stack keeps Textual's depth and Textual's pop restores the keyboard mode the app found,
whatever happened in between. The bit is also cleared before that pop, and set again when the app
comes back from a suspend (Ctrl+Z) while it is wanted. Each switch on is followed by the flags query:
the spec's way to learn whether the terminal took the enhancement. A terminal without the protocol
ignores both and never answers, and nothing else changes.

Delivery: a `KeyReleased` takes a `Key`'s way through the app. It is queued to the App behind the
keys read before it, then posted to the focused widget (else the screen) and bubbles up from there,
so every node sees it after those keys. A (non-priority) binding's action runs later, when its key has
bubbled back up to the App: a handler that must run after the action of the key's press (hold-to-talk
ending what the F4 binding started) defers itself with `self.app.call_later(...)`.

The Textual internals this relies on (the parser, the Linux driver's app, debug flag and writer
thread, the app's driver) come from `ui/_textual_internals.py`, checked against the Textual version
it names; `tests/ui/test_key_release.py` fails loudly when they change.
"""

from __future__ import annotations

import os
import re
import selectors
import sys
from codecs import getincrementaldecoder
from collections.abc import Generator, Iterable
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Any, Final

import rich.repr
from textual import constants, events
from textual.app import App, ModeError, ScreenError
from textual.driver import Driver
from textual.keys import Keys
from textual.message import Message

from ._textual_internals import (
    ParseError,
    Peek1,
    Read1,
    TokenCallback,
    XTermParserWithHook,
    driver_app,
    driver_debug,
    driver_writer,
    running_driver,
)

if TYPE_CHECKING:
    from textual.message_pump import MessagePump

REPORT_EVENT_TYPES: Final = 0b10
"""The kitty keyboard protocol's "report event types" progressive enhancement flag."""
SET_EVENT_TYPES: Final = f"\x1b[={REPORT_EVENT_TYPES};2u"
"""Set the flag and leave the others (mode 2 of `CSI = flags ; mode u`)."""
RESET_EVENT_TYPES: Final = f"\x1b[={REPORT_EVENT_TYPES};3u"
"""Reset the flag and leave the others (mode 3)."""
QUERY_FLAGS: Final = "\x1b[?u"
"""Ask for the flags in effect; a terminal with the protocol answers `CSI ? flags u`."""

PRESS, REPEAT, RELEASE = "1", "2", "3"
"""The event-type sub-field's values; a key without one is a press."""

_KITTY_KEY: Final = re.compile(r"\x1b\[([0-9:;]*)([u~ABCDEFHPQRS])")
"""A key in kitty encoding: the parameters, and the final byte (the same finals Textual reads)."""
_FLAGS_ANSWER: Final = re.compile(r"\x1b\[\?([0-9]*)u")
"""The terminal's answer to `QUERY_FLAGS`."""


@rich.repr.auto
class KeyReleased(Message):
    """A key was released (while `report_key_releases` is on, in a terminal that reports it; a release
    already on its way when it is switched off still comes).

    Goes where a `Key` goes (the focused widget, else the screen) and bubbles up to the App. Not a
    `Key`: no widget types it and no binding fires on it.
    """

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        """The key as Textual names its press ("f4", "a", "enter", "ctrl+a", "left_shift"), except
        that a release carries no text: shift+a is released as "shift+a" where its press is "A"."""

    @property
    def bare_key(self) -> str:
        """The key without its modifiers ("f4" for "shift+f4"): match hold keys on this, since the
        modifiers are those held at the moment of release, not at the press."""
        return self.key.rpartition("+")[2]

    def __rich_repr__(self) -> rich.repr.Result:
        yield "key", self.key


@rich.repr.auto
class KeyboardFlagsReport(Message):
    """The parser's token for the terminal's answer to the flags query; the driver consumes it."""

    def __init__(self, flags: int) -> None:
        super().__init__()
        self.flags = flags

    def __rich_repr__(self) -> rich.repr.Result:
        yield "flags", self.flags


@rich.repr.auto
class KeyReleaseStatus(Message, bubble=False):
    """The terminal answered the query that follows switching releases on (see `report_key_releases`).

    No answer ever comes from a terminal without the kitty keyboard protocol: until this arrives,
    assume releases are not reported.
    """

    def __init__(self, reporting: bool, flags: int) -> None:
        super().__init__()
        self.reporting = reporting
        """The terminal reports key events' types now: `KeyReleased` messages will come."""
        self.flags = flags
        """All the progressive enhancement flags in effect."""

    def __rich_repr__(self) -> rich.repr.Result:
        yield "reporting", self.reporting
        yield "flags", self.flags


def _press_form(params: str, final: str) -> tuple[str, str] | None:
    """Split a kitty key's parameters into the parameters of its press and its event type.

    The event type leaves the modifiers field; so do alternate keys the key-code field (Textual asks
    for none and cannot read them); a release's text field goes (a release types nothing); "1"
    modifiers with nothing after them go, as a terminal encodes a press without modifiers. The result
    is what Textual's parser reads as the press. None: malformed (an unknown event type, too many
    fields, no key code where one is required: only `CSI 1 ; modifiers [A-S]` may leave out its 1).
    """
    fields = params.split(";")
    key_code = fields[0].partition(":")[0]
    if len(fields) > 3 or (not key_code and final in "u~"):
        return None
    modifiers, _, event_type = fields[1].partition(":") if len(fields) > 1 else ("", "", "")
    event_type = event_type or PRESS
    if event_type not in (PRESS, REPEAT, RELEASE):
        return None
    text = fields[2] if len(fields) > 2 and event_type != RELEASE else ""
    if text:
        return f"{key_code};{modifiers};{text}", event_type
    if modifiers not in ("", "1"):
        return f"{key_code};{modifiers}", event_type
    return key_code, event_type


class KeyReleaseParser(XTermParserWithHook):
    """Textual's input parser, reading key event types and the flags answer (see the module text).

    Overrides `sequence_to_keys` (Textual's private step where a complete escape sequence is turned
    into keys) and `parse` (only to keep the token callback, through which the non-key messages go
    out in input order).
    """

    _emit: TokenCallback[Message]

    def parse(self, token_callback: TokenCallback[Message]) -> Generator[Read1 | Peek1, str, None]:
        """Textual's parser, keeping `token_callback` for the messages that are not keys."""
        self._emit = token_callback
        return super().parse(token_callback)

    def sequence_to_keys(self, sequence: str, alt: bool = False) -> Iterable[events.Key]:
        """Keys for a sequence; releases and the flags answer go out as messages instead.

        Textual's parser calls this with each sequence read so far: no keys means "read on"; any key
        ends the sequence, and `Keys.Ignore` keys are dropped.
        """
        if len(sequence) > 2 and sequence.startswith("\x1b["):
            if (answer := _FLAGS_ANSWER.fullmatch(sequence)) is not None:
                self._emit(KeyboardFlagsReport(int(answer[1] or "0")))
                return [self._ignored(sequence)]
            if (kitty := _KITTY_KEY.fullmatch(sequence)) is not None:
                params, final = kitty.groups()
                if any(":" in field for field in params.split(";", 2)[:2]):
                    return self._kitty_key(sequence, params, final)
        return self._textual_keys(sequence, alt)

    def _kitty_key(self, sequence: str, params: str, final: str) -> list[events.Key]:
        """A kitty key with an event type (or alternate keys): a press or repeat, or a release."""
        press = _press_form(params, final)
        if press is None:
            self.debug_log(f"malformed kitty key {sequence!r}")
            return [self._ignored(sequence)]
        press_params, event_type = press
        keys = self._textual_keys(f"\x1b[{press_params}{final}")
        if event_type != RELEASE:
            return keys
        for key in keys:
            if key.key != Keys.Ignore:
                self.debug_log(f"released {key.key!r}")
                self._emit(KeyReleased(key.key))
        return [self._ignored(sequence)]

    def _textual_keys(self, sequence: str, alt: bool = False) -> list[events.Key]:
        """Textual's keys for a sequence; a sequence Textual cannot read is dropped instead of raising.

        Input is untrusted: out-of-range code points (`chr`), stray colons (`int`)... must not end the
        input thread, which would end the app.
        """
        try:
            return list(self.textual_keys(sequence, alt))
        except Exception as error:  # whatever Textual raises on a malformed sequence
            self.debug_log(f"dropped {sequence!r}: {error!r}")
            return [self._ignored(sequence)]

    @staticmethod
    def _ignored(sequence: str) -> events.Key:
        """The key Textual's parser takes as "sequence read, nothing to report"."""
        return events.Key(Keys.Ignore, sequence)


def _forward_to_focus(app: App[Any], message: KeyReleased) -> None:
    """Post a release where the App sends a key: the focused widget, else the screen (runs in the app's loop)."""
    try:
        target: MessagePump = app.focused or app.screen
    except (ScreenError, ModeError):  # no screen (yet, or any more): no one to tell
        return
    target.post_message(message)


if sys.platform != "win32":
    from textual.drivers.linux_driver import LinuxDriver

    class KeyReleaseDriver(LinuxDriver):
        """Textual's Linux/macOS driver with key releases on request (see the module text)."""

        def __init__(
            self, app: App[Any], *, debug: bool = False, mouse: bool = True, size: tuple[int, int] | None = None
        ) -> None:
            super().__init__(app, debug=debug, mouse=mouse, size=size)
            self._releases_wanted = False
            self._status_target: MessagePump | None = None
            self._in_application_mode = False
            self.reporting: bool | None = None
            """What the terminal last answered: True if it reports event types, None before any answer."""

        def report_key_releases(self, on: bool, *, notify: MessagePump | None = None) -> bool:
            """Ask the terminal to report key releases, or to stop (see `report_key_releases`)."""
            if constants.DISABLE_KITTY_KEY:  # Textual neither asks for the protocol nor reads it
                return False
            self._releases_wanted = on
            self._status_target = (driver_app(self) if notify is None else notify) if on else None
            if self._in_application_mode:
                self._write_event_types(on)
            return True

        def _write_event_types(self, on: bool) -> None:
            self.write(SET_EVENT_TYPES + QUERY_FLAGS if on else RESET_EVENT_TYPES)
            self.flush()

        def start_application_mode(self) -> None:
            """Textual's start (which pushes its flags), then the wanted event types on top."""
            writer = driver_writer(self)
            super().start_application_mode()
            # Textual returns early, starting no writer, when it may not use the terminal (a
            # background job after a resume).
            started = driver_writer(self)
            self._in_application_mode = started is not None and started is not writer
            if self._in_application_mode and self._releases_wanted:
                self._write_event_types(True)

        def stop_application_mode(self) -> None:
            """Event types off, then Textual's stop (which pops its flags: the mode the app found)."""
            if self._in_application_mode and self._releases_wanted:
                self._write_event_types(False)
            self._in_application_mode = False
            super().stop_application_mode()

        def process_message(self, message: Message) -> None:
            """Route the parser's messages (runs in the input thread)."""
            if isinstance(message, KeyboardFlagsReport):
                self.reporting = bool(message.flags & REPORT_EVENT_TYPES)
                target = self._status_target
                if target is not None:
                    target.post_message(KeyReleaseStatus(self.reporting, message.flags))
            elif isinstance(message, KeyReleased):
                # Queued to the App the way keys are (`send_message`), behind the keys read before it;
                # posting from this thread directly would overtake them.
                app = driver_app(self)
                message.set_sender(app)
                self.send_message(events.Callback(callback=partial(_forward_to_focus, app, message)))
            else:
                super().process_message(message)

        def run_input_thread(self) -> None:
            """Read the terminal and dispatch what `KeyReleaseParser` makes of it (the input thread).

            Replaces `LinuxDriver.run_input_thread`, which builds its `XTermParser` inside with no way
            to pass another, and does what it does: select (a `SelectSelector`, as poll and kqueue miss
            macOS terminals) with a 0.1 s timeout so `exit_event` is seen, read up to 4 KiB, decode
            UTF-8 incrementally, and tick the parser for the lone-Esc timeout. Unlike it, bytes that
            are not UTF-8 become U+FFFD instead of raising (which would end the app), and the end of
            the input ends the loop instead of selecting a closed descriptor over and over.
            """
            parser = KeyReleaseParser(driver_debug(self))
            decode = getincrementaldecoder("utf-8")(errors="replace").decode
            try:
                with selectors.SelectSelector() as selector:
                    selector.register(self.fileno, selectors.EVENT_READ)
                    while not self.exit_event.is_set():
                        if selector.select(0.1):
                            data = os.read(self.fileno, 4096)
                            if not data:
                                break
                            self._dispatch(parser.feed(decode(data)))
                        self._dispatch(parser.tick())
            finally:
                with suppress(ParseError):
                    for _ in parser.feed(""):  # the parser's end; what it still held is dropped, as Textual does
                        pass

        def _dispatch(self, messages: Iterable[Message]) -> None:
            for message in messages:
                self.process_message(message)


def with_key_releases(driver_class: type[Driver]) -> type[Driver]:
    """The driver class to use instead of `driver_class`: `KeyReleaseDriver` in place of Textual's
    `LinuxDriver`, anything else (Windows, a `TEXTUAL_DRIVER` choice) unchanged. For `App.get_driver_class`."""
    if sys.platform != "win32" and driver_class is LinuxDriver:
        return KeyReleaseDriver
    return driver_class


def report_key_releases(app: App[Any], on: bool, *, notify: MessagePump | None = None) -> bool:
    """Ask the terminal to report key releases (`KeyReleased`), or to stop.

    Turn it on only while releases are needed: with it on, every key's release comes too. After
    switching on, the terminal's answer comes as a `KeyReleaseStatus` posted to `notify` (else the
    app); a terminal without the protocol never answers. Call from the app's thread. The last call
    wins (no counting); the app leaves the terminal as it found it in any case.

    Returns False, doing nothing, where the app's driver cannot (headless, inline, Windows, or
    `TEXTUAL_DISABLE_KITTY_KEY`).
    """
    if sys.platform == "win32":
        return False
    driver = running_driver(app)
    if not isinstance(driver, KeyReleaseDriver):
        return False
    return driver.report_key_releases(on, notify=notify)
