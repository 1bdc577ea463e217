"""The chunk values: `TextDelta` is written by hand for speed, and must behave as the frozen dataclasses do."""

from __future__ import annotations

import copy
import pickle
from dataclasses import FrozenInstanceError, dataclass

import pytest

from tui_chat.chunks import Message, OpaqueBlock, OpaqueChunk, Role, TextDelta, chunk_to_dict


@dataclass(frozen=True, slots=True)
class FrozenText:
    """What `TextDelta` was, and still has to act like."""

    text: str


def test_text_delta_is_built_as_before() -> None:
    assert TextDelta("a").text == TextDelta(text="a").text == "a"
    with pytest.raises(TypeError):
        TextDelta()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        TextDelta("a", "b")  # type: ignore[call-arg]
    assert not hasattr(TextDelta("a"), "__dict__")
    assert TextDelta.__slots__ == ("text",) and TextDelta.__match_args__ == ("text",)


def test_text_delta_cannot_be_changed() -> None:
    delta = TextDelta("a")
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'text'"):
        delta.text = "b"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError, match="cannot delete field 'text'"):
        del delta.text  # type: ignore[misc]
    with pytest.raises(AttributeError):
        delta.other = 1  # type: ignore[attr-defined]
    assert delta.text == "a"


def test_text_delta_equality_hash_and_repr_match_a_frozen_dataclass() -> None:
    assert TextDelta("a") == TextDelta("a") and TextDelta("a") != TextDelta("b")
    assert TextDelta("a") != FrozenText("a") and TextDelta("a") != ("a",) and TextDelta("a") != "a"
    assert hash(TextDelta("a")) == hash(FrozenText("a"))
    assert {TextDelta("a"), TextDelta("a")} == {TextDelta("a")}
    assert repr(TextDelta("a\n")) == repr(FrozenText("a\n")).replace("FrozenText", "TextDelta")


def test_text_delta_matches_pickles_and_copies() -> None:
    match TextDelta("hi"):
        case TextDelta(text):
            assert text == "hi"
        case _:
            pytest.fail("no positional match")
    match TextDelta("hi"):
        case TextDelta(text="hi"):
            pass
        case _:
            pytest.fail("no keyword match")
    delta = TextDelta("ünï")
    assert pickle.loads(pickle.dumps(delta)) == delta
    assert copy.copy(delta) == copy.deepcopy(delta) == delta
    assert chunk_to_dict(delta) == {"type": "text", "text": "ünï"}


def test_opaque_blocks_ride_on_the_message_and_are_shown_without_their_data() -> None:
    block = OpaqueBlock("anthropic", "thinking", '{"type":"thinking","thinking":"hm","signature":"s"}')
    assert Message(Role.ASSISTANT, "x").opaque == ()
    assert Message(Role.ASSISTANT, "x", opaque=(block,)).opaque == (block,)
    assert chunk_to_dict(OpaqueChunk(block)) == {"type": "opaque", "provider": "anthropic", "kind": "thinking", "bytes": len(block.data)}
