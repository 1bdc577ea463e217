"""The MCP servers of this chat: each with its state (running, failed and why, disabled) and its tools.

Opened from the command palette ("MCP servers"). Enter turns the highlighted server off or on for
this chat (its tools leave or rejoin the registry); the list follows the servers as they start,
fail or change their tools. Everything shown is data (server names from the config, tool names
and failure reasons from servers), so it is built as plain `Text`, never markup; the manager has
cleaned it of controls where it came in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...tools.mcp.server import ServerState

if TYPE_CHECKING:
    from ...tools.mcp.manager import McpManager
    from ...tools.mcp.server import McpServer

STATE_STYLES = {
    ServerState.RUNNING: "green",
    ServerState.FAILED: "red",
    ServerState.DISABLED: "dim",
}


def server_summary(server: McpServer) -> str:
    """One line: the state, why it failed or is off, and how many tools it offers."""
    usable = sum(1 for tool in server.tools if not tool.problem)
    tools = f"{usable} tool{'' if usable == 1 else 's'}"
    if server.state is ServerState.RUNNING:
        return f"running, {tools}"
    reason = f": {server.reason}" if server.reason else ""
    return f"{server.state.value}{reason}" + (f" ({tools} until then)" if server.state is ServerState.FAILED and usable else "")


def server_text(server: McpServer) -> Text:
    """The server's line and, under it, each of its tools (an unavailable one with its problem)."""
    text = Text(server.name, style="bold")
    text.append("  ")
    text.append(server_summary(server), style=STATE_STYLES.get(server.state, ""))
    for tool in server.tools:
        text.append(f"\n  {tool.registry_name}")
        if tool.problem:
            text.append(f"  unavailable: {tool.problem}", style="red")
    return text


class McpServersScreen(ModalScreen[None]):
    """Every MCP server with its state and tools; Enter turns the highlighted one off or on."""

    DEFAULT_CSS = """
    McpServersScreen { align: center middle; }
    McpServersScreen > Vertical {
        width: 84;
        height: auto;
        max-height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    McpServersScreen .title { text-style: bold; margin-bottom: 1; }
    McpServersScreen .foot { color: $text-muted; margin-top: 1; }
    McpServersScreen OptionList { height: auto; max-height: 24; }
    """

    BINDINGS = [Binding("escape,q", "dismiss", "Close")]

    def __init__(self, manager: McpManager, toggle: Callable[[str, bool], None]) -> None:
        super().__init__()
        self.manager = manager
        self._toggle = toggle
        """`toggle(name, enabled)`: what Enter asks of the app."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("MCP servers", classes="title")
            yield OptionList(*self._options(), id="servers")
            yield Static("Enter turns a server off or on for this chat. Esc closes this.", classes="foot")

    def _options(self) -> list[Option]:
        return [Option(server_text(server), id=name) for name, server in self.manager.servers.items()]

    def _shown(self) -> list[str]:
        return [str(option.prompt) for option in self._options()]

    def on_mount(self) -> None:
        self._follow()

    @work(exclusive=True, group="mcp-servers-screen")
    async def _follow(self) -> None:
        """Show the servers afresh whenever their state or tools change."""
        while True:
            shown = self._shown()
            await self.manager.wait_until(lambda shown=shown: self._shown() != shown)
            servers = self.query_one(OptionList)
            highlighted = servers.highlighted
            servers.set_options(self._options())
            servers.highlighted = highlighted

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        name = event.option.id or ""
        self._toggle(name, self.manager.servers[name].state is ServerState.DISABLED)
