"""Every screen and modal of the TUI over the hostile set (tests/fakes/hostile.py): what it draws is harmless.

The app is the real one, started as the command line starts it, in a hostile world: a config file
with hostile keys, a theme with a hostile name and one with a hostile key, a prompt pack whose
names are hostile, a saved chat whose title and messages are hostile, a workspace of hostile file
names, an MCP server whose tool is hostile, and the OpenAI-compatible provider on a loopback fake
that serves hostile model ids, replies, error bodies and tool calls. Each test walks to one screen
and holds what the terminal would show (the plain text of every rendered segment, the screens
beneath a modal included) to `assert_harmless`: no control, escape, bidi or surrogate character,
and the planted markup shown as the literal text it is.
"""

from __future__ import annotations

import json
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator

import pytest
from textual.pilot import Pilot

from tests.fakes import hostile as h
from tests.fakes.live import LiveFake
from tests.fakes.openai_wire import CompatibleWire
from tests.fakes.server import Script, json_response, stream
from tests.ui.conftest import SIZE, fixed_clock, screen_text
from tests.ui.test_chat_screen import type_and_send, wait_for
from tui_chat.session import Choices, build_session, start_history
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.approval import ApprovalScreen
from tui_chat.ui.screens.chat import ChatScreen
from tui_chat.ui.screens.chat_list import ChatListScreen
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.screens.mcp_servers import McpServersScreen
from tui_chat.ui.screens.model_picker import ModelPickerScreen
from tui_chat.ui.screens.pack_picker import PackPickerScreen
from tui_chat.ui.widgets.chat_log import ChatLog
from tui_chat.ui.widgets.tool_item import ToolItem

MODEL = f"model{h.COMPACT}"
"""The hostile model the models endpoint lists (an OpenAI-compatible server's ids may hold anything);
short, so that the status bar has room for it."""


@dataclass
class World:
    """The hostile files of one test and the fake server; `app()` starts the TUI in it."""

    fake: LiveFake
    config: Path
    pack: Path
    workspace: Path

    def app(self) -> TuiChatApp:
        choices = Choices(
            config_path=self.config, provider="openai-compatible", base_url=self.fake.base_url, model="m",
            pack=str(self.pack), workspace=str(self.workspace),
        )  # fmt: skip
        session = build_session(choices)
        start_history(session, choices, wait=False)
        return TuiChatApp(session, clock=fixed_clock, save_settings=False, approval_arm_delay=0, tune_collector=False, blink=False)

    def serve(self, *scripts: Script) -> None:
        self.fake.enqueue(*scripts)

    def use_hostile_config(self) -> None:
        """Config keys and a theme that are hostile (each is warned of at start, naming the key)."""
        self.config.write_text(h.config_text(), encoding="utf-8")
        h.write_theme(self.config.parent / "themes")

    def use_mcp(self) -> None:
        with self.config.open("a", encoding="utf-8") as file:
            file.write(h.mcp_toml())


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    config = tmp_path / "config" / "config.toml"
    config.parent.mkdir()
    config.write_text("", encoding="utf-8")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    h.plant_files(workspace)
    h.save_chat(tmp_path / "home-data" / "tui-chat" / "chats.db")
    with LiveFake(CompatibleWire()) as fake:
        yield World(fake, config, h.write_pack(tmp_path), workspace)


@pytest.fixture(autouse=True)
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home-data"))


def reply(wire: CompatibleWire, tag: str, *, long: bool = True) -> Script:
    """A hostile reply; `long` puts a very long line before it (the reply ends at the bottom of the view)."""
    texts = [h.LONG_LINE, "\n\n"] if long else []
    return stream(h.on_the_wire(lambda planted: wire.reply([*texts, planted(h.hostile(tag))])))


