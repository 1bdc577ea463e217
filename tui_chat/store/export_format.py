"""The JSON export format, version 1, as JSON Schema: the one description of the format.

`docs/chat-export.schema.json` is this schema written out (a test keeps them equal), and `import`
checks every file against it before reading anything. It uses only the JSON Schema subset the
project's checker compiles (`tui_chat.checking.json_schema`), so there are no `$ref`s: the
message schema is written once here and placed where it is used.

Branches fit as they are: every message has its `parent_id`, and several messages with the same
parent are versions of one turn. Attachments fit too: a message lists its files by sha256, and
`attachments` maps each sha256 to its bytes (base64), once, however many messages use it.
"""

from __future__ import annotations

from typing import Any

FORMAT = "tui-chat.chat"
VERSION = 1

_TEXT = {"type": "string"}
_MAYBE_TEXT = {"type": ["string", "null"]}
_MAYBE_COUNT = {"type": ["integer", "null"], "minimum": 0}
_SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def _object(properties: dict[str, Any], *optional: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


_TOOL_CALL = _object({
    "call_id": _TEXT,
    "name": _TEXT,
    "arguments": {"type": "string", "description": "the JSON text exactly as the model sent it"},
    "decision": {"enum": ["approved", "edited", "denied", None]},
    "edited_arguments": _MAYBE_TEXT,
    "reason": _MAYBE_TEXT,
    "result": _MAYBE_TEXT,
    "result_is_error": {"type": "boolean"},
})  # fmt: skip

_MESSAGE = _object({
    "id": _TEXT,
    "parent_id": {"type": ["string", "null"], "description": "the message this one follows; siblings are versions"},
    "role": {"enum": ["system", "user", "assistant", "tool"]},
    "text": _TEXT,
    "status": {"enum": ["streaming", "complete", "cancelled", "interrupted", "error"]},
    "error": _MAYBE_TEXT,
    "created_at": _TEXT,
    "provider": _MAYBE_TEXT,
    "model": _MAYBE_TEXT,
    "pack": _MAYBE_TEXT,
    "prompt": {"type": ["string", "null"], "description": "on a user message: the prompt in force when it was sent"
               " (optional: files written before it was kept have none)"},
    "variables": {
        "oneOf": [{"type": "null"}, {"type": "object", "additionalProperties": {"type": "string"}}],
        "description": "on a user message: the pack variables in force when it was sent (optional, as prompt)",
    },
    "usage": {
        "oneOf": [
            {"type": "null"},
            _object({"input_tokens": {"type": "integer", "minimum": 0},
                     "output_tokens": {"type": "integer", "minimum": 0}}),
        ]
    },
    "cost_usd": {"type": ["number", "null"], "minimum": 0},
    "tool_call_id": {"type": ["string", "null"], "description": "on a tool message: the call it answers"},
    "opaque": {
        "type": "array",
        "description": "provider-specific blocks sent back with the history (signed thinking)",
        "items": _object({"provider": _TEXT, "kind": _TEXT, "data": _TEXT}),
    },
    "tool_calls": {"type": "array", "items": _TOOL_CALL},
    "voice": {
        "oneOf": [
            {"type": "null"},
            _object({"started_ms": _MAYBE_COUNT, "ended_ms": _MAYBE_COUNT, "barge_in": {"type": "boolean"}}),
        ]
    },
    "attachments": {
        "type": "array",
        "items": _object({"sha256": _SHA256, "name": _TEXT, "mime": _TEXT, "size": {"type": "integer", "minimum": 0}}),
    },
    "chunks": {
        "type": "array",
        "description": "how the text streamed, for replay: [milliseconds since the reply started, characters]"
                       " per chunk (optional: files written before it was kept have none)",
        "items": {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2},
    },
}, "chunks", "prompt", "variables")  # fmt: skip

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://github.com/tui-chat/tui-chat/docs/chat-export.schema.json",
    "title": "tui-chat chat export",
    "description": "One chat, as `tui-chat history export ID --format json` writes it and `history import` reads it.",
    **_object({
        "format": {"const": FORMAT},
        "version": {"const": VERSION},
        "chat": _object({
            "id": _TEXT,
            "title": _TEXT,
            "created_at": _TEXT,
            "updated_at": _TEXT,
            "provider": _MAYBE_TEXT,
            "model": _MAYBE_TEXT,
            "pack": _MAYBE_TEXT,
            "prompt": _MAYBE_TEXT,
            "variables": {"type": "object", "additionalProperties": {"type": "string"}},
        }),
        "messages": {"type": "array", "description": "in the order they were written", "items": _MESSAGE},
        "attachments": {
            "type": "object",
            "description": "sha256 -> the file's bytes in base64, once per distinct file",
            "additionalProperties": {"type": "string", "contentEncoding": "base64"},
        },
    }),
}  # fmt: skip
