"""Voice settings: the `[voice]` table of the config file, and the names its choices may take.

Import-light (no numpy): the config loader, the CLI and the chat screen read these before voice is
ever used. A field left at None means "the built-in default", which lives in one place only: the
dataclass that uses it (`VadParams`, `TurnParams`, `VoiceOptions`, the UI's `KeyTiming`). The
methods that build those import the audio modules when called, not before.

Where a setting comes from, highest first: a command-line flag (`with_overrides`), the `[voice]`
table, the built-in default.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .session import VoiceOptions
    from .turns import TurnParams
    from ..audio.vad import VadParams

VOICE_MODES = ("push-to-talk", "hold", "hands-free")
"""How the person takes turns in the TUI: the talk key toggles, is held, or the VAD decides."""
DEFAULT_MODE = "push-to-talk"
INTERRUPTIONS = ("ignore", "immediate", "deferred")
"""What speaking over a reply does (see `audio.session`)."""
TURN_DETECTIONS = ("server", "local")
"""Hands-free: `server` lets a provider with its own voice detection take the turns; `local`
always uses tui-chat's own VAD (the demo provider always does)."""


@dataclass(slots=True)
class VoiceConfig:
    """The `[voice]` table: every field optional (None: the built-in default)."""

    provider: str | None = None
    """The voice provider (demo, openai-realtime, gemini-live, or openai / gemini for those);
    None: the chat's provider when it has a voice side, else the demo."""
    model: str | None = None
    """The voice provider's model; None: its default (never the chat's text model)."""
    voice: str | None = None
    """The provider's voice name."""
    input_device: int | str | None = None
    """A microphone by index or (part of its) name, as `tui-chat devices` lists them."""
    output_device: int | str | None = None
    mode: str | None = None
    """One of `VOICE_MODES`: how turns are taken in the TUI."""
    hold_release: float | None = None
    """Hold mode: seconds after the talk key's last auto-repeat when talking ends."""
    interruption: str | None = None
    """One of `INTERRUPTIONS`."""
    turn_detection: str | None = None
    """One of `TURN_DETECTIONS`."""
    vad_threshold: float | None = None
    """dB above the noise floor that starts speech."""
    vad_start: float | None = None
    """Seconds of speech before a turn begins."""
    vad_stop: float | None = None
    """Seconds of silence that end a turn."""
    vad_min_volume: float | None = None
    """dBFS below which a frame is never speech."""
    pre_roll: float | None = None
    """Seconds of audio from before the detected start of speech sent with the turn."""
    max_turn: float | None = None
    """Seconds after which a turn is cut (and the next one begun)."""

    def with_overrides(self, **values: Any) -> VoiceConfig:
        """A copy with every value that is not None put in (command-line flags win over the file)."""
        known = {f.name for f in fields(self)}
        unknown = set(values) - known
        if unknown:
            raise TypeError(f"unknown voice settings: {', '.join(sorted(unknown))}")
        return replace(self, **{name: value for name, value in values.items() if value is not None})

    def set_values(self) -> dict[str, Any]:
        """The fields that were set, by name (for `config show`)."""
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name)) is not None}

    @property
    def effective_mode(self) -> str:
        return self.mode or DEFAULT_MODE

    @property
    def effective_turn_detection(self) -> str:
        return self.turn_detection or TURN_DETECTIONS[0]

    def vad_params(self) -> VadParams:
        """The energy VAD's settings: the defaults with what this table sets."""
        from ..audio.vad import VadParams

        params = VadParams()
        changes: dict[str, float] = {}
        if self.vad_threshold is not None:
            changes["threshold_db"] = self.vad_threshold
            changes["release_db"] = min(params.release_db, self.vad_threshold)  # hysteresis stays below it
        for field_name, value in (("start_s", self.vad_start), ("stop_s", self.vad_stop), ("min_volume_db", self.vad_min_volume)):
            if value is not None:
                changes[field_name] = value
        return replace(params, **changes)

    def turn_params(self) -> TurnParams:
        from .turns import TurnParams

        changes = {name: value for name, value in (("pre_roll_s", self.pre_roll), ("max_turn_s", self.max_turn)) if value is not None}
        return replace(TurnParams(), **changes)

    def voice_options(self, **options: Any) -> VoiceOptions:
        """`VoiceOptions` for a session: the VAD, turn and interruption settings, plus `options`."""
        from .session import VoiceOptions

        if self.interruption is not None:
            options.setdefault("interruption", self.interruption)
        return VoiceOptions(vad=self.vad_params(), turns=self.turn_params(), **options)


def server_turns_possible(provider: str) -> bool:
    """Whether the voice provider `provider` (or the text provider with that voice side) detects turns itself."""
    from ..errors import TuiChatError
    from ..realtime import bidi_spec_for

    try:
        return bidi_spec_for(provider).server_turns
    except TuiChatError:
        return False


def turn_detection_for(provider: str, mode: str, preference: str | None = None) -> str:
    """The `BidiConfig.turn_detection` to open `provider` with in voice mode `mode`.

    "server" for hands-free with a provider that has its own voice detection (OpenAI Realtime's
    server VAD, Gemini Live's automatic activity detection), unless `preference` is "local";
    "manual" otherwise: push-to-talk and hold say where turns end, and so does the local VAD.
    """
    if mode == "hands-free" and (preference or TURN_DETECTIONS[0]) == "server" and server_turns_possible(provider):
        return "server"
    return "manual"
