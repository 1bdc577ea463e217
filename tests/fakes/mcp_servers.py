"""A small MCP server written with the SDK's own server API, to test the client against a real one.

Run it as `python -m tests.fakes.mcp_servers stdio` (a subprocess spoken to over stdin/stdout) or
`python -m tests.fakes.mcp_servers http` (streamable HTTP on 127.0.0.1, a free port, printed as
`PORT <n>` on stdout once it listens). Over HTTP, when `FAKE_MCP_TOKEN` is set, every request must
carry `Authorization: Bearer <token>` or is refused with 401.

Its tools, each a case the client must handle:
- `echo {text}`: the text back, and `{"echoed": text}` as structured content.
- `pid`: the server's process id (to check it is gone afterwards); annotated `readOnlyHint`.
- `exit`: the process exits in the middle of the call.
- `hang`: never answers; `hang_started` answers once a `hang` call is running on the server, and
  `was_cancelled` once the server has seen `hang` cancelled.
- `big`: 5 MB of text.
- `evil`: a name and output full of escape sequences and Rich markup.
- `grow`: adds the tool `added` and announces `tools/list_changed`.
- `grow_prompts`: adds the prompt `added` and announces `prompts/list_changed` (only).
- `fails`: an `isError` result.
- `picture`: an image block.
- `odd_schema`: an input schema the checker does not support.
Its prompts (`prompts/list`, `prompts/get`):
- `review`: no arguments; a user message and an assistant answer, the user text with an escape
  sequence and Rich markup in it.
- `greet {name (required), tone}`: one user message naming `name` (and `tone`, when given).
On start it writes a line to stderr (which the client must send to its log, not the screen).
With `--linger` (stdio) it keeps running after its stdin closes, as a careless server would, so
only a client that ends it (SIGTERM, then SIGKILL) leaves no process behind.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

import anyio
import mcp_types as types
from mcp.server.lowlevel import Server

EVIL_NAME = "evil\x1b[31m[bold]x[/bold]\u202e"
EVIL_OUTPUT = "\x1b]0;pwned\x07[bold red]markup[/bold red]\x1b[2J\u202egood\rbad\x9b31m"
BIG_CHARS = 5 * 1024 * 1024
STDERR_LINE = "fake mcp server: starting"

_OBJECT: dict[str, Any] = {"type": "object"}
_hanging = anyio.Event()
_cancelled = anyio.Event()
_grown = False
_prompts_grown = False


def _tool(name: str, schema: dict[str, Any] | None = None, description: str = "", **extra: Any) -> types.Tool:
    return types.Tool(name=name, description=description or f"the {name} tool", input_schema=schema or _OBJECT, **extra)


async def list_tools(_ctx: Any, _params: Any) -> types.ListToolsResult:
    echo = {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}
    tools = [
        _tool("echo", echo),
        _tool("pid", annotations=types.ToolAnnotations(read_only_hint=True)),
        _tool("exit"),
        _tool("hang"),
        _tool("hang_started"),
        _tool("was_cancelled"),
        _tool("big"),
        _tool(EVIL_NAME, description="\x1b[1mbold\x1b[0m [link=x]desc[/link]"),
        _tool("grow"),
        _tool("grow_prompts"),
        _tool("fails"),
        _tool("picture"),
        _tool("odd_schema", {"type": "object", "properties": {"x": {"$ref": "#/$defs/x"}}}),
    ]
    if _grown:
        tools.append(_tool("added"))
    return types.ListToolsResult(tools=tools)


REVIEW_USER = "Review my code.\x1b[2J [bold]Be terse.[/bold]\u202e"
REVIEW_ASSISTANT = "Send the code and I will review it."


async def list_prompts(_ctx: Any, _params: Any) -> types.ListPromptsResult:
    prompts = [
        types.Prompt(name="review", title="Code review", description="Review code \x1b[1mtersely\x1b[0m"),
        types.Prompt(
            name="greet",
            description="A greeting",
            arguments=[
                types.PromptArgument(name="name", description="who to greet", required=True),
                types.PromptArgument(name="tone", description="how"),
            ],
        ),
    ]
    if _prompts_grown:
        prompts.append(types.Prompt(name="added"))
    return types.ListPromptsResult(prompts=prompts)


def _said(role: str, text: str) -> types.PromptMessage:
    return types.PromptMessage(role=role, content=types.TextContent(type="text", text=text))  # type: ignore[arg-type]


async def get_prompt(_ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
    arguments = params.arguments or {}
    if params.name == "review":
        return types.GetPromptResult(messages=[_said("user", REVIEW_USER), _said("assistant", REVIEW_ASSISTANT)])
    if params.name == "greet" and "name" in arguments:
        tone = f", {arguments['tone']}" if "tone" in arguments else ""
        return types.GetPromptResult(description="A greeting", messages=[_said("user", f"Say hello to {arguments['name']}{tone}.")])
    raise ValueError(f"no prompt {params.name!r} with arguments {sorted(arguments)}")


def _text(text: str, **extra: Any) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], **extra)


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    global _grown, _prompts_grown
    arguments = params.arguments or {}
    name = params.name
    if name == "echo":
        return types.CallToolResult(content=[], structured_content={"echoed": arguments.get("text")})
    if name == "pid":
        return _text(str(os.getpid()))
    if name == "exit":
        sys.stdout.flush()
        os._exit(3)
    if name == "hang":
        _hanging.set()
        try:
            await anyio.sleep_forever()
        finally:
            _cancelled.set()
    if name == "hang_started":
        await _hanging.wait()
        return _text("hang is running")
    if name == "was_cancelled":
        await _cancelled.wait()
        return _text("hang was cancelled")
    if name == "big":
        return _text("x" * BIG_CHARS)
    if name == EVIL_NAME:
        return _text(EVIL_OUTPUT)
    if name == "grow":
        _grown = True
        await ctx.session.send_tool_list_changed()
        return _text("grown")
    if name == "grow_prompts":
        _prompts_grown = True
        await ctx.session.send_prompt_list_changed()
        return _text("grown")
    if name == "fails":
        return _text("it went wrong", is_error=True)
    if name == "picture":
        return types.CallToolResult(content=[types.ImageContent(type="image", data="AAAA", mime_type="image/png")])
    return _text(f"called {name}")


server = Server("fake", on_list_tools=list_tools, on_call_tool=call_tool, on_list_prompts=list_prompts, on_get_prompt=get_prompt)


async def run_stdio() -> None:
    from mcp.server.stdio import stdio_server

    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def run_http() -> None:
    import uvicorn

    app = server.streamable_http_app()
    token = os.environ.get("FAKE_MCP_TOKEN")

    async def guarded(scope: Any, receive: Any, send: Any) -> None:
        if token and scope["type"] == "http":
            headers = dict(scope["headers"])
            if headers.get(b"authorization") != f"Bearer {token}".encode():
                await send({"type": "http.response.start", "status": 401, "headers": []})
                await send({"type": "http.response.body", "body": b"unauthorized"})
                return
        await app(scope, receive, send)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    config = uvicorn.Config(guarded, log_level="warning", lifespan="on")
    uvicorn_server = uvicorn.Server(config)

    async def serve() -> None:
        print(f"PORT {sock.getsockname()[1]}", flush=True)
        await uvicorn_server.serve(sockets=[sock])

    anyio.run(serve)


if __name__ == "__main__":
    print(STDERR_LINE, file=sys.stderr, flush=True)
    if sys.argv[1:] == ["http"]:
        run_http()
    else:
        anyio.run(run_stdio)
        if "--linger" in sys.argv:
            anyio.run(anyio.sleep_forever)
