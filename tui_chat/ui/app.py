"""The Textual application: themes, the command palette, and the chat screen.

The app owns the `Session` (config, conversation, pack) built by the core; screens read it and
ask the app to change it. Saving a setting (the theme) happens in a thread so the event loop
never waits on the disk. Voice mode lives on the chat screen; `voice_setup` says which devices
(or, in tests, which generated audio) it uses.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import time
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Callable, Iterable, Mapping

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import Provider
from textual.screen import Screen

from ..config import set_value
from ..errors import TuiChatError
from ..packs import load_pack
from ..safe_text import clean
from ..session import Session
from ..store.opening import call_soon
from .key_release import with_key_releases
from .screens.chat import ChatScreen
from .themes import discover_themes, theme_dirs
from .widgets.audio_meter import VOICE_MODES

if TYPE_CHECKING:
    from textual.driver import Driver
    from textual.notifications import SeverityLevel

    from ..store.records import ChatInfo
    from ..tools.loop import ToolLoop
    from .voice import VoiceSetup


ENDING_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
"""Signals that end the app as quitting does, so the terminal is given back (exit code 0)."""

SETTLED_AFTER = 0.5
"""Seconds after start-up at which what the first screen does not need is made ready, off its path:
the tool loop, the MCP servers, the store."""


def mcp_commands() -> type[Provider]:
    """The palette's MCP entries, imported when the palette first opens (not on the way to the first screen)."""
    from .mcp_commands import McpCommands

    return McpCommands


