"""Prompt packs: the shared PromptKit examples and our bundled packs load, validate and render;
bad packs and bad variables are refused with messages that say where and why."""

from __future__ import annotations

import builtins
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tui_chat import packs
from tui_chat.conversation import PromptSettings
from tui_chat.errors import PackError
from tui_chat.packs import (
    DEFAULT_PACK_ID,
    MAX_PACK_BYTES,
    bundled_pack_paths,
    find_pack,
    load_pack,
    parse_var_assignments,
    validate_pack,
)

# The shared reference data sits beside the repository: <clone>/main is the repo, <clone>/shared the data.
SHARED = Path(__file__).resolve().parents[2] / "shared" / "promptkit"
SCHEMA = SHARED / "promptpack.schema.json"
NO_SHARED = f"the shared PromptKit data is not at {SHARED} (expected beside the repository)"
BUNDLED_NAMES = ["assistant", "storyteller", "tools-demo", "voice-assistant"]


def _examples() -> list[Any]:
    found = sorted((SHARED / "examples").glob("*.pack.json"))
    return found or [pytest.param(None, marks=pytest.mark.skip(reason=NO_SHARED))]


@pytest.fixture(scope="module")
def optional_schema() -> Draft202012Validator | None:
    """The shared PromptPack schema, or None where the shared data is absent."""
    if not SCHEMA.is_file():
        return None
    return Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def schema(optional_schema: Draft202012Validator | None) -> Draft202012Validator:
    if optional_schema is None:
        pytest.skip(NO_SHARED)
    return optional_schema


def _dummies(prompt: packs.PackPrompt) -> dict[str, str]:
    """A value for every required variable that has no default."""
    return {v.name: "dummy" for v in prompt.variables if v.required and v.default is None}


def _minimal() -> dict[str, Any]:
    """A small valid pack to break in one place per test."""
    return {
        "id": "test-pack",
        "name": "Test Pack",
        "version": "1.0.0",
        "template_engine": {"version": "v1", "syntax": "{{variable}}", "features": ["basic_substitution", "fragments"]},
        "fragments": {"rules": "Be brief with {{name}}."},
        "prompts": {
            "main": {
                "id": "main",
                "name": "Main",
                "version": "1.0.0",
                "system_template": "Hello {{ name }}. {{fragment:rules}}",
                "variables": [{"name": "name", "type": "string", "required": False, "default": "friend"}],
                "tools": ["echo"],
                "tool_policy": {"tool_choice": "auto", "max_rounds": 2},
                "parameters": {"temperature": 0.5, "top_k": None},
            }
        },
        "tools": {
            "echo": {
                "name": "echo",
                "description": "Echo the text back",
                "parameters": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]},
            }
        },
    }


def _write(tmp_path: Path, data: Any, name: str = "test.pack.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2), encoding="utf-8")
    return path


def _with_variable(tmp_path: Path, variable: dict[str, Any], template: str = "Value: {{v}}") -> packs.Pack:
    data = _minimal()
    data["prompts"]["main"]["system_template"] = template
    data["prompts"]["main"]["variables"] = [{"name": "v", "required": False, **variable}]
    return load_pack(_write(tmp_path, data))


# --- the shared examples and the bundled packs ------------------------------------------------------


@pytest.mark.parametrize("path", _examples(), ids=lambda p: getattr(p, "name", "none"))
def test_shared_example_loads_validates_and_renders(path: Path, schema: Draft202012Validator) -> None:
    assert not list(schema.iter_errors(json.loads(path.read_text(encoding="utf-8"))))
    assert validate_pack(path) == []
    pack = load_pack(path)
    assert pack.prompts and pack.path == path
    for key, prompt in pack.prompts.items():
        rendered = pack.render(key, _dummies(prompt))
        assert rendered.system.strip()
        assert "{{fragment:" not in rendered.system
        assert [t.name for t in rendered.tools] == [pack.tools[name].name for name in prompt.tools]


@pytest.mark.parametrize("name", BUNDLED_NAMES)
def test_bundled_pack_is_valid_against_the_shared_schema(name: str, schema: Draft202012Validator) -> None:
    path = find_pack(name)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in schema.iter_errors(json.loads(path.read_text("utf-8")))]
    assert errors == []
    assert validate_pack(path) == []
    pack = load_pack(path)
    assert pack.id == name and path.name == f"{name}.pack.json"
    for key, prompt in pack.prompts.items():
        rendered = pack.render(key, _dummies(prompt))
        assert rendered.warnings == ()  # every placeholder filled, nothing left as written
        assert "{{" not in rendered.system


