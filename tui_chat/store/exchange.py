"""Chats in and out: the JSON export (`export_format`), reading it back, and a Markdown document.

`chat_to_json` and `chat_from_json` are inverses: importing an export gives the same chat, ids,
times, statuses, tool decisions and attachments included. An imported file is untrusted: it is
checked against the schema (every problem named by its path) and its text cleaned of terminal
controls before anything is written.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import sqlite3
from typing import Any

from ..checking import Problems
from ..checking.json_schema import rules_from_json_schema
from ..checking.tables import check_value
from ..chunks import OpaqueBlock, ReplyStatus, Role, Usage
from ..safe_text import clean
from . import reads
from .export_format import FORMAT, SCHEMA, VERSION
from .records import (
    AttachmentRef,
    ChatInfo,
    ChatRecord,
    MessageRecord,
    ToolCallRecord,
    ToolDecision,
    VoiceTurn,
)
from .schema import StoreError

Blobs = dict[str, bytes]
"""Attachment bytes by sha256."""


def export_chat(conn: sqlite3.Connection, chat_id: str) -> dict[str, Any]:
    """The chat with this id as an export document (run it on the store's thread: `Store.run`)."""
    record = reads.load_chat(conn, chat_id)
    hashes = {ref.sha256 for message in record.messages for ref in message.attachments}
    return chat_to_json(record, {sha: reads.attachment_data(conn, sha) for sha in sorted(hashes)})


def chat_to_json(record: ChatRecord, blobs: Blobs) -> dict[str, Any]:
    """`record` (and the bytes of its attachments) as an export document."""
    info = record.info
    return {
        "format": FORMAT,
        "version": VERSION,
        "chat": {
            "id": info.id,
            "title": info.title,
            "created_at": info.created_at,
            "updated_at": info.updated_at,
            "provider": info.provider,
            "model": info.model,
            "pack": info.pack,
            "prompt": info.prompt,
            "variables": dict(info.variables),
        },
        "messages": [_message_to_json(message) for message in record.messages],
        "attachments": {sha: base64.b64encode(data).decode("ascii") for sha, data in blobs.items()},
    }


def _message_to_json(m: MessageRecord) -> dict[str, Any]:
    return {
        "id": m.id,
        "parent_id": m.parent_id,
        "role": m.role.value,
        "text": m.text,
        "status": m.status.value,
        "error": m.error,
        "created_at": m.created_at,
        "provider": m.provider,
        "model": m.model,
        "pack": m.pack,
        "prompt": m.prompt,
        "variables": None if m.variables is None else dict(m.variables),
        "usage": None if m.usage is None else {"input_tokens": m.usage.input_tokens, "output_tokens": m.usage.output_tokens},
        "cost_usd": m.cost_usd,
        "tool_call_id": m.tool_call_id,
        "opaque": [{"provider": b.provider, "kind": b.kind, "data": b.data} for b in m.opaque],
        "tool_calls": [
            {
                "call_id": c.call_id,
                "name": c.name,
                "arguments": c.arguments,
                "decision": c.decision.value if c.decision else None,
                "edited_arguments": c.edited_arguments,
                "reason": c.reason,
                "result": c.result,
                "result_is_error": c.result_is_error,
            }
            for c in m.tool_calls
        ],
        "voice": None
        if m.voice is None
        else {"started_ms": m.voice.started_ms, "ended_ms": m.voice.ended_ms, "barge_in": m.voice.barge_in},
        "attachments": [{"sha256": a.sha256, "name": a.name, "mime": a.mime, "size": a.size} for a in m.attachments],
        "chunks": [list(chunk) for chunk in m.chunks],
    }


def chat_from_json(text: str, source: str) -> tuple[ChatRecord, Blobs]:
    """Read an export document; `StoreError` naming `source` and each problem's path when it is not one."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise StoreError(f"{source}: not JSON ({error})") from None
    problems = Problems(root="$")
    check_value(data, rules_from_json_schema(SCHEMA), (), problems)
    if problems.messages:
        raise StoreError(f"{source}: not a tui-chat chat export: " + "; ".join(problems.messages[:5]))
    blobs: Blobs = {}
    for sha, encoded in data["attachments"].items():
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise StoreError(f"{source}: attachment {clean(sha)!r} is not base64") from None
        if hashlib.sha256(blob).hexdigest() != sha:
            raise StoreError(f"{source}: attachment {clean(sha)!r} does not match its sha256")
        blobs[sha] = blob
    chat = data["chat"]
    info = ChatInfo(
        id=clean(chat["id"]),
        title=clean(chat["title"]),
        created_at=clean(chat["created_at"]),
        updated_at=clean(chat["updated_at"]),
        provider=_clean(chat["provider"]),
        model=_clean(chat["model"]),
        pack=_clean(chat["pack"]),
        prompt=_clean(chat["prompt"]),
        variables={clean(k): clean(v) for k, v in chat["variables"].items()},
        message_count=len(data["messages"]),
    )
    messages = tuple(_message_from_json(m, info.id) for m in data["messages"])
    missing = {a.sha256 for m in messages for a in m.attachments} - blobs.keys()
    if missing:
        raise StoreError(f"{source}: attachments without their bytes: {', '.join(sorted(missing))}")
    if problem := _inconsistency(messages):
        raise StoreError(f"{source}: not a consistent chat: {problem}")
    return ChatRecord(info, messages), blobs


def _inconsistency(messages: tuple[MessageRecord, ...]) -> str | None:
    """What the schema cannot say of a chat: ids once each, every parent an earlier message of the
    file, every tool call id once per message (None when all hold)."""
    seen: set[str] = set()
    for m in messages:
        if m.id in seen:
            return f"the message id {m.id!r} is used twice"
        if m.parent_id is not None and m.parent_id not in seen:
            return f"the parent {m.parent_id!r} of message {m.id!r} is not an earlier message of the file"
        seen.add(m.id)
        calls = [c.call_id for c in m.tool_calls]
        if twice := next((call for call in calls if calls.count(call) > 1), None):
            return f"message {m.id!r} has the tool call id {twice!r} twice"
    return None


def _clean(value: str | None) -> str | None:
    return None if value is None else clean(value)


def _message_from_json(m: dict[str, Any], chat_id: str) -> MessageRecord:
    usage, voice = m["usage"], m["voice"]
    return MessageRecord(
        id=clean(m["id"]),
        chat_id=chat_id,
        parent_id=_clean(m["parent_id"]),
        role=Role(m["role"]),
        text=clean(m["text"]),
        status=ReplyStatus(m["status"]),
        created_at=clean(m["created_at"]),
        error=_clean(m["error"]),
        provider=_clean(m["provider"]),
        model=_clean(m["model"]),
        pack=_clean(m["pack"]),
        prompt=_clean(m.get("prompt")),
        variables=None if m.get("variables") is None else {clean(k): clean(v) for k, v in m["variables"].items()},
        usage=None if usage is None else Usage(usage["input_tokens"], usage["output_tokens"]),
        cost_usd=m["cost_usd"],
        tool_call_id=_clean(m["tool_call_id"]),
        opaque=tuple(OpaqueBlock(b["provider"], b["kind"], b["data"]) for b in m["opaque"]),  # sent back, never shown
        tool_calls=tuple(
            ToolCallRecord(
                call_id=clean(c["call_id"]),
                name=clean(c["name"]),
                arguments=c["arguments"],  # exact bytes: shown escaped by the approval view, never cleaned
                decision=None if c["decision"] is None else ToolDecision(c["decision"]),
                edited_arguments=c["edited_arguments"],
                reason=_clean(c["reason"]),
                result=_clean(c["result"]),
                result_is_error=c["result_is_error"],
            )
            for c in m["tool_calls"]
        ),
        voice=None if voice is None else VoiceTurn(voice["started_ms"], voice["ended_ms"], voice["barge_in"]),
        attachments=tuple(AttachmentRef(a["sha256"], clean(a["name"]), clean(a["mime"]), a["size"]) for a in m["attachments"]),
        chunks=tuple((at, size) for at, size in m.get("chunks", ())),
    )


def import_chat(conn: sqlite3.Connection, record: ChatRecord, blobs: Blobs, source: str = "the chat") -> str:
    """Write `record` (read from `source`, which errors name) as it is, in one transaction, or
    nothing (run it on the store's thread: `Store.run`).

    A chat whose id, or one of whose message ids, is already in the history is refused rather than
    doubled or overwritten; a constraint the file breaks otherwise is one `StoreError` too.
    """
    info = record.info
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("SELECT 1 FROM chats WHERE id = ?", (info.id,)).fetchone():
            raise StoreError(
                f"{source}: the chat {info.id} is already in the history", hint="delete it first to replace it"
            )
        if taken := _messages_in_the_history(conn, record):
            raise StoreError(
                f"{source}: the message {taken[0]} is already in the history, in chat {taken[1]}",
                hint="a chat exported from this history with its id changed: import the file as it was exported",
            )
        conn.execute(
            "INSERT INTO chats (id, title, created_at, updated_at, provider, model, pack, prompt, variables)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (info.id, info.title, info.created_at, info.updated_at, info.provider, info.model, info.pack,
             info.prompt, json.dumps(dict(info.variables))),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO attachments (sha256, mime, size, data) VALUES (?, ?, ?, ?)",
            [(sha, _mime_of(record, sha), len(data), data) for sha, data in blobs.items()],
        )
        for m in record.messages:
            _insert_message(conn, info.id, m)
    except sqlite3.IntegrityError as error:
        conn.execute("ROLLBACK")
        raise StoreError(f"{source}: cannot be imported ({error}); nothing was imported") from None
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return info.id


def _messages_in_the_history(conn: sqlite3.Connection, record: ChatRecord) -> tuple[str, str] | None:
    """A message id of `record` that the history already holds, with its chat's id (None: none)."""
    ids = [m.id for m in record.messages]
    for start in range(0, len(ids), 500):  # (SQLite takes at most 999 parameters in old builds)
        part = ids[start : start + 500]
        row = conn.execute(
            f"SELECT id, chat_id FROM messages WHERE id IN ({', '.join('?' * len(part))}) LIMIT 1", part
        ).fetchone()
        if row is not None:
            return row[0], row[1]
    return None


def _mime_of(record: ChatRecord, sha: str) -> str:
    return next((a.mime for m in record.messages for a in m.attachments if a.sha256 == sha), "application/octet-stream")


def _insert_message(conn: sqlite3.Connection, chat_id: str, m: MessageRecord) -> None:
    conn.execute(
        "INSERT INTO messages (id, chat_id, parent_id, role, text, status, error, created_at, provider, model, pack,"
        " prompt, variables, input_tokens, output_tokens, cost_usd, tool_call_id, opaque, chunks) VALUES"
        " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (m.id, chat_id, m.parent_id, m.role.value, m.text, m.status.value, m.error, m.created_at, m.provider,
         m.model, m.pack, m.prompt, None if m.variables is None else json.dumps(dict(m.variables)), m.usage and m.usage.input_tokens, m.usage and m.usage.output_tokens, m.cost_usd,
         m.tool_call_id, json.dumps([{"provider": b.provider, "kind": b.kind, "data": b.data} for b in m.opaque]),
         json.dumps([list(chunk) for chunk in m.chunks])),
    )
    conn.executemany(
        "INSERT INTO tool_calls (message_id, call_id, name, arguments, decision, edited_arguments, reason, result,"
        " result_is_error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(m.id, c.call_id, c.name, c.arguments, c.decision and c.decision.value, c.edited_arguments, c.reason,
          c.result, int(c.result_is_error)) for c in m.tool_calls],
    )
    if m.voice is not None:
        conn.execute(
            "INSERT INTO voice_turns (message_id, started_ms, ended_ms, barge_in) VALUES (?, ?, ?, ?)",
            (m.id, m.voice.started_ms, m.voice.ended_ms, int(m.voice.barge_in)),
        )
    conn.executemany(
        "INSERT INTO message_attachments (message_id, position, sha256, name) VALUES (?, ?, ?, ?)",
        [(m.id, n, a.sha256, a.name) for n, a in enumerate(m.attachments)],
    )


