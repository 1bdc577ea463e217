"""Sound devices through sounddevice (PortAudio), bridged to asyncio.

sounddevice is imported only inside the functions here: importing it loads PortAudio, which may
be missing (an `OSError`), and the app must start without it. Every failure becomes an
`AudioDeviceError` that says what to install or check.

The PortAudio callbacks never block and never wait on the event loop:
- the microphone's callback copies its block and hands it over with `loop.call_soon_threadsafe`;
  on the loop it goes into a bounded queue with `put_nowait`, dropping the oldest block when full;
- the speaker's callback reads from a `PlaybackQueue` (lock-free; a flush swaps the deque), so
  after a flush at most the block being played is still heard.

Reply audio reaches the speaker's queue from an event loop: the model session's own (the
WebSocket providers read on a thread of their own) or the front end's, which a busy screen can
stall. The queue is a jitter buffer sized from the stalls of the loop that writes to it: once per
block the callback posts a probe to that loop (the one the last `write` ran on;
`call_soon_threadsafe`, never waiting; one at a time) and the probe, when it runs, notes how many
samples the device took meanwhile (`LoopLag`). After running dry the speaker waits until the
worst recent lag plus `min_jitter_s` of audio is queued (at most `max_jitter_s`), so a stall as
long as the ones seen lately is ridden out, and a writer that is never held up adds no delay.

Devices are opened at the session's rate when they accept it; otherwise at their own default
rate, with soxr converting in between (on the loop, not in the callback). Audio is 16-bit mono;
a device that takes only stereo is mixed down (input) or fed the same signal on both sides.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, AsyncIterator, Hashable

import numpy as np

from .clock import LoopLag
from .errors import AudioDeviceError
from .pcm import Reframer, StreamResampler, resample, to_mono
from .playback import PlaybackQueue
from .sources import FRAME_MS

INSTALL_HINT = (
    "install PortAudio: apt install libportaudio2 (Debian, Ubuntu), dnf install portaudio (Fedora), "
    "brew install portaudio (macOS); or use --audio-in/--audio-out FILE.wav instead of devices"
)
CHECK_HINT = (
    "check that the device is connected and not muted, and that PulseAudio/PipeWire is running; "
    "`tui-chat devices` lists what PortAudio sees"
)


def sounddevice_module() -> Any:
    """The sounddevice module, or an `AudioDeviceError` saying what to install."""
    try:
        import sounddevice
    except OSError as error:
        raise AudioDeviceError(f"PortAudio, the sound library devices are used through, cannot be loaded ({error})", hint=INSTALL_HINT) from None
    except ImportError as error:
        raise AudioDeviceError(f"the sounddevice package is not installed ({error})", hint="pip install sounddevice") from None
    return sounddevice


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    """One device as PortAudio sees it."""

    index: int
    name: str
    hostapi: str
    max_input_channels: int
    max_output_channels: int
    default_rate: int
    default_input: bool = False
    default_output: bool = False

    def describe(self) -> str:
        kinds = []
        if self.max_input_channels:
            kinds.append(f"{self.max_input_channels} in")
        if self.max_output_channels:
            kinds.append(f"{self.max_output_channels} out")
        marks = ("<" if self.default_input else " ") + (">" if self.default_output else " ")
        return f"{marks} {self.index:>3}  {self.name}  ({self.hostapi}; {', '.join(kinds)}; {self.default_rate} Hz)"


def _default_index(sd: Any, kind: str) -> int | None:
    try:
        return int(sd.query_devices(kind=kind)["index"])
    except Exception:  # noqa: BLE001 - PortAudio says "Error querying device -1" when there is none
        return None


def list_devices() -> list[DeviceInfo]:
    """Every input and output device, with the default ones marked (`tui-chat devices`)."""
    sd = sounddevice_module()
    try:
        devices = list(sd.query_devices())
        hostapis = list(sd.query_hostapis())
    except sd.PortAudioError as error:
        raise AudioDeviceError(f"PortAudio cannot list the sound devices ({error})", hint=CHECK_HINT) from None
    default_in, default_out = _default_index(sd, "input"), _default_index(sd, "output")
    out = []
    for index, device in enumerate(devices):
        index = int(device.get("index", index))
        hostapi = hostapis[device["hostapi"]]["name"] if device["hostapi"] < len(hostapis) else "?"
        out.append(
            DeviceInfo(
                index,
                str(device["name"]),
                str(hostapi),
                int(device["max_input_channels"]),
                int(device["max_output_channels"]),
                int(device["default_samplerate"]),
                index == default_in,
                index == default_out,
            )
        )
    return out


def format_devices(devices: list[DeviceInfo]) -> str:
    """The device list as `tui-chat devices` prints it ('<' default input, '>' default output)."""
    if not devices:
        return "no sound devices found (" + CHECK_HINT + ")\n"
    return "".join(device.describe() + "\n" for device in devices)


def find_device(spec: int | str | None, kind: str) -> DeviceInfo:
    """The `kind` ("input" or "output") device named by `spec`: an index, part of a name, or None for the default."""
    devices = list_devices()
    usable = [d for d in devices if (d.max_input_channels if kind == "input" else d.max_output_channels) > 0]
    what = "microphone (input device)" if kind == "input" else "speaker (output device)"
    if not usable:
        raise AudioDeviceError(f"no {what} found", hint=CHECK_HINT + ("; or use --audio-in FILE.wav" if kind == "input" else "; or use --audio-out FILE.wav"))
    if spec is None or spec == "":
        chosen = next((d for d in usable if (d.default_input if kind == "input" else d.default_output)), None)
        return chosen or usable[0]
    if isinstance(spec, int) or str(spec).strip().isdigit():
        index = int(spec)
        for device in usable:
            if device.index == index:
                return device
        raise AudioDeviceError(f"there is no {what} with index {index}", hint="`tui-chat devices` lists them with their indexes")
    wanted = str(spec).casefold()
    exact = [d for d in usable if d.name.casefold() == wanted]
    partial = exact or [d for d in usable if wanted in d.name.casefold()]
    if not partial:
        names = ", ".join(repr(d.name) for d in usable)
        raise AudioDeviceError(f"no {what} matches {spec!r}", hint=f"the {kind} devices are: {names}")
    return partial[0]


def _open_settings(sd: Any, device: DeviceInfo, kind: str, rate: int, forced_rate: int | None) -> tuple[int, int]:
    """(channels, device rate): mono if the device takes it, the session rate if the device takes it."""
    check = sd.check_input_settings if kind == "input" else sd.check_output_settings
    max_channels = device.max_input_channels if kind == "input" else device.max_output_channels

    def accepts(channels: int, samplerate: int) -> bool:
        try:
            check(device=device.index, channels=channels, dtype="int16", samplerate=samplerate)
        except Exception:  # noqa: BLE001 - PortAudioError or ValueError: "not this combination"
            return False
        return True

    channels = 1 if accepts(1, forced_rate or device.default_rate) else min(2, max_channels)
    if forced_rate:
        return channels, forced_rate
    return channels, rate if accepts(channels, rate) else device.default_rate


_LOST = object()


class MicrophoneSource:
    """A microphone as an `AudioSource`: 20 ms frames of int16 mono at `rate`.

    The device is opened when `frames()` starts and closed when it ends. A device that stops
    delivering audio (unplugged, failed) ends `frames()` with an `AudioDeviceError`: at once when
    PortAudio reports the stream finished, else after `stall_timeout` seconds without audio
    (`start_timeout` for the first block).
    """

    def __init__(
        self,
        device: int | str | None = None,
        rate: int = 16000,
        *,
        frame_ms: int = FRAME_MS,
        queue_blocks: int = 50,
        device_rate: int | None = None,
        stall_timeout: float = 2.0,
        start_timeout: float = 6.0,
    ) -> None:
        self.device = device
        self.rate = rate
        self.frame_samples = rate * frame_ms // 1000
        self.frame_ms = frame_ms
        self.queue_blocks = queue_blocks
        self.device_rate = device_rate
        self.stall_timeout = stall_timeout
        self.start_timeout = start_timeout
        self.warnings: list[str] = []
        self.dropped_blocks = 0
        self.info: DeviceInfo | None = None
        self.opened_rate: int | None = None
        self._closing = False

    async def frames(self) -> AsyncIterator[np.ndarray]:
        sd = sounddevice_module()
        info = self.info = find_device(self.device, "input")
        channels, device_rate = _open_settings(sd, info, "input", self.rate, self.device_rate)
        self.opened_rate = device_rate
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue(maxsize=self.queue_blocks)

        def put(item: object) -> None:  # on the loop
            if queue.full():
                queue.get_nowait()
                self.dropped_blocks += 1
            queue.put_nowait(item)

        def callback(indata: Any, frames: int, time: Any, status: Any) -> None:  # PortAudio thread
            try:
                loop.call_soon_threadsafe(put, bytes(indata))
            except RuntimeError:  # the loop is closed: nobody is listening any more
                pass

        def finished() -> None:  # PortAudio thread
            if not self._closing:
                try:
                    loop.call_soon_threadsafe(put, _LOST)
                except RuntimeError:
                    pass

        try:
            stream = sd.RawInputStream(
                samplerate=device_rate,
                blocksize=device_rate * self.frame_ms // 1000,
                device=info.index,
                channels=channels,
                dtype="int16",
                latency="low",  # voice: small buffers, quick barge-in (PulseAudio's default capture buffer is ~2 s)
                callback=callback,
                finished_callback=finished,
            )
            stream.start()
        except Exception as error:  # noqa: BLE001 - PortAudioError, ValueError: bad settings or a busy device
            raise AudioDeviceError(f"cannot open the microphone {info.name!r} ({error})", hint=CHECK_HINT) from None
        if device_rate != self.rate:
            self.warnings.append(f"the microphone {info.name!r} runs at {device_rate} Hz; converting to {self.rate} Hz")
        resampler = StreamResampler(device_rate, self.rate)
        reframer = Reframer(self.frame_samples)
        started = False
        try:
            while not self._closing:
                # A sound server may take a while to start a capture (PulseAudio: ~2 s for the first).
                timeout = self.stall_timeout if started else max(self.start_timeout, self.stall_timeout)
                try:
                    # Not `wait_for`: on Python 3.11 it loses a cancellation that comes as a block
                    # arrives, and voice would never go off.
                    async with asyncio.timeout(timeout):
                        item = await queue.get()
                except TimeoutError:
                    what = "stopped delivering audio" if started else "delivered no audio"
                    raise AudioDeviceError(
                        f"the microphone {info.name!r} {what} ({timeout:g} s without any)",
                        hint=CHECK_HINT,
                    ) from None
                started = True
                if item is _LOST:
                    if self._closing:
                        return
                    for frame in reframer.push(resampler.flush()):  # what was heard before the loss
                        yield frame
                    if (rest := reframer.rest()) is not None:
                        yield rest
                    raise AudioDeviceError(f"the microphone {info.name!r} stopped: the device was lost or failed", hint=CHECK_HINT)
                samples = to_mono(np.frombuffer(item, dtype="<i2").reshape(-1, channels))
                for frame in reframer.push(resampler.process(samples)):
                    yield frame
        finally:
            self._closing = True
            try:
                stream.stop()
                stream.close()
            except Exception:  # noqa: BLE001 - a lost device may fail to stop; it is closed either way
                pass

    async def aclose(self) -> None:
        self._closing = True


MIN_JITTER_S = 0.06
"""The jitter buffer's least depth: reply audio comes in pieces of 20-100 ms, each just in time or later."""
MAX_JITTER_S = 0.5
"""The most the jitter buffer holds back (the delay it adds to a reply's start, at worst)."""
LAG_WINDOW_S = 30.0
"""How long a loop stall keeps the jitter buffer deep (seconds of the device's clock)."""