def test_bundled_packs_are_the_expected_ones() -> None:
    assert [p.name for p in bundled_pack_paths()] == [f"{n}.pack.json" for n in BUNDLED_NAMES]
    assert load_pack(find_pack(DEFAULT_PACK_ID)).id == DEFAULT_PACK_ID


def test_storyteller_runs_hot_and_limits_its_genre() -> None:
    pack = load_pack(find_pack("storyteller"))
    rendered = pack.render(None, {"genre": "mystery"})
    assert rendered.parameters["temperature"] > 1.0
    assert "mystery" in rendered.system
    with pytest.raises(PackError, match="genre"):
        pack.render(None, {"genre": "western"})


def test_voice_assistant_asks_for_short_plain_speech() -> None:
    rendered = load_pack(find_pack("voice-assistant")).render()
    assert "Markdown" in rendered.system and "aloud" in rendered.system
    assert rendered.parameters["max_tokens"] <= 400


def test_tools_demo_declares_its_tools_and_policy() -> None:
    pack = load_pack(find_pack("tools-demo"))
    rendered = pack.render()
    assert [t.name for t in rendered.tools] == ["calculator", "current_time", "list_directory"]
    for tool in rendered.tools:
        assert tool.description and tool.parameters["type"] == "object"
        assert set(tool.parameters.get("required", [])) <= set(tool.parameters["properties"])
    assert rendered.tool_policy is not None and rendered.tool_policy["tool_choice"] == "auto"
    blocked = pack.render("calculator")
    assert [t.name for t in blocked.tools] == ["calculator"]  # the blocklist removes the other two


# --- bad files ------------------------------------------------------------------------------------


def test_invalid_json_names_file_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, '{\n  "id": "x",\n  "name": ,\n}')
    with pytest.raises(PackError) as caught:
        load_pack(path)
    assert str(path) in str(caught.value)
    assert "line 3, column 11" in str(caught.value)
    assert validate_pack(path) == [f"{path}: invalid JSON at line 3, column 11: Expecting value"]


def test_a_file_over_the_size_cap_is_refused_without_being_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "huge.pack.json"
    with path.open("wb") as file:
        file.truncate(50 * 1024 * 1024)  # sparse: costs no disk and no time

    def no_reading(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the pack was opened; it should have been refused from its size alone")

    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(builtins, "open", no_reading)
    with pytest.raises(PackError) as caught:
        load_pack(path)
    message = str(caught.value)
    assert str(path) in message and "52,428,800 bytes" in message and f"{MAX_PACK_BYTES:,}" in message


def test_a_directory_or_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="not a regular file"):
        load_pack(tmp_path)
    with pytest.raises(PackError, match="No such file"):
        load_pack(tmp_path / "absent.pack.json")


def _break(data: dict[str, Any], where: str, value: Any) -> None:
    """Set (or with value `...` delete) the item at key path `where`, written as in the messages."""
    *parents, last = [int(part) if part.isdigit() else part for part in re.findall(r"[^.\[\]]+", where)]
    node: Any = data
    for part in parents:
        node = node[part]
    if value is ...:
        del node[last]
    else:
        node[last] = value


WRONG = [
    ("prompts", [], "prompts: must be an object, not array"),
    ("prompts.main.system_template", 42, "prompts.main.system_template: must be a string, not integer"),
    ("prompts.main.variables", {"name": "x"}, "prompts.main.variables: must be an array, not object"),
    ("prompts.main.variables[0].name", "bad name", "prompts.main.variables[0].name: 'bad name' is not a variable name"),
    ("prompts.main.variables[0].type", "text", "prompts.main.variables[0].type: must be one of string"),
    ("prompts.main.variables[0].required", "no", "prompts.main.variables[0].required: must be a boolean, not string"),
    ("prompts.main.parameters.temperature", 3, "prompts.main.parameters.temperature: 3 is out of range"),
    ("prompts.main.parameters.temprature", 1, "temprature: is not a known key; did you mean 'temperature'?"),
    ("prompts.main.tool_policy.tool_choice", "always", "prompts.main.tool_policy.tool_choice: must be one of auto"),
    ("prompts.main.tool_policy.max_rounds", 0, "prompts.main.tool_policy.max_rounds: 0 is out of range"),
    ("tools.echo.parameters.type", "array", 'tools.echo.parameters.type: must be "object"'),
    ("tools.echo.name", "echo me", "tools.echo.name: 'echo me' is not a tool name"),
    ("fragments.rules", ["a"], "fragments.rules: must be a string, not array"),
    ("id", "Bad_Id", "id: 'Bad_Id' is not a pack id"),
    ("version", "one", "version: 'one' is not a semantic version"),
    ("template_engine", ..., "template_engine: is required"),
    ("prompts.main.system_template", "", "prompts.main.system_template: must not be empty"),
]


