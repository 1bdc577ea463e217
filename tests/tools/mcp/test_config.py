"""The `[mcp.servers.NAME]` tables, `${NAME}` references, registry names, and `tui-chat mcp import`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tui_chat.config import load_config
from tui_chat.config.mcp_import import import_servers
from tui_chat.errors import ConfigError
from tui_chat.tools.mcp.config import MissingVariable, expand
from tui_chat.tools.mcp.names import tool_name
from tui_chat.tools.registry import Approval


def test_servers_are_checked_by_the_config_checker(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[mcp.servers.files]\ncommand = "npx"\nargs = ["-y", "server"]\nenv = { A = "1" }\n'
        '[mcp.servers.gh]\nurl = "https://example.com/mcp"\nheaders = { Authorization = "Bearer ${GH}" }\n'
        'approval = "auto"\ntools = { delete_repo = "deny", bad = "sometimes" }\ntimeout = 5\n'
        '[mcp.servers.both]\ncommand = "x"\nurl = "https://example.com"\n'
        '[mcp.servers.neither]\nenabled = false\n'
        '[mcp.servers."a__b"]\ncommand = "x"\n'
        '[mcp.servers.typo]\ncomand = "x"\nurl = "ftp://x"\n'
    )
    loaded = load_config(path)
    files, gh = loaded.config.mcp["files"], loaded.config.mcp["gh"]
    assert (files.transport, files.args, dict(files.env)) == ("stdio", ("-y", "server"), {"A": "1"})
    assert gh.transport == "http" and gh.timeout == 5.0
    assert gh.approval_for("delete_repo") is Approval.DENY and gh.approval_for("other") is Approval.AUTO
    assert set(loaded.config.mcp) == {"files", "gh"}
    text = "\n".join(loaded.warnings)
    assert f"{path}:9: mcp.servers.gh.tools.bad: expected \"ask\", \"auto\" or \"deny\"" in text
    assert "mcp.servers.both: needs one of command (stdio) or url (HTTP); ignored" in text
    assert "mcp.servers.neither: needs one of" in text
    assert 'mcp.servers.a__b: a server name is' in text
    assert "mcp.servers.typo.comand: unknown setting (did you mean 'command'?)" in text
    assert "mcp.servers.typo.url: expected an http:// or https:// URL" in text
    assert "Bearer" not in text and "${GH}" not in repr(gh)


def test_references_are_read_from_the_environment_and_a_missing_one_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_X", "abc")
    monkeypatch.delenv("NOT_SET_X", raising=False)
    assert expand({"Authorization": "Bearer ${TOKEN_X}", "Price": "$5"}) == {"Authorization": "Bearer abc", "Price": "$5"}
    with pytest.raises(MissingVariable, match="^X-Key: the environment variable NOT_SET_X is not set$"):
        expand({"X-Key": "${NOT_SET_X}"})


def test_registry_names_are_safe_deterministic_and_distinct() -> None:
    allowed = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
    assert tool_name("github", "search_issues") == "mcp__github__search_issues"
    long_a, long_b = tool_name("s", "x" * 80 + "a"), tool_name("s", "x" * 80 + "b")
    dotted, underscored = tool_name("s", "a.b"), tool_name("s", "a_b")
    for name in (long_a, long_b, dotted, tool_name("s", "\x1b[31mred"), tool_name("s", "名前")):
        assert allowed.match(name), name
    assert long_a != long_b and dotted != underscored
    assert tool_name("s", "x" * 80 + "a") == long_a


def test_import_adds_servers_keeping_the_files_layout(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    original = '# my settings\ntheme = "nord"   # the best one\n\n[mcp.servers.kept]\ncommand = "old"\n'
    config.write_text(original)
    source = tmp_path / "claude_desktop_config.json"
    source.write_text(json.dumps({"mcpServers": {
        "kept": {"command": "new"},
        "files": {"command": "npx", "args": ["-y", "fs", "/tmp"], "env": {"K": "${HOME_TOKEN}"}},
        "remote": {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ${T}"}, "disabled": True},
        "bad name!": {"command": "x"},
        "nothing": {"type": "stdio"},
    }}))
    report = import_servers(source, config)
    assert report[0] == "kept: already in the config; left as it is"
    assert report[1] == "files: added (stdio)" and report[2] == "remote: added (http)"
    assert report[3].startswith("bad name!: skipped") and report[4].startswith("nothing: skipped")
    text = config.read_text()
    assert text.startswith(original)
    loaded = load_config(config)
    assert loaded.warnings == []
    assert loaded.config.mcp["kept"].command == "old"
    assert loaded.config.mcp["files"].args == ("-y", "fs", "/tmp")
    assert loaded.config.mcp["remote"].enabled is False


def test_import_refuses_a_file_without_servers(tmp_path: Path) -> None:
    source = tmp_path / "x.json"
    source.write_text('{"servers": 3}')
    with pytest.raises(ConfigError, match="no \"mcpServers\" object"):
        import_servers(source, tmp_path / "config.toml")


def test_import_warns_of_literal_secrets_naming_server_and_key_never_the_value(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    source = tmp_path / "mcp.json"
    source.write_text(json.dumps({"mcpServers": {
        "github": {"url": "https://example.com/mcp", "headers": {"Authorization": "Bearer ghp_literal123", "X-Ref": "Bearer ${T}"}},
        "files": {"command": "npx", "env": {"API_KEY": "sk-literal456", "FROM_ENV": "${HOME_TOKEN}"}},
    }}))
    github, files = import_servers(source, config)
    assert github == (
        "github: added (http); warning: header Authorization is written into the config as it is;"
        " if it is a secret, write \"${GITHUB_AUTHORIZATION}\" there and set that variable in the environment"
    )
    assert files == (
        "files: added (stdio); warning: env API_KEY is written into the config as it is;"
        " if it is a secret, write \"${API_KEY}\" there and set that variable in the environment"
    )
    assert "ghp_literal123" not in github + files and "sk-literal456" not in github + files
