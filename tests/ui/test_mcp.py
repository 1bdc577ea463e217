"""MCP servers in the TUI, against the fake server (tests/fakes/mcp_servers.py) as a real subprocess:
started after the first screen, a failure told once by name, turned off and on from the palette,
a tool approved and denied through the modal, a running call cancelled with Esc, a server's prompt
picked (Ctrl+O) and sent, every server process ended when the app quits."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.fakes.scripted import ScriptedProvider
from tests.tools.helpers import answer, calls
from tests.tools.mcp.servers import stdio_config
from tui_chat.chunks import Role
from tui_chat.tools.loop import ToolStatus
from tui_chat.tools.mcp.config import McpServerConfig
from tui_chat.tools.mcp.manager import McpManager
from tui_chat.tools.mcp.server import ServerState
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.approval import ApprovalScreen
from tui_chat.ui.screens.chat import ChatScreen
from tui_chat.ui.screens.pack_picker import PackPickerScreen
from tui_chat.ui.screens.variables_form import VariablesForm
from tui_chat.ui.widgets.tool_item import ToolItem

from .conftest import SIZE, make_app, screen_text
from .test_chat_screen import type_and_send, wait_for

MISSING = "/nonexistent/mcp-server"


def mcp_app(tmp_path: Path, *provider_steps: list, timeout: float = 10) -> TuiChatApp:
    """The app with a working server ("fake") and one that cannot start ("broken"); with steps, a scripted model."""
    app = make_app()
    app.session.mcp = McpManager(
        {"fake": stdio_config("fake", "--linger", timeout=timeout), "broken": McpServerConfig(name="broken", command=MISSING)}, log_dir=tmp_path
    )
    if provider_steps:
        app.session.conversation.use_provider(ScriptedProvider(*provider_steps))
    return app


async def until_settled(app: TuiChatApp) -> McpManager:
    """Wait until each enabled server runs or has failed (bounded, so a server that never starts fails the test)."""
    manager = app.session.mcp
    assert manager is not None
    async with asyncio.timeout(60):
        await manager.wait_until(
            lambda: all(server.state in (ServerState.RUNNING, ServerState.FAILED, ServerState.DISABLED) for server in manager.servers.values())
        )
    return manager


def process_alive(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie, ended but not yet reaped, counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_servers_start_after_the_first_screen_and_a_failure_is_told_once_by_name(tmp_path: Path) -> None:
    app = mcp_app(tmp_path)
    assert app.session.mcp is not None
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        assert all(server.state is ServerState.STOPPED for server in app.session.mcp.servers.values()), "not before the first screen"
        manager = await until_settled(app)
        await wait_for(pilot, lambda: bool(app._notifications))
        await pilot.pause()
        failures = [n.message for n in app._notifications if "failed" in n.message]
        assert len(failures) == 1 and "MCP server broken failed" in failures[0] and MISSING in failures[0]
        assert manager.servers["fake"].state is ServerState.RUNNING
        registry = app.tool_loop.registry
        assert "mcp__fake__echo" in registry
        assert not any(name.startswith("mcp__broken") for name in registry.names())
        await type_and_send(pilot, "hello")  # the chat goes on
        await app.workers.wait_for_complete()
        assert app.session.conversation.history[-1].role is Role.ASSISTANT


async def test_the_palette_turns_a_server_off_and_on_for_this_chat(tmp_path: Path) -> None:
    app = mcp_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        manager = await until_settled(app)
        registry = app.tool_loop.registry
        steps = (
            ("Disable MCP server fake", "running, 12 tools", ServerState.DISABLED, False),
            ("Enable MCP server fake", "disabled: disabled for this chat", ServerState.RUNNING, True),
        )
        for command, shown_state, state, present in steps:
            await pilot.press("ctrl+p")
            await pilot.press(*command)
            await wait_for(pilot, lambda command=command, shown_state=shown_state: command in screen_text(app) and shown_state in screen_text(app))
            await pilot.press("enter")
            await manager.wait_until(lambda state=state: manager.servers["fake"].state is state)
            await app.workers.wait_for_complete()
            assert ("mcp__fake__echo" in registry) is present
        assert manager.servers["broken"].state is ServerState.FAILED


async def test_the_server_list_shows_states_and_enter_turns_a_server_off(tmp_path: Path) -> None:
    app = mcp_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        manager = await until_settled(app)
        app.show_mcp_servers()
        await pilot.pause()
        text = screen_text(app)
        assert "fake  running" in text and "mcp__fake__echo" in text
        assert "broken  failed: cannot start" in text
        await pilot.press("enter")  # the first server, "fake"
        await manager.wait_until(lambda: manager.servers["fake"].state is ServerState.DISABLED)
        await wait_for(pilot, lambda: "fake  disabled: disabled for this chat" in screen_text(app))
        assert "mcp__fake__echo" not in app.tool_loop.registry


async def test_an_mcp_tool_is_approved_end_to_end(tmp_path: Path) -> None:
    app = mcp_app(tmp_path, calls(("mcp__fake__echo", '{"text": "hi"}')), answer("it echoed"))
    async with app.run_test(size=SIZE) as pilot:
        await until_settled(app)
        await type_and_send(pilot, "echo hi")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        shown = screen_text(app)
        assert "MCP server: fake" in shown and '"text": "hi"' in shown
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one(ToolItem).status is ToolStatus.DONE
        [result] = [m for m in app.session.conversation.history if m.role is Role.TOOL]
        assert not result.is_error and '"echoed": "hi"' in result.content
        assert app.session.conversation.history[-1].content == "it echoed"


async def test_an_mcp_tool_is_denied_with_a_reason(tmp_path: Path) -> None:
    app = mcp_app(tmp_path, calls(("mcp__fake__pid", "{}")), answer())
    async with app.run_test(size=SIZE) as pilot:
        await until_settled(app)
        await type_and_send(pilot, "your pid?")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("n", *"not now", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.query_one(ToolItem).status is ToolStatus.DENIED
        [result] = [m for m in app.session.conversation.history if m.role is Role.TOOL]
        assert result.is_error and result.content == "denied by user: not now"


async def test_quitting_ends_every_server_process(tmp_path: Path) -> None:
    app = mcp_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        manager = await until_settled(app)
        pid = int((await manager.servers["fake"].call("pid", {})).content[0].text)
        assert pid != os.getpid() and process_alive(pid)
        await pilot.press("ctrl+q")
    assert not process_alive(pid)
    assert manager.servers["fake"].state is ServerState.STOPPED


async def test_escape_during_an_mcp_call_cancels_it_on_the_server_and_the_chat_goes_on(tmp_path: Path) -> None:
    # A call timeout far beyond the test's own bound: only Esc can end the call in time.
    app = mcp_app(tmp_path, calls(("mcp__fake__hang", "{}")), answer("still here"), timeout=3600)
    async with app.run_test(size=SIZE) as pilot:
        manager = await until_settled(app)
        server = manager.servers["fake"]
        await type_and_send(pilot, "wait for it")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("y")
        async with asyncio.timeout(30):
            await server.call("hang_started", {})  # answers once the hang call runs on the server
        chat = app.screen_stack[0]
        assert chat.streaming
        await pilot.press("escape")
        await wait_for(pilot, lambda: not chat.streaming)
        await pilot.pause()
        assert app.query_one(ToolItem).status is ToolStatus.CANCELLED
        async with asyncio.timeout(30):  # the server answers this once notifications/cancelled ended `hang`
            assert (await server.call("was_cancelled", {})).content[0].text == "hang was cancelled"
        assert server.state is ServerState.RUNNING
        await type_and_send(pilot, "are you there?")
        await app.workers.wait_for_complete()
        assert app.session.conversation.history[-1].content == "still here"
        [result] = [m for m in app.session.conversation.history if m.role is Role.TOOL]
        assert result.is_error and "cancelled" in result.content


async def test_a_server_prompt_is_picked_with_its_argument_and_goes_with_the_next_message(tmp_path: Path) -> None:
    app = mcp_app(tmp_path, answer("Hello, Ada!"))
    provider = app.session.conversation.provider
    assert isinstance(provider, ScriptedProvider)
    async with app.run_test(size=SIZE) as pilot:
        await until_settled(app)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, PackPickerScreen))
        await pilot.press(*"greet")
        await wait_for(pilot, lambda: "MCP server fake / greet" in screen_text(app))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, VariablesForm))
        assert "who to greet" in screen_text(app)
        await pilot.press(*"Ada", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ChatScreen))
        await wait_for(pilot, lambda: "Say hello to Ada." in screen_text(app))
        await type_and_send(pilot, "in French, please")
        await app.workers.wait_for_complete()
        [request] = provider.requests
        assert [(m.role, m.content) for m in request.messages] == [
            (Role.USER, "Say hello to Ada."),
            (Role.USER, "in French, please"),
        ]
        assert app.session.conversation.history[-1].content == "Hello, Ada!"


async def test_a_server_prompt_that_cannot_be_had_keeps_the_picker_open_saying_why(tmp_path: Path) -> None:
    app = mcp_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        manager = await until_settled(app)
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: isinstance(app.screen, PackPickerScreen))
        await pilot.press(*"code review")
        await wait_for(pilot, lambda: "MCP server fake / Code review" in screen_text(app))
        await manager.set_enabled("fake", False)  # the server goes away while the list is open
        await pilot.press("enter")
        await wait_for(pilot, lambda: "The prompt could not be had: MCP server fake is disabled" in screen_text(app))
        assert isinstance(app.screen, PackPickerScreen)
        assert app.session.conversation.history == []


async def test_the_palette_shows_a_failure_reason_holding_markup_as_text(tmp_path: Path) -> None:
    """A server's failure reason (and name) is untrusted text: Textual's palette reads its help as markup."""
    command = "/nonexistent/[bold]srv[/bold]"
    app = make_app()
    app.session.mcp = McpManager({"b[i]x": McpServerConfig(name="b[i]x", command=command)}, log_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await until_settled(app)
        await pilot.press("ctrl+p")
        await pilot.press(*"Disable MCP")
        await wait_for(pilot, lambda: command in screen_text(app))
        assert "MCP server b[i]x" in screen_text(app)
