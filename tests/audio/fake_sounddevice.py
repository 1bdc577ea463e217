"""A stand-in for the sounddevice module: devices and streams driven by the test, no PortAudio.

Install it with `monkeypatch.setitem(sys.modules, "sounddevice", FakeSoundDevice(...))`. An input
stream delivers the test's blocks through the real callback when started (on the calling thread:
the callback's `call_soon_threadsafe` works from any thread), then, if told to, reports the stream
finished as PortAudio does when a device is lost. An output stream is pulled by the test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


class PortAudioError(Exception):
    pass


@dataclass
class FakeDevice:
    name: str
    inputs: int = 0
    outputs: int = 0
    rate: int = 48000
    rates: tuple[int, ...] | None = None  # accepted rates; None = any
    channels: tuple[int, ...] | None = None  # accepted channel counts; None = 1..max


class _Status:
    input_overflow = False
    output_underflow = False

    def __bool__(self) -> bool:
        return False


@dataclass
class FakeInputStream:
    owner: FakeSoundDevice
    kwargs: dict[str, Any]
    started: bool = False
    closed: bool = False

    def start(self) -> None:
        self.started = True
        callback: Callable[..., None] = self.kwargs["callback"]
        channels = self.kwargs["channels"]
        for block in self.owner.input_blocks:
            data = np.repeat(block[:, None], channels, axis=1) if channels > 1 else block
            callback(np.asarray(data, dtype="<i2").tobytes(), block.size, None, _Status())
        if self.owner.lose_device_after_blocks:
            self.kwargs["finished_callback"]()

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeOutputStream:
    owner: FakeSoundDevice
    kwargs: dict[str, Any]
    started: bool = False
    closed: bool = False
    played: list[bytes] = field(default_factory=list)

    def start(self) -> None:
        self.started = True

    def pull(self, frames: int) -> bytes:
        """Run the callback once, as the device does when it needs `frames` more samples."""
        buffer = bytearray(frames * 2 * self.kwargs["channels"])
        view = memoryview(buffer)
        self.kwargs["callback"](view, frames, None, _Status())
        self.played.append(bytes(buffer))
        return bytes(buffer)

    def lose(self) -> None:
        self.kwargs["finished_callback"]()

    def stop(self) -> None:
        self.started = False

    def close(self) -> None:
        self.closed = True


class FakeSoundDevice:
    """The parts of the sounddevice API that tui_chat.audio.devices uses."""

    PortAudioError = PortAudioError

    def __init__(self, devices: list[FakeDevice], *, input_blocks: list[np.ndarray] | None = None, lose_device_after_blocks: bool = False) -> None:
        self.devices = devices
        self.input_blocks = input_blocks or []
        self.lose_device_after_blocks = lose_device_after_blocks
        self.streams: list[Any] = []

    def _dict(self, index: int) -> dict[str, Any]:
        d = self.devices[index]
        return {
            "name": d.name,
            "index": index,
            "hostapi": 0,
            "max_input_channels": d.inputs,
            "max_output_channels": d.outputs,
            "default_samplerate": float(d.rate),
        }

    def query_devices(self, device: Any = None, kind: str | None = None) -> Any:
        if kind is not None:
            key = "inputs" if kind == "input" else "outputs"
            for index, d in enumerate(self.devices):
                if getattr(d, key):
                    return self._dict(index)
            raise PortAudioError("Error querying device -1")
        if device is not None:
            return self._dict(device)
        return [self._dict(i) for i in range(len(self.devices))]

    def query_hostapis(self) -> list[dict[str, Any]]:
        return [{"name": "Fake API"}]

    def _check(self, kind: str, device: int, channels: int, dtype: str, samplerate: int) -> None:
        d = self.devices[device]
        most = d.inputs if kind == "input" else d.outputs
        allowed = d.channels or tuple(range(1, most + 1))
        if channels not in allowed:
            raise PortAudioError("Invalid number of channels")
        if d.rates is not None and samplerate not in d.rates:
            raise PortAudioError("Invalid sample rate")

    def check_input_settings(self, device: int, channels: int, dtype: str, samplerate: int) -> None:
        self._check("input", device, channels, dtype, samplerate)

    def check_output_settings(self, device: int, channels: int, dtype: str, samplerate: int) -> None:
        self._check("output", device, channels, dtype, samplerate)

    def RawInputStream(self, **kwargs: Any) -> FakeInputStream:  # noqa: N802 - the real name
        self._check("input", kwargs["device"], kwargs["channels"], kwargs["dtype"], kwargs["samplerate"])
        stream = FakeInputStream(self, kwargs)
        self.streams.append(stream)
        return stream

    def RawOutputStream(self, **kwargs: Any) -> FakeOutputStream:  # noqa: N802
        self._check("output", kwargs["device"], kwargs["channels"], kwargs["dtype"], kwargs["samplerate"])
        stream = FakeOutputStream(self, kwargs)
        self.streams.append(stream)
        return stream


def without_portaudio(monkeypatch: Any) -> None:
    """Make `import sounddevice` fail as it does on a machine without the PortAudio library."""
    import builtins
    import sys

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    real_import = builtins.__import__

    def no_portaudio(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_portaudio)
