"""Real sound devices through PortAudio, against a private PulseAudio server with a null sink.

The test starts its own PulseAudio (its own socket in a temporary folder, so a desktop's server is
left alone) with one null sink, `tc_speaker`. What is played to the sink comes back on its monitor
source, which is the default source here: the speaker plays into a virtual microphone. PortAudio
reaches PulseAudio through ALSA's `pulse` device (libasound2-plugins).

Skipped, with the reason, where pulseaudio, PortAudio or the ALSA pulse plugin are missing or the
server cannot start. These tests run in real time (a few seconds each).

CI needs only the packages (apt-get install -y pulseaudio pulseaudio-utils libasound2-plugins
libportaudio2); the test starts and stops its server itself. The same virtual devices by hand, for
trying `tui-chat voice` without hardware (works as root too, with a warning):
    export PULSE_RUNTIME_PATH=/tmp/pulse-ci && mkdir -p "$PULSE_RUNTIME_PATH"
    pulseaudio -n --daemonize=yes --exit-idle-time=-1 \\
        --load="module-native-protocol-unix auth-anonymous=1 socket=$PULSE_RUNTIME_PATH/native" \\
        --load="module-null-sink sink_name=tc_speaker"
    export PULSE_SERVER="unix:$PULSE_RUNTIME_PATH/native"
    pactl set-default-sink tc_speaker && pactl set-default-source tc_speaker.monitor
    ...                      # the speaker plays into tc_speaker; the microphone hears its monitor
    pactl exit               # stop the server
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from tui_chat.audio.synth import speech_like
from tui_chat.voice.turns import TurnDetector, TurnEnd, TurnStart
from tui_chat.audio.vad import EnergyVad

SINK = "tc_speaker"


def _portaudio():  # type: ignore[no-untyped-def]
    try:
        import sounddevice
    except OSError as error:
        pytest.skip(f"PortAudio is not installed (apt install libportaudio2): {error}")
    return sounddevice


@pytest.fixture(scope="module")
def pulse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A private PulseAudio server with a null sink, the environment pointing at it, PortAudio re-read."""
    binary = shutil.which("pulseaudio")
    if binary is None or shutil.which("pactl") is None:
        pytest.skip("pulseaudio/pactl are not installed (apt install pulseaudio pulseaudio-utils)")
    sd = _portaudio()
    folder = tmp_path_factory.mktemp("pulse")
    socket = folder / "native"
    env = dict(os.environ, PULSE_RUNTIME_PATH=str(folder), HOME=str(folder), XDG_CONFIG_HOME=str(folder / "config"))
    env.pop("PULSE_SERVER", None)
    daemon = subprocess.Popen(
        [
            binary, "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--log-target=stderr",
            f"--load=module-native-protocol-unix auth-anonymous=1 socket={socket}",
            f"--load=module-null-sink sink_name={SINK} rate=48000",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    server = f"unix:{socket}"
    client_env = dict(env, PULSE_SERVER=server)
    deadline = time.monotonic() + 15
    while subprocess.run(["pactl", "info"], env=client_env, capture_output=True).returncode != 0:
        if daemon.poll() is not None or time.monotonic() > deadline:
            daemon.kill()
            reason = (daemon.stderr.read() if daemon.stderr else b"").decode(errors="replace").strip().splitlines()[-3:]
            pytest.skip(f"PulseAudio would not start here: {' / '.join(reason) or 'timed out'}")
        time.sleep(0.1)
    subprocess.run(["pactl", "set-default-sink", SINK], env=client_env, check=True)
    subprocess.run(["pactl", "set-default-source", f"{SINK}.monitor"], env=client_env, check=True)

    saved = {k: os.environ.get(k) for k in ("PULSE_SERVER", "PULSE_SINK", "PULSE_SOURCE")}
    os.environ.update(PULSE_SERVER=server, PULSE_SINK=SINK, PULSE_SOURCE=f"{SINK}.monitor")
    # PortAudio lists the devices when it starts (at import): make it look again, now the server is up.
    sd._terminate()
    sd._initialize()
    try:
        names = [d["name"] for d in sd.query_devices()]
        if "pulse" not in names:
            pytest.skip(f"PortAudio has no 'pulse' device (apt install libasound2-plugins); it has {names}")
        keeper = _keep_source_running(sd)
        try:
            yield
        finally:
            keeper.stop()
            keeper.close()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        daemon.terminate()
        try:
            daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()
        if daemon.stderr:
            daemon.stderr.close()
        sd._terminate()
        sd._initialize()


def _keep_source_running(sd):  # type: ignore[no-untyped-def]
    """A capture stream kept open for the module, once it delivers audio.

    An idle null sink sleeps up to 2 s between renders; a new low-latency stream is heard only
    when it wakes. A stream kept open keeps it awake, so each test's devices start at once.
    """
    import threading

    first = threading.Event()
    stream = sd.RawInputStream(device="pulse", samplerate=16000, channels=1, dtype="int16", latency="low", callback=lambda *_: first.set())
    stream.start()
    if not first.wait(10):
        stream.close()
        pytest.skip("the PulseAudio source delivered no audio within 10 s")
    return stream


def test_devices_are_listed(pulse: None) -> None:
    from tui_chat.audio.devices import find_device, list_devices

    names = [d.name for d in list_devices()]
    assert "pulse" in names
    assert find_device("pulse", "input").max_input_channels > 0
    assert find_device("pulse", "output").max_output_channels > 0


@pytest.mark.parametrize("device_rate", [None, 44100])
async def test_speaker_to_microphone_through_pulseaudio(pulse: None, device_rate: int | None) -> None:
    """Speech played on the speaker is heard by the microphone as one turn of the right length."""
    from tui_chat.audio.devices import MicrophoneSource, SpeakerSink

    speech = speech_like("Hello, how are you?", 24000)
    voiced = np.flatnonzero(speech)
    true_length = (voiced[-1] - voiced[0]) / 24000
    mic = MicrophoneSource("pulse", 16000, device_rate=device_rate)
    speaker = await SpeakerSink.open("pulse", 24000, device_rate=device_rate)
    detector = TurnDetector(EnergyVad(16000))
    events = []
    frames = 0
    try:
        async for frame in mic.frames():
            frames += 1
            if frames == 25:  # after 0.5 s of the room's silence
                speaker.write(speech, 24000)
            events += [e for e in detector.process(frame) if isinstance(e, (TurnStart, TurnEnd))]
            if any(isinstance(e, TurnEnd) for e in events) or frames > 400:
                break
    finally:
        await speaker.aclose()
    assert speaker.error is None
    assert mic.opened_rate == (device_rate or 16000)
    ends = [e for e in events if isinstance(e, TurnEnd)]
    assert len(ends) == 1 and ends[0].reason == "silence", events
    assert ends[0].duration == pytest.approx(true_length, abs=0.1)


async def test_headless_voice_with_a_real_microphone(pulse: None, tmp_path: Path) -> None:
    """`run_voice` listening to PortAudio: the speech played into the sink is a turn and gets a reply."""
    from tui_chat.audio.devices import SpeakerSink
    from tui_chat.voice.headless import run_voice
    from tui_chat.voice.session import VoiceOptions

    speaker = await SpeakerSink.open("pulse", 24000)
    out, err = io.StringIO(), io.StringIO()

    async def talk() -> None:
        await asyncio.sleep(0.3)
        speaker.write(speech_like("Hear me?", 24000), 24000)

    talking = asyncio.create_task(talk())
    try:
        code = await run_voice(
            "demo",
            audio_out=tmp_path / "reply.wav",
            json_out=True,
            input_device="pulse",
            options=VoiceOptions(levels=False, max_input_s=3.0),
            out=out,
            err=err,
        )
    finally:
        await talking
        await speaker.aclose()
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 0, err.getvalue()
    kinds = [e["type"] for e in events]
    assert kinds.count("turn_ended") == 1 and "reply_ended" in kinds and kinds[-1] == "session_ended"
