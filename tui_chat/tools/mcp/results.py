"""An MCP `tools/call` result as the `ToolResult` the model and the screen receive.

Text blocks are kept as text; structured content goes as JSON; images, audio and resources become
a short notice (what they are and how big), since the tool loop sends text. `isError` results go
back as errors. `text_result` cleans the whole of it of terminal controls and caps what the model
receives, as for every other tool.
"""

from __future__ import annotations

import json
from typing import Any

from ..result import ToolResult, text_result


def block_text(block: Any) -> str:
    """One content block (of a tool result or a prompt message) as text: its text, or a notice of what it is."""
    kind = getattr(block, "type", "")
    if kind == "text":
        return str(block.text)
    if kind in ("image", "audio"):
        return f"[{kind} from the tool: {block.mime_type}, {len(block.data) * 3 // 4:,} bytes, not shown]"
    if kind == "resource":
        resource = block.resource
        text = getattr(resource, "text", None)
        if isinstance(text, str):
            return f"[resource {resource.uri}]\n{text}"
        return f"[resource {resource.uri}: {getattr(resource, 'mime_type', None) or 'binary'}, not shown]"
    if kind == "resource_link":
        return f"[resource link {block.uri}" + (f": {block.name}" if getattr(block, "name", None) else "") + "]"
    return f"[{kind or 'unknown'} content from the tool, not shown]"


def call_result(result: Any) -> ToolResult:
    """A `CallToolResult` as a cleaned, capped `ToolResult` (an error when the server says `isError`)."""
    parts = [block_text(block) for block in result.content or ()]
    structured = getattr(result, "structured_content", None)
    if structured is not None:
        parts.append(json.dumps(structured, ensure_ascii=False))
    return text_result("\n".join(parts), is_error=bool(result.is_error))
