"""What a tool call gives back: text for the model, the whole output for the screen.

Tool output is untrusted. Whatever a handler returns (text or bytes) becomes a `ToolResult` here:
cleaned of terminal control sequences (`safe_text.clean`), binary output replaced by a note of its
size, and the text for the model cut to its head and tail with a marker in between. The whole
(cleaned) output stays on the result for the UI, itself bounded by `FULL_OUTPUT_LIMIT`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..safe_text import clean

MODEL_OUTPUT_LIMIT = 20_000
"""At most this many characters of a tool's output go to the model."""

FULL_OUTPUT_LIMIT = 10 * 1024 * 1024
"""At most this many characters (or bytes) of a tool's output are kept at all."""

PREVIEW_CHARS = 200

_BINARY_SAMPLE = 8192


@dataclass(frozen=True, slots=True)
class ToolResult:
    """The outcome of one tool call.

    `content` is what the model receives (cleaned, capped); `full_output` the whole cleaned output
    for the UI; `is_error` marks a failure, refusal or denial. `total_chars` is the size of the
    output before any cut; `truncated` says `content` was cut; `binary` that the output was not text.
    """

    content: str
    is_error: bool = False
    full_output: str = ""
    truncated: bool = False
    binary: bool = False
    total_chars: int = 0

    @property
    def preview(self) -> str:
        """The first line of the result, shortened, for a collapsed tool item."""
        first = self.content.strip().split("\n", 1)[0]
        more = len(first) > PREVIEW_CHARS or "\n" in self.content.strip()
        return (first[: PREVIEW_CHARS - 1] if len(first) > PREVIEW_CHARS else first) + ("…" if more else "")


def error_result(message: str) -> ToolResult:
    """A failed, refused or denied call: `message` goes to the model as an error."""
    text = clean(message)
    return ToolResult(text, is_error=True, full_output=text, total_chars=len(text))


def text_result(text: str, *, is_error: bool = False, limit: int = MODEL_OUTPUT_LIMIT) -> ToolResult:
    """A result from the text a tool produced: cleaned, and cut to `limit` characters for the model."""
    text = clean(text)
    total = len(text)
    full = cut_middle(text, FULL_OUTPUT_LIMIT)
    content = cut_middle(text, limit)
    return ToolResult(content, is_error, full, truncated=len(content) != total, total_chars=total)


def bytes_result(data: bytes, *, is_error: bool = False, total: int | None = None, note: str = "") -> ToolResult:
    """A result from raw output bytes: binary output is noted by its size, text decoded as UTF-8.

    `total` is the size of the whole output when `data` is already a cut-down part of it;
    `note` is added on a line of its own after the output (an exit status, say).
    """
    total = len(data) if total is None else total
    if looks_binary(data):
        text = f"[binary output: {total:,} bytes, not shown]"
        text = f"{text}\n{note}" if note else text
        return ToolResult(clean(text), is_error, clean(text), binary=True, total_chars=total)
    text = data.decode("utf-8", errors="replace")
    if note:
        text += ("\n" if text and not text.endswith("\n") else "") + note
    result = text_result(text, is_error=is_error)
    if total > len(data):
        result = ToolResult(result.content, is_error, result.full_output, True, False, total)
    return result


def looks_binary(data: bytes) -> bool:
    """Whether output is not text: a NUL byte near the start, or much of it not UTF-8."""
    sample = data[:_BINARY_SAMPLE]
    if b"\x00" in sample:
        return True
    decoded = sample.decode("utf-8", errors="replace")
    # A multi-byte character cut at the end of the sample is not a sign of binary data.
    bad = decoded.count("\ufffd") - sample.decode("utf-8", errors="ignore").count("\ufffd")
    return bad > max(4, len(decoded) // 20)


def cut_middle(text: str, limit: int) -> str:
    """`text` if it has at most `limit` characters, else its head and tail with a marker between."""
    if len(text) <= limit:
        return text
    marker_room = 100
    keep = max(limit - marker_room, 2)
    head, tail = keep * 2 // 3, keep - keep * 2 // 3
    omitted = len(text) - head - tail
    return f"{text[:head]}\n\n[… {omitted:,} characters cut; the output has {len(text):,} in all …]\n\n{text[-tail:]}"


class HeadTail:
    """Collects a byte stream, keeping at most `limit` bytes: the head, and a rolling tail after it."""

    def __init__(self, limit: int = FULL_OUTPUT_LIMIT) -> None:
        self.head_limit = limit // 2
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            if len(self.tail) > self.tail_limit:
                del self.tail[: len(self.tail) - self.tail_limit]

    def value(self) -> bytes:
        """What was kept; a marker line stands between head and tail where bytes were dropped."""
        dropped = self.total - len(self.head) - len(self.tail)
        if dropped <= 0:
            return bytes(self.head + self.tail)
        marker = f"\n\n[… {dropped:,} bytes cut …]\n\n".encode()
        return bytes(self.head) + marker + bytes(self.tail)