# --- Markdown ---------------------------------------------------------------------------------

_SPEAKER = {Role.USER: "You", Role.ASSISTANT: "Assistant", Role.SYSTEM: "System", Role.TOOL: "Tool"}


def chat_to_markdown(record: ChatRecord) -> str:
    """The chat as a document to read: a heading per turn, replies as the Markdown they are, tool calls
    as fenced blocks with the decision, statuses and errors said in words, spoken turns marked as such
    (`_spoken_heading`, `_spoken_note`)."""
    info = record.info
    spoken = sum(1 for m in record.messages if m.voice is not None)
    size = f"{info.message_count} messages" + (f", {spoken} spoken" if spoken else "")
    about = " · ".join(part for part in (_model_of(info.provider, info.model), info.pack and f"pack {info.pack}",
                                          f"started {_when(info.created_at)}", size) if part)
    out = [f"# {info.title or 'Untitled chat'}", "", f"*{about}*", ""]
    versions = _versions(record)
    for m in record.messages:
        heading = _SPEAKER[m.role] + _spoken_heading(m)
        if m.status is not ReplyStatus.COMPLETE:
            heading += f" — {m.status.value}"
        out += [f"## {heading}", ""]
        if m.id in versions:
            out += [_version_note(m, *versions[m.id]), ""]
        if m.text:
            out += [_below_the_turn_headings(m.text.rstrip()), ""]
        if m.error:
            out += [f"> **Error:** {m.error}", ""]
        for call in m.tool_calls:
            out += _tool_call_markdown(call)
        for a in m.attachments:
            out += [f"- Attachment: `{a.name}` ({a.mime}, {a.size} bytes, sha256 {a.sha256[:12]}…)", ""]
        small_print = [note for note in (_spoken_note(m), _usage_note(m)) if note]
        if small_print:
            out += [f"<sub>{' · '.join(small_print)}</sub>", ""]
    return "\n".join(out).rstrip() + "\n"


