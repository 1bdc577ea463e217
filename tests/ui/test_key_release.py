"""Key releases from the kitty keyboard protocol: the parser, the driver, the way into the app, a real pty.

Parser tests feed the byte sequences terminals send (kitty encoding, with and without the event-type
sub-field) through `KeyReleaseParser.feed`, as the input thread does. Driver tests run the real
`KeyReleaseDriver` on pipes in place of the terminal, with a stand-in app that records what the
driver sends it. The end-to-end test runs a small Textual app in a child process on a pty and plays
the terminal on the master side. Nothing sleeps: tests wait for what they expect (with a bound, so a
bug fails instead of hanging).
"""

from __future__ import annotations

import sys

import pytest

if sys.platform == "win32":
    pytest.skip("Textual's Linux driver, pipes and ptys", allow_module_level=True)

import asyncio
import fcntl
import hashlib
import inspect
import os
import pty
import random
import re
import select
import signal
import struct
import subprocess
import termios
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

from textual import constants, events
from textual._xterm_parser import XTermParser  # Textual's own parser, to compare with
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.drivers.headless_driver import HeadlessDriver
from textual.drivers.linux_driver import LinuxDriver
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Input

from tui_chat.ui._textual_internals import TEXTUAL_CHECKED
from tui_chat.ui.key_release import (
    QUERY_FLAGS,
    RESET_EVENT_TYPES,
    SET_EVENT_TYPES,
    KeyboardFlagsReport,
    KeyReleased,
    KeyReleaseDriver,
    KeyReleaseParser,
    KeyReleaseStatus,
    _forward_to_focus,
    report_key_releases,
    with_key_releases,
)

from .conftest import make_app
from .test_chat_screen import wait_for

F4_PRESS_REPEAT_RELEASE = [
    pytest.param("\x1b[S", "\x1b[1;1:2S", "\x1b[1;1:3S", id="CSI-1-S"),
    pytest.param("\x1b[14~", "\x1b[14;1:2~", "\x1b[14;1:3~", id="CSI-14-tilde"),
]
"""F4 in the two encodings the spec allows: `CSI 1 S` (the 1 left out without modifiers) and `CSI 14 ~`."""


def parse(*chunks: str) -> list[Message]:
    """What one parser makes of `chunks`, fed in turn as the input thread feeds what it reads."""
    parser = KeyReleaseParser()
    return [message for chunk in chunks for message in parser.feed(chunk)]


def summary(messages: list[Message]) -> list[tuple[Any, ...]]:
    """Messages as comparable tuples: ("key", key, character), ("released", key), ("flags", n)."""
    out: list[tuple[Any, ...]] = []
    for message in messages:
        if isinstance(message, events.Key):
            out.append(("key", message.key, message.character))
        elif isinstance(message, KeyReleased):
            out.append(("released", message.key))
        elif isinstance(message, KeyboardFlagsReport):
            out.append(("flags", message.flags))
        else:
            out.append((type(message).__name__,))
    return out


# --- the parser ----------------------------------------------------------------------------------


@pytest.mark.parametrize("press, repeat, release", F4_PRESS_REPEAT_RELEASE)
def test_f4_press_and_repeat_are_keys_and_its_release_is_a_message(press: str, repeat: str, release: str) -> None:
    assert summary(parse(press, repeat, repeat, release)) == [
        ("key", "f4", None),
        ("key", "f4", None),
        ("key", "f4", None),
        ("released", "f4"),
    ]


def test_an_explicit_press_type_is_a_press() -> None:
    assert summary(parse("\x1b[1;1:1S", "\x1b[14;1:1~")) == [("key", "f4", None), ("key", "f4", None)]


def test_a_repeat_is_the_same_key_as_its_press() -> None:
    """Typing with auto-repeat goes on as before: a repeat types what the press types."""
    pairs = [
        ("\x1b[13u", "\x1b[13;1:2u"),  # enter: "\r", as Textual makes of its press
        ("\x1b[97;;97u", "\x1b[97;1:2;97u"),  # a, with Textual's own flags (all keys as escapes, text)
        ("\x1b[97;2;65u", "\x1b[97;2:2;65u"),  # shift+a: "A"
        ("\x1b[97;5u", "\x1b[97;5:2u"),  # ctrl+a
        ("\x1b[1;5A", "\x1b[1;5:2A"),  # ctrl+up
        ("\x1b[15~", "\x1b[15;1:2~"),  # f5
    ]
    for press, repeat in pairs:
        pressed, repeated = summary(parse(press)), summary(parse(repeat))
        assert repeated == pressed and pressed[0][0] == "key", (press, repeat)


