"""The voice meter: microphone and speaker levels in dBFS with peak hold, and what the voice is doing.

One line: the state (muted, listening, you are speaking, assistant speaking, interrupted), the
microphone's bar, the speaker's bar and the voice mode. A bar spans `FLOOR_DB`..0 dBFS: the RMS
level is filled (green, yellow above -18 dBFS, red above -6), the rest of the frame's peak is
shaded, and the held peak is a tick.

Values come in through `show()` only: the widget keeps no clock and does no audio math, so a
snapshot with fixed values is deterministic, and an update is one `refresh()` of this line (no
layout). Import-light: nothing of numpy or the audio layer (only its setting names).
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from ...voice.meter import SILENCE, SILENT_DB, MeterLevels
from ...voice.settings import VOICE_MODES as MODE_NAMES

FLOOR_DB = -60.0
"""The level at the left end of a bar."""
_EIGHTHS = " ▏▎▍▌▋▊▉"
_MUTED = "$foreground-muted"


METER_STATES: dict[str, tuple[str, str]] = {
    "muted": ("■ muted", _MUTED),
    "listening": ("○ listening", "$accent"),
    "speaking": ("● you are speaking", "$success"),
    "assistant": ("◆ assistant speaking", "$primary"),
    "interrupted": ("⚠ interrupted", "$warning"),
}
"""State name -> (label, colour)."""

VOICE_MODES: dict[str, str] = dict(zip(MODE_NAMES, ("push-to-talk", "hold to talk", "hands-free"), strict=True))
"""Voice mode name (`voice.settings.VOICE_MODES`) -> how the meter and the notifications call it."""

_LABEL_WIDTH = max(len(label) for label, _colour in METER_STATES.values()) + 1


def _cells(db: float, width: int) -> float:
    """How many cells of a `width`-cell bar a level fills."""
    return max(0.0, min(1.0, (db - FLOOR_DB) / -FLOOR_DB)) * width


def _zone(index: int, width: int) -> str:
    """The colour of cell `index`: green, yellow above -18 dBFS, red above -6 dBFS."""
    db = FLOOR_DB + (index + 0.5) / width * -FLOOR_DB
    return "$error" if db > -6 else "$warning" if db > -18 else "$success"


def level_bar(levels: MeterLevels, width: int, *, muted: bool = False) -> Content:
    """A bar of `width` cells for `levels` (see the module text); greyed when `muted`."""
    rms = _cells(levels.rms_db, width)
    full, eighths = int(rms), int((rms - int(rms)) * 8)
    peak = int(_cells(levels.peak_db, width))
    hold = min(width - 1, int(_cells(levels.hold_db, width))) if levels.hold_db > FLOOR_DB else -1
    parts: list[tuple[str, str]] = []
    for index in range(width):
        colour = _MUTED if muted else _zone(index, width)
        if index < full:
            char, style = "█", colour
        elif index == full and eighths:
            char, style = _EIGHTHS[eighths], colour
        elif index == hold:
            clip = levels.clipped or levels.hold_db > -1.0
            char, style = "│", _MUTED if muted else ("bold $error" if clip else colour)
        elif index < peak:
            char, style = "░", colour
        else:
            char, style = "·", _MUTED
        if parts and parts[-1][1] == style:
            parts[-1] = (parts[-1][0] + char, style)
        else:
            parts.append((char, style))
    return Content.assemble(*parts)


def level_text(levels: MeterLevels) -> tuple[str, str]:
    """The RMS level as 7 cells of text (" -18 dB", "  -∞ dB", "   clip") and its colour."""
    if levels.clipped:
        return f"{'clip':>7}", "bold $error"
    if levels.rms_db <= SILENT_DB + 0.5:
        return f"{'-∞':>4} dB", _MUTED
    return f"{max(levels.rms_db, -999.0):4.0f} dB", _MUTED


class AudioMeter(Widget):
    """The voice meter line (see the module text). Hidden until voice mode shows it."""

    DEFAULT_CSS = """
    AudioMeter {
        height: 1;
        padding: 0 1;
        background: $panel;
        display: none;
    }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.input = SILENCE
        self.output = SILENCE
        self.state = "muted"
        self.mode = "push-to-talk"
        self.updates = 0
        """How many times `show` was called (tests check the update rate with it)."""

    def show(self, input: MeterLevels, output: MeterLevels, state: str) -> None:
        """Show new readings and the state (a key of `METER_STATES`); redraws this line only."""
        if state not in METER_STATES:
            raise ValueError(f"unknown meter state {state!r}")
        self.input, self.output, self.state = input, output, state
        self.updates += 1
        self.refresh()

    def set_mode(self, mode: str) -> None:
        """The voice mode shown at the right (a key of `VOICE_MODES`)."""
        self.mode = mode
        self.refresh()

    def reset(self) -> None:
        """Silence on both sides; muted."""
        self.show(SILENCE, SILENCE, "muted")

    def render(self) -> Content:
        width = self.content_size.width
        label, colour = METER_STATES[self.state]
        mode = VOICE_MODES.get(self.mode, self.mode)
        in_text, in_colour = level_text(self.input)
        out_text, out_colour = level_text(self.output)
        head = (label.ljust(_LABEL_WIDTH), f"bold {colour}")
        middle = [(f" {in_text}", in_colour), ("   spk ", _MUTED)]
        tail = (f" {out_text}", out_colour)
        fixed = len(head[0]) + len("mic ") + sum(len(text) for text, _style in middle) + len(tail[0]) + 2 + len(mode)
        bar = max(6, min(40, (width - fixed) // 2))
        line = Content.assemble(
            head,
            ("mic ", _MUTED),
            level_bar(self.input, bar, muted=self.state == "muted"),
            *middle,
            level_bar(self.output, bar),
            tail,
        )
        gap = width - line.cell_length - len(mode)
        if gap < 2:
            return line  # too narrow for the mode: the levels matter more
        return Content.assemble(line, " " * gap, (mode, _MUTED))
