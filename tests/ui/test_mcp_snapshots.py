"""Snapshots of the MCP server list: a running server with its tools (one unavailable, one whose
name came with escapes and markup), one that failed to start and why, one disabled in the config;
and of the pack picker (Ctrl+O) offering the running server's prompts under its name.

The servers are real (the fake over stdio, a command that does not exist); the list is shown on a
bare host app, so nothing behind it (a blinking prompt) varies between runs. Update with
`python -m pytest tests/ui/test_mcp_snapshots.py --snapshot-update` after checking the report.
The approval modal for an MCP tool has its snapshot in tests/tools/mcp/test_approval_snapshot.py.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App

from tests.tools.mcp.servers import stdio_config
from tui_chat.tools.mcp.config import McpServerConfig
from tui_chat.tools.mcp.manager import McpManager
from tui_chat.ui.screens.mcp_servers import McpServersScreen
from tui_chat.ui.screens.pack_picker import PackPickerScreen

from .conftest import SIZE
from .test_mcp import MISSING


class ListApp(App[None]):
    """Starts the servers, then shows their list."""

    def __init__(self, manager: McpManager) -> None:
        super().__init__()
        self.manager = manager

    async def show_list(self) -> None:
        await self.manager.started()
        await self.push_screen(McpServersScreen(self.manager, lambda _name, _enabled: None))

    async def show_picker(self) -> None:
        await self.manager.started()
        await self.push_screen(PackPickerScreen(None, None, {}, self.manager))

    async def on_unmount(self) -> None:
        await self.manager.aclose()


def test_mcp_server_list(snap_compare, tmp_path: Path) -> None:
    app = ListApp(
        McpManager(
            {
                "fake": stdio_config(),
                "broken": McpServerConfig(name="broken", command=MISSING),
                "off": McpServerConfig(name="off", command=MISSING, enabled=False),
            },
            log_dir=tmp_path,
        )
    )

    async def list_shown(pilot) -> None:  # type: ignore[no-untyped-def]
        await app.show_list()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=list_shown)


def test_pack_picker_with_server_prompts(snap_compare, tmp_path: Path) -> None:
    app = ListApp(McpManager({"fake": stdio_config()}, log_dir=tmp_path))

    async def picker_shown(pilot) -> None:  # type: ignore[no-untyped-def]
        await app.show_picker()
        await pilot.press(*"mcp")  # the server's prompts, below the bundled packs' prompts
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=picker_shown)
