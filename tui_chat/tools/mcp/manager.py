"""All configured MCP servers of a chat: started in the background, their tools in the registry.

`McpManager` owns one `McpServer` per `[mcp.servers.NAME]` table. `start()` starts every enabled
server at once in the background; `attach(registry)` puts the tools of running servers into a tool
registry and keeps them in step as servers start, fail or change their tool list. A server that
fails gives one notice naming it (`notices`, and `on_notice` if set); the chat goes on without its
tools. `prompts()` lists the prompts of running servers and `get_prompt(...)` gets one's messages.
`set_enabled(name, ...)` turns a server off or on for this chat. `aclose()` ends every
server process; `end_on_sigterm()` makes SIGTERM end them too.

Nothing here imports the `mcp` SDK: `server.py` imports it when a server is first started.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import weakref
from pathlib import Path
from typing import Any, Callable, Mapping

from ...chunks import Message
from ..registry import Tool, ToolContext, ToolError, ToolRegistry
from ..result import ToolResult
from .config import McpServerConfig
from .prompts import RemotePrompt
from .results import call_result
from .server import McpServer, RemoteTool, ServerState, ServerUnavailable
from .tool import McpTool


def default_log_dir() -> Path:
    """Where stdio servers' stderr is written: the platform's log folder for tui-chat."""
    import platformdirs

    return Path(platformdirs.user_log_dir("tui-chat", appauthor=False))


class McpManager:
    """The MCP servers of one chat and the tools they offer."""

    def __init__(
        self,
        configs: Mapping[str, McpServerConfig],
        *,
        log_dir: Path | None = None,
        on_notice: Callable[[str], None] | None = None,
    ) -> None:
        folder = log_dir or default_log_dir()
        self.servers = {name: McpServer(config, log_dir=folder, on_change=self._changed) for name, config in configs.items()}
        self.notices: list[str] = []
        self.on_notice = on_notice
        self._registries: weakref.WeakSet[ToolRegistry] = weakref.WeakSet()
        self._noticed: dict[str, str] = {}
        self._starting: asyncio.Task[Any] | None = None
        self._change = asyncio.Event()

    # --- life ---------------------------------------------------------------------------------

    def start(self) -> asyncio.Task[Any]:
        """Start every enabled server in the background; the task ends when each runs or has failed."""
        if self._starting is None:
            starts = [server.start() for server in self.servers.values()]
            self._starting = asyncio.ensure_future(asyncio.gather(*starts))
        return self._starting

    async def started(self) -> None:
        """Start every enabled server and wait until each runs or has failed."""
        await self.start()

    async def aclose(self) -> None:
        """End every server and its process."""
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
        await asyncio.gather(*(server.stop() for server in self.servers.values()), return_exceptions=True)

    async def set_enabled(self, name: str, enabled: bool) -> None:
        """Enable or disable the server `name` for this chat: its tools rejoin or leave every registry."""
        server = self.servers[name]
        if enabled:
            await server.enable()
        else:
            await server.disable("disabled for this chat")

    async def __aenter__(self) -> McpManager:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def end_on_sigterm(self) -> None:
        """Make SIGTERM end this process as Ctrl+C does: the running task is cancelled, so its
        clean-up (`aclose()`) ends every server before the process exits.

        Server processes run in their own session (the SDK starts them so), so a signal to the
        terminal's process group never reaches them: without this they could outlive tui-chat.
        For `asyncio.run` programs (`ask`, `mcp list`), where SIGINT cancels the main task.
        """
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, signal.raise_signal, signal.SIGINT)

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait until `condition()` holds, checking it each time a server's state or tools change."""
        while not condition():
            if self._change.is_set():
                self._change = asyncio.Event()
            await self._change.wait()

    # --- tools --------------------------------------------------------------------------------

    def attach(self, registry: ToolRegistry) -> None:
        """Put the servers' usable tools into `registry` now, and whenever they change."""
        self._registries.add(registry)
        self._sync(registry)

    def tools(self) -> list[Tool]:
        """A registry `Tool` for each usable tool of each running (or failed, to be restarted) server."""
        return [
            self._tool(server, remote)
            for server in self.servers.values()
            for remote in server.tools
            if not remote.problem
        ]

    # --- prompts ------------------------------------------------------------------------------

    def prompts(self) -> list[RemotePrompt]:
        """Every prompt of every running server, server by server in the config's order."""
        return [prompt for server in self.servers.values() if server.state is ServerState.RUNNING for prompt in server.prompts]

    async def get_prompt(self, prompt: RemotePrompt, arguments: Mapping[str, str]) -> tuple[Message, ...]:
        """The messages `prompt` gives with `arguments`; `ServerUnavailable` or `TimeoutError` saying why not."""
        return await self.servers[prompt.server].get_prompt(prompt.name, dict(arguments))

    def _tool(self, server: McpServer, remote: RemoteTool) -> Tool:
        from ...chunks import ToolSpec

        async def handler(arguments: dict[str, Any], _context: ToolContext) -> ToolResult:
            try:
                return call_result(await server.call(remote.name, arguments))
            except (ServerUnavailable, TimeoutError) as error:
                raise ToolError(str(error)) from None

        return McpTool(
            ToolSpec(remote.registry_name, remote.description, remote.schema),
            handler,
            default_approval=server.config.approval_for(remote.name),
            timeout=None,  # the server's own timeout applies, and cancels the call on the server
            kind="mcp",
            server=server.name,
            read_only_hint=remote.read_only_hint,
        )

    def _sync(self, registry: ToolRegistry) -> None:
        for name in [tool.name for tool in registry if tool.kind == "mcp"]:
            registry.remove(name)
        for tool in self.tools():
            if tool.name not in registry:  # a tool of the pack or the config keeps its name
                registry.add(tool)

    def _changed(self, server: McpServer) -> None:
        for registry in list(self._registries):
            self._sync(registry)
        self._change.set()
        if server.state is ServerState.FAILED and self._noticed.get(server.name) != server.reason:
            self._noticed[server.name] = server.reason
            self._notice(f"MCP server {server.name} failed: {server.reason}; its tools are unavailable until it starts again (on their next call)")
        elif server.state in (ServerState.RUNNING, ServerState.DISABLED):
            self._noticed.pop(server.name, None)  # a failure after this is news again
        for remote in server.tools if server.state is ServerState.RUNNING else ():
            if remote.problem and self._noticed.get(remote.registry_name) != remote.problem:
                self._noticed[remote.registry_name] = remote.problem
                self._notice(f"MCP tool {remote.registry_name} of {server.name} is unavailable: {remote.problem}")

    def _notice(self, text: str) -> None:
        self.notices.append(text)
        if self.on_notice is not None:
            self.on_notice(text)
