"""The registry `Tool` of an MCP server's tool, with what its server says about it.

A server's annotations are claims, not facts: `read_only_hint` is only told in the approval
dialog's words (`tools/policy.py`), never a reason to run a call without asking.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import Tool


@dataclass(frozen=True, slots=True)
class McpTool(Tool):
    """A `Tool` run by an MCP server (`kind` "mcp", `server` its name)."""

    read_only_hint: bool = False
    """The server's `readOnlyHint` annotation: it says the tool changes nothing (unchecked)."""
