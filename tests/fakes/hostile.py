"""One set of hostile strings, the check every command and screen is held to, and helpers that plant them.

Each piece of `PIECES` is a way text has been turned against a terminal, a markup renderer or a
reader: escape sequences that retitle the terminal (OSC 0), write the clipboard (OSC 52), hide a
link (OSC 8), move the cursor or clear the screen (7- and 8-bit CSI), open a device string (DCS,
APC, PM), C1 controls, bidi overrides and isolates, zero-width characters, Rich markup and
Textual variables, NUL and friends, and a lone surrogate. `HOSTILE` holds them all in one string,
the markup first, so that it is still on screen where a label is cut short. `hostile(tag)` makes
variants that tell apart where a string came from.

Some places cannot hold every piece: a file name holds no NUL or "/", TOML no NUL or surrogate,
SQLite no surrogate, a model id whose provider takes the last part of a path no "/". `fit_for`
leaves out what a place cannot hold, and nothing more.

`assert_harmless` is the one check: the output (bytes from a command, or the plain text of a
rendered screen) holds no control, escape, bidi or surrogate character, and the markup that was
planted is there as literal text (so it was not interpreted).

Run as `python -m tests.fakes.hostile mcp`, this module is an MCP server (stdio) whose tool names,
descriptions and output are the hostile set.
"""

from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path
from typing import Any, Callable

MARKUP = "[bold]B[/bold]"
"""Rich/Textual markup that must be shown as it is written: if it were interpreted, it would read "B"."""

PIECES: dict[str, str] = {
    "rich markup": f"{MARKUP}[link=https://evil.example]L[/link][@click=app.quit]Q[/]",
    "textual variables": "$accent[$primary]V[/]",
    "OSC 0 retitle": "\x1b]0;pwned\x07",
    "OSC 52 clipboard": "\x1b]52;c;ZXZpbA==\x07",
    "OSC 8 link": "\x1b]8;;https://evil.example\x1b\\here\x1b]8;;\x1b\\",
    "7-bit CSI": "\x1b[2J\x1b[31m",
    "8-bit CSI": "\x9b31m",
    "DCS": "\x1bP1$r\x1b\\",
    "APC": "\x1b_apc\x1b\\",
    "PM": "\x1b^pm\x1b\\",
    "C1 controls": "c1\x85\x8d\x90\x9d\x9e\x9f",
    "bidi override": "\u202eevil\u202c",
    "bidi isolate": "\u2067iso\u2069\u200f",
    "zero width": "z\u200b\u200c\u200d\u2060\ufeffz",
    "NUL, backspace, bell, CR": "n\x00\x08\x07\rul",
    "lone surrogate": "s\ud800s",
}

HOSTILE = " ".join(PIECES.values())
"""Every piece in one string, the markup first."""

COMPACT = "".join([MARKUP, PIECES["OSC 0 retitle"], PIECES["8-bit CSI"], PIECES["bidi override"], "\x00", "\ud800"])
"""A few pieces in a few characters, for places with little room (a status bar)."""

LONG_LINE = "w" * 5000
"""A very long line without a space, to add where a place may have to cut or wrap it."""

BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def hostile(tag: str) -> str:
    """`HOSTILE` behind `tag` (a name that says where the string was planted), e.g. "model[bold]B…"."""
    return f"{tag}{HOSTILE}"


def fit_for(text: str, *, nul: bool = True, slash: bool = True, surrogate: bool = True, space: bool = True) -> str:
    """`text` without what a place cannot hold: NUL (file names, TOML), "/" (file names, path-like ids),
    lone surrogates (TOML, SQLite, file names), spaces (ids some services split)."""
    drop = set()
    if not nul:
        drop.add("\x00")
    if not slash:
        drop.add("/")
    if not space:
        drop.add(" ")
    out = "".join(c for c in text if c not in drop)
    return out if surrogate else "".join(c for c in out if not 0xD800 <= ord(c) < 0xE000)