class SpeakerSink:
    """A speaker as a `PlaybackSink`. Open it with `await SpeakerSink.open(...)` inside the loop."""

    clocked = False

    def __init__(
        self,
        device: int | str | None = None,
        rate: int = 24000,
        *,
        block_ms: int = 20,
        device_rate: int | None = None,
        min_jitter_s: float = MIN_JITTER_S,
        max_jitter_s: float = MAX_JITTER_S,
        lag_window_s: float = LAG_WINDOW_S,
    ) -> None:
        self.device = device
        self.rate = rate
        self.block_ms = block_ms
        self.forced_rate = device_rate
        self.min_jitter_s = min_jitter_s
        self.max_jitter_s = max_jitter_s
        self.lag_window_s = lag_window_s
        self.error: AudioDeviceError | None = None
        self.warnings: list[str] = []
        self.info: DeviceInfo | None = None
        self.device_rate = rate
        self.queue = PlaybackQueue(rate)
        self.lag = LoopLag(int(lag_window_s * rate))
        """The writing loop's recent stalls, in samples the device took while a probe waited."""
        self._writer: asyncio.AbstractEventLoop | None = None  # the loop reply audio is written on
        self._probing = False  # a probe is on its way to the writer
        self._stream: Any = None
        self._closing = False
        self._channels = 1

    @classmethod
    async def open(cls, device: int | str | None = None, rate: int = 24000, **options: Any) -> SpeakerSink:
        sink = cls(device, rate, **options)
        sink._start(asyncio.get_running_loop())
        return sink

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        sd = sounddevice_module()
        info = self.info = find_device(self.device, "output")
        self._channels, self.device_rate = _open_settings(sd, info, "output", self.rate, self.forced_rate)
        self.queue = PlaybackQueue(self.device_rate)
        self.lag = LoopLag(int(self.lag_window_s * self.device_rate))
        if self.device_rate != self.rate:
            self.warnings.append(f"the speaker {info.name!r} runs at {self.device_rate} Hz; converting from {self.rate} Hz")
        channels = self._channels
        mono = np.zeros(0, dtype=np.int16)
        self._writer = loop  # until the first write says which loop writes

        def callback(outdata: Any, frames: int, time: Any, status: Any) -> None:  # PortAudio thread
            nonlocal mono
            if mono.size != frames:
                mono = np.zeros(frames, dtype=np.int16)
            self.queue.read_into(mono)
            block = mono if channels == 1 else np.repeat(mono, channels)
            outdata[:] = block.astype("<i2").tobytes()
            writer = self._writer
            if not self._probing and writer is not None:
                self._probing = True
                try:
                    writer.call_soon_threadsafe(self._probed, self.queue.read_total)
                except RuntimeError:  # that loop is closed: it writes no more
                    self._probing = False

        def finished() -> None:  # PortAudio thread
            if not self._closing:
                self.error = AudioDeviceError(f"the speaker {info.name!r} stopped: the device was lost or failed", hint=CHECK_HINT)

        try:
            self._stream = sd.RawOutputStream(
                samplerate=self.device_rate,
                blocksize=self.device_rate * self.block_ms // 1000,
                device=info.index,
                channels=channels,
                dtype="int16",
                latency="low",  # voice: small buffers, quick barge-in (PulseAudio's default capture buffer is ~2 s)
                callback=callback,
                finished_callback=finished,
            )
            self._stream.start()
        except Exception as error:  # noqa: BLE001
            raise AudioDeviceError(f"cannot open the speaker {info.name!r} ({error})", hint=CHECK_HINT) from None

    def _probed(self, posted_at: int) -> None:  # on the writing loop
        """The probe posted at device time `posted_at` ran: the writer lagged by what the device took since."""
        now = self.queue.read_total
        self.lag.note(now, now - posted_at)
        self._probing = False

    @property
    def jitter_s(self) -> float:
        """The jitter buffer's depth now: the audio queued before playing starts again after running dry."""
        least = self.min_jitter_s * self.device_rate
        return min(self.max_jitter_s * self.device_rate, self.lag.worst + least) / self.device_rate

    @property
    def underruns(self) -> int:
        """Blocks the device found short of audio while a reply was still coming."""
        return self.queue.underruns

    def write(self, samples: np.ndarray, rate: int, tag: Hashable = None) -> None:
        try:
            self._writer = asyncio.get_running_loop()
        except RuntimeError:  # written outside any loop: the probes go where they went
            pass
        self.queue.prebuffer = int(self.jitter_s * self.device_rate)
        self.queue.put(resample(samples, rate, self.device_rate), tag)

    def advance(self, samples: int, rate: int) -> None:
        """The device keeps its own time."""

    def flush(self, *, keep_current: bool = False) -> float:
        return self.queue.flush(keep_current=keep_current) / self.device_rate

    @property
    def pending_s(self) -> float:
        return self.queue.pending / self.device_rate

    @property
    def playing(self) -> Hashable:
        return self.queue.playing

    def played_s(self, tag: Hashable) -> float:
        return self.queue.played.get(tag, 0) / self.device_rate

    async def drain(self) -> None:
        """Wait until the queue has been played, plus one block for the device's buffer."""
        while self.queue.pending and self.error is None:
            await asyncio.sleep(self.block_ms / 1000)
        await asyncio.sleep(2 * self.block_ms / 1000)

    async def aclose(self) -> None:
        self._closing = True
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception:  # noqa: BLE001
                pass
            self._stream = None
