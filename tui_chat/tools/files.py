"""The file tools' handlers: read_file, list_directory, search_files and write_file.

Every path goes through `Workspace.resolve`, so nothing outside the workspace root is read,
listed or written, whether named by an absolute path, by `..` or through a symbolic link. File
names and contents are untrusted text: they are cleaned before they reach the model or a screen
(by `registry.as_result`). Blocking file system work runs in a thread.
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
import stat
import threading
from pathlib import Path
from typing import Any

from .registry import ToolContext, ToolError
from .result import FULL_OUTPUT_LIMIT, ToolResult, bytes_result, looks_binary
from .workspace import Workspace, WorkspaceError

MAX_LIST_ENTRIES = 1000
MAX_READ_BYTES = FULL_OUTPUT_LIMIT
MAX_SEARCH_RESULTS = 200
MAX_SEARCH_FILE_BYTES = 2 * 1024 * 1024
MAX_SEARCH_FILES = 20_000
MAX_WRITE_CHARS = 5 * 1024 * 1024
_SKIPPED_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", ".mypy_cache", ".pytest_cache"}


def _path_arg(arguments: dict[str, Any], key: str = "path") -> str | None:
    value = arguments.get(key)
    return value if isinstance(value, str) else None


# --- list_directory ------------------------------------------------------------------------------


async def list_directory(arguments: dict[str, Any], context: ToolContext) -> str:
    workspace = context.workspace
    target = workspace.resolve(_path_arg(arguments))
    show_hidden = bool(arguments.get("show_hidden", False))
    return await asyncio.to_thread(_list, workspace, target, show_hidden)


def _list(workspace: Workspace, target: Path, show_hidden: bool) -> str:
    try:
        entries = sorted(os.scandir(target), key=lambda entry: entry.name)
    except FileNotFoundError:
        raise ToolError(f"{workspace.relative(target)} does not exist") from None
    except NotADirectoryError:
        raise ToolError(f"{workspace.relative(target)} is not a directory") from None
    except PermissionError:
        raise ToolError(f"{workspace.relative(target)} cannot be read: permission denied") from None
    lines: list[str] = []
    hidden = 0
    for entry in entries:
        if entry.name.startswith(".") and not show_hidden:
            hidden += 1
            continue
        if len(lines) == MAX_LIST_ENTRIES:
            lines.append(f"[… more entries not shown; the listing stops at {MAX_LIST_ENTRIES}]")
            break
        lines.append(_describe(workspace, entry))
    header = f"{workspace.relative(target)}: {len(entries) - hidden} entries"
    if hidden:
        header += f" ({hidden} hidden not shown)"
    return "\n".join([header, *lines]) + "\n"


def _describe(workspace: Workspace, entry: os.DirEntry[str]) -> str:
    try:
        if entry.is_symlink():
            try:
                inside = workspace.resolve(entry.path)
                return f"{entry.name} -> {workspace.relative(inside)} (link)"
            except WorkspaceError:
                return f"{entry.name} (link to outside the workspace)"
        if entry.is_dir():
            return f"{entry.name}/ (directory)"
        info = entry.stat()
        if stat.S_ISREG(info.st_mode):
            return f"{entry.name} ({_size(info.st_size)})"
        return f"{entry.name} (special file)"
    except OSError:
        return f"{entry.name} (cannot be read)"


def _size(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} bytes"


# --- read_file -----------------------------------------------------------------------------------


async def read_file(arguments: dict[str, Any], context: ToolContext) -> ToolResult:
    workspace = context.workspace
    target = workspace.resolve(_path_arg(arguments))
    return await asyncio.to_thread(_read, workspace, target)


def _read(workspace: Workspace, target: Path) -> ToolResult:
    shown = workspace.relative(target)
    try:
        info = target.stat()
        if stat.S_ISDIR(info.st_mode):
            raise ToolError(f"{shown} is a directory; use list_directory")
        if not stat.S_ISREG(info.st_mode):
            raise ToolError(f"{shown} is not a regular file")
        with target.open("rb") as file:
            data = file.read(MAX_READ_BYTES)
    except FileNotFoundError:
        raise ToolError(f"{shown} does not exist") from None
    except PermissionError:
        raise ToolError(f"{shown} cannot be read: permission denied") from None
    note = f"[the file has {info.st_size:,} bytes; only the first {MAX_READ_BYTES:,} were read]" if info.st_size > len(data) else ""
    if looks_binary(data):
        return bytes_result(data, total=info.st_size)
    return bytes_result(data, total=max(info.st_size, len(data)), note=note)


# --- search_files --------------------------------------------------------------------------------


async def search_files(arguments: dict[str, Any], context: ToolContext) -> str:
    workspace = context.workspace
    target = workspace.resolve(_path_arg(arguments))
    text = str(arguments.get("text", ""))
    if not text:
        raise ToolError("text must not be empty")
    pattern = str(arguments.get("glob") or "*")
    ignore_case = bool(arguments.get("ignore_case", False))
    stop = threading.Event()
    try:
        return await asyncio.to_thread(_search, workspace, target, text, pattern, ignore_case, stop)
    finally:
        stop.set()  # a cancelled search stops walking at the next file


def _search(workspace: Workspace, root: Path, text: str, pattern: str, ignore_case: bool, stop: threading.Event) -> str:
    if not root.is_dir():
        raise ToolError(f"{workspace.relative(root)} is not a directory")
    needle = text.lower() if ignore_case else text
    matches: list[str] = []
    files = 0
    for folder, dirs, names in os.walk(root):  # os.walk does not follow links to folders
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS and not d.startswith("."))
        for name in sorted(names):
            if stop.is_set():
                return ""
            if not fnmatch.fnmatch(name, pattern):
                continue
            files += 1
            if files > MAX_SEARCH_FILES:
                matches.append(f"[… stopped after {MAX_SEARCH_FILES:,} files]")
                return _found(matches, text)
            path = Path(folder) / name
            try:
                real = workspace.resolve(str(path))
                if not real.is_file() or real.stat().st_size > MAX_SEARCH_FILE_BYTES:
                    continue
                data = real.read_bytes()
            except (OSError, WorkspaceError):
                continue
            if looks_binary(data):
                continue
            shown = workspace.relative(path)
            for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
                if needle in (line.lower() if ignore_case else line):
                    matches.append(f"{shown}:{number}: {line.strip()[:300]}")
                    if len(matches) >= MAX_SEARCH_RESULTS:
                        matches.append(f"[… stopped at {MAX_SEARCH_RESULTS} matches]")
                        return _found(matches, text)
    return _found(matches, text)


def _found(matches: list[str], text: str) -> str:
    if not matches:
        return f"no matches for {text!r}\n"
    return "\n".join(matches) + "\n"


# --- write_file ----------------------------------------------------------------------------------


async def write_file(arguments: dict[str, Any], context: ToolContext) -> str:
    workspace = context.workspace
    path = _path_arg(arguments)
    if not path:
        raise ToolError("path must not be empty")
    target = workspace.resolve(path)
    content = str(arguments.get("content", ""))
    if len(content) > MAX_WRITE_CHARS:
        raise ToolError(f"the content is longer than {MAX_WRITE_CHARS:,} characters")
    append = bool(arguments.get("append", False))
    return await asyncio.to_thread(_write, workspace, target, content, append)


def _write(workspace: Workspace, target: Path, content: str, append: bool) -> str:
    shown = workspace.relative(target)
    if target == workspace.root:
        raise ToolError("cannot write to the workspace folder itself")
    workspace.resolve(str(target.parent))  # checked again: it may have changed since
    target.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    flags |= getattr(os, "O_NOFOLLOW", 0)  # never write through a link planted since the check
    data = content.encode("utf-8")
    try:
        fd = os.open(target, flags, 0o644)
    except IsADirectoryError:
        raise ToolError(f"{shown} is a directory") from None
    except PermissionError:
        raise ToolError(f"{shown} cannot be written: permission denied") from None
    except OSError as error:
        raise ToolError(f"{shown} cannot be written: {error.strerror or error}") from None
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    return f"{'appended' if append else 'wrote'} {len(data):,} bytes to {shown}\n"
