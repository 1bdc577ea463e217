"""dispatch(): every kind of voice event reaches its handler method; the model's chunks by what they say."""

from __future__ import annotations

from typing import Any

from tui_chat.chunks import Done, ErrorChunk, Interrupted, Role, TextDelta, TranscriptChunk
from tui_chat.voice.dispatch import VoiceEventHandler, dispatch
from tui_chat.voice.events import (
    EVENT_NAMES,
    BargeIn,
    InputWarning,
    LevelReading,
    ProviderChunk,
    ReplyEnded,
    ReplyStarted,
    SessionEnded,
    SessionError,
    TurnEnded,
    TurnStarted,
)


class Recorder(VoiceEventHandler):
    """Notes the name of each method called."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        method = super().__getattribute__(name)
        if name.startswith("on_") and callable(method):
            calls = super().__getattribute__("calls")

            def noted(*args: Any) -> Any:
                calls.append(name)
                return method(*args)

            return noted
        return method


EVENTS = [
    LevelReading(0.0, -30.0, -20.0, -20.0, False, True),
    TurnStarted(0.1, 0.3),
    TurnEnded(1.0, 0.1, 1.8, "silence", True),
    BargeIn(2.0, "immediate", 1, 1.5, 0.5),
    ReplyStarted(1.9, 1),
    ReplyEnded(2.0, 1, "interrupted", 2.0, 0.5, "Well"),
    InputWarning(0.0, "clipping"),
    SessionError(3.0, "lost"),
    SessionEnded(3.0, 1, 1, "lost"),
]


def test_each_kind_of_event_goes_to_the_method_named_after_it() -> None:
    assert {type(event) for event in EVENTS} == set(EVENT_NAMES)
    for event in EVENTS:
        handler = Recorder()
        dispatch(event, handler)
        assert handler.calls == [f"on_{EVENT_NAMES[type(event)]}"]


def test_the_models_chunks_go_to_the_method_for_what_they_say() -> None:
    cases = [
        (TranscriptChunk("hi", Role.USER, final=True), "on_user_words"),
        (TranscriptChunk("hello", Role.ASSISTANT), "on_reply_words"),
        (TextDelta("hello"), "on_reply_words"),
        (ErrorChunk("rate limited"), "on_provider_error"),
        (Done(), "on_reply_done"),
        (Interrupted("barge-in"), "on_other_chunk"),
    ]
    for chunk, method in cases:
        handler = Recorder()
        dispatch(ProviderChunk(1.0, chunk), handler)
        assert handler.calls == ["on_provider_chunk", method]
