"""Snapshot of the approval dialog for an MCP tool: the server named, the arguments exactly as sent.

Update with `python -m pytest tests/tools/mcp/test_approval_snapshot.py --snapshot-update` after
checking the report that a failing run writes.
"""

from __future__ import annotations

import json

from tests.ui.conftest import SIZE
from tests.ui.test_tool_snapshots import DialogApp, dialog_ready
from tui_chat.tools import ApprovalRequest


def test_approval_of_an_mcp_tool(snap_compare) -> None:
    request = ApprovalRequest(
        call_id="call-1",
        tool="mcp__github__create_issue",
        description="Create an issue in a repository.",
        reason="mcp__github__create_issue may have side effects, so it asks by default",
        arguments=json.dumps({"repo": "me/app", "title": "Crash on \x1b[31mstart\u202e"}, ensure_ascii=False),
        server="github",
    )
    assert snap_compare(DialogApp(request), terminal_size=SIZE, run_before=dialog_ready)