def tool_calls(wire: CompatibleWire, *calls: tuple[str, dict[str, str]]) -> Script:
    """A reply that calls each (tool name, arguments) of `calls`."""
    wired = [(f"call_{n}", name, json.dumps(arguments)) for n, (name, arguments) in enumerate(calls)]
    return stream(h.on_the_wire(lambda planted: wire.start() + wire.tool_calls([(i, n, planted(a)) for i, n, a in wired]) + wire.finish(tool_calls=True)))


async def settled(pilot: Pilot) -> ChatScreen:
    """The chat screen once its reply (and any tool calls) has ended."""
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen) and not app.screen.streaming)
    await app.workers.wait_for_complete()
    await pilot.pause()
    assert isinstance(app.screen, ChatScreen)
    return app.screen


async def toasts_shown(pilot: Pilot) -> None:
    """Wait until every notice has its toast on the screen (the toasts are drawn a little later)."""
    app = pilot.app
    await wait_for(pilot, lambda: len(app.screen.query("Toast")) == len(app._notifications))
    await pilot.pause()


async def expand_tools(pilot: Pilot) -> None:
    """Open every tool item, to show its output."""
    for tool in pilot.app.screen.query(ToolItem):
        tool.collapsed = False
    await pilot.pause()


@asynccontextmanager
async def running(app: TuiChatApp, size: tuple[int, int] = SIZE) -> AsyncIterator[Pilot]:
    """The app running headless, its notices drawn; its history closed afterwards."""
    try:
        async with app.run_test(size=size, notifications=True) as pilot:
            yield pilot
    finally:
        app.session.close_history()


# --- the chat, its notices and status bar --------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "tag"),
    [(lambda wire: reply(wire, "reply"), "reply"), (lambda wire: json_response(wire.error_body(400, h.hostile("refusal")), 400), "refusal")],
    ids=["reply", "error reply"],
)
async def test_chat_a_hostile_answer(world: World, answer: Callable[[CompatibleWire], Script], tag: str) -> None:
    world.serve(answer(world.fake.wire))
    app = world.app()
    async with running(app) as pilot:
        await type_and_send(pilot, "hi")
        await settled(pilot)
        h.assert_harmless(screen_text(app), shows=(f"{tag}{h.MARKUP}",))


async def test_notices_at_start_of_hostile_config_keys_and_theme(world: World) -> None:
    world.use_hostile_config()
    app = world.app()
    async with running(app, (100, 80)) as pilot:  # room for every toast
        await toasts_shown(pilot)
        h.assert_harmless(screen_text(app), shows=(f"config-key{h.MARKUP}", f"voice-key{h.MARKUP}", "theme-key"))


async def test_model_picker_then_status_bar_and_notice(world: World) -> None:
    world.serve(json_response({"object": "list", "data": [{"id": MODEL, "object": "model"}]}))
    app = world.app()
    async with running(app) as pilot:
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPickerScreen) and len(app.screen.values) == 1)
        h.assert_harmless(screen_text(app), shows=(f"model{h.MARKUP}",))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen) and app.session.provider.model != "m")
        await pilot.pause()
        h.assert_harmless(app.session.provider.model)
        await toasts_shown(pilot)
        h.assert_harmless(screen_text(app), shows=(f"Now using model{h.MARKUP}", f"openai-compatible · model{h.MARKUP}"))


async def test_pack_picker(world: World) -> None:
    app = world.app()
    async with running(app) as pilot:
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, PackPickerScreen))
        await pilot.pause()
        h.assert_harmless(screen_text(app), shows=(f"pack-name{h.MARKUP}",))


async def test_help_over_a_hostile_chat(world: World) -> None:
    world.serve(reply(world.fake.wire, "reply"))
    app = world.app()
    async with running(app) as pilot:
        await type_and_send(pilot, "hi")
        await settled(pilot)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        h.assert_harmless(screen_text(app), shows=("Keys",))


# --- tools: approval, hostile file names, MCP -----------------------------------------------------


