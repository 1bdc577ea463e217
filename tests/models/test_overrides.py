"""The config's [models."name"] tables: wrong keys and values are named in the error."""

from __future__ import annotations

import pytest

from tui_chat.errors import ConfigError
from tui_chat.models import Catalog


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"context_window": 0}, '[models."m"] context_window = 0 is not valid'),
        ({"context_window": "big"}, "[models.\"m\"] context_window = 'big' is not valid"),
        ({"max_output": True}, '[models."m"] max_output = True is not valid'),
        ({"input": ["text", "video"]}, "[models.\"m\"] input = ['text', 'video'] is not valid"),
        ({"tools": "yes"}, "[models.\"m\"] tools = 'yes' is not valid"),
        ({"params": ["temperature", "warmth"]}, "[models.\"m\"] params = ['temperature', 'warmth'] is not valid"),
        ({"price_input": -1}, '[models."m"] price_input = -1 is not valid'),
        ({"price_output": "free"}, "[models.\"m\"] price_output = 'free' is not valid"),
        ({"reasoning": "lots"}, "[models.\"m\"] reasoning = 'lots' is not valid"),
        ({"reasoning_levels": []}, '[models."m"] reasoning_levels = [] is not valid'),
        ({"provider": 3}, '[models."m"] provider = 3 is not a provider name'),
        ({"contxt_window": 5}, "[models.\"m\"] has an unknown key 'contxt_window'"),
    ],
)
def test_a_wrong_entry_names_table_key_and_value(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Catalog({"m": table})
    assert raised.value.message == message
    assert raised.value.hint


def test_the_hint_says_what_a_right_value_is() -> None:
    with pytest.raises(ConfigError) as raised:
        Catalog({"m": {"input": ["video"]}})
    assert raised.value.hint == "use a list of audio, image, pdf, text"


def test_a_table_that_is_not_a_table() -> None:
    with pytest.raises(ConfigError, match=r'\[models."m"\] must be a table'):
        Catalog({"m": 5})


def test_reasoning_none_turns_reasoning_off() -> None:
    card = Catalog({"gpt-5-mini": {"reasoning": "none"}}).lookup("openai", "gpt-5-mini")
    assert card.reasoning.kind == "none"


def test_an_overridden_parameter_list_holds_on_every_api_version() -> None:
    card = Catalog({"claude-opus-4-8": {"params": ["temperature"]}}).lookup("anthropic", "claude-opus-4-8")
    assert card.accepted_params("2023-06-01") == card.accepted_params("2026-10-21") == frozenset({"temperature"})