@pytest.mark.parametrize(("where", "value", "expected"), WRONG, ids=[w[0] for w in WRONG])
def test_wrong_types_and_values_name_the_key_path(
    where: str, value: Any, expected: str, tmp_path: Path, optional_schema: Draft202012Validator | None
) -> None:
    data = _minimal()
    if optional_schema is not None:
        assert optional_schema.is_valid(data)
    _break(data, where, value)
    if optional_schema is not None:
        assert not optional_schema.is_valid(data), "the shared schema should refuse this too"
    path = _write(tmp_path, data)
    problems = validate_pack(path)
    assert any(expected in problem for problem in problems), problems
    with pytest.raises(PackError) as caught:
        load_pack(path)
    assert str(path) in str(caught.value) and expected in str(caught.value)


def test_a_key_that_is_not_a_plain_name_is_shown_escaped(tmp_path: Path) -> None:
    data = _minimal()
    data["prompts"]["odd key\x1b"] = {**data["prompts"].pop("main"), "system_template": None}
    path = _write(tmp_path, data)
    assert validate_pack(path) == [f'{path}:21: prompts["odd key\\u001b"].system_template: must be a string, not null']


def test_every_problem_is_reported(tmp_path: Path) -> None:
    data = _minimal()
    data["name"] = 7
    data["prompts"]["main"]["version"] = "latest"
    data["prompts"]["main"]["tools"] = ["echo", "missing_tool"]
    path = _write(tmp_path, data)
    assert validate_pack(path) == [
        f"{path}:3: name: must be a string, not integer",
        f"{path}:20: prompts.main.version: 'latest' is not a semantic version like 1.0.0",
        f"{path}:32: prompts.main.tools[1]: 'missing_tool' is not in the pack's tools (defined: echo)",
    ]


def test_unsupported_template_syntax_is_a_problem(tmp_path: Path) -> None:
    data = _minimal()
    data["template_engine"]["syntax"] = "${variable}"
    data["template_engine"]["features"] = ["loops"]
    path = _write(tmp_path, data)
    assert validate_pack(path) == [
        f"{path}:7: template_engine.syntax: '${{variable}}' is not supported; tui-chat reads {{{{variable}}}}",
        f"{path}:9: template_engine.features[0]: 'loops' is not supported; tui-chat supports basic_substitution and fragments",
    ]


def test_fragment_problems_are_found_on_load(tmp_path: Path) -> None:
    data = _minimal()
    data["prompts"]["main"]["system_template"] = "{{fragment:rule}}"
    data["fragments"]["other"] = "{{fragment:absent}}"
    path = _write(tmp_path, data)
    assert validate_pack(path) == [
        (
            f"{path}:22: prompts.main.system_template: refers to fragment 'rule', which the pack does not define;"
            " did you mean 'rules'?"
        ),
        f"{path}:15: fragments.other: refers to fragment 'absent', which the pack does not define",
    ]
    data = _minimal()
    data["fragments"] = {"a": "x {{fragment:b}}", "b": "y {{ fragment: a }}"}
    data["prompts"]["main"]["system_template"] = "{{fragment:a}}"
    path = _write(tmp_path, data)
    assert validate_pack(path) == [
        f"{path}:22: prompts.main.system_template: fragments refer to each other in a loop: a -> b -> a"
    ]


def test_fragments_that_multiply_are_refused(tmp_path: Path) -> None:
    data = _minimal()
    data["fragments"] = {f"f{i}": f"{{{{fragment:f{i + 1}}}}}" * 4 for i in range(20)}
    data["fragments"]["f20"] = "lol " * 100
    data["prompts"]["main"]["system_template"] = "{{fragment:f0}}"
    path = _write(tmp_path, data)
    (problem,) = validate_pack(path)
    assert problem.startswith(f"{path}:") and ": prompts.main.system_template: " in problem and "more than" in problem


