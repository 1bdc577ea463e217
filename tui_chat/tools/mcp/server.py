"""One MCP server: its session, owned by one asyncio task, its state, its tools and its prompts.

The task opens the transport (a subprocess over stdio, or streamable HTTP), initialises the
session, lists the tools and (when the server has them) its prompts, then waits for work: a
`tools/list_changed` or `prompts/list_changed` notification lists them again, `stop()` ends it,
which closes the session and ends the server process (the SDK closes its stdin, then terminates
its process tree). Calls and `prompts/get` are made from the caller's task with the SDK's own
timeout; a timed-out or cancelled call sends the protocol's `notifications/cancelled`.

A server that fails to start, or whose connection closes, is `FAILED` with a reason; the next call
starts it again, at once the first time, then after a growing pause (backoff) while it keeps
failing. A stdio server's stderr goes to a log file, never to the screen.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

from ...checking.json_schema import UnsupportedSchema, rules_from_json_schema
from ...safe_text import clean
from .config import McpServerConfig, MissingVariable, expand
from .names import tool_name
from .prompts import RemotePrompt, prompt_messages, remote_prompt

if TYPE_CHECKING:
    from mcp import ClientSession

    from ...chunks import Message

START_TIMEOUT = 30.0
"""Seconds a server has to start, initialise and list its tools."""

FIRST_BACKOFF = 1.0
MAX_BACKOFF = 60.0
_REASON_CHARS = 300


class ServerState(str, enum.Enum):
    STARTING = "starting"
    RUNNING = "running"
    FAILED = "failed"
    DISABLED = "disabled"
    STOPPED = "stopped"


class ServerUnavailable(Exception):
    """A call could not reach its server; `str()` says which server and why (for the model and the screen)."""


@dataclass(frozen=True, slots=True)
class RemoteTool:
    """A tool a server lists: its own name, the name offered to the model, and why it cannot be used, if so."""

    server: str
    name: str
    registry_name: str
    description: str
    schema: dict[str, Any]
    problem: str = ""
    read_only_hint: bool = False
    """The server says the tool changes nothing (`readOnlyHint`): told in the dialog, never trusted."""


def _reason(error: BaseException) -> str:
    """One cleaned line about `error`: the first leaf of an exception group, its message or its type."""
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    text = str(getattr(error, "message", "") or error) or type(error).__name__
    if isinstance(error, OSError) and error.strerror:
        text = error.strerror + (f": {error.filename}" if error.filename else "")
    return clean(" ".join(text.split()))[:_REASON_CHARS]


def remote_tool(server: str, tool: Any) -> RemoteTool:
    """The SDK's `Tool` as a `RemoteTool`; a schema the checker cannot check makes it unavailable."""
    schema = dict(tool.input_schema or {"type": "object"})
    problem = ""
    try:
        rules_from_json_schema(schema)
    except UnsupportedSchema as error:
        problem = f"its input schema cannot be checked: {clean(str(error))}"
    return RemoteTool(
        server=server,
        name=tool.name,
        registry_name=tool_name(server, tool.name),
        description=clean(tool.description or tool.title or ""),
        schema=schema,
        problem=problem,
        read_only_hint=bool(tool.annotations and tool.annotations.read_only_hint),
    )


async def _every_page(list_page: Callable[..., Any], field: str) -> list[Any]:
    """Every item of a paginated list (`tools/list`, `prompts/list`), following its cursors."""
    from mcp_types import PaginatedRequestParams

    items: list[Any] = []
    cursor: str | None = None
    while True:
        listed = await list_page(params=PaginatedRequestParams(cursor=cursor) if cursor else None)
        items += getattr(listed, field)
        if not (cursor := listed.next_cursor):
            return items