TURN_LEVEL = 2
"""The level of a turn's heading (`## You`): a message's own headings go below it."""

_HEADING = re.compile(r"( {0,3})(#{1,6})(?=[ \t]|$)")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def _below_the_turn_headings(text: str) -> str:
    """`text` with its ATX headings made `TURN_LEVEL` deeper (at most `######`), so a reply's own
    `# Title` never stands level with the turns; fenced code is left exactly as it is."""
    lines = text.split("\n")
    fence = ""
    for n, line in enumerate(lines):
        if opened := _FENCE.match(line):
            mark = opened.group(1)
            if not fence:
                fence = mark
            elif mark[0] == fence[0] and len(mark) >= len(fence) and not line.strip().strip(mark[0]):
                fence = ""
        elif not fence and (heading := _HEADING.match(line)):
            indent, hashes = heading.groups()
            lines[n] = indent + "#" * min(6, len(hashes) + TURN_LEVEL) + line[heading.end() :]
    return "\n".join(lines)


def _versions(record: ChatRecord) -> dict[str, tuple[int, int]]:
    """(version, versions) of each message that has siblings (a retried reply: another child of the
    same parent), in the order they were written."""
    siblings: dict[tuple[str, Role], list[str]] = {}
    for m in record.messages:
        if m.parent_id is not None:
            siblings.setdefault((m.parent_id, m.role), []).append(m.id)
    return {
        message_id: (n, len(ids))
        for ids in siblings.values()
        if len(ids) > 1
        for n, message_id in enumerate(ids, 1)
    }


