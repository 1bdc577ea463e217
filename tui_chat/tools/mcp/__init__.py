"""MCP servers' tools in the tool loop, through the official `mcp` SDK.

- `config`: the `[mcp.servers.NAME]` tables, checked; `${NAME}` environment references.
- `names`: the provider-safe, collision-free registry name of a server's tool.
- `server`: one server's session on its own task: start, tools, calls, failure and restart.
- `manager`: every server of a chat, started in the background, their tools kept in a registry.
- `results`: a `tools/call` result as a cleaned, capped `ToolResult`.
- `tool`: the registry `Tool` of a server's tool, with its server's (unchecked) `readOnlyHint`.
- `prompts`: the prompts a server offers, and the messages one gives, cleaned.
- `command`: `tui-chat mcp list`: servers, states, tools, prompts. (`tui-chat mcp import` edits the
  config: `config/mcp_import.py`.)

The SDK is imported only when a server is started, so a chat without MCP servers never loads it.
"""
