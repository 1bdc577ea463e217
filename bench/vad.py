"""Voice benchmark: VAD and level cost, barge-in time, end-of-turn timing.

Run:  python bench/vad.py [--seconds 120] [--speech espeak|synth]

Figures, each printed with its target (the baseline it is compared with):

  cost       EnergyVad.process + LevelMeter.measure per 20 ms frame at 16 kHz, over `--seconds`
             of speech, pauses and background noise, as a fraction of real time (target <= 1 %).
             TurnDetector (VAD + pre-roll buffer) is shown too.
  barge-in   a voice session (demo provider, immediate interruption, the clocked speaker that
             plays exactly as much as the input advances) hears phrase 1, answers, and the user
             speaks phrase 2 over the answer. From the first sample of phrase 2: when the VAD
             confirmed speech (audio ms; the start time is 200 ms by design), when the playback
             queue was flushed relative to that (target: within one 20 ms output block), and the
             last sounding block of the reply in the recording relative to that (target: within
             one block). The wall-clock cost of the flush itself is shown too.
  end-turn   for each phrase, when the end of the turn was reported, minus (true end of speech +
             stop time 0.8 s) (target: within one 20 ms frame).

Speech is two espeak-ng phrases when espeak-ng is installed (else the demo's synthesized voice),
joined with 1.2 s of silence; the truth is where they were joined.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_chat.voice.events import BargeIn, TurnEnded, TurnStarted  # noqa: E402
from tui_chat.audio.levels import LevelMeter  # noqa: E402
from tui_chat.audio.playback import ClockedSink, PlaybackQueue  # noqa: E402
from tui_chat.voice.session import VoiceOptions, VoiceSession  # noqa: E402
from tui_chat.audio.sources import PcmSource  # noqa: E402
from tui_chat.audio.synth import speech_like  # noqa: E402
from tui_chat.voice.turns import TurnDetector  # noqa: E402
from tui_chat.audio.vad import EnergyVad  # noqa: E402
from tui_chat.audio.wav import WavWriter, read_wav  # noqa: E402
from tui_chat.realtime import open_bidi  # noqa: E402

RATE = 16000
FRAME = RATE // 50
OUT_RATE = 24000
BLOCK_S = 0.02
PHRASES = ("The quick brown fox jumps over the lazy dog.", "Please tell me the weather for tomorrow morning.")


def trim(samples: np.ndarray, threshold: int = 64) -> np.ndarray:
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > threshold)
    return samples[loud[0] : loud[-1] + 1]


def phrases(kind: str) -> tuple[list[np.ndarray], str]:
    espeak = shutil.which("espeak-ng")
    if kind == "espeak" and espeak is None:
        print("espeak-ng is not installed: using the synthesized voice")
    if kind == "espeak" and espeak:
        out = []
        with tempfile.TemporaryDirectory() as folder:
            for index, text in enumerate(PHRASES):
                path = Path(folder) / f"{index}.wav"
                subprocess.run([espeak, "-w", str(path), text], check=True, capture_output=True)
                out.append(trim(read_wav(path, RATE).samples))
        return out, "espeak-ng"
    return [trim(speech_like(text, RATE)) for text in PHRASES], "synthesized"


def joined(pieces: list[np.ndarray]) -> tuple[np.ndarray, list[tuple[float, float]]]:
    gap = lambda s: np.zeros(int(s * RATE), np.int16)  # noqa: E731
    lead, middle, tail = gap(0.5), gap(1.2), gap(1.5)
    signal = np.concatenate([lead, pieces[0], middle, pieces[1], tail])
    s1 = lead.size / RATE
    e1 = s1 + pieces[0].size / RATE
    s2 = e1 + middle.size / RATE
    e2 = s2 + pieces[1].size / RATE
    return signal, [(s1, e1), (s2, e2)]


def bench_cost(pieces: list[np.ndarray], seconds: float) -> None:
    rng = np.random.default_rng(0)
    parts, total = [], 0
    while total < seconds * RATE:
        for piece in pieces:
            parts += [piece, np.zeros(int(rng.uniform(0.3, 2.0) * RATE), np.int16)]
            total += parts[-2].size + parts[-1].size
    signal = np.concatenate(parts)[: int(seconds * RATE)]
    signal = np.clip(signal + rng.normal(0, 100, signal.size), -32768, 32767).astype(np.int16)
    frames = [signal[i : i + FRAME] for i in range(0, signal.size - FRAME + 1, FRAME)]
    audio_s = len(frames) * FRAME / RATE

    def timed(step) -> float:  # type: ignore[no-untyped-def]
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            for frame in frames:
                step(frame)
            best = min(best, time.perf_counter() - started)
        return best

    vad, meter = EnergyVad(RATE), LevelMeter(RATE)
    both = timed(lambda f: (vad.process(f), meter.measure(f)))
    vad_only = timed(EnergyVad(RATE).process)
    levels_only = timed(LevelMeter(RATE).measure)
    turns = timed(TurnDetector(EnergyVad(RATE)).process)
    per_frame = both / len(frames) * 1e6
    print(f"cost        {audio_s:.0f} s of audio, {len(frames)} frames of 20 ms")
    print(f"  VAD + levels   {per_frame:6.1f} us/frame  = {both / audio_s * 100:.3f} % of real time   (target <= 1 %)  {'ok' if both / audio_s <= 0.01 else 'MISSED'}")
    print(f"  VAD alone      {vad_only / len(frames) * 1e6:6.1f} us/frame  = {vad_only / audio_s * 100:.3f} %")
    print(f"  levels alone   {levels_only / len(frames) * 1e6:6.1f} us/frame  = {levels_only / audio_s * 100:.3f} %")
    print(f"  turn detector  {turns / len(frames) * 1e6:6.1f} us/frame  = {turns / audio_s * 100:.3f} % (VAD + pre-roll buffer)")


def sounding_until(samples: np.ndarray, start: float, stop: float) -> float:
    """The end of the last non-silent 20 ms block between `start` and `stop` seconds."""
    n = int(OUT_RATE * BLOCK_S)
    last = start
    for first in range(int(start * OUT_RATE) // n * n, min(samples.size, int(stop * OUT_RATE)), n):
        if np.any(samples[first : first + n]):
            last = (first + n) / OUT_RATE
    return last


async def bench_barge_in_and_end(signal: np.ndarray, truth: list[tuple[float, float]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "heard.wav"
        bidi = await open_bidi("demo")
        voice = VoiceSession(
            bidi,
            PcmSource(signal, RATE, fast=True),
            ClockedSink(OUT_RATE, WavWriter(path, OUT_RATE)),
            VoiceOptions(levels=False, interruption="immediate"),
        )
        events = [event async for event in voice.run()]
        recording = read_wav(path).samples

    starts = [e for e in events if isinstance(e, TurnStarted)]
    ends = [e for e in events if isinstance(e, TurnEnded)]
    barges = [e for e in events if isinstance(e, BargeIn)]
    print("barge-in    (audio time, from the first sample of the user's second phrase)")
    if len(starts) < 2 or not barges:
        print(f"  no barge-in happened: turns {starts}, barge-ins {barges}")
    else:
        onset = truth[1][0]
        detected = starts[1].detected_at
        barge = barges[0]
        flushed_after = barge.at - detected
        heard_until = sounding_until(recording, ends[0].detected_at, ends[1].detected_at)
        print(f"  speech found at      {(starts[1].at - onset) * 1000:+7.1f} ms   (VAD start, vs the true onset)")
        print(f"  speech confirmed at  {(detected - onset) * 1000:+7.1f} ms   (start time 200 ms + frame rounding)")
        print(
            f"  queue flushed at     {(barge.at - onset) * 1000:+7.1f} ms   = {flushed_after * 1000:.1f} ms after confirmation"
            f"  (target <= 1 block, 20 ms)  {'ok' if flushed_after <= BLOCK_S + 1e-9 else 'MISSED'}"
        )
        print(
            f"  reply last heard at  {(heard_until - onset) * 1000:+7.1f} ms   = {(heard_until - detected) * 1000:.1f} ms after confirmation"
            f"  (target <= 1 block)  {'ok' if heard_until - detected <= BLOCK_S + 1e-9 else 'MISSED'}"
        )
        print(f"  reply audio dropped  {barge.flushed_s:.2f} s, heard {barge.played_s:.2f} s")

    queue = PlaybackQueue(OUT_RATE)
    costs = []
    for _ in range(200):
        for _ in range(50):
            queue.put(np.zeros(2400, np.int16))
        started = time.perf_counter()
        queue.flush()
        costs.append(time.perf_counter() - started)
    print(f"  flush itself         {statistics.median(costs) * 1e6:.1f} us (median, 50 queued pieces; a device hears at most its block in flight)")

    print("end-turn    (reported end - (true end + 0.8 s))")
    worst = 0.0
    for index, (end, (_, true_end)) in enumerate(zip(ends, truth), 1):
        error = end.detected_at - (true_end + 0.8)
        worst = max(worst, abs(error))
        print(f"  turn {index}: reported at {end.detected_at:.3f} s, speech ended {true_end:.3f} s: {error * 1000:+6.1f} ms")
    print(f"  worst {worst * 1000:.1f} ms   (target within one frame, 20 ms)  {'ok' if worst <= BLOCK_S + 1e-9 else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="audio for the cost figure (default 120)")
    parser.add_argument("--speech", choices=("espeak", "synth"), default="espeak")
    args = parser.parse_args()
    pieces, source = phrases(args.speech)
    print(f"speech: {source}; frames of 20 ms at {RATE} Hz; python {sys.version.split()[0]}, numpy {np.__version__}\n")
    bench_cost(pieces, args.seconds)
    signal, truth = joined(pieces)
    asyncio.run(bench_barge_in_and_end(signal, truth))


if __name__ == "__main__":
    main()