def test_releases_of_letters_enter_and_modifiers_type_nothing() -> None:
    messages = parse("a", "\x1b[97;1:3u", "\x1b[13;1:3u", "\x1b[32;1:3u", "\x1b[57441;1:3u", "\x1b[1;1:3A")
    assert summary(messages) == [
        ("key", "a", "a"),
        ("released", "a"),
        ("released", "enter"),
        ("released", "space"),
        ("released", "left_shift"),
        ("released", "up"),
    ]


def test_a_release_carries_the_modifiers_held_then_and_bare_key_drops_them() -> None:
    messages = parse("\x1b[1;2:3S", "\x1b[97;5:3u", "\x1b[97;2:3u", "\x1b[97:65;2:3u", "\x1b[14;7:3~")
    assert [(m.key, m.bare_key) for m in messages if isinstance(m, KeyReleased)] == [
        ("shift+f4", "f4"),
        ("ctrl+a", "a"),
        ("shift+a", "a"),
        ("shift+a", "a"),  # alternate keys (shifted, base layout) are not needed to name the key
        ("alt+ctrl+f4", "f4"),
    ]


def test_sequences_without_event_types_parse_as_textual_parses_them() -> None:
    """Nothing changes where there is nothing to release: the same keys as Textual's own parser."""
    corpus = [
        "hello",
        "\x1b[A",
        "\x1b[1;5A",
        "\x1bOS",
        "\x1b[15~",
        "\x1b[97;5u",
        "\x1b[97;;97u",
        "\x1b[13u",
        "\x1b[27u",
        "\x1b[57441;2u",
        "\x1b[<0;10;5M",
        "\x1b[200~pasted\x1b[201~",
        "\x1b[I",
        "\x1b[3;7R",
        "\x1b[?2026;2$y",
        "é",
    ]
    for sequence in corpus:
        assert summary(parse(sequence)) == summary(list(XTermParser().feed(sequence))), sequence


def test_the_flags_answer_is_read_and_the_keys_after_it_are_not_swallowed() -> None:
    assert summary(parse("\x1b[?27u", "hi", "\x1b[?0u", "\x1b[?u")) == [
        ("flags", 27),
        ("key", "h", "h"),
        ("key", "i", "i"),
        ("flags", 0),
        ("flags", 0),
    ]


def test_textual_alone_cannot_read_event_types_or_the_flags_answer() -> None:
    """Why this module exists. If this fails, Textual reads them now: revisit `key_release`."""
    with pytest.raises(ValueError):
        list(XTermParser().feed("\x1b[1;1:3S"))
    parser = XTermParser()
    typed = [message for chunk in ("\x1b[?27u", "x" * 30) for message in parser.feed(chunk)]
    assert "question_mark" in [key.key for key in typed if isinstance(key, events.Key)]


MALFORMED = [
    "\x1b[1;1:9S",  # an unknown event type
    "\x1b[1;1:3:3S",  # two event types
    "\x1b[1;1:S",  # an empty one (taken as a press)
    "\x1b[::;::u",
    "\x1b[;:3u",  # no key code
    "\x1b[:;1:3~",
    "\x1b[97;1:3;97;97u",  # too many fields
    "\x1b[9999999u",  # no such code point (Textual's chr() raises)
    "\x1b[1114112;1:3u",
    "\x1b[97;1;99999999u",  # text out of range
    "\x1b[97:65u",  # alternate keys Textual did not ask for (its int() raises)
    "\x1b[999999999999999999999999999u",
    "\x1b[?27;1u",  # not a flags answer (left to Textual, which types what it cannot read)
]


def test_malformed_sequences_never_raise_and_never_release() -> None:
    parser = KeyReleaseParser()
    for sequence in MALFORMED:
        messages = list(parser.feed(sequence))
        assert not any(isinstance(m, (KeyReleased, KeyboardFlagsReport)) for m in messages), sequence
    # Still reading (after typing out the unknown sequence still pending, as Textual does).
    assert summary(list(parser.feed("\x1b[1;1:3S")))[-1] == ("released", "f4")


def test_random_input_never_raises_and_release_shapes_never_become_keys() -> None:
    rng = random.Random(20240611)
    alphabet = "\x1b[0123456789:;?<>=~uABCDEFHPQRSMm \x7f\x00é\ue000"
    parser = KeyReleaseParser()
    for _ in range(3000):
        junk = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 24)))
        list(parser.feed(("\x1b[" if rng.random() < 0.7 else "") + junk))
    list(parser.feed(""))
    for _ in range(2000):
        key_code = rng.choice(["", "1", "13", "97", "57441", "9" * rng.randint(1, 12), "97:65", "97::97"])
        modifiers = rng.choice(["", "1", "2", "5", "256", "99999999999"])
        final = rng.choice("u~ABCDEFHPQRS")
        messages = parse(f"\x1b[{key_code};{modifiers}:3{final}")
        assert not any(isinstance(m, events.Key) for m in messages), (key_code, modifiers, final)