def test_a_default_that_breaks_its_rules_is_a_problem_of_the_pack(tmp_path: Path) -> None:
    data = _minimal()
    data["prompts"]["main"]["variables"][0]["validation"] = {"enum": ["alice", "bob"]}
    path = _write(tmp_path, data)
    assert validate_pack(path) == [
        f"{path}:27: prompts.main.variables[0].default: variable 'name' = 'friend' is not one of the"
        ' allowed values: "alice", "bob" (validation.enum)'
    ]


def test_a_bad_validation_rule_is_a_problem(tmp_path: Path) -> None:
    data = _minimal()
    data["prompts"]["main"]["variables"][0]["validation"] = {"pattern": "([a-z", "minimum": 1}
    path = _write(tmp_path, data)
    problems = validate_pack(path)
    assert problems[0] == f"{path}:30: prompts.main.variables[0].validation.minimum: applies only to variables of type number"
    assert problems[1].startswith(f"{path}:29: prompts.main.variables[0].validation.pattern: is not a valid regular expression")


def test_a_required_variable_without_default_is_not_a_pack_problem(tmp_path: Path) -> None:
    data = _minimal()
    data["prompts"]["main"]["variables"][0] = {"name": "name", "type": "string", "required": True}
    assert validate_pack(_write(tmp_path, data)) == []


# --- prompts and variables --------------------------------------------------------------------------


def test_unknown_prompt_suggests_close_names() -> None:
    pack = load_pack(find_pack("assistant"))
    with pytest.raises(PackError) as caught:
        pack.prompt("concize")
    assert "no prompt 'concize'; did you mean 'concise'?" in str(caught.value)
    assert str(pack.path) in str(caught.value)
    assert caught.value.hint == "its prompts are assistant, concise, coder"
    with pytest.raises(PackError, match="no prompt 'cdr'"):
        pack.render("cdr")


def test_default_prompt_is_assistant_or_default_else_the_first(tmp_path: Path) -> None:
    data = _minimal()
    second = {**data["prompts"]["main"], "id": "assistant", "name": "Second"}
    data["prompts"]["assistant"] = second
    assert load_pack(_write(tmp_path, data)).prompt(None).name == "Second"
    assert load_pack(find_pack("storyteller")).prompt(None).id == "story"  # neither: the first


def test_missing_required_variable_names_it_the_prompt_and_the_file(tmp_path: Path) -> None:
    pack = _with_variable(tmp_path, {"type": "string", "required": True, "description": "what to show"})
    with pytest.raises(PackError) as caught:
        pack.render("main")
    message = str(caught.value)
    assert str(pack.path) in message and "prompt 'main'" in message
    assert "variable 'v' is required and has no value (what to show)" in message
    assert "--var v=VALUE" in caught.value.hint


BREAKS = [
    ({"type": "string", "validation": {"enum": ["red", "green"]}}, "blue", "is not one of the allowed values", "enum"),
    ({"type": "string", "validation": {"pattern": "^[0-9]{5}$"}}, "1234", "does not match the pattern", "pattern"),
    ({"type": "string", "validation": {"min_length": 3}}, "ab", "is shorter than 3 characters", "min_length"),
    ({"type": "string", "validation": {"max_length": 3}}, "abcd", "is longer than 3 characters", "max_length"),
    ({"type": "number", "validation": {"minimum": 1}}, "0.5", "is less than the minimum, 1", "minimum"),
    ({"type": "number", "validation": {"maximum": 10}}, "11", "is more than the maximum, 10", "maximum"),
    ({"type": "number", "validation": {"enum": [1, 2]}}, "3", "is not one of the allowed values: 1, 2", "enum"),
]


@pytest.mark.parametrize(("variable", "value", "message", "rule"), BREAKS, ids=[b[3] for b in BREAKS])
def test_a_value_breaking_a_rule_names_variable_rule_and_value(
    variable: dict[str, Any], value: str, message: str, rule: str, tmp_path: Path
) -> None:
    pack = _with_variable(tmp_path, variable)
    with pytest.raises(PackError) as caught:
        pack.render("main", {"v": value})
    assert f"variable 'v' = '{value}' {message}" in str(caught.value)
    assert f"(validation.{rule})" in str(caught.value)
    assert str(pack.path) in str(caught.value)


@pytest.mark.parametrize(
    ("kind", "value"),
    [("number", "twelve"), ("number", "1e999"), ("number", "NaN"), ("boolean", "maybe"), ("array", "{}"), ("object", "[")],
)
def test_a_value_of_the_wrong_type_is_refused(kind: str, value: str, tmp_path: Path) -> None:
    pack = _with_variable(tmp_path, {"type": kind})
    with pytest.raises(PackError, match=re.escape(f"variable 'v' = '{value}' is not ") + f"an? {kind}"):
        pack.render("main", {"v": value})


