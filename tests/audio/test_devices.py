"""Sound devices, with a fake sounddevice module: listing, choosing, rates, failures, the queues."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import numpy as np
import pytest

from tui_chat.audio import devices
from tui_chat.audio.devices import MicrophoneSource, SpeakerSink, find_device, format_devices, list_devices
from tui_chat.audio.errors import AudioDeviceError
from tui_chat.audio.levels import rms_dbfs

from .fake_sounddevice import FakeDevice, FakeSoundDevice, without_portaudio

RATE = 16000


def install(monkeypatch: pytest.MonkeyPatch, fake: FakeSoundDevice) -> FakeSoundDevice:
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    return fake


def sine_blocks(rate: int, seconds: float, block_s: float = 0.02, amplitude: int = 8000) -> list[np.ndarray]:
    t = np.arange(int(rate * seconds)) / rate
    signal = (np.sin(2 * np.pi * 440 * t) * amplitude).astype(np.int16)
    n = int(rate * block_s)
    return [signal[i : i + n] for i in range(0, signal.size, n)]


async def collect(source: MicrophoneSource, limit: int = 10_000) -> list[np.ndarray]:
    frames = []
    async for frame in source.frames():
        frames.append(frame)
        if len(frames) >= limit:
            break
    return frames


def test_portaudio_missing_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    without_portaudio(monkeypatch)
    with pytest.raises(AudioDeviceError) as caught:
        list_devices()
    assert "PortAudio" in caught.value.message and "PortAudio library not found" in caught.value.message
    assert "libportaudio2" in caught.value.hint and "--audio-in" in caught.value.hint


def test_sounddevice_missing_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # makes the import fail with ImportError
    with pytest.raises(AudioDeviceError) as caught:
        list_devices()
    assert caught.value.hint == "pip install sounddevice"


def test_list_and_format(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeSoundDevice([FakeDevice("Built-in Mic", inputs=2), FakeDevice("Speakers", outputs=2, rate=44100)]))
    found = list_devices()
    assert [(d.index, d.name, d.default_input, d.default_output) for d in found] == [(0, "Built-in Mic", True, False), (1, "Speakers", False, True)]
    text = format_devices(found)
    assert "<    0  Built-in Mic  (Fake API; 2 in; 48000 Hz)" in text
    assert " >   1  Speakers  (Fake API; 2 out; 44100 Hz)" in text
    assert "no sound devices found" in format_devices([])


def test_choose_by_name_index_or_default(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeSoundDevice([FakeDevice("HDMI out", outputs=2), FakeDevice("USB Headset", inputs=1, outputs=2), FakeDevice("Webcam mic", inputs=1)]))
    assert find_device(None, "input").name == "USB Headset"
    assert find_device("webcam", "input").name == "Webcam mic"
    assert find_device(2, "input").name == "Webcam mic"
    assert find_device("2", "input").name == "Webcam mic"
    assert find_device("usb headset", "output").index == 1
    with pytest.raises(AudioDeviceError) as caught:
        find_device("studio", "input")
    assert "no microphone (input device) matches 'studio'" in caught.value.message
    assert "'USB Headset', 'Webcam mic'" in caught.value.hint
    with pytest.raises(AudioDeviceError, match="no microphone .* with index 0"):
        find_device(0, "input")  # HDMI has no inputs


def test_no_input_device(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeSoundDevice([FakeDevice("Speakers", outputs=2)]))
    with pytest.raises(AudioDeviceError) as caught:
        find_device(None, "input")
    assert caught.value.message == "no microphone (input device) found"
    assert "--audio-in FILE.wav" in caught.value.hint and "tui-chat devices" in caught.value.hint


async def test_microphone_at_the_session_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = install(monkeypatch, FakeSoundDevice([FakeDevice("Mic", inputs=1)], input_blocks=sine_blocks(RATE, 0.5)))
    source = MicrophoneSource(rate=RATE, stall_timeout=0.01, start_timeout=0.01)
    frames = []
    with pytest.raises(AudioDeviceError, match="stopped delivering audio"):
        async for frame in source.frames():  # 25 frames, then nothing: a stalled device
            frames.append(frame)
    assert len(frames) == 25 and all(f.size == 320 for f in frames)
    stream = fake.streams[0]
    assert stream.kwargs["samplerate"] == RATE and stream.kwargs["channels"] == 1 and stream.kwargs["dtype"] == "int16"
    assert stream.closed and source.opened_rate == RATE and source.warnings == []


async def test_microphone_that_only_takes_its_own_rate_and_stereo_is_converted(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = sine_blocks(48000, 1.0)
    device = FakeDevice("Pro mic", inputs=2, rate=48000, rates=(48000,), channels=(2,))
    fake = install(monkeypatch, FakeSoundDevice([device], input_blocks=blocks, lose_device_after_blocks=True))
    source = MicrophoneSource("pro", RATE, queue_blocks=100)
    frames = []
    with pytest.raises(AudioDeviceError, match="'Pro mic' stopped: the device was lost"):
        async for frame in source.frames():
            frames.append(frame)
    assert fake.streams[0].kwargs["samplerate"] == 48000 and fake.streams[0].kwargs["channels"] == 2
    audio = np.concatenate(frames)
    assert RATE <= audio.size < RATE + 320  # all of it: the resampler's tail is flushed, the last frame padded
    assert rms_dbfs(audio[1000:-1000]) == pytest.approx(rms_dbfs(np.concatenate(blocks)), abs=0.3)
    spectrum = np.abs(np.fft.rfft(audio[:8000].astype(float)))
    assert np.fft.rfftfreq(8000, 1 / RATE)[spectrum.argmax()] == pytest.approx(440, abs=3)
    assert source.warnings == ["the microphone 'Pro mic' runs at 48000 Hz; converting to 16000 Hz"]


async def test_a_full_queue_drops_the_oldest_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [np.full(320, i, np.int16) for i in range(30)]
    install(monkeypatch, FakeSoundDevice([FakeDevice("Mic", inputs=1)], input_blocks=blocks, lose_device_after_blocks=True))
    source = MicrophoneSource(rate=RATE, queue_blocks=10)
    frames = []
    with pytest.raises(AudioDeviceError):
        async for frame in source.frames():
            frames.append(frame)
    # 30 blocks and the "lost" marker into a queue of 10: the newest 9 blocks are kept, in order.
    assert [int(f[0]) for f in frames] == list(range(21, 30))
    assert source.dropped_blocks == 21


async def test_a_device_that_never_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    install(monkeypatch, FakeSoundDevice([FakeDevice("Mic", inputs=1)]))
    with pytest.raises(AudioDeviceError, match="'Mic' delivered no audio"):
        await collect(MicrophoneSource(rate=RATE, start_timeout=0.01, stall_timeout=0.01))


async def test_device_that_errors_on_open(monkeypatch: pytest.MonkeyPatch) -> None:
    device = FakeDevice("Busy mic", inputs=1, rates=(8000,))  # default 48000 is not accepted either
    install(monkeypatch, FakeSoundDevice([device]))
    with pytest.raises(AudioDeviceError) as caught:
        await collect(MicrophoneSource(rate=RATE))
    assert "cannot open the microphone 'Busy mic'" in caught.value.message


async def test_speaker_plays_the_queue_and_flushes(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = install(monkeypatch, FakeSoundDevice([FakeDevice("Speakers", outputs=2, rates=(48000,), channels=(2,))]))
    sink = await SpeakerSink.open(None, 24000)
    stream = fake.streams[0]
    assert stream.kwargs["samplerate"] == 48000 and sink.warnings
    sink.write(np.full(2400, 1000, np.int16), 24000, tag=1)  # 0.1 s, converted to 48 kHz
    sink.write(np.full(2400, 1000, np.int16), 24000, tag=1)
    assert sink.pending_s == pytest.approx(0.2, abs=0.01)
    block = np.frombuffer(stream.pull(960), "<i2").reshape(-1, 2)  # one 20 ms block
    assert np.all(block[100:-100] > 900) and np.array_equal(block[:, 0], block[:, 1])
    assert sink.played_s(1) == pytest.approx(0.02) and sink.playing == 1
    dropped = sink.flush()
    assert dropped == pytest.approx(0.18, abs=0.01) and sink.pending_s == 0 and sink.playing is None
    assert not np.any(np.frombuffer(stream.pull(960), "<i2"))  # silence after the flush
    assert sink.underruns == 0  # the reply was cut, not starved: its silence is no underrun
    stream.lose()
    assert sink.error is not None and "'Speakers' stopped" in sink.error.message
    await sink.aclose()
    assert stream.closed


async def test_speaker_deferred_flush_keeps_the_piece_being_played(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = install(monkeypatch, FakeSoundDevice([FakeDevice("Speakers", outputs=1, rate=24000)]))
    sink = await SpeakerSink.open("speakers", 24000)
    sink.write(np.full(4800, 1000, np.int16), 24000)  # the piece being played: 0.2 s
    sink.write(np.full(4800, 2000, np.int16), 24000)
    fake.streams[0].pull(480)
    assert sink.flush(keep_current=True) == pytest.approx(0.2)
    assert sink.pending_s == pytest.approx(0.18)
    await sink.aclose()


def test_sounddevice_is_imported_only_when_a_device_is_used() -> None:
    code = (
        "import sys; import tui_chat.audio.devices, tui_chat.voice.session, tui_chat.voice.headless, tui_chat.realtime.demo;"
        "print('sounddevice' in sys.modules, 'textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout.split()
    assert out == ["False", "False"]


def test_the_packages_are_import_light() -> None:
    # (headless too: the CLI may import it to build its parser.)
    code = "import sys; import tui_chat.audio, tui_chat.realtime, tui_chat.audio.errors, tui_chat.voice.headless; print(sorted(m for m in ('numpy', 'sounddevice', 'websockets', 'soxr', 'textual') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    assert out == "[]"


def test_module_constants_name_the_remedies() -> None:
    assert "libportaudio2" in devices.INSTALL_HINT and "tui-chat devices" in devices.CHECK_HINT


@pytest.mark.parametrize("turns", range(5))
async def test_the_microphone_stops_when_cancelled_as_a_block_arrives(monkeypatch: pytest.MonkeyPatch, turns: int) -> None:
    """Voice off (the session's input task cancelled) at any step of a block's way from the
    callback to the frame: the cancellation is never lost, so the device is always closed."""
    fake = install(monkeypatch, FakeSoundDevice([FakeDevice("Mic", inputs=1)]))
    source = MicrophoneSource(rate=RATE)
    frames: list[np.ndarray] = []

    async def listen() -> None:
        async for frame in source.frames():
            frames.append(frame)

    task = asyncio.create_task(listen())
    while not fake.streams:
        await asyncio.sleep(0)
    callback = fake.streams[0].kwargs["callback"]
    block = np.zeros(320, np.int16).tobytes()
    callback(block, 320, None, None)
    while not frames:
        await asyncio.sleep(0)
    callback(block, 320, None, None)  # the next block is on its way...
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()  # ...when voice goes off
    for _ in range(20):  # (no more blocks come: a task that lost the cancellation waits for ever)
        await asyncio.sleep(0)
    assert task.done() and task.cancelled()
    assert fake.streams[0].closed
