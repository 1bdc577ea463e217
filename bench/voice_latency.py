"""Client overhead on the voice path over real loopback WebSockets, and its CPU cost.

The fake OpenAI Realtime and Gemini Live services (tests/fakes/realtime_*.py) run in a separate
process, so their work and their share of the interpreter lock do not count against the client.
Both processes read the same monotonic clock (CLOCK_MONOTONIC), so the server's own delay on each
turn (from the end of the turn reaching it to its first audio leaving it: the scripted model
latency plus its own work) is known exactly and subtracted.

1. Latency, per turn: from the end of the user's turn (`end_turn()` called) to the first block of
   reply audio handed to the output device (`sink.write`), minus the server's delay. Measured
   - through the bidirectional session alone (push-to-talk turns, back to back), and
   - through the whole voice path (`VoiceSession`: a microphone paced in real time, the energy VAD
     deciding where each turn ends, the output task writing to the speaker), from the moment the
     session sends the turn's end,
   next to a baseline: a bare `websockets` client doing the least any client must (send the
   end-of-turn messages, read frames until the first audio, parse it, decode the base64).
   Target: <= 30 ms.
2. CPU per second of a two-way conversation: 20 ms microphone frames sent in real time while the
   reply streams back in real time and is written to the speaker, for `--seconds`; the client
   process's CPU time over the wall time, as a fraction of one core. Also for the whole voice
   path (turns of speech and silence from a paced microphone, replies playing).

Run: python bench/voice_latency.py [--turns N] [--seconds S] [--delay D] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

TARGET_MS = 30.0
PROVIDERS = ("openai-realtime", "gemini-live")


# --- the server process -----------------------------------------------------------------------


async def serve(kind: str, delay: float, reply_s: float, paced: bool) -> None:
    from tests.fakes.realtime_gemini import FakeGeminiLive
    from tests.fakes.realtime_gemini import Reply as GeminiReply
    from tests.fakes.realtime_openai import FakeOpenAIRealtime
    from tests.fakes.realtime_openai import Reply as OpenAIReply

    if kind == "openai-realtime":
        server: Any = FakeOpenAIRealtime()
        server.default_reply = lambda: OpenAIReply(audio_s=reply_s, delay=delay, paced=paced, chunk_ms=100)
    else:
        server = FakeGeminiLive()
        server.default_reply = lambda: GeminiReply(audio_s=reply_s, delay=delay, paced=paced, chunk_ms=100)
    async with server:
        print(server.port, flush=True)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, sys.stdin.readline)
        print(json.dumps(server.timings), flush=True)


class ServerProcess:
    """A fake service in a child process: its URL, and its per-turn timings when stopped."""

    def __init__(self, kind: str, *, delay: float, reply_s: float = 0.5, paced: bool = False) -> None:
        args = [sys.executable, __file__, "--serve", kind, "--delay", str(delay), "--reply-s", str(reply_s)]
        if paced:
            args.append("--paced")
        self.kind = kind
        self.process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())
        self.url = f"ws://127.0.0.1:{self.port}" + ("/v1" if kind == "openai-realtime" else "")

    def stop(self) -> list[dict[str, float]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("dump\n")
        self.process.stdin.flush()
        timings = json.loads(self.process.stdout.readline())
        self.process.wait(timeout=10)
        return timings


def settings(server: ServerProcess) -> Any:
    from tui_chat.providers.registry import ProviderSettings

    return ProviderSettings(base_url=server.url, api_key=lambda: "test-key", options={"ping_interval": None})


def speech(seconds: float, rate: int) -> np.ndarray:
    from tui_chat.audio.synth import speech_like

    samples = speech_like("Tell me something about the sea and the ships on it.", rate)
    while samples.size < seconds * rate:
        samples = np.concatenate((samples, samples))
    return samples[: int(seconds * rate)]


def frames(samples: np.ndarray, rate: int) -> list[bytes]:
    size = rate // 50
    return [samples[i : i + size].tobytes() for i in range(0, samples.size, size)]


def server_delays(timings: list[dict[str, float]]) -> list[float]:
    return [t["first_audio"] - t["end"] for t in timings]


def summary(values_ms: list[float]) -> str:
    values = sorted(values_ms)
    p90 = values[min(len(values) - 1, int(round(0.9 * (len(values) - 1))))]
    return f"median {statistics.median(values):6.2f} ms   p90 {p90:6.2f} ms   max {values[-1]:6.2f} ms   (n={len(values)})"


# --- 1. latency through the session -----------------------------------------------------------


async def session_latency(kind: str, turns: int, delay: float) -> list[float]:
    """Client overhead (ms) per push-to-talk turn through `BidiSession` and a speaker sink."""
    from tui_chat.audio.pcm import pcm_to_array
    from tui_chat.audio.playback import ClockedSink
    from tui_chat.chunks import AudioChunk, Done
    from tui_chat.realtime import open_bidi
    from tui_chat.realtime.base import BidiConfig

    server = ServerProcess(kind, delay=delay)
    measured: list[float] = []
    try:
        session = await open_bidi(kind, settings(server), config=BidiConfig(turn_detection="manual"))
        rate = session.input_rate
        turn = frames(speech(0.5, rate), rate)
        sink = ClockedSink(session.output_rate)
        output = session.output()
        for index in range(turns + 1):
            for frame in turn:
                await session.send_audio(frame, rate)
            start = time.monotonic()
            await session.end_turn()
            first: float | None = None
            async for chunk in output:
                if isinstance(chunk, AudioChunk) and first is None:
                    sink.write(pcm_to_array(chunk.pcm), chunk.rate, tag=index)
                    first = time.monotonic()
                if isinstance(chunk, Done):
                    break
            assert first is not None
            measured.append(first - start)
            sink.flush()
        await session.close()
    finally:
        timings = server.stop()
    delays = server_delays(timings)
    return [(m - d) * 1000 for m, d in zip(measured, delays)][1:]  # the first turn warms up


async def raw_latency(kind: str, turns: int, delay: float) -> list[float]:
    """The floor: a bare websockets client, the same turns, only the work every client must do."""
    from websockets.asyncio.client import connect

    server = ServerProcess(kind, delay=delay)
    measured: list[float] = []
    rate = 24000 if kind == "openai-realtime" else 16000
    turn = frames(speech(0.5, rate), rate)
    try:
        if kind == "openai-realtime":
            url = server.url + "/realtime?model=gpt-realtime"
            headers = {"Authorization": "Bearer test-key"}
        else:
            url = server.url + "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
            headers = {"x-goog-api-key": "test-key"}
        async with connect(url, additional_headers=headers, compression=None, max_size=None, ping_interval=None) as ws:
            if kind == "openai-realtime":
                await ws.recv()
                await ws.send(json.dumps({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}}}))
                await ws.recv()
            else:
                await ws.send(json.dumps({"setup": {"model": "models/m", "realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}}}}))
                await ws.recv()
            for _ in range(turns + 1):
                if kind == "openai-realtime":
                    for frame in turn:
                        await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": base64.b64encode(frame).decode()}))
                    start = time.monotonic()
                    await ws.send('{"type":"input_audio_buffer.commit"}')
                    await ws.send('{"type":"response.create"}')
                else:
                    await ws.send('{"realtimeInput":{"activityStart":{}}}')
                    for frame in turn:
                        await ws.send(json.dumps({"realtimeInput": {"audio": {"data": base64.b64encode(frame).decode(), "mimeType": "audio/pcm;rate=16000"}}}))
                    start = time.monotonic()
                    await ws.send('{"realtimeInput":{"activityEnd":{}}}')
                first = None
                while True:
                    message = json.loads(await ws.recv())
                    if first is None:
                        if kind == "openai-realtime" and message.get("type") == "response.output_audio.delta":
                            np.frombuffer(base64.b64decode(message["delta"]), "<i2")
                            first = time.monotonic()
                        elif kind != "openai-realtime" and "modelTurn" in message.get("serverContent", {}):
                            np.frombuffer(base64.b64decode(message["serverContent"]["modelTurn"]["parts"][0]["inlineData"]["data"]), "<i2")
                            first = time.monotonic()
                    if message.get("type") == "response.done" or message.get("serverContent", {}).get("turnComplete"):
                        break
                measured.append(first - start)
    finally:
        timings = server.stop()
    delays = server_delays(timings)
    return [(m - d) * 1000 for m, d in zip(measured, delays)][1:]


# --- 1b and 2b. the whole voice path, in real time --------------------------------------------


async def voice_path(kind: str, turns: int, delay: float) -> tuple[list[float], float, float]:
    """(client overhead per turn in ms, CPU seconds, wall seconds) of a paced VoiceSession."""
    from tui_chat.audio.playback import ClockedSink
    from tui_chat.voice.session import VoiceOptions, VoiceSession
    from tui_chat.audio.sources import PcmSource
    from tui_chat.realtime import open_bidi
    from tui_chat.realtime.base import BidiConfig

    server = ServerProcess(kind, delay=delay, reply_s=1.0, paced=True)
    ends: list[float] = []
    firsts: dict[Any, float] = {}

    class TimedSink(ClockedSink):
        def write(self, samples: np.ndarray, rate: int, tag: Any = None) -> None:
            super().write(samples, rate, tag)
            firsts.setdefault(tag, time.monotonic())

    try:
        bidi = await open_bidi(kind, settings(server), config=BidiConfig(turn_detection="manual"))
        end_turn = bidi.end_turn

        async def timed_end_turn() -> None:
            ends.append(time.monotonic())
            await end_turn()

        bidi.end_turn = timed_end_turn  # type: ignore[method-assign]
        rate = bidi.input_rate
        one = np.concatenate((np.zeros(int(0.3 * rate), np.int16), speech(0.8, rate), np.zeros(int(1.6 * rate), np.int16)))
        source = PcmSource(np.concatenate([one] * turns), rate)
        sink = TimedSink(bidi.output_rate)
        voice = VoiceSession(bidi, source, sink, VoiceOptions(levels=True, interruption="ignore"))
        cpu, wall = time.process_time(), time.monotonic()
        async for _ in voice.run():
            pass
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    finally:
        timings = server.stop()
    delays = server_delays(timings)
    firsts_in_order = [firsts[tag] for tag in sorted(t for t in firsts if t is not None)]
    overhead = [(f - e - d) * 1000 for e, f, d in zip(ends, firsts_in_order, delays)]
    return overhead[1:], cpu, wall


# --- 2. CPU of a two-way conversation through the session -------------------------------------


async def two_way_cpu(kind: str, seconds: float) -> tuple[float, float, float]:
    """(CPU seconds, wall seconds, reply audio seconds) of mic frames up and reply audio down, in real time."""
    from tui_chat.audio.pcm import pcm_to_array
    from tui_chat.audio.playback import ClockedSink
    from tui_chat.chunks import AudioChunk, Done
    from tui_chat.realtime import open_bidi
    from tui_chat.realtime.base import BidiConfig

    server = ServerProcess(kind, delay=0.0, reply_s=seconds, paced=True)
    received = 0.0
    try:
        # Hands-free without barge-in: the service hears all the audio and lets the reply play on.
        session = await open_bidi(kind, settings(server), config=BidiConfig(turn_detection="server", barge_in=False))
        rate = session.input_rate
        mic = frames(speech(seconds, rate), rate)
        sink = ClockedSink(session.output_rate)

        async def talk() -> None:
            started = time.monotonic()
            for index, frame in enumerate(mic):
                await asyncio.sleep(max(0.0, started + (index + 1) * 0.02 - time.monotonic()))
                await session.send_audio(frame, rate)
                sink.advance(len(frame) // 2, rate)

        cpu, wall = time.process_time(), time.monotonic()
        await session.send_text("talk to me")
        talking = asyncio.create_task(talk())
        async for chunk in session.output():
            if isinstance(chunk, AudioChunk):
                sink.write(pcm_to_array(chunk.pcm), chunk.rate)
                received += len(chunk.pcm) / 2 / chunk.rate
            if isinstance(chunk, Done):
                break
        await talking
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        await session.close()
    finally:
        server.stop()
    return cpu, wall, received


# --- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--turns", type=int, default=40, help="turns per latency run (default 40)")
    parser.add_argument("--voice-turns", type=int, default=6, help="turns of the real-time voice path (default 6)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the two-way conversation (default 10)")
    parser.add_argument("--delay", type=float, default=0.05, help="the fake model's own latency, subtracted (default 0.05 s)")
    parser.add_argument("--quick", action="store_true", help="fewer turns and a shorter conversation")
    parser.add_argument("--serve", choices=PROVIDERS, help=argparse.SUPPRESS)
    parser.add_argument("--reply-s", type=float, default=0.5, help=argparse.SUPPRESS)
    parser.add_argument("--paced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.delay, args.reply_s, args.paced))
        return
    if args.quick:
        args.turns, args.voice_turns, args.seconds = 10, 3, 4.0

    try:
        import orjson  # noqa: F401

        parser_name = "orjson"
    except ImportError:
        parser_name = "json (standard library)"
    print(f"voice path overhead over loopback WebSockets; python {sys.version.split()[0]}, {parser_name}, pid {os.getpid()}")
    print(f"the fake services run in a child process; their own delay ({args.delay * 1000:.0f} ms scripted + their work) is subtracted")
    print(f"target: end of turn -> first reply audio at the speaker, client overhead <= {TARGET_MS:.0f} ms\n")
    for kind in PROVIDERS:
        print(f"{kind}")
        raw = asyncio.run(raw_latency(kind, args.turns, args.delay))
        ours = asyncio.run(session_latency(kind, args.turns, args.delay))
        path, cpu, wall = asyncio.run(voice_path(kind, args.voice_turns, args.delay))
        verdict = "ok" if statistics.median(path) <= TARGET_MS and statistics.median(ours) <= TARGET_MS else "OVER TARGET"
        print(f"  baseline, bare websockets client : {summary(raw)}")
        print(f"  BidiSession -> speaker sink      : {summary(ours)}")
        print(f"  VoiceSession (real-time mic, VAD): {summary(path)}   [{verdict}]")
        print(f"  CPU of the whole voice path      : {cpu / wall:6.3f} of one core ({cpu:.2f} s over {wall:.1f} s, turns of speech and replies)")
        cpu2, wall2, got = asyncio.run(two_way_cpu(kind, args.seconds))
        print(f"  CPU of two-way audio (session)   : {cpu2 / wall2:6.3f} of one core ({cpu2:.2f} s over {wall2:.1f} s; "
              f"{args.seconds:.0f} s of mic audio up, {got:.1f} s of reply audio down)\n")


if __name__ == "__main__":
    main()
