"""`check_table`: a decoded table (a TOML table, a JSON object) against its rules, key by key."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

from .problems import Problems
from .rules import Keys, Rule, Wrong, suggest, toml_type

_NOTHING: Any = object()


def check_value(value: Any, rule: Rule, keys: Keys, problems: Problems, *, wrong: str = "") -> Any:
    """What `value` (at `keys`) keeps of `rule`, each problem added; `_NOTHING` if nothing is kept."""
    try:
        return rule(value)
    except Wrong as error:
        for inside, message in error.inside:
            problems.add((*keys, *inside), f"{message}; {wrong}" if wrong else message)
        return error.kept if error.keeps_part else _NOTHING


def check_table(
    value: Any,
    rules: Mapping[str, Rule],
    keys: Keys,
    problems: Problems,
    *,
    wrong: str = "ignored",
    unknown: Callable[[str], str] | None = None,
    unknown_outcome: str = "ignored",
    other: Rule | None = None,
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """The values of table `value` that keep their rules; every other key is a problem.

    A wrong value is named with what it should be and `wrong` (what is done instead: "ignored",
    "using the default"); a value with wrong parts inside (a nested table or array) keeps its good
    parts. A key without a rule is checked by `other` if given, else it is unknown: named with
    `unknown(key)`, by default a suggestion, and `unknown_outcome`. A `required` key that is
    missing is a problem too. An empty outcome adds nothing (the caller says what happens).
    """
    if not isinstance(value, dict):
        problems.add(keys, f"expected a table, got {toml_type(value)}; ignored")
        return {}
    good: dict[str, Any] = {}
    for key, item in value.items():
        rule = rules.get(key, other)
        if rule is None:
            about = unknown(key) if unknown else f"unknown setting{suggest(key, rules)}"
            problems.add((*keys, key), f"{about}; {unknown_outcome}" if unknown_outcome else about)
            continue
        kept = check_value(item, rule, (*keys, key), problems, wrong=wrong)
        if kept is not _NOTHING:
            good[key] = kept
    for key in required:
        if key not in value:
            problems.add((*keys, key), "is required")
    return good
