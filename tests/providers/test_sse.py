"""The incremental SSE parser: the event-stream rules, split input, and the size bound."""

from __future__ import annotations

import pytest

from tui_chat.providers.sse import EventTooLarge, SSEEvent, SSEParser

STREAM = (
    ": comment to start\n"
    "event: first\n"
    "id: 1\n"
    "data: {\"a\": \"é\"}\n"
    "\n"
    "data: line one\n"
    "data: line two\n"
    "retry: 1500\n"
    "\n"
    "data:no space\n"
    "data\n"
    "\n"
    "event: only-event\n"
    "\n"
).encode()

EXPECTED = [
    SSEEvent("first", '{"a": "é"}', "1"),
    SSEEvent("message", "line one\nline two", "1", 1500),
    SSEEvent("message", "no space\n", "1"),
    SSEEvent("only-event", "", "1"),
]


def parse_in_pieces(data: bytes, size: int) -> tuple[list[SSEEvent], SSEParser]:
    parser = SSEParser()
    events: list[SSEEvent] = []
    for i in range(0, len(data), size):
        events.extend(parser.feed(data[i : i + size]))
    events.extend(parser.close())
    return events, parser


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
def test_any_split_gives_the_same_events(size: int) -> None:
    events, parser = parse_in_pieces(STREAM, size)
    assert events == EXPECTED
    assert parser.comments == 1


@pytest.mark.parametrize("newline", [b"\r\n", b"\r"])
@pytest.mark.parametrize("size", [1, 5, 10_000])
def test_crlf_and_cr_line_endings(newline: bytes, size: int) -> None:
    events, _ = parse_in_pieces(STREAM.replace(b"\n", newline), size)
    assert events == EXPECTED


def test_bom_is_skipped_and_utf8_is_decoded_once_whole() -> None:
    data = "\ufeffdata: 日本\n\n".encode()
    events, _ = parse_in_pieces(data, 1)
    assert events == [SSEEvent("message", "日本")]


def test_last_event_without_blank_line_is_kept_at_close() -> None:
    parser = SSEParser()
    assert parser.feed(b"data: [DONE]") == []
    assert parser.close() == [SSEEvent("message", "[DONE]")]


def test_event_over_the_limit_is_refused() -> None:
    parser = SSEParser(max_event_bytes=100)
    assert parser.feed(b"data: " + b"a" * 50 + b"\n") == []
    with pytest.raises(EventTooLarge):
        parser.feed(b"data: " + b"b" * 60 + b"\n")


def test_unfinished_line_over_the_limit_is_refused_before_its_end() -> None:
    parser = SSEParser(max_event_bytes=1000)
    parser.feed(b"data: " + b"x" * 900)
    with pytest.raises(EventTooLarge):
        parser.feed(b"x" * 200)


def test_limit_counts_one_event_not_the_stream() -> None:
    parser = SSEParser(max_event_bytes=100)
    events = []
    for _ in range(50):
        events += parser.feed(b"data: " + b"z" * 80 + b"\n\n")
    assert len(events) == 50
