"""Make untrusted text (model output, tool output, transcripts, file names) safe for a terminal.

Such text is data: it must never carry escape or control sequences to the terminal, and it must
never be parsed as Rich/Textual markup. `clean()` removes every C0 control except newline and tab,
DEL, the C1 range (which includes the 8-bit CSI and OSC introducers) and the Unicode bidi
overrides and isolates that can make text display in another order than it runs. What is left
of an escape sequence after its ESC is gone is printable text and is shown literally. A lone
surrogate (JSON's `\\ud800`, which a server or a file can send) becomes U+FFFD, so the text can
always be written as UTF-8. Zero-width characters stay: they move no cursor, and joiners build emoji.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .chunks import Chunk, ErrorChunk, Interrupted, TextDelta, TranscriptChunk

_REMOVED = (
    [c for c in range(0x00, 0x20) if c not in (0x09, 0x0A)]
    + [0x7F]
    + list(range(0x80, 0xA0))
    + [0x200E, 0x200F, 0x061C]  # directional marks
    + list(range(0x202A, 0x202F))  # LRE RLE PDF LRO RLO
    + list(range(0x2066, 0x206A))  # LRI RLI FSI PDI
)
_SURROGATES = range(0xD800, 0xE000)
_TABLE: dict[int, str | None] = {**dict.fromkeys(_REMOVED), **dict.fromkeys(_SURROGATES, "\ufffd")}


def clean(text: str) -> str:
    """Return `text` without terminal control characters and bidi controls.

    Carriage returns are dropped too: a lone CR would let text overwrite what is already on
    a line. CRLF line ends therefore become LF. Lone surrogates become U+FFFD.
    """
    return text.translate(_TABLE)


def clean_data(value: Any) -> Any:
    """`value` (what a JSON or TOML file parsed to) with every string value in it cleaned.

    For a file whose every string is untrusted text and is read in one piece (a config file, a
    pack): one call where it is read, instead of one per field wherever a field is shown. Keys are
    left as written: they are names, and a message about one names it exactly, controls escaped
    (`checking.problems.key_path`); a key used as text must be cleaned where it is used so.
    """
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {key: clean_data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean_data(item) for item in value]
    return value


def escape_controls(text: str) -> str:
    """Show control and bidi characters and lone surrogates as visible escapes (`\\x1b`, `\\u202e`, `\\ud800`)
    instead of removing them.

    For places where a person must see exactly what would run, such as an approval dialog.
    """
    out: list[str] = []
    for char in text:
        code = ord(char)
        if code in _TABLE:
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def clean_chunk(chunk: Chunk) -> Chunk:
    """`chunk` with the untrusted text in it (reply text, transcripts, error messages) cleaned."""
    if isinstance(chunk, TextDelta):
        return TextDelta(clean(chunk.text))
    if isinstance(chunk, TranscriptChunk):
        return replace(chunk, text=clean(chunk.text))
    if isinstance(chunk, ErrorChunk):
        return ErrorChunk(clean(chunk.message), clean(chunk.hint), chunk.retryable)
    if isinstance(chunk, Interrupted):
        return Interrupted(clean(chunk.reason))
    return chunk
