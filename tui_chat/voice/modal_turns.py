"""Turn taking in the three voice modes, for the chat's voice mode: `KeyTiming` and `ModalTurns`.

Textual-free: `ModalTurns` is a `TurnTaker` for `VoiceSession`, fed the talk key (`key()`,
`release()`) by the front end and audio frames by the session.

  push-to-talk  the talk key toggles talking; the microphone is muted otherwise
  hold          every talk key event (the terminal's auto-repeat while the key is held down)
                keeps talking; talking ends `KeyTiming.release_s` after the last one, or
                `first_s` after a lone first press (covering the delay before auto-repeat starts),
                or at the key's release when the terminal reports releases
  hands-free    the voice activity detector takes the turns; the talk key mutes and unmutes

The same timing tells a held key's auto-repeat from a new press in the other modes, so holding the
key there does not toggle on and off. Times are audio time (seconds of microphone input): a
microphone is a clock, and tests drive the timing with the audio they feed, never with sleeps.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

import numpy as np

from ..audio.clock import AudioClock
from ..audio.vad import VoiceActivityDetector
from .settings import VOICE_MODES
from .turns import TurnAudio, TurnDetector, TurnEnd, TurnEvent, TurnParams, TurnStart

PUSH_TO_TALK, HOLD, HANDS_FREE = VOICE_MODES
MODES = VOICE_MODES


@dataclass(frozen=True, slots=True)
class KeyTiming:
    """How talk key events are told apart: auto-repeat of a held key, or a new press."""

    first_s: float = 0.7
    """After a first press: terminals wait this long (0.25-0.66 s by default) before auto-repeat starts."""
    release_s: float = 0.25
    """After an auto-repeat: the next comes within 30-120 ms while the key is held."""

    def __post_init__(self) -> None:
        if not 0 < self.release_s <= self.first_s:
            raise ValueError("key timing: 0 < release_s <= first_s")


# --- turn taking ---------------------------------------------------------------------------------


class ModalTurns:
    """The voice session's turn taker for the three modes (see the module text).

    A `TurnDetector` on `vad` is fed every frame in every mode, so the VAD (whose state the level
    readings report) and the detector's clock never stop; in hands-free its turns are passed on,
    in the other modes the talk key makes them. Switching the mode, or muting, ends an open turn.

    Telling a new press from auto-repeat: an event more than `first_s` after a press, or more
    than `release_s` after a repeat, is a new press and acts at once. One within `first_s` of a
    press is either the first auto-repeat of a held key or a quick second press: if another event
    follows within `release_s` the key is held and nothing happens; if none does, it was a second
    press and acts then, dated back to when it came (the audio since is kept for it).
    """

    def __init__(self, vad: VoiceActivityDetector, params: TurnParams | None = None, mode: str = PUSH_TO_TALK, timing: KeyTiming | None = None) -> None:
        if mode not in MODES:
            raise ValueError(f"voice mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.vad = vad
        self.params = params or TurnParams()
        self.detector = TurnDetector(vad, self.params)
        self.rate = vad.rate
        self.mode = mode
        self.timing = timing or KeyTiming()
        self.talking = False
        """Push-to-talk and hold: the key says the user is talking."""
        self.muted = False
        """Hands-free: the microphone is muted."""
        self._clock = AudioClock(self.rate)
        self._recent: deque[tuple[float, np.ndarray]] = deque()  # (start, frame) of the last second or so
        self._keep_s = self.timing.first_s + self.timing.release_s
        self._open: float | None = None  # the start of the turn the session knows about
        self._open_mode = mode
        self._talk_from: float | None = None  # push-to-talk: when talking was switched on
        self._talk_until: float | None = None  # push-to-talk: when it was switched off
        self._deadline: float | None = None  # hold: talking ends then unless the key repeats
        self._last_key: float | None = None
        self._last_key_fresh = False
        self._unsure: float | None = None  # a second press, or the first auto-repeat of a held key
        self.releases_reported = False
        """The terminal reports the talk key's release: hold mode talks until `release()` (or at most a
        turn's longest length after the last key event)."""

    @property
    def now(self) -> float:
        """Audio time: seconds of input taken so far."""
        return self._clock.now

    @property
    def in_turn(self) -> bool:
        return self._open is not None

    @property
    def listening(self) -> bool:
        """What is said now is (or would become) the user's turn: not muted."""
        return not self.muted if self.mode == HANDS_FREE else self.talking

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"voice mode must be one of {', '.join(MODES)}, not {mode!r}")
        self.mode = mode
        self.talking = self.muted = False
        self._deadline = self._unsure = self._talk_from = None

    def key(self) -> str:
        """The talk key came (pressed or auto-repeated): "press", "repeat" or "unsure" (see the class text)."""
        now = self.now
        last, self._last_key = self._last_key, now
        timing = self.timing
        if self.mode == HOLD:
            fresh = not self.talking
            self._last_key_fresh = fresh
            self.talking = True
            # With releases reported the release ends the talk; the turn's longest length is only a
            # backstop for a release that never comes.
            self._deadline = now + (self.params.max_turn_s if self.releases_reported else timing.first_s if fresh else timing.release_s)
            return "press" if fresh else "repeat"
        window = timing.first_s if self._last_key_fresh else timing.release_s
        if last is None or now - last > window + 1e-9:
            self._last_key_fresh = True
            self._unsure = None
            self._toggle(now)
            return "press"
        if self._last_key_fresh:
            self._last_key_fresh = False
            self._unsure = now
            return "unsure"
        self._unsure = None  # the key is held down
        return "repeat"

    def release(self) -> None:
        """The talk key was released (a terminal that reports it): in hold mode, talking ends now."""
        if self.mode == HOLD and self.talking:
            self.talking = False
            self._talk_until = self.now
            self._deadline = None

    def _toggle(self, at: float) -> None:
        if self.mode == PUSH_TO_TALK:
            self.talking = not self.talking
            if self.talking:
                self._talk_from, self._talk_until = at, None
            else:
                self._talk_from, self._talk_until = None, at
        else:
            self.muted = not self.muted

    def process(self, frame: np.ndarray) -> list[TurnEvent]:
        start = self.now
        self._clock.advance(frame.size)
        detected = self.detector.process(frame)
        out: list[TurnEvent] = []
        if self._unsure is not None and start >= self._unsure + self.timing.release_s - 1e-9:
            self._toggle(self._unsure)  # no auto-repeat followed: it was a second press
            self._last_key_fresh, self._unsure = True, None
        if self._open is not None and self._open_mode != self.mode:
            out.append(self._close(start, "mode"))
        if self.mode == HANDS_FREE:
            if self.muted and self._open is not None:
                out.append(self._close(start, "muted"))
            elif not self.muted:
                out.extend(self._pass_on(detected))
        else:
            out.extend(self._keyed(start, frame))
        self._recent.append((start, frame))
        while self._recent and self._recent[0][0] < self.now - self._keep_s:
            self._recent.popleft()
        return out

    def _pass_on(self, detected: list[TurnEvent]) -> list[TurnEvent]:
        """Hands-free: the detector's turns (one it began while muted or in another mode is skipped)."""
        out: list[TurnEvent] = []
        for event in detected:
            if isinstance(event, TurnStart):
                if self._open is None:
                    self._open, self._open_mode = event.at, self.mode
                    out.append(event)
            elif isinstance(event, TurnAudio):
                if self._open is not None:
                    out.append(event)
            elif self._open is not None:  # TurnEnd
                out.append(replace(event, start=self._open))
                self._open = None
        return out

    def _keyed(self, start: float, frame: np.ndarray) -> list[TurnEvent]:
        """Push-to-talk and hold: a turn while the key says so."""
        out: list[TurnEvent] = []
        if self.mode == HOLD and self.talking and self._deadline is not None and start >= self._deadline - 1e-9:
            self.talking = False
            self._talk_until = start
        if self.talking:
            if self._open is None:
                began = min(start, self._talk_from if self._talk_from is not None else start)
                self._open, self._open_mode = began, self.mode
                out.append(TurnStart(began, start))
                earlier = [f for at, f in self._recent if at >= began - 1e-9]
                out.append(TurnAudio(np.concatenate([*earlier, frame]) if earlier else frame))
                return out
            if start - self._open >= self.params.max_turn_s - 1e-9:
                out.append(TurnEnd(start, start, self._open, "max_length"))
                self._open = start
                out.append(TurnStart(start, start, continued=True))
            out.append(TurnAudio(frame))
        elif self._open is not None:
            until = self._talk_until if self._talk_until is not None else start
            out.append(self._close(min(start, until), "released"))
        return out

    def finish(self) -> list[TurnEvent]:
        self.detector.finish()
        if self._open is None:
            return []
        return [self._close(self.now, "input_end")]

    def _close(self, at: float, reason: str) -> TurnEnd:
        assert self._open is not None
        end = TurnEnd(max(at, self._open), self.now, self._open, reason)
        self._open = None
        return end