@pytest.mark.parametrize(
    ("kind", "value", "shown"),
    [("number", "3.50", "3.50"), ("boolean", "TRUE", "TRUE"), ("array", '[1, "a"]', '[1, "a"]'), ("number", 7, "7")],
)
def test_typed_values_are_accepted_and_inserted_as_written(kind: str, value: Any, shown: str, tmp_path: Path) -> None:
    pack = _with_variable(tmp_path, {"type": kind})
    assert pack.render("main", {"v": value}).system == f"Value: {shown}"


# --- rendering ---------------------------------------------------------------------------------------


def test_defaults_fragments_and_spaced_placeholders(tmp_path: Path) -> None:
    pack = load_pack(_write(tmp_path, _minimal()))
    assert pack.render().system == "Hello friend. Be brief with friend."
    assert pack.render("main", {"name": "Ada"}).system == "Hello Ada. Be brief with Ada."


def test_values_are_inserted_literally(tmp_path: Path) -> None:
    pack = load_pack(_write(tmp_path, _minimal()))
    value = "{{name}} {{fragment:rules}} \\1 $0 %s"
    assert pack.render("main", {"name": value}).system == f"Hello {value}. Be brief with {value}."


def test_nested_default_json_values_are_written_as_json(tmp_path: Path) -> None:
    pack = _with_variable(tmp_path, {"type": "object", "default": {"a": [1, True]}})
    assert pack.render().system == 'Value: {"a": [1, true]}'


def test_optional_variable_without_default_is_empty(tmp_path: Path) -> None:
    pack = _with_variable(tmp_path, {"type": "string"}, template="[{{v}}]")
    assert pack.render().system == "[]"


def test_unknown_and_undeclared_variables_warn_but_do_not_fail(tmp_path: Path) -> None:
    data = _minimal()
    data["prompts"]["main"]["system_template"] = "Hi {{name}}, it is {{today}} and {{weather}}."
    path = _write(tmp_path, data)
    rendered = load_pack(path).render(None, {"weather": "sunny", "colour": "blue"})
    assert rendered.system == "Hi friend, it is {{today}} and sunny."
    assert rendered.warnings == (
        "{{today}} has no value and is left as it is",
        "variable 'colour' is not used by prompt 'main'; ignored",
    )
    assert validate_pack(path) == []


def test_rendered_prompt_gives_conversation_settings(tmp_path: Path) -> None:
    rendered = load_pack(_write(tmp_path, _minimal())).render()
    settings = rendered.settings()
    assert isinstance(settings, PromptSettings)
    assert settings.system == rendered.system
    assert settings.parameters == {"temperature": 0.5}  # top_k: null means no limit, so it is left out
    assert [t.name for t in settings.tools] == ["echo"]
    assert settings.tools[0].parameters["required"] == ["text"]
    assert settings.label == "Test Pack / Main"
    assert rendered.tool_policy == {"tool_choice": "auto", "max_rounds": 2}


# --- finding packs and --var ------------------------------------------------------------------------


def test_find_pack_by_id_stem_or_path(tmp_path: Path) -> None:
    assert find_pack("tools-demo").name == "tools-demo.pack.json"
    path = _write(tmp_path, _minimal(), name="mine.pack.json")
    assert find_pack(str(path)) == path


def test_find_pack_suggests_close_names(tmp_path: Path) -> None:
    with pytest.raises(PackError) as caught:
        find_pack("storyteler")
    assert "no pack named 'storyteler'; did you mean 'storyteller'?" in str(caught.value)
    assert "assistant" in caught.value.hint
    with pytest.raises(PackError, match="no pack file at"):
        find_pack(str(tmp_path / "absent.pack.json"))


def test_parse_var_assignments() -> None:
    assert parse_var_assignments(["genre=mystery", " who = a=b ", "empty="]) == {
        "genre": "mystery",
        "who": " a=b ",
        "empty": "",
    }
    with pytest.raises(PackError, match="--var 'genre' is not of the form name=value"):
        parse_var_assignments(["genre"])
    with pytest.raises(PackError, match="name=value"):
        parse_var_assignments(["=value"])


def test_loaded_packs_are_independent_of_the_file_data(tmp_path: Path) -> None:
    data = _minimal()
    original = copy.deepcopy(data)
    load_pack(_write(tmp_path, data)).render()
    assert data == original