def harmful(char: str) -> bool:
    """Whether `char` may not reach a terminal: a C0 control (but tab and newline), DEL, C1, bidi, surrogate."""
    code = ord(char)
    if char in "\t\n":
        return False
    return unicodedata.category(char) in ("Cc", "Cs") or code in BIDI


def assert_harmless(output: str | bytes, *, shows: tuple[str, ...] = (MARKUP,)) -> None:
    """`output` carries nothing harmful, and each of `shows` appears in it as literal text.

    Bytes (a command's stdout or stderr, as the terminal gets them) must be UTF-8; text is the
    plain text of a rendered screen.
    """
    text = output.decode("utf-8") if isinstance(output, bytes) else output
    lines = "\n".join(line.rstrip() for line in text.splitlines() if line.strip())  # what a failure shows
    bad = sorted({f"U+{ord(c):04X}" for c in text if harmful(c)})
    assert not bad, f"{bad} in:\n{lines[:4000]!r}"
    for literal in shows:
        assert literal in text, f"{literal!r} not shown literally in:\n{lines[:4000]}"


# --- planting -------------------------------------------------------------------------------------


_STAND_IN = "\ue000"
"""A private-use character that holds a lone surrogate's place until the wire bytes are made."""


def on_the_wire(events: Callable[[Callable[[str], str]], list[bytes]]) -> list[bytes]:
    """Event bytes in which a lone surrogate travels as JSON's `\\ud800`, as a server can send it.

    The fakes encode their JSON as UTF-8, which cannot hold a lone surrogate: `events(planted)`
    builds the events with `planted(text)` standing in for each text, and the stand-in becomes the
    escape in the bytes. `on_the_wire(lambda t: wire.reply([t(HOSTILE)]))`.
    """

    def planted(text: str) -> str:
        return "".join(_STAND_IN if 0xD800 <= ord(c) < 0xE000 else c for c in text)

    return [event.replace(_STAND_IN.encode(), b"\\ud800") for event in events(planted)]


def toml_string(text: str) -> str:
    """`text` as a TOML basic string: controls as \\u escapes (TOML allows them there, not raw)."""
    return json.dumps(fit_for(text, nul=False, surrogate=False))


def pack_data(tag: str = "pack") -> dict[str, Any]:
    """A valid prompt pack whose name, description, prompt names and descriptions and tool description are
    hostile; its prompt offers `list_directory`."""
    return {
        "id": "hostile",
        "name": hostile(f"{tag}-name"),
        "version": "1.0.0",
        "description": hostile(f"{tag}-description"),
        "template_engine": {"version": "v1", "syntax": "{{variable}}"},
        "tools": {
            "list_directory": {
                "name": "list_directory",
                "description": hostile(f"{tag}-tool-description"),
                "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "additionalProperties": False},
            }
        },
        "prompts": {
            "chat": {
                "id": "chat",
                "name": hostile(f"{tag}-prompt"),
                "version": "1.0.0",
                "description": hostile(f"{tag}-prompt-description"),
                "system_template": "Be brief.",
                "tools": ["list_directory"],
            }
        },
    }


def write_pack(folder: Path) -> Path:
    """The hostile pack as `folder/hostile.pack.json` (JSON escapes carry every piece, surrogate too)."""
    path = folder / "hostile.pack.json"
    path.write_text(json.dumps(pack_data()), encoding="utf-8")
    return path


