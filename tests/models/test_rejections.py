"""Reading the rejected parameter out of the services' real 400 bodies."""

from __future__ import annotations

import json

import pytest

from tui_chat.models import anthropic_rejected_param, openai_rejected_param

OPENAI_TEMPERATURE = {
    "error": {
        "message": "Unsupported parameter: 'temperature' is not supported with this model.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "unsupported_parameter",
    }
}
OPENAI_TEMPERATURE_VALUE = {
    "error": {
        "message": "Unsupported value: 'temperature' does not support 0.1 with this model. Only the default (1) value is supported.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "unsupported_value",
    }
}
OPENAI_MAX_TOKENS = {
    "error": {
        "message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
        "type": "invalid_request_error",
        "param": "max_tokens",
        "code": "unsupported_parameter",
    }
}
OPENAI_NULL_CODE = {
    "error": {
        "message": "Unsupported parameter: 'top_p' is not supported with this model.",
        "type": "invalid_request_error",
        "param": "top_p",
        "code": None,
    }
}
OPENAI_OTHER_400 = {
    "error": {
        "message": "Invalid value for 'messages': expected an array.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "invalid_value",
    }
}
ANTHROPIC_DEPRECATED = {
    "type": "error",
    "error": {"type": "invalid_request_error", "message": "`temperature` is deprecated for this model."},
    "request_id": "req_011CcdaYmh8phpL6wJe2Fynr",
}
ANTHROPIC_EXTRA_INPUT = {
    "type": "error",
    "error": {"type": "invalid_request_error", "message": "top_k: Extra inputs are not permitted"},
    "request_id": "req_011CabJ9ACVfYuqhf5QDYJdP",
}
ANTHROPIC_BOTH = {
    "type": "error",
    "error": {
        "type": "invalid_request_error",
        "message": "`temperature` and `top_p` cannot both be specified for this model. Please use only one.",
    },
}
ANTHROPIC_OTHER_400 = {
    "type": "error",
    "error": {"type": "invalid_request_error", "message": "messages: at least one message is required"},
}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (OPENAI_TEMPERATURE, "temperature"),
        (OPENAI_TEMPERATURE_VALUE, "temperature"),
        (OPENAI_MAX_TOKENS, "max_tokens"),
        (OPENAI_NULL_CODE, "top_p"),
        (OPENAI_OTHER_400, None),
    ],
)
def test_openai_400_bodies(body: dict[str, object], param: str | None) -> None:
    assert openai_rejected_param(body) == param
    assert openai_rejected_param(json.dumps(body)) == param
    assert openai_rejected_param(json.dumps(body).encode()) == param


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (ANTHROPIC_DEPRECATED, "temperature"),
        (ANTHROPIC_EXTRA_INPUT, "top_k"),
        (ANTHROPIC_BOTH, "top_p"),
        (ANTHROPIC_OTHER_400, None),
    ],
)
def test_anthropic_400_bodies(body: dict[str, object], param: str | None) -> None:
    assert anthropic_rejected_param(body) == param
    assert anthropic_rejected_param(json.dumps(body).encode()) == param


@pytest.mark.parametrize("body", [b"<html>Bad Gateway</html>", b"", "[]", {"error": "nope"}, {"type": "error"}])
def test_bodies_that_are_not_the_services_error_shape_name_nothing(body: object) -> None:
    assert openai_rejected_param(body) is None  # type: ignore[arg-type]
    assert anthropic_rejected_param(body) is None  # type: ignore[arg-type]
