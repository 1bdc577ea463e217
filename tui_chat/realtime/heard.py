"""`SpokenWords`: the words of one spoken reply, and how many of them were heard when it was cut.

A voice reply's transcript is not timed: the providers send it in pieces beside the audio. Each
piece is stamped here with the reply's audio position when it arrived (seconds of the reply's
audio received so far), so when playback is cut after `played_s` seconds, the words heard are the
pieces stamped at or before `played_s`. This is chunk-granular: a piece counts as heard once the
audio that came with it has begun to play, so the heard text can be off by up to a piece (a few
words) either way, depending on whether the provider sends a piece's words before its audio
(OpenAI Realtime, Gemini Live as our fakes do) or after. It is rounded down to a word boundary,
so a word cut between pieces is left out rather than shown half.

One mechanism for every provider: the voice session uses it for what a cut reply's `ReplyEnded`
says and the history keeps; a provider that replays its own history after a reconnect uses it to
keep the same text the server was told of (`conversation.item.truncate`).
"""

from __future__ import annotations


class SpokenWords:
    """One reply's words as they came, each stamped with the reply's audio position (see the module text)."""

    __slots__ = ("_pieces", "final")

    def __init__(self) -> None:
        self._pieces: list[tuple[float, str]] = []
        self.final: str | None = None
        """The provider's whole transcript of the reply, once it came (it may differ from the pieces)."""

    def add(self, position: float, text: str) -> None:
        """A piece of the reply's words arrived when `position` seconds of its audio had."""
        self._pieces.append((position, text))

    @property
    def text(self) -> str:
        """All the words that came: the final transcript, else the pieces so far."""
        return self.final if self.final is not None else "".join(text for _, text in self._pieces)

    def heard(self, played_s: float, audio_s: float) -> str:
        """The words heard after `played_s` of the reply's `audio_s` seconds of audio.

        All of them when it was heard out (a reply with no audio, text only, is all "heard": it was
        read); none when nothing of it played; otherwise the pieces stamped at or before
        `played_s`, ended at a word boundary, always a prefix of `text` as the pieces make it.
        """
        if played_s >= audio_s - 0.01:
            return self.text
        if played_s <= 0:
            return ""
        whole = "".join(text for _, text in self._pieces)
        heard = "".join(text for position, text in self._pieces if position <= played_s + 1e-9)
        # (the pieces come in order with rising positions, so `heard` is a prefix of `whole`)
        if len(heard) < len(whole) and heard and not heard[-1].isspace() and not whole[len(heard)].isspace():
            cut = max(heard.rfind(" "), heard.rfind("\n"), heard.rfind("\t"))
            heard = heard[: cut + 1] if cut >= 0 else ""
        return heard.rstrip()
