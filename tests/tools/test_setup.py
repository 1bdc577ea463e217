"""Pack tools are bound to a command, a built-in or a person, under the pack's limits."""

from __future__ import annotations

import sys
from pathlib import Path

from tui_chat.chunks import ToolCall, ToolSpec
from tui_chat.conversation import Conversation
from tui_chat.packs import find_pack, load_pack
from tui_chat.providers.demo import DemoProvider
from tui_chat.providers.registry import ProviderSettings
from tui_chat.tools import ToolConfig, build_tool_loop, tools_for_prompt

from .helpers import ScriptedApprover


def test_the_tools_demo_pack_binds_to_the_built_ins(tmp_path: Path) -> None:
    rendered = load_pack(find_pack("tools-demo")).render()
    conversation = Conversation(DemoProvider(ProviderSettings(options={"speed": 0})), rendered.settings())
    loop, warnings = build_tool_loop(conversation, tool_policy=rendered.tool_policy, workspace=tmp_path)
    assert warnings == []
    assert loop.registry.names() == ["calculator", "current_time", "list_directory"]
    assert all(tool.kind == "builtin" and tool.handler is not None for tool in loop.registry)
    assert loop.limits.max_rounds == 4 and loop.limits.max_tool_calls_per_turn == 6
    assert loop.limits.tool_choice == "auto"
    assert loop.registry.workspace.root == tmp_path.resolve()
    # The pack's description is what the model sees; both schemas are checked.
    assert loop.registry.get("list_directory").spec == rendered.tools[2]
    assert loop.registry.problems(ToolCall("c", "calculator", '{"expression": ""}')) is not None


def test_a_blocklisted_tool_is_not_offered() -> None:
    rendered = load_pack(find_pack("tools-demo")).render("calculator")
    conversation = Conversation(DemoProvider(), rendered.settings())
    loop, _ = build_tool_loop(conversation, tool_policy=rendered.tool_policy)
    assert loop.registry.names() == ["calculator"]


def test_command_bindings_and_client_tools(tmp_path: Path) -> None:
    specs = [ToolSpec("lookup_order"), ToolSpec("ask_manager"), ToolSpec("read_file")]
    raw = {"lookup_order": {"command": [sys.executable, "lookup.py"], "timeout": 5}}
    registry = tools_for_prompt(specs, settings=raw, workspace=tmp_path)
    assert registry.get("lookup_order").kind == "command" and registry.get("lookup_order").timeout == 10
    assert registry.get("ask_manager").is_client
    assert registry.get("read_file").kind == "builtin"
    checked = tools_for_prompt(specs, settings={"read_file": ToolConfig(command=("cat",))})
    assert checked.get("read_file").kind == "command"  # a config binding wins over the built-in


def test_settings_warnings_are_returned(tmp_path: Path) -> None:
    conversation = Conversation(DemoProvider())
    loop, warnings = build_tool_loop(
        conversation,
        tools=[ToolSpec("calculator")],
        settings={"calculator": {"approval": "sometimes"}},
        pack_approvals={"calculator": "never"},
        approver=ScriptedApprover(),
        yes=True,
        always_allowed=(allowed := {"calculator"}),
    )
    assert len(warnings) == 2 and loop.policy.yes and loop.policy.allowed is allowed
