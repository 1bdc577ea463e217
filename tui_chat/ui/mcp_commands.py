"""The command palette's MCP entries: the server list, and each server turned off or on for this chat.

Each server's entry says what it does now ("Disable MCP server NAME" while it is on, "Enable ..."
while it is off) and, as its help, the server's state, the reason it failed or is off, and how many
tools it offers. A chat with no MCP servers has no entries.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, AsyncIterator, Callable

from textual.command import DiscoveryHit, Hit, Provider
from textual.markup import escape

from ..tools.mcp.server import ServerState
from .screens.mcp_servers import server_summary

if TYPE_CHECKING:
    from .app import TuiChatApp


class McpCommands(Provider):
    """Palette entries for the MCP servers of the app's session."""

    def _entries(self) -> list[tuple[str, Callable[[], object], str]]:
        app: TuiChatApp = self.app  # type: ignore[assignment]
        manager = app.session.mcp
        if manager is None:
            return []
        states = ", ".join(f"{name}: {server.state.value}" for name, server in manager.servers.items())
        entries: list[tuple[str, Callable[[], object], str]] = [("MCP servers", app.show_mcp_servers, states)]
        for name, server in manager.servers.items():
            enable = server.state is ServerState.DISABLED
            entries.append(
                (f"{'Enable' if enable else 'Disable'} MCP server {name}", partial(app.set_mcp_server, name, enable), server_summary(server))
            )
        return [(escape(name), run, escape(help_text)) for name, run, help_text in entries]

    async def discover(self) -> AsyncIterator[DiscoveryHit]:
        for name, run, help_text in self._entries():
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> AsyncIterator[Hit]:
        matcher = self.matcher(query)
        for name, run, help_text in self._entries():
            if (score := matcher.match(name)) > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
