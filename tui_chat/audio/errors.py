"""Errors of the audio layer, each one sentence with a remedy in `hint`."""

from __future__ import annotations

from ..errors import TuiChatError


class AudioError(TuiChatError):
    """Audio could not be read, written, converted or played."""


class AudioDeviceError(AudioError):
    """PortAudio is missing, no device fits, or a device failed or vanished mid-session."""


class WavError(AudioError):
    """A file is not a WAV file this program can read, or it is damaged."""
