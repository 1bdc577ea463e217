"""VoiceHistory: a voice session's exchanges go into the conversation in order, each reply once ended."""

from __future__ import annotations

from tui_chat.chunks import Message, ReplyStatus, Role
from tui_chat.voice.history import UNTRANSCRIBED, VoiceHistory


def said(recorded: list[Message]) -> list[tuple[str, str, str]]:
    return [(m.role.value, m.content, m.status.value) for m in recorded]


def test_what_is_typed_while_a_reply_still_plays_goes_in_after_it_once_it_ends() -> None:
    recorded: list[Message] = []
    history = VoiceHistory(lambda message, spoken: recorded.append(message))
    history.heard("Tell me a story.")
    history.reply_started(1)  # its words all come; its audio plays on
    history.typed("Shorter, please.")
    history.reply_started(2)
    assert said(recorded) == [("user", "Tell me a story.", "complete")]  # reply 1 has not ended
    history.reply_ended(2, "Once.", "complete")
    history.reply_ended(1, "Once upon a time", "interrupted")  # cut while it played, after reply 2 came
    assert said(recorded) == [
        ("user", "Tell me a story.", "complete"),
        ("assistant", "Once upon a time", "interrupted"),
        ("user", "Shorter, please.", "complete"),
        ("assistant", "Once.", "complete"),
    ]


def test_voice_stopping_lets_nothing_wait_behind_a_reply_that_did_not_end() -> None:
    recorded: list[Message] = []
    history = VoiceHistory(lambda message, spoken: recorded.append(message))
    history.reply_started(1)  # its turn's transcript has not come
    history.reply_ended(1, "Half a", "cancelled")  # (as the front end ends it, from `VoiceSession.unended`)
    history.reply_started(2)
    history.typed("hello?")
    history.close("cancelled")
    assert said(recorded) == [
        ("user", UNTRANSCRIBED, "complete"),
        ("assistant", "Half a", "cancelled"),
        ("user", UNTRANSCRIBED, "complete"),
        ("assistant", "", "cancelled"),
        ("user", "hello?", "complete"),
    ]


def test_a_reply_that_said_nothing_leaves_no_message_and_no_stand_in() -> None:
    recorded: list[Message] = []
    history = VoiceHistory(lambda message, spoken: recorded.append(message))
    history.reply_started(1)
    history.reply_ended(1, "", "complete")
    history.heard("Hello?")
    history.reply_started(2)
    history.reply_ended(2, "Hi.", "complete")
    assert said(recorded) == [("user", "Hello?", "complete"), ("assistant", "Hi.", "complete")]
    assert all(m.status is ReplyStatus.COMPLETE and m.role in (Role.USER, Role.ASSISTANT) for m in recorded)
