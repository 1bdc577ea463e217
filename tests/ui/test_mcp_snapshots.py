"""Snapshot of the MCP server list: a running server with its tools (one unavailable, one whose
name came with escapes and markup), one that failed to start and why, one disabled in the config.

The servers are real (the fake over stdio, a command that does not exist). Update with
`python -m pytest tests/ui/test_mcp_snapshots.py --snapshot-update` after checking the report.
The approval modal for an MCP tool has its snapshot in tests/tools/mcp/test_approval_snapshot.py.
"""

from __future__ import annotations

from pathlib import Path

from textual.widgets._toast import Toast

from tests.tools.mcp.servers import stdio_config
from tui_chat.tools.mcp.config import McpServerConfig
from tui_chat.tools.mcp.manager import McpManager

from .conftest import SIZE, make_app
from .test_chat_screen import wait_for
from .test_mcp import MISSING, until_settled


def test_mcp_server_list(snap_compare, tmp_path: Path) -> None:
    app = make_app()
    app.session.mcp = McpManager(
        {
            "fake": stdio_config(),
            "broken": McpServerConfig(name="broken", command=MISSING),
            "off": McpServerConfig(name="off", command=MISSING, enabled=False),
        },
        log_dir=tmp_path,
    )

    async def list_shown(pilot) -> None:  # type: ignore[no-untyped-def]
        await until_settled(app)
        await pilot.pause()
        app.clear_notifications()  # the failure notices are tested in test_mcp.py; here the list alone
        await wait_for(pilot, lambda: not app.screen.query(Toast))
        app.show_mcp_servers()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=list_shown)