async def test_approval_and_tool_output_of_hostile_file_names(world: World) -> None:
    wire = world.fake.wire
    calls = tool_calls(wire, ("list_directory", {"path": "."}), ("list_directory", {"path": h.hostile("argument")}))
    world.serve(calls, reply(wire, "after", long=False))
    app = world.app()
    async with running(app) as pilot:
        await type_and_send(pilot, "list the files")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        h.assert_harmless(screen_text(app), shows=())
        await pilot.press("y")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen) and "argument[bold]" in screen_text(app))
        h.assert_harmless(screen_text(app), shows=(f"argument{h.MARKUP}",))
        await pilot.press("y")
        await settled(pilot)
        await expand_tools(pilot)
        h.assert_harmless(screen_text(app), shows=("file[bold]B[bold]",))


async def test_mcp_tool_approval_output_and_server_list(world: World) -> None:
    world.use_mcp()
    wire = world.fake.wire
    app = world.app()
    manager = app.session.mcp
    assert manager is not None
    async with running(app) as pilot:
        await manager.wait_until(lambda: bool(manager.tools()))
        [name] = [tool.spec.name for tool in manager.tools()]
        world.serve(tool_calls(wire, (name, {})), reply(wire, "after", long=False))
        await type_and_send(pilot, "use the tool")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        h.assert_harmless(screen_text(app), shows=())
        await pilot.press("y")
        await settled(pilot)
        await expand_tools(pilot)
        h.assert_harmless(screen_text(app), shows=(f"mcp-output{h.MARKUP}",))
        app.show_mcp_servers()
        await wait_for(pilot, lambda: isinstance(app.screen, McpServersScreen))
        await pilot.pause()
        h.assert_harmless(screen_text(app), shows=(name[:20],))


# --- saved chats ----------------------------------------------------------------------------------


async def test_chat_list_and_search(world: World) -> None:
    app = world.app()
    async with running(app) as pilot:
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatListScreen) and app.screen.rows != ())
        await pilot.pause()
        h.assert_harmless(screen_text(app), shows=(f"title{h.MARKUP}",))
        screen = app.screen
        await pilot.press(*"needle")
        await wait_for(pilot, lambda: any(getattr(row, "message_id", None) for row in screen.rows))  # type: ignore[attr-defined]
        await pilot.pause()
        h.assert_harmless(screen_text(app), shows=(f"answer{h.MARKUP}",))
        await pilot.press("enter")  # the chat opens at the message found
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen) and len(app.screen.query(".-found")) == 1)
        h.assert_harmless(screen_text(app), shows=(f"provider{h.MARKUP}",))  # the notice: its provider is unknown here
        app.clear_notifications()
        await app.workers.wait_for_complete()
        app.screen.query_one(ChatLog).focus()
        # Home, as a person presses it: the window opened at the hit holds only the long answer, and
        # Home makes the first one (a bare scroll to the top loads the question above the view, where
        # the reading position is kept; it was read only if a frame came between)
        await pilot.press("home")
        await wait_for(pilot, lambda: f"question{h.MARKUP}" in screen_text(app))
        h.assert_harmless(screen_text(app), shows=(f"question{h.MARKUP}", f"answer{h.MARKUP}"))


async def test_theme_palette_offers_no_hostile_theme(world: World) -> None:
    """A hostile theme name is refused where the file is read: Textual's palette would read it as markup."""
    world.use_hostile_config()
    app = world.app()
    async with running(app, (100, 80)) as pilot:
        await toasts_shown(pilot)
        app.clear_notifications()
        await pilot.press("ctrl+p")
        await pilot.press(*"theme", "enter")
        await wait_for(pilot, lambda: "tui-chat-dusk" in screen_text(app))
        h.assert_harmless(screen_text(app), shows=("textual-dark",))
        assert "pwned" not in screen_text(app)


async def test_model_picker_when_the_list_fails(world: World) -> None:
    world.serve(json_response(world.fake.wire.error_body(400, h.hostile("list-failure")), 400))
    app = world.app()
    async with running(app) as pilot:
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelPickerScreen) and "Could not list" in screen_text(app))
        h.assert_harmless(screen_text(app), shows=(f"list-failure{h.MARKUP}",))