# --- Textual's internals -------------------------------------------------------------------------

RUN_INPUT_THREAD_SHA256 = "d796af6d69db337d6fa6bd463984f7d17188d991dbb22f60efb92a8a9619507c"
"""`LinuxDriver.run_input_thread`'s source in Textual 8.2.8, which `KeyReleaseDriver.run_input_thread` replaces."""


def test_the_textual_internals_this_relies_on_are_unchanged() -> None:
    """Fails when Textual changes what `key_release` overrides or reads: check it against the new version."""
    assert list(inspect.signature(XTermParser._sequence_to_key_events).parameters) == ["self", "sequence", "alt"]
    assert list(inspect.signature(XTermParser.parse).parameters) == ["self", "token_callback"]
    source = inspect.getsource(LinuxDriver.run_input_thread)
    assert hashlib.sha256(source.encode()).hexdigest() == RUN_INPUT_THREAD_SHA256, (
        f"LinuxDriver.run_input_thread changed since Textual {TEXTUAL_CHECKED}: bring "
        "KeyReleaseDriver.run_input_thread in line with it, then update RUN_INPUT_THREAD_SHA256"
    )
    for name in ("start_application_mode", "stop_application_mode", "process_message", "run_input_thread"):
        assert callable(getattr(LinuxDriver, name)), name
    assert "_driver" in vars(App())


# --- the driver ----------------------------------------------------------------------------------