class TuiChatApp(App[None]):
    """tui-chat's terminal UI."""

    TITLE = "tui-chat"
    CSS_PATH = "app.tcss"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]
    COMMANDS = App.COMMANDS | {mcp_commands}

    def __init__(
        self,
        session: Session,
        *,
        clock: Callable[[], float] = time.monotonic,
        save_settings: bool = True,
        approval_arm_delay: float | None = None,
        tune_collector: bool = True,
        voice_setup: VoiceSetup | None = None,
        blink: bool = True,
    ) -> None:
        super().__init__()
        self.session = session
        self.voice_setup = voice_setup
        """What voice mode uses (devices, the voice provider's options); None: the defaults."""
        self.clock = clock
        self.save_settings = save_settings
        self.tune_collector = tune_collector
        """False where many apps run in one process (tests): a freeze would keep their garbage forever."""
        self.approval_arm_delay = approval_arm_delay
        self.blink = blink
        """False: text cursors never blink, so a screenshot shows the same cell whenever it is taken."""
        self._tool_loop: ToolLoop | None = None

    @property
    def tool_loop(self) -> ToolLoop:
        """The tool loop for the active prompt, asking the approval modal; built on first use."""
        if self._tool_loop is None:
            from .approver import ModalApprover, registry_check

            delay = {} if self.approval_arm_delay is None else {"arm_delay": self.approval_arm_delay}
            approver = ModalApprover(self, **delay)
            self._tool_loop = self.session.tool_loop(approver)
            approver.check = registry_check(self._tool_loop.registry)  # edited arguments are checked
            if self.is_running:
                self._show_warnings()
        return self._tool_loop

    def get_default_screen(self) -> Screen:
        return ChatScreen()

    def tell(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information", timeout: float | None = None
    ) -> None:
        """Show one of tui-chat's notices. They carry text from providers, config and pack files and
        tools, which is data: cleaned of controls and shown literally (a stray "[/x]" would break the
        toast). Textual's own notices (`notify`, e.g. what Ctrl+C says) keep their markup."""
        self.notify(clean(message), title=clean(title), severity=severity, timeout=timeout, markup=False)

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver, with key releases on request where it is the Linux/macOS one (see `key_release`)."""
        return with_key_releases(super().get_driver_class())

    def on_mount(self) -> None:
        self._handle_ending_signals(True)
        if self.tune_collector:
            # Everything made so far (Textual, the screen, the config) lives as long as the app: out
            # of the collector's sight, it no longer makes each full collection longer. A stream
            # makes much cyclic garbage (every widget Textual mounts and drops is a cycle): young
            # collections kept small (2000 objects, the middle generation every 10 of them) free it
            # young, in pauses of a few milliseconds (with 5000/20 they reached 90-140 ms), and a
            # full collection, which stops the loop for most of a second, comes after 100 middle
            # ones, as rarely as before. All of it shows in bench/stream_render.py as key latency.
            # `tui-chat` starts with the collector off (cli._cmd_tui): it would only have walked
            # start-up's objects, which all live on; it runs again from here.
            gc.freeze()
            gc.set_threshold(2000, 10, 100)
            gc.enable()
        themes, warnings = discover_themes(theme_dirs(self.session.config_path))
        for theme in themes:
            self.register_theme(theme)
        self.session.warnings += warnings
        wanted = self.session.config.theme
        if wanted in self.available_themes:
            self.theme = wanted
        else:
            self.session.warnings.append(f"theme {wanted!r} is not available; using {self.theme!r}")
        # A warning may join the session's on another thread (the store's opener, its writer): shown at once, on the loop.
        self.session.on_warning = partial(call_soon, asyncio.get_running_loop(), self._show_warnings)
        self._show_warnings()
        self.theme_changed_signal.subscribe(self, lambda theme: self._save_setting("theme", theme.name))
        # The tools (and their modules) and the store are not needed for the first screen: get them
        # ready once the app has settled (the first message, or F2, gets them at once if sooner).
        self.set_timer(SETTLED_AFTER, self.session.history_may_open.set)
        self.set_timer(SETTLED_AFTER, lambda: self.tool_loop)
        self.set_timer(SETTLED_AFTER, self._start_mcp)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Keep the focused text cursor steady when blinking is off (every TextArea and Input has one)."""
        if not self.blink and hasattr(event.widget, "cursor_blink"):
            event.widget.cursor_blink = False  # type: ignore[attr-defined]

    def on_unmount(self) -> None:
        self.session.on_warning = None
        self._handle_ending_signals(False)

    async def _start_mcp(self) -> None:
        """Start the MCP servers in the background, after the first screen (the SDK loads only now).
        A server that fails is told once as a notice naming it; the chat goes on without its tools."""
        if self.session.mcp is None:
            return
        self.session.mcp.on_notice = partial(self.tell, title="MCP", severity="warning", timeout=10)
        await self.session.start_mcp(wait=False, end_on_sigterm=False)

    @on(events.Unmount)
    async def _close_mcp(self) -> None:
        """End every MCP server process on the way out (Ctrl+Q, SIGTERM and SIGHUP all come here)."""
        if self.session.mcp is not None:
            self.session.mcp.on_notice = None
            await self.session.close_mcp()

    def show_mcp_servers(self) -> None:
        """Open the list of MCP servers, their state and tools."""
        from .screens.mcp_servers import McpServersScreen

        if self.session.mcp is not None:
            self.push_screen(McpServersScreen(self.session.mcp, self.set_mcp_server))

    def set_mcp_server(self, name: str, enabled: bool) -> None:
        """Turn the MCP server `name` on or off for this chat, in the background; its tools rejoin or leave."""
        if self.session.mcp is not None:
            self.run_worker(self._set_mcp_server(name, enabled), group="mcp")

    async def _set_mcp_server(self, name: str, enabled: bool) -> None:
        """Its failure to start is told by the manager's notice; the other outcomes are told here."""
        from ..tools.mcp.server import ServerState

        assert self.session.mcp is not None
        await self.session.mcp.set_enabled(name, enabled)
        server = self.session.mcp.servers[name]
        if server.state is ServerState.DISABLED:
            self.tell(f"MCP server {name} is off for this chat; its tools are not offered", title="MCP")
        elif server.state is ServerState.RUNNING:
            self.tell(f"MCP server {name} is running; its {len(server.tools)} tools are offered again", title="MCP")

    def _handle_ending_signals(self, handle: bool) -> None:
        """SIGTERM and SIGHUP exit the app (the driver leaves the alternate screen, turns the mouse
        off and shows the cursor) instead of killing the process with the terminal left as it was.
        Not where the loop cannot take signal handlers (Windows; a loop off the main thread)."""
        loop = asyncio.get_running_loop()
        for number in ENDING_SIGNALS:
            try:
                if handle:
                    loop.add_signal_handler(number, self.exit)
                else:
                    loop.remove_signal_handler(number)
            except (NotImplementedError, RuntimeError, ValueError):
                return

    def _save_setting(self, key: str, value: str) -> None:
        """Write one setting to the config file, off the event loop."""
        if self.save_settings:
            self.run_worker(partial(self._write_setting, key, value), thread=True, group="settings")

    def _write_setting(self, key: str, value: str) -> None:
        try:
            set_value(self.session.config_path, key, value)
        except TuiChatError as error:
            self.call_from_thread(self.tell, str(error), title=f"{key} not saved", severity="warning")

    def use_pack(self, path: Path, prompt_id: str, variables: Mapping[str, str] = MappingProxyType({})) -> None:
        """Switch the chat to a pack's prompt, `variables` (asked for in the picker) over the config's
        (raises PackError when it cannot be rendered)."""
        pack = load_pack(path)
        rendered = pack.render(prompt_id, {**self.session.config.variables, **variables})
        self.session.conversation.use_prompt(rendered.settings())
        self.session.pack, self.session.rendered = pack, rendered
        self._tool_loop = None
        self._show_warnings()

    def use_saved_settings(self, info: ChatInfo) -> None:
        """Go on with the provider, model, pack and prompt a reopened chat used, where they are
        usable here; what is not is said in one notice (`session.use_saved_settings`)."""
        from ..session import use_saved_settings

        if notice := use_saved_settings(self.session, info):
            self.tell(notice, title="Chat settings", severity="warning", timeout=10)
        self._tool_loop = None

    def _show_warnings(self) -> None:
        """Notify the session's warnings once each (taken one by one: another thread may add one
        meanwhile), and mark the chat unsaved when it is not saved."""
        warnings = self.session.warnings
        while warnings:
            self.tell(warnings.pop(0), title="Warning", severity="warning", timeout=10)
        for screen in self.screen_stack:
            if isinstance(screen, ChatScreen):
                screen.show_saving()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, ChatScreen):
            yield SystemCommand("Prompt pack", "Choose the prompt pack and prompt", screen.action_pick_pack)
            yield SystemCommand("Model", "Choose the provider's model", screen.action_pick_model)
            yield SystemCommand("Copy reply", "Copy the last reply to the clipboard", screen.action_copy_reply)
            yield SystemCommand("Copy code block", "Copy the last code block of the last reply", screen.action_copy_code)
            yield SystemCommand("Stop reply", "Stop the reply that is streaming", screen.action_cancel)
            yield SystemCommand("Retry", "Ask again for the last message", screen.action_retry)
            yield SystemCommand("New chat", "Start a new chat; the old one stays in the chat list (Ctrl+L)", screen.action_clear)
            yield SystemCommand("Chats", "Open, rename, delete or search the saved chats (F2)", screen.action_chat_list)
            yield SystemCommand("Help", "List every key", screen.action_help)
            yield SystemCommand("Voice", "Turn voice on or off (F5)", screen.action_voice)
            for mode, label in VOICE_MODES.items():
                yield SystemCommand(f"Voice mode: {label}", f"Talk {label} (F3 cycles the modes)", partial(screen.set_voice_mode, mode))
