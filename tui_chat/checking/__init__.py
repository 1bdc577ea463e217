"""One way to describe and check a file or a value: a rule per key, each problem named by its key path.

A file kind (the config and its tables, tool settings, a theme, a PromptPack) is a mapping of
key -> `Rule`; `check_table` checks a decoded table against it and keeps the good values for the
typed model of that file kind. Tool arguments are described by JSON Schema, which
`rules_from_json_schema` compiles into the same kind of rules. `Problems` writes each problem as
`file:line: key.path: what is wrong[; what was done]`.

- `rules`: the `Rule` type, `Wrong`, and the rules shared by every file kind (TOML-worded messages).
- `json_rules`: JSON type names and the JSON-worded rules used by packs and JSON Schema.
- `tables`: `check_table`, a table against its rules (unknown, missing, nested keys).
- `paths`: a key path as text, and the line of a key path in TOML or JSON text.
- `problems`: `Problems`, the located messages of one file or value.
- `json_schema`: `rules_from_json_schema`, the JSON Schema subset tool parameters use, as rules.

Why in-house: it is stdlib only and costs nothing at start-up, where the config is read before the
first screen. pydantic adds about 150 ms to a process that defines one model, jsonschema about
90 ms, msgspec about 26 ms; and none of them gives the messages the tests define (the TOML type
without the value for keys, suggestions for misspelt keys, "using the default").
"""

from __future__ import annotations

from .problems import Problems
from .rules import (
    Rule,
    Wrong,
    choice,
    is_number,
    keep_type,
    non_empty_string,
    number,
    string,
    suggest,
    table,
    toml_type,
)
from .tables import check_table

__all__ = [
    "Problems",
    "Rule",
    "Wrong",
    "check_table",
    "choice",
    "is_number",
    "keep_type",
    "non_empty_string",
    "number",
    "string",
    "suggest",
    "table",
    "toml_type",
]
