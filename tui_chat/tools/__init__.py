"""Tools the model may call: the registry, the built-in tools, approval, and the tool loop.

Nothing here knows about Textual: the approval dialog lives in `ui/` and implements `Approver`.
The usual way in is `build_tool_loop(conversation, ...)`, then `loop.send(text)`.
"""

from __future__ import annotations

from .approval import ApprovalRequest, Approver, Decision, DecisionKind, DenyingApprover
from .builtin import builtin_tools
from .loop import LoopLimits, LoopNote, ToolEvent, ToolLoop, ToolStatus, Turn, TurnItem, item_to_dict
from .policy import ApprovalPolicy, Rule
from .registry import Approval, CheckedCall, Tool, ToolContext, ToolError, ToolInputError, ToolRegistry
from .result import ToolResult
from .settings import ToolConfig, parse_tool_settings
from .setup import build_tool_loop, tools_for_prompt
from .terminal import TerminalApprover
from .workspace import Workspace, WorkspaceError

__all__ = [
    "Approval",
    "ApprovalPolicy",
    "ApprovalRequest",
    "Approver",
    "CheckedCall",
    "Decision",
    "DecisionKind",
    "DenyingApprover",
    "LoopLimits",
    "LoopNote",
    "Rule",
    "TerminalApprover",
    "Tool",
    "ToolConfig",
    "ToolContext",
    "ToolError",
    "ToolEvent",
    "ToolInputError",
    "ToolLoop",
    "ToolRegistry",
    "ToolResult",
    "ToolStatus",
    "Turn",
    "TurnItem",
    "Workspace",
    "WorkspaceError",
    "build_tool_loop",
    "builtin_tools",
    "item_to_dict",
    "parse_tool_settings",
    "tools_for_prompt",
]
