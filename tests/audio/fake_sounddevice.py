"""A stand-in for the sounddevice module: devices and streams driven by the test, no PortAudio.

Install it with `monkeypatch.setitem(sys.modules, "sounddevice", FakeSoundDevice(...))`. An input
stream delivers the test's blocks through the real callback when started (on the calling thread:
the callback's `call_soon_threadsafe` works from any thread), then, if told to, reports the stream
finished as PortAudio does when a device is lost. An output stream is pulled by the test.

`PacedSoundDevice` is a virtual sound card instead: each stream, once started, runs its callback
on a thread of its own, one block per block period of real time (absolute deadlines on the
monotonic clock, as a card's crystal keeps time), whatever the event loop is doing. Its input
delivers the given blocks over and over (silence without any); its output consumes what the
callback gives. A callback that comes later than the card's buffer allows (`buffer_blocks`) is
counted as an xrun, which a real card would have played as a click.
"""

from __future__ import annotations

import itertools
import threading
import time
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
    input_stream: type[FakeInputStream] = FakeInputStream
    output_stream: type[FakeOutputStream] = FakeOutputStream

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
        stream = self.input_stream(self, kwargs)
        self.streams.append(stream)
        return stream

    def RawOutputStream(self, **kwargs: Any) -> FakeOutputStream:  # noqa: N802
        self._check("output", kwargs["device"], kwargs["channels"], kwargs["dtype"], kwargs["samplerate"])
        stream = self.output_stream(self, kwargs)
        self.streams.append(stream)
        return stream


class _Pacer:
    """Calls `tick()` once per `period` seconds on its own thread until stopped; keeps the lateness."""

    def __init__(self, period: float, tick: Callable[[], None], buffer_blocks: int) -> None:
        self.period = period
        self.tick = tick
        self.buffer_blocks = buffer_blocks
        self.blocks = 0
        self.xruns = 0
        self.latest = 0.0
        """The largest lateness of a callback, seconds."""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="virtual sound card", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        due = time.monotonic() + self.period
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            late = time.monotonic() - due
            self.latest = max(self.latest, late)
            if late > self.buffer_blocks * self.period:
                self.xruns += 1
            self.tick()
            self.blocks += 1
            due += self.period


@dataclass
class PacedInputStream(FakeInputStream):
    pacer: _Pacer | None = None

    def start(self) -> None:
        self.started = True
        kwargs = self.kwargs
        size = kwargs["blocksize"]
        blocks = self.owner.input_blocks or [np.zeros(size, np.int16)]
        channels = kwargs["channels"]
        count = itertools.count()

        def tick() -> None:
            block = blocks[next(count) % len(blocks)]
            data = np.repeat(block[:, None], channels, axis=1) if channels > 1 else block
            kwargs["callback"](np.asarray(data, dtype="<i2").tobytes(), block.size, None, _Status())

        self.pacer = _Pacer(size / kwargs["samplerate"], tick, self.owner.buffer_blocks)
        self.pacer.start()

    def stop(self) -> None:
        if self.pacer is not None:
            self.pacer.stop()
        self.started = False


@dataclass
class PacedOutputStream(FakeOutputStream):
    pacer: _Pacer | None = None

    def start(self) -> None:
        self.started = True
        size = self.kwargs["blocksize"]
        buffer = bytearray(size * 2 * self.kwargs["channels"])

        def tick() -> None:  # the card takes the block; nothing is kept (a long run would grow `played`)
            self.kwargs["callback"](memoryview(buffer), size, None, _Status())

        self.pacer = _Pacer(size / self.kwargs["samplerate"], tick, self.owner.buffer_blocks)
        self.pacer.start()

    def stop(self) -> None:
        if self.pacer is not None:
            self.pacer.stop()
        self.started = False


class PacedSoundDevice(FakeSoundDevice):
    """A virtual sound card whose streams run in real time on their own threads (see the module text)."""

    input_stream = PacedInputStream
    output_stream = PacedOutputStream

    def __init__(self, devices: list[FakeDevice], *, input_blocks: list[np.ndarray] | None = None, buffer_blocks: int = 2) -> None:
        super().__init__(devices, input_blocks=input_blocks)
        self.buffer_blocks = buffer_blocks


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
