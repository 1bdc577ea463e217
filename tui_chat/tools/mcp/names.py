"""Tool names for MCP tools that cannot collide and that every provider accepts.

A server's tool `search` on server `github` is offered to the model as `mcp__github__search`.
Providers allow `^[a-zA-Z0-9_-]{1,64}$` at most (OpenAI, Anthropic, Gemini agree on that subset), so
any other character becomes `_`, and a name longer than 64 is cut and ends with a hash of the
whole original pair: the same server and tool always give the same name, and two different tools
cut to the same prefix still differ.
"""

from __future__ import annotations

import hashlib
import re

MAX_NAME = 64
PREFIX = "mcp"
_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9_-]")
_HASH_CHARS = 8


def tool_name(server: str, tool: str) -> str:
    """The registry name of `tool` on `server`: `mcp__server__tool`, made safe and at most 64 characters."""
    safe = _NOT_ALLOWED.sub("_", f"{PREFIX}__{server}__{tool}")
    if safe == f"{PREFIX}__{server}__{tool}" and len(safe) <= MAX_NAME:
        return safe
    digest = hashlib.sha256(f"{server}\x00{tool}".encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_CHARS]
    return f"{safe[: MAX_NAME - _HASH_CHARS - 1]}_{digest}"