def _version_note(m: MessageRecord, version: int, versions: int) -> str:
    """Which version of its turn `m` is, and what replaced what."""
    what, how = ("reply", "a retry") if m.role is Role.ASSISTANT else ("message", "an edit")
    if version < versions:
        return f"*Version {version} of {versions} of this {what}: replaced by a later version ({how}).*"
    earlier = "the earlier version" if versions == 2 else "the earlier versions"
    return f"*Version {version} of {versions} of this {what}: replaces {earlier}.*"


def _spoken_heading(m: MessageRecord) -> str:
    """What follows the speaker in a heading: a reply's model, and whether it was said aloud (the
    user's words over a reply that was playing are said to be)."""
    about = [m.model] if m.role is Role.ASSISTANT and m.model else []
    if m.voice is not None:
        about.append("spoken over the reply" if m.voice.barge_in else "spoken")
    return f" ({', '.join(about)})" if about else ""


def _spoken_note(m: MessageRecord) -> str | None:
    """Where a spoken turn sat in its voice session's audio; a cut reply keeps only the words heard."""
    if m.voice is None:
        return None
    notes = []
    if m.voice.started_ms is not None and m.voice.ended_ms is not None:
        notes.append(f"spoken {_clock(m.voice.started_ms)}–{_clock(m.voice.ended_ms)} in the voice session")
    if m.role is Role.ASSISTANT and m.status is ReplyStatus.INTERRUPTED:
        notes.append("cut off: only the words heard are kept")
    return " · ".join(notes) or None


def _usage_note(m: MessageRecord) -> str | None:
    if m.usage is None:
        return None
    cost = f", ${m.cost_usd:.4f}" if m.cost_usd is not None else ""
    return f"{m.usage.input_tokens} tokens in, {m.usage.output_tokens} out{cost}"


def _clock(ms: int) -> str:
    """Milliseconds of audio as minutes, seconds and tenths (0:01.5)."""
    tenths = round(ms / 100)
    return f"{tenths // 600}:{tenths % 600 / 10:04.1f}"


def _tool_call_markdown(call: ToolCallRecord) -> list[str]:
    decision = {
        None: "not decided",
        ToolDecision.APPROVED: "approved",
        ToolDecision.EDITED: "approved with edited arguments",
        ToolDecision.DENIED: "denied" + (f": {call.reason}" if call.reason else ""),
    }[call.decision]
    lines = [f"**Tool call** `{call.name}` — {decision}", "", _fence(call.edited_arguments or call.arguments, "json")]
    if call.result is not None:
        lines += ["", "Result" + (" (error)" if call.result_is_error else "") + ":", "", _fence(call.result, "")]
    return [*lines, ""]


def _fence(text: str, language: str) -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{language}\n{text}\n{ticks}"


def _model_of(provider: str | None, model: str | None) -> str:
    return " / ".join(part for part in (provider, model) if part)


def _when(stamp: str) -> str:
    return stamp[:16].replace("T", " ") + " UTC" if len(stamp) >= 16 else stamp