class Recorder:
    """Something messages are posted to, from any thread; `arrived` is set on each."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.messages: list[Message] = []
        self.arrived = asyncio.Event()
        self._loop = loop
        self._lock = threading.Lock()

    def post_message(self, message: Message) -> bool:
        with self._lock:
            self.messages.append(message)
        self._loop.call_soon_threadsafe(self.arrived.set)
        return True

    async def wait_for(self, condition: Callable[[], bool]) -> None:
        """Until `condition` holds, checked as each message comes (bounded, so a bug fails the test)."""
        async with asyncio.timeout(10):
            while not condition():
                self.arrived.clear()
                await self.arrived.wait()


class StandInApp(Recorder):
    """What a driver needs of an App: `_post_message` (the driver's `send_message`), callbacks run as
    App runs them, a screen to forward releases to (no focused widget), and `panic` (which fails)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.screen = Recorder(loop)
        self.focused = None
        self.panics: list[Any] = []

    async def _post_message(self, message: Message) -> bool:
        if isinstance(message, events.Callback):
            message.callback()
        return self.post_message(message)

    def call_later(self, callback: Callable[..., Any], *args: Any) -> None:
        self.panics.append(args)

    def panic(self, *renderables: Any) -> None:
        self.panics.append(renderables)


class PipeTerminal:
    """Pipes in place of the terminal: what the driver reads (`type`) and what it writes (`written`)."""

    def __init__(self) -> None:
        self.input_read, self.input_write = os.pipe()
        output_read, output_write = os.pipe()
        self.output_read = output_read
        self.output = os.fdopen(output_write, "w")

    def type(self, data: bytes) -> None:
        os.write(self.input_write, data)

    def written(self) -> str:
        """Everything written, once the driver's writer has stopped and the output is closed."""
        self.output.close()
        chunks = []
        while chunk := os.read(self.output_read, 65536):
            chunks.append(chunk)
        return b"".join(chunks).decode()

    def close(self) -> None:
        for fd in (self.input_read, self.input_write, self.output_read):
            os.close(fd)


@pytest.fixture
def restore_signals() -> Iterator[None]:
    """A Linux driver installs process-wide handlers (Ctrl+Z, resume, resize): put pytest's back."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGTSTP, signal.SIGCONT, signal.SIGWINCH)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def pipe_driver(app: StandInApp, terminal: PipeTerminal) -> KeyReleaseDriver:
    driver = KeyReleaseDriver(app)  # type: ignore[arg-type]  # the stand-in has what a driver uses
    driver.fileno = terminal.input_read
    driver.input_tty = False
    driver._file = terminal.output
    return driver


async def test_the_driver_switches_event_types_and_leaves_the_terminal_as_textual_does(restore_signals: None) -> None:
    loop = asyncio.get_running_loop()
    app, terminal = StandInApp(loop), PipeTerminal()
    status = Recorder(loop)
    driver = pipe_driver(app, terminal)
    try:
        assert driver.report_key_releases(True, notify=status)  # before application mode: kept for its start
        driver.start_application_mode()
        driver.report_key_releases(False)
        driver.report_key_releases(True, notify=status)
        driver.stop_application_mode()
        driver.close()
        written = terminal.written()
    finally:
        terminal.close()
    pushed = [int(flags) for flags in re.findall(r"\x1b\[>(\d*)u", written)]
    assert len(pushed) == 1 and not pushed[0] & 0b10, "Textual pushes its flags once, without event types"
    assert written.count("\x1b[<u") == 1, "and pops them once"
    ours = re.findall(r"\x1b\[=\d+;\du|\x1b\[\?u", written)
    assert ours == [SET_EVENT_TYPES, QUERY_FLAGS, RESET_EVENT_TYPES, SET_EVENT_TYPES, QUERY_FLAGS, RESET_EVENT_TYPES]
    assert written.index(f"\x1b[>{pushed[0]}u") < written.index(SET_EVENT_TYPES)
    assert written.rindex(RESET_EVENT_TYPES) < written.index("\x1b[<u") < written.index("\x1b[?1049l")
    assert not app.panics


async def test_the_driver_delivers_releases_in_input_order_and_the_answer_to_the_asker(restore_signals: None) -> None:
    loop = asyncio.get_running_loop()
    app, terminal = StandInApp(loop), PipeTerminal()
    status = Recorder(loop)
    driver = pipe_driver(app, terminal)
    try:
        driver.start_application_mode()
        driver.report_key_releases(True, notify=status)
        terminal.type(b"\xff\xfe" + b"\x1b[?27u" + b"\x1b[S\x1b[1;1:2S\x1b[1;1:3S" + b"\x1b[97;1;99999999u" + b"z")
        await app.wait_for(lambda: any(isinstance(m, events.Key) and m.key == "z" for m in app.messages))
        await status.wait_for(lambda: bool(status.messages))
        driver.stop_application_mode()
        driver.close()
    finally:
        terminal.close()
    keys = [
        ("released", m.callback.args[1].key) if isinstance(m, events.Callback) else ("key", m.key)
        for m in app.messages
        if isinstance(m, (events.Key, events.Callback))
    ]
    assert keys[-4:] == [("key", "f4"), ("key", "f4"), ("released", "f4"), ("key", "z")]
    assert [m.key for m in app.screen.messages if isinstance(m, KeyReleased)] == ["f4"]
    assert [(m.reporting, m.flags) for m in status.messages if isinstance(m, KeyReleaseStatus)] == [(True, 27)]
    assert driver.reporting is True
    assert not app.panics, "bytes that are not UTF-8 and a malformed sequence must not end the input thread"


# --- in the app ----------------------------------------------------------------------------------


class TalkScreen(Screen[None]):
    """A screen with a talk key binding, as the chat screen has, and a prompt that has the focus."""

    BINDINGS = [Binding("f4", "talk", "Talk")]

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def compose(self) -> ComposeResult:
        yield Input()

    def action_talk(self) -> None:
        self.seen.append("talk")

    def on_key_released(self, message: KeyReleased) -> None:
        # After the press's binding action, which runs when the press has bubbled up to the App.
        self.app.call_later(self.seen.append, f"released {message.key}")


class TalkApp(App[None]):
    def get_default_screen(self) -> Screen[None]:
        return TalkScreen()


async def test_a_release_follows_the_way_of_keys_after_the_press_it_ends() -> None:
    """Queued to the App as the driver queues it, behind the press: the binding acts first, the
    prompt types nothing, and a handler deferred with `app.call_later` runs after the action."""
    app = TalkApp()
    async with app.run_test() as pilot:
        screen = app.screen
        assert isinstance(screen, TalkScreen) and isinstance(app.focused, Input)
        for _ in range(3):
            app.post_message(events.Key("f4", None))
            app.post_message(events.Callback(callback=partial(_forward_to_focus, app, KeyReleased("f4"))))
        await wait_for(pilot, lambda: len(screen.seen) == 6)
        assert screen.seen == ["talk", "released f4"] * 3
        assert app.query_one(Input).value == ""
        assert not report_key_releases(app, True), "the headless driver of tests cannot"


def test_tui_chat_uses_the_key_release_driver_where_textual_uses_its_linux_driver() -> None:
    if constants.DRIVER is not None:
        pytest.skip("TEXTUAL_DRIVER chooses the driver")
    assert make_app().driver_class is KeyReleaseDriver
    assert with_key_releases(LinuxDriver) is KeyReleaseDriver
    assert with_key_releases(HeadlessDriver) is HeadlessDriver


# --- end to end, on a pty ------------------------------------------------------------------------

PROBE_APP = textwrap.dedent(
    """
    import os, sys
    from textual.app import App
    from textual.binding import Binding
    from textual.screen import Screen
    from textual.widgets import Input
    from tui_chat.ui.key_release import report_key_releases, with_key_releases

    log = os.fdopen(int(sys.argv[1]), "w", buffering=1)

    class Talk(Screen):
        BINDINGS = [Binding("f4", "talk")]
        def compose(self):
            yield Input()
        def on_mount(self):
            log.write(f"asked {report_key_releases(self.app, True, notify=self)}\\n")
        def action_talk(self):
            log.write("talk\\n")
        def on_key_release_status(self, message):
            log.write(f"status {message.reporting} {message.flags}\\n")
        def on_key_released(self, message):
            self.app.call_later(self.released, message.key)
        def released(self, key):
            log.write(f"released {key} {self.query_one(Input).value!r}\\n")
            if key == "f4":
                self.app.exit()

    class Probe(App):
        def get_driver_class(self):
            return with_key_releases(super().get_driver_class())
        def get_default_screen(self):
            return Talk()
        def on_mount(self):
            log.write(f"driver {type(self._driver).__name__}\\n")

    Probe().run()
    """
)


class PtyApp:
    """The probe app in a child process on a pty; this side plays the terminal."""

    def __init__(self) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        log_read, log_write = os.pipe()
        env = {name: value for name, value in os.environ.items() if not name.startswith("TEXTUAL")}
        env["TERM"] = "xterm-256color"
        self.process = subprocess.Popen(
            [sys.executable, "-c", PROBE_APP, str(log_write)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            pass_fds=(log_write,),
            env=env,
            cwd=Path(__file__).resolve().parents[2],
            start_new_session=True,
        )
        os.close(slave)
        os.close(log_write)
        self.log_read = log_read
        self.open_fds = [self.master, log_read]
        self.output = b""
        self.log = b""

    @property
    def lines(self) -> list[str]:
        return self.log.decode().splitlines()

    def send(self, data: str) -> None:
        os.write(self.master, data.encode())

    def pump_until(self, condition: Callable[[], bool]) -> None:
        """Read the terminal's output and the log (so the child never blocks writing) until `condition`
        holds; bounded, so a bug fails the test instead of hanging it."""
        deadline = time.monotonic() + 30
        while not condition():
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"gave up; log {self.lines}, output {self.output[-2000:]!r}"
            if not self.open_fds:  # both ended: all that is left is the child's exit
                self.process.wait(remaining)
                continue
            ready, _, _ = select.select(self.open_fds, [], [], remaining)
            for fd in ready:
                try:
                    data = os.read(fd, 65536)
                except OSError:  # the pty's other side closed (EIO on Linux)
                    data = b""
                if not data:
                    self.open_fds.remove(fd)
                elif fd == self.master:
                    self.output += data
                else:
                    self.log += data

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        os.close(self.master)
        os.close(self.log_read)


def test_end_to_end_on_a_pty() -> None:
    app = PtyApp()
    try:
        app.pump_until(lambda: QUERY_FLAGS.encode() in app.output and "asked True" in app.lines)
        app.send("\x1b[?27u")  # kitty's answer: flags 1, 2, 8 and 16
        app.send("\x1b[97;;97u\x1b[97;1:2;97u\x1b[97;1:3u")  # a: press, repeat, release
        app.send("\x1b[S\x1b[1;1:2S\x1b[1;1:3S")  # F4: press, repeat, release
        app.pump_until(lambda: not app.open_fds and app.process.poll() is not None)  # it quits on F4's release
    finally:
        app.close()
    assert app.process.returncode == 0, app.output[-2000:]
    assert sorted(app.lines[:2]) == ["asked True", "driver KeyReleaseDriver"]  # the app's and the screen's mount
    assert app.lines[2:] == [
        "status True 27",
        "released a 'aa'",
        "talk",
        "talk",
        "released f4 'aa'",
    ]
    output = app.output.decode(errors="replace")
    assert output.count("\x1b[>") == 1 and output.count("\x1b[<u") == 1
    assert output.index(SET_EVENT_TYPES + QUERY_FLAGS) < output.rindex(RESET_EVENT_TYPES) < output.index("\x1b[<u")
