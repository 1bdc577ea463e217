"""Checking a model's tool-call arguments against the tool's `parameters` JSON Schema.

The schema is compiled by the one checker (`tui_chat.checking.json_schema`, which lists what is
checked); each problem is named with the path of the value it is about: `$` is the whole
arguments object, `$.files[2].name` a value inside it.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..checking import Problems
from ..checking.json_schema import UnsupportedSchema, rules_from_json_schema
from ..checking.tables import check_value


def validate(value: Any, schema: Mapping[str, Any] | bool) -> list[str]:
    """Every way `value` breaks `schema`, each as "<path>: <what is wrong>"; [] when it conforms.

    A schema that cannot be checked faithfully refuses every call, saying why.
    """
    try:
        rule = rules_from_json_schema(schema)
    except UnsupportedSchema as error:
        return [f"$: the tool's parameters cannot be checked ({error}), so it cannot be called"]
    problems = Problems(root="$")
    check_value(value, rule, (), problems)
    return problems.messages