def write_theme(folder: Path) -> Path:
    """A theme whose name is hostile, and one beside it with a hostile unknown key (each skipped with a warning)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hostile.toml").write_text(f'name = {toml_string(hostile("theme"))}\nprimary = "#336699"\n', encoding="utf-8")
    (folder / "hostile-key.toml").write_text(f'name = "k"\nprimary = "#336699"\n{toml_string(hostile("theme-key"))} = 1\n', encoding="utf-8")
    return folder


def config_text() -> str:
    """Config lines whose keys are hostile (each is warned of, naming the key)."""
    return f'{toml_string(hostile("config-key"))} = 1\n[voice]\n{toml_string(hostile("voice-key"))} = 2\n'


def workspace_names() -> list[str]:
    """File names made of the hostile set, one piece each (a name holds 255 bytes at most, and no
    NUL, "/" or surrogate). The first is "file[bold]B[bold]…"."""
    return [fit_for(f"file{piece}", nul=False, slash=False, surrogate=False) for piece in PIECES.values()]


def plant_files(workspace: Path) -> list[str]:
    """Create the hostile file names in `workspace`; returns them."""
    names = workspace_names()
    for name in names:
        (workspace / name).write_text("inside\n", encoding="utf-8")
    return names


def save_chat(db: Path) -> str:
    """A saved chat whose title, settings and messages are hostile (as an old or foreign database may hold them).

    Every message holds the word "needle" for a search to find. Returns the chat's id.
    """
    from tui_chat.chunks import Role
    from tui_chat.store.history import open_store

    def planted(tag: str) -> str:
        return fit_for(hostile(tag), surrogate=False)  # SQLite stores UTF-8: no lone surrogate

    store = open_store(db)
    try:
        chat = store.new_chat(title=planted("title"), provider=planted("provider"), model=planted("model"))
        store.add_message(chat, Role.USER, f"needle {planted('question')}")
        store.add_message(chat, Role.ASSISTANT, f"needle {planted('answer')}\n{LONG_LINE}")
    finally:
        store.close()
    return chat


def plant_in_export(export: dict[str, Any]) -> dict[str, Any]:
    """`export` (a chat as `history export --format json` wrote it) with its title, settings and
    message texts hostile, lone surrogate included (JSON carries it), as a foreign file may be."""
    chat = export["chat"]
    chat.update(title=hostile("imported-title"), provider=hostile("imported-provider"), model=hostile("imported-model"))
    chat["variables"] = {hostile("var"): hostile("value")}
    for message in export["messages"]:
        message["text"] = f"needle {hostile('imported')}"
    return export


def voice_reply() -> Any:
    """The fake OpenAI Realtime reply whose transcripts (the person's and the model's) are hostile."""
    from tests.fakes.realtime_openai import Reply

    return Reply(text=hostile("said"), heard=hostile("heard"), audio_s=0.2)


def mcp_text(tag: str) -> str:
    """What the hostile MCP server sends for `tag` (the SDK's JSON cannot hold a lone surrogate)."""
    return fit_for(hostile(tag), surrogate=False)


MCP_TOOL = fit_for(mcp_text("mcp-tool"), space=False)
"""The hostile MCP server's tool name."""


def mcp_toml(name: str = "hostile") -> str:
    """A config table that starts this module's hostile MCP server over stdio (from this worktree)."""
    root = Path(__file__).resolve().parents[2]
    return (
        f'[mcp.servers.{name}]\ncommand = "{sys.executable}"\nargs = ["-m", "tests.fakes.hostile", "mcp"]\n'
        f'cwd = "{root}"\nenv = {{ PYTHONPATH = "{root}" }}\n'
    )


def _serve_mcp() -> None:
    """An MCP server (stdio) with one tool whose name, description and output are hostile."""
    import anyio
    import mcp_types as types
    from mcp.server.lowlevel import Server
    from mcp.server.stdio import stdio_server

    async def list_tools(_ctx: Any, _params: Any) -> types.ListToolsResult:
        tool = types.Tool(name=MCP_TOOL, description=mcp_text("mcp-description"), input_schema={"type": "object"})
        return types.ListToolsResult(tools=[tool])

    async def call_tool(_ctx: Any, _params: Any) -> types.CallToolResult:
        return types.CallToolResult(content=[types.TextContent(type="text", text=mcp_text("mcp-output"))])

    server = Server("hostile", on_list_tools=list_tools, on_call_tool=call_tool)

    async def run() -> None:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())

    anyio.run(run)


if __name__ == "__main__":
    if sys.argv[1:] == ["mcp"]:
        _serve_mcp()
