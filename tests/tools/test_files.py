"""File tools stay inside the workspace, and their output is safe text."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui_chat.chunks import ToolCall
from tui_chat.tools import ToolRegistry, Workspace, WorkspaceError, builtin_tools
from tui_chat.tools.result import MODEL_OUTPUT_LIMIT


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "ws"
    (base / "sub").mkdir(parents=True)
    (base / "notes.txt").write_text("first line\nneedle here\n")
    (base / "sub" / "code.py").write_text("x = 1  # needle\n")
    (base / ".hidden").write_text("secret")
    (tmp_path / "outside.txt").write_text("not yours")
    return base


@pytest.fixture
def registry(root: Path) -> ToolRegistry:
    return ToolRegistry(builtin_tools().values(), workspace=Workspace(root))


async def call(registry: ToolRegistry, name: str, arguments: str):
    return await registry.run(registry.check(ToolCall("c1", name, arguments)))


@pytest.mark.parametrize("path", ["../outside.txt", "../../etc/passwd", "sub/../../outside.txt", "/etc/passwd"])
def test_paths_outside_are_refused(root: Path, path: str) -> None:
    with pytest.raises(WorkspaceError, match="outside the workspace"):
        Workspace(root).resolve(path)


def test_paths_inside_are_allowed_even_with_dots_or_absolute(root: Path) -> None:
    workspace = Workspace(root)
    assert workspace.resolve("sub/../notes.txt") == root.resolve() / "notes.txt"
    assert workspace.resolve(str(root / "sub")) == root.resolve() / "sub"
    assert workspace.resolve(None) == root.resolve()


def test_a_symlink_escaping_the_workspace_is_refused(root: Path) -> None:
    (root / "escape").symlink_to(root.parent)
    (root / "passwd").symlink_to("/etc/passwd")
    (root / "inside").symlink_to(root / "sub")
    workspace = Workspace(root)
    for path in ("escape/outside.txt", "escape", "passwd"):
        with pytest.raises(WorkspaceError):
            workspace.resolve(path)
    assert workspace.resolve("inside/code.py") == root.resolve() / "sub" / "code.py"


async def test_read_file_refuses_traversal_as_an_error_result(registry: ToolRegistry) -> None:
    result = await call(registry, "read_file", '{"path": "../../etc/passwd"}')
    assert result.is_error and "outside the workspace" in result.content
    assert "root:" not in result.content


async def test_list_directory(registry: ToolRegistry, root: Path) -> None:
    (root / "escape").symlink_to(root.parent)
    result = await call(registry, "list_directory", "{}")
    assert not result.is_error
    assert "notes.txt (23 bytes)" in result.content and "sub/ (directory)" in result.content
    assert ".hidden" not in result.content and "1 hidden not shown" in result.content
    assert "escape (link to outside the workspace)" in result.content
    shown = await call(registry, "list_directory", '{"path": ".", "show_hidden": true}')
    assert ".hidden" in shown.content


async def test_file_names_with_escapes_are_cleaned(registry: ToolRegistry, root: Path) -> None:
    (root / "evil\x1b]0;pwned\x07name.txt").write_text("x")
    result = await call(registry, "list_directory", "{}")
    assert "\x1b" not in result.content and "\x07" not in result.content
    assert "]0;pwnedname.txt" in result.content


async def test_read_file_text_binary_and_huge(registry: ToolRegistry, root: Path) -> None:
    (root / "ansi.txt").write_text("\x1b[2Jcleared\u202eevil\n")
    text = await call(registry, "read_file", '{"path": "ansi.txt"}')
    assert text.content == "[2Jclearedevil\n"
    (root / "blob.bin").write_bytes(b"\x00\x01\x02" * 1000)
    binary = await call(registry, "read_file", '{"path": "blob.bin"}')
    assert binary.binary and "binary output: 3,000 bytes" in binary.content
    (root / "big.txt").write_bytes(b"line of text\n" * 800_000)  # about 10 MB
    big = await call(registry, "read_file", '{"path": "big.txt"}')
    assert big.truncated and len(big.content) <= MODEL_OUTPUT_LIMIT
    assert "characters cut" in big.content
    missing = await call(registry, "read_file", '{"path": "nope.txt"}')
    assert missing.is_error and "does not exist" in missing.content


async def test_search_files(registry: ToolRegistry, root: Path) -> None:
    (root / "escape").symlink_to(root.parent)  # not followed out of the workspace
    (root / "outside-link.txt").symlink_to(root.parent / "outside.txt")
    result = await call(registry, "search_files", '{"text": "needle"}')
    assert result.content.splitlines() == ["notes.txt:2: needle here", "sub/code.py:1: x = 1  # needle"]
    only_py = await call(registry, "search_files", '{"text": "NEEDLE", "glob": "*.py", "ignore_case": true}')
    assert only_py.content.splitlines() == ["sub/code.py:1: x = 1  # needle"]
    none = await call(registry, "search_files", '{"text": "yours"}')
    assert "no matches" in none.content


async def test_write_file_inside_and_outside(registry: ToolRegistry, root: Path) -> None:
    done = await call(registry, "write_file", '{"path": "new/dir/out.txt", "content": "hello"}')
    assert not done.is_error and (root / "new" / "dir" / "out.txt").read_text() == "hello"
    await call(registry, "write_file", '{"path": "new/dir/out.txt", "content": "!", "append": true}')
    assert (root / "new" / "dir" / "out.txt").read_text() == "hello!"
    refused = await call(registry, "write_file", '{"path": "../outside.txt", "content": "x"}')
    assert refused.is_error and (root.parent / "outside.txt").read_text() == "not yours"


async def test_write_file_does_not_follow_a_link_out(registry: ToolRegistry, root: Path) -> None:
    (root / "link.txt").symlink_to(root.parent / "outside.txt")
    refused = await call(registry, "write_file", '{"path": "link.txt", "content": "x"}')
    assert refused.is_error and "outside the workspace" in refused.content
    assert (root.parent / "outside.txt").read_text() == "not yours"


def test_workspace_defaults_to_the_current_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Workspace().root == Path(os.path.realpath(tmp_path))