class McpServer:
    """The life of one configured server. `on_change(server)` is called when its state or tools change."""

    def __init__(self, config: McpServerConfig, *, log_dir: Path, on_change: Callable[[McpServer], None]) -> None:
        self.config = config
        self.name = config.name
        self.log_path = log_dir / f"mcp-{config.name}.log"
        self.state = ServerState.STOPPED if config.enabled else ServerState.DISABLED
        self.reason = "" if config.enabled else "disabled in the config"
        self.tools: tuple[RemoteTool, ...] = ()
        self.prompts: tuple[RemotePrompt, ...] = ()
        self._on_change = on_change
        self._session: ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._work: asyncio.Queue[str] = asyncio.Queue()
        self._settled = asyncio.Event()
        self._failures = 0
        self._retry_at = 0.0
        self._http_refusal = ""

    # --- the owning task ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the server unless it is running, disabled or waiting out its backoff; wait until it runs or fails."""
        if self.state is ServerState.DISABLED or self.state is ServerState.RUNNING:
            return
        if self.state is ServerState.FAILED and self._task is not None and not self._task.done():
            await asyncio.shield(self._task)  # a server that just failed is still closing: let it end first
        if self._task is None or self._task.done():
            if self.state is ServerState.FAILED and time.monotonic() < self._retry_at:
                return
            self._settled = asyncio.Event()
            self._work = asyncio.Queue()
            self._set(ServerState.STARTING, "")
            self._task = asyncio.create_task(self._life(), name=f"mcp server {self.name}")
        await self._settled.wait()

    async def _life(self) -> None:
        try:
            async with self._session_opened() as session:
                await self._list(session)
                self._session = session
                self._failures = 0
                self._set(ServerState.RUNNING, "")
                self._settled.set()
                while await self._work.get() == "refresh":
                    await self._list(session)
                    self._on_change(self)
            if self.state is ServerState.RUNNING:
                self._set(ServerState.STOPPED, "")
        except asyncio.CancelledError:
            self._set(ServerState.STOPPED, "")
            raise
        except MissingVariable as error:
            self._fail(f"cannot start: {clean(str(error))}")
        except BaseException as error:  # noqa: BLE001 - any failure of a server is its state, not a crash
            if self.state is not ServerState.FAILED:
                refusal = f" ({self._http_refusal})" if self._http_refusal else ""
                self._fail(("cannot start: " if self.state is ServerState.STARTING else "") + _reason(error) + refusal)
        finally:
            self._session = None
            self._settled.set()

    @contextlib.asynccontextmanager
    async def _session_opened(self) -> AsyncIterator[ClientSession]:
        from mcp import ClientSession

        with contextlib.ExitStack() as files:
            async with contextlib.AsyncExitStack() as stack:
                if self.config.command:
                    read, write = await stack.enter_async_context(self._stdio(files))
                else:
                    read, write = await stack.enter_async_context(self._http())
                session = await stack.enter_async_context(ClientSession(read, write, message_handler=self._on_message))
                async with asyncio.timeout(START_TIMEOUT):
                    await session.initialize()
                yield session

    def _stdio(self, files: contextlib.ExitStack) -> Any:
        from mcp import StdioServerParameters, stdio_client

        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = files.enter_context(open(self.log_path, "a", encoding="utf-8", errors="replace"))  # noqa: SIM115
        parameters = StdioServerParameters(
            command=self.config.command or "",
            args=list(self.config.args),
            env=expand(self.config.env),
            cwd=self.config.cwd,
        )
        return stdio_client(parameters, errlog=log)

    @contextlib.asynccontextmanager
    async def _http(self) -> AsyncIterator[Any]:
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        async def note_refusal(response: Any) -> None:
            if response.status_code >= 400:
                self._http_refusal = f"HTTP {response.status_code} from {self.config.url}"

        self._http_refusal = ""
        async with create_mcp_http_client(headers=expand(self.config.headers)) as client:
            client.event_hooks["response"].append(note_refusal)  # the SDK's errors do not say the status
            async with streamable_http_client(self.config.url or "", http_client=client) as streams:
                yield streams

    async def _list(self, session: ClientSession) -> None:
        """List the server's tools, and its prompts when its capabilities say it has some."""
        async with asyncio.timeout(START_TIMEOUT):
            listed = await _every_page(session.list_tools, "tools")
            self.tools = tuple(remote_tool(self.name, tool) for tool in listed)
            capabilities = session.server_capabilities
            if capabilities is not None and capabilities.prompts is not None:
                listed = await _every_page(session.list_prompts, "prompts")
                self.prompts = tuple(remote_prompt(self.name, prompt) for prompt in listed)

    async def _on_message(self, message: Any) -> None:
        if getattr(message, "method", None) in ("notifications/tools/list_changed", "notifications/prompts/list_changed"):
            self._work.put_nowait("refresh")

    # --- use ----------------------------------------------------------------------------------

    async def _running_session(self) -> ClientSession:
        """The session, once the server is started (a failed one after its backoff); else `ServerUnavailable`."""
        await self.start()
        session = self._session
        if session is None or self.state is not ServerState.RUNNING:
            wait = max(0.0, self._retry_at - time.monotonic())
            retry = f"; retrying in {wait:.0f} s" if self.state is ServerState.FAILED and wait >= 1 else ""
            raise ServerUnavailable(f"MCP server {self.name} is {self.state.value}: {self.reason}{retry}")
        return session

    async def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        """Call the server's tool `tool` (its own name); the `CallToolResult`.

        Starts the server first if it is not running (a failed one after its backoff). Raises
        `ServerUnavailable` when it cannot be reached or its connection closes during the call,
        and `TimeoutError` when the call takes longer than the server's `timeout`; cancelling the
        calling task cancels the call on the server too.
        """
        from mcp import MCPError
        from mcp_types import CONNECTION_CLOSED, REQUEST_TIMEOUT

        session = await self._running_session()
        try:
            return await session.call_tool(tool, arguments, read_timeout_seconds=self.config.timeout)
        except MCPError as error:
            if error.code == REQUEST_TIMEOUT:
                raise TimeoutError(f"no answer within {self.config.timeout:g} s; the call was cancelled") from None
            if error.code == CONNECTION_CLOSED:
                self._fail(f"the connection closed during a call to {clean(tool)}")
                self._work.put_nowait("close")
                raise ServerUnavailable(f"MCP server {self.name} failed: {self.reason}") from None
            raise ServerUnavailable(f"MCP server {self.name}: {_reason(error)}") from None

    async def get_prompt(self, prompt: str, arguments: dict[str, str]) -> tuple[Message, ...]:
        """The messages of the server's prompt `prompt` with `arguments` (`prompts/get`), cleaned.

        Starts the server first as `call` does; raises `ServerUnavailable` saying why when the
        server cannot be reached or refuses, and `TimeoutError` after the server's `timeout`.
        """
        from mcp import MCPError
        from mcp_types import REQUEST_TIMEOUT

        session = await self._running_session()
        try:
            async with asyncio.timeout(self.config.timeout):
                return prompt_messages(await session.get_prompt(prompt, arguments))
        except TimeoutError:
            raise TimeoutError(f"MCP server {self.name} gave no prompt within {self.config.timeout:g} s") from None
        except MCPError as error:
            if error.code == REQUEST_TIMEOUT:
                raise TimeoutError(f"MCP server {self.name} gave no prompt within {self.config.timeout:g} s") from None
            raise ServerUnavailable(f"MCP server {self.name}: {_reason(error)}") from None

    async def stop(self) -> None:
        """End the session and the server process; wait until they are gone."""
        task = self._task
        if task is None or task.done():
            return
        self._work.put_nowait("close")
        try:
            async with asyncio.timeout(START_TIMEOUT):
                await asyncio.shield(task)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def disable(self, reason: str) -> None:
        """End the server and keep it ended (its tools leave) until `enable()`; `reason` says why."""
        if self._task is not None and not self._task.done() and self.state is ServerState.STARTING:
            self._task.cancel()  # still starting: nothing to close politely
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.stop()
        self._set(ServerState.DISABLED, reason)

    async def enable(self) -> None:
        """Start a disabled server (one disabled in the config too), with no backoff left over."""
        if self.state is ServerState.DISABLED:
            self._failures, self._retry_at = 0, 0.0
            self._set(ServerState.STOPPED, "")
        await self.start()

    # --- state --------------------------------------------------------------------------------

    def _fail(self, reason: str) -> None:
        self._failures += 1
        pause = 0.0 if self._failures == 1 else min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (self._failures - 2))
        self._retry_at = time.monotonic() + pause
        self._set(ServerState.FAILED, reason)

    def _set(self, state: ServerState, reason: str) -> None:
        self.state, self.reason = state, reason
        if state in (ServerState.STOPPED, ServerState.DISABLED):
            self.tools, self.prompts = (), ()  # a failed server keeps them: using one starts it again
        self._on_change(self)
