"""The options of `tui-chat voice`, kept apart from the voice code itself.

The command line is built on every start, the TUI's too; adding these options must not import the
voice path (its events, history and the tool loop under it), which the first screen does not need.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from .settings import INTERRUPTIONS, TURN_DETECTIONS


def add_voice_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `tui-chat voice` (the provider options come from the common ones)."""
    parser.add_argument("--audio-in", type=Path, metavar="FILE.wav", help="read speech from a WAV file instead of the microphone")
    parser.add_argument("--audio-out", type=Path, metavar="FILE.wav", help="record what would be played to a WAV file instead of the speaker")
    parser.add_argument("--fast", action="store_true", help="with --audio-in: read the file as fast as possible, not in real time")
    parser.add_argument("--json", action="store_true", help="print one JSON event per line")
    parser.add_argument("--input-device", metavar="NAME|INDEX", help="microphone to use (see `tui-chat devices`)")
    parser.add_argument("--output-device", metavar="NAME|INDEX", help="speaker to use (see `tui-chat devices`)")
    parser.add_argument("--no-playback", action="store_true", help="do not play replies (they are still received)")
    parser.add_argument("--voice", metavar="NAME", help="the provider's voice")
    parser.add_argument(
        "--interruption", choices=INTERRUPTIONS, help="what speaking over a reply does (default: immediate)"
    )
    parser.add_argument(
        "--turn-detection",
        choices=TURN_DETECTIONS,
        help="who ends turns: server (the provider's own detection, when it has one; the default) or local",
    )
    parser.add_argument("--max-seconds", type=float, metavar="S", help="stop listening after S seconds of input")
    parser.add_argument("--vad-threshold", type=float, metavar="DB", help="dB above the noise floor that starts speech (default 12)")
    parser.add_argument("--vad-start", type=float, metavar="S", help="seconds of speech that start a turn (default 0.2)")
    parser.add_argument("--vad-stop", type=float, metavar="S", help="seconds of silence that end a turn (default 0.8)")
    parser.add_argument("--vad-min-volume", type=float, metavar="DBFS", help="level below which nothing is speech (default -50)")
