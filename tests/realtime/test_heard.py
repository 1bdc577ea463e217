"""`SpokenWords`: the words of a cut reply that were heard, by the audio position each piece came at."""

from __future__ import annotations

from tui_chat.realtime.heard import SpokenWords


def words(*pieces: tuple[float, str]) -> SpokenWords:
    spoken = SpokenWords()
    for position, text in pieces:
        spoken.add(position, text)
    return spoken


def test_the_pieces_that_came_with_the_audio_heard_are_heard() -> None:
    spoken = words((0.0, "One"), (0.5, " two"), (1.0, " three"), (1.5, " four."))
    assert spoken.text == "One two three four."
    assert spoken.heard(1.2, 2.0) == "One two three"
    assert spoken.heard(1.0, 2.0) == "One two three"  # at its position: its audio has begun
    assert spoken.heard(0.01, 2.0) == "One"


def test_a_word_split_across_pieces_is_left_out_until_all_of_it_came() -> None:
    spoken = words((0.0, "Hello wonder"), (0.4, "ful world"))
    assert spoken.heard(0.2, 1.0) == "Hello"  # not "Hello wonder": the word goes on in the next piece
    assert spoken.heard(0.5, 1.0) == "Hello wonderful world"


def test_nothing_played_is_nothing_heard_and_all_played_is_every_word() -> None:
    spoken = words((0.0, "Yes,"), (0.3, " of course."))
    assert spoken.heard(0.0, 1.0) == ""
    assert spoken.heard(1.0, 1.0) == "Yes, of course."
    spoken.final = "Yes, of course!"  # the provider's whole transcript wins once it came
    assert spoken.text == spoken.heard(1.0, 1.0) == "Yes, of course!"


def test_a_reply_without_audio_was_read_not_heard_so_all_of_it_counts() -> None:
    assert words((0.0, "Text"), (0.0, " only.")).heard(0.0, 0.0) == "Text only."
