"""Which calls run unasked, which ask, which are refused."""

from __future__ import annotations

from tui_chat.chunks import ToolSpec
from tui_chat.tools import Approval, ApprovalPolicy, Tool, builtin_tools, parse_tool_settings

TOOLS = builtin_tools()


def mode(policy: ApprovalPolicy, name: str) -> Approval:
    return policy.rule(TOOLS[name]).mode


def test_defaults() -> None:
    policy = ApprovalPolicy()
    assert mode(policy, "calculator") is Approval.AUTO
    assert mode(policy, "current_time") is Approval.AUTO
    for name in ("read_file", "list_directory", "search_files", "write_file", "run_shell"):
        assert mode(policy, name) is Approval.ASK, name


def test_yes_never_auto_approves_shell_or_writes() -> None:
    policy = ApprovalPolicy(yes=True)
    assert mode(policy, "list_directory") is Approval.AUTO
    assert mode(policy, "run_shell") is Approval.ASK
    assert mode(policy, "write_file") is Approval.ASK
    assert "always asks" in policy.rule(TOOLS["run_shell"]).reason


def test_config_and_pack_settings() -> None:
    settings, warnings = parse_tool_settings(
        {"list_directory": {"approval": "auto"}, "run_shell": {"approval": "auto"}, "calculator": {"approval": "deny"}}
    )
    assert warnings == []
    policy = ApprovalPolicy.from_settings(settings, pack={"read_file": "auto", "current_time": "ask"})
    assert mode(policy, "list_directory") is Approval.AUTO
    assert mode(policy, "run_shell") is Approval.ASK  # always asks, whatever the config says
    assert mode(policy, "calculator") is Approval.DENY
    assert mode(policy, "read_file") is Approval.AUTO
    assert mode(policy, "current_time") is Approval.ASK
    assert ApprovalPolicy.from_settings({}, pack={"run_shell": "deny"}, yes=True).rule(TOOLS["run_shell"]).mode is Approval.DENY


def test_always_allow_for_the_chat_except_for_tools_that_always_ask() -> None:
    policy = ApprovalPolicy()
    policy.allow_for_chat(TOOLS["read_file"])
    policy.allow_for_chat(TOOLS["run_shell"])
    assert mode(policy, "read_file") is Approval.AUTO
    assert mode(policy, "run_shell") is Approval.ASK
    assert not policy.can_always_allow(TOOLS["write_file"])


def test_client_tools_always_ask() -> None:
    client = Tool(ToolSpec("lookup"), None, kind="client")
    assert ApprovalPolicy(yes=True).rule(client).mode is Approval.ASK


def test_bad_settings_are_dropped_with_a_warning() -> None:
    settings, warnings = parse_tool_settings(
        {"a": {"approval": "maybe", "command": "ls", "timeout": -1, "colour": 1}, "b": 3}, "cfg.toml"
    )
    assert settings["a"].approval is None and settings["a"].command is None and settings["a"].timeout is None
    assert warnings == [
        'cfg.toml: tools.a.approval: expected "ask", "auto" or "deny"; ignored',
        "cfg.toml: tools.a.command: expected a list of strings, the program first; ignored",
        "cfg.toml: tools.a.timeout: expected a number of seconds > 0; ignored",
        "cfg.toml: tools.a.colour: unknown setting (known: approval, command, timeout); ignored",
        "cfg.toml: tools.b: expected a table; ignored",
    ]
