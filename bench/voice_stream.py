"""Voice while text streams: does the speaker run dry, and does the meter keep its rate?

Run:  python bench/voice_stream.py [--seconds 20] [--rates 50,200] [--lead-ms 0] [--size 120x40]

The real TUI (`TuiChatApp`, headless through `App.run_test`) in voice mode, push-to-talk, against
the fake OpenAI Realtime service (tests/fakes/realtime_openai.py) in a separate process, as a
remote service is: its work and its share of the interpreter lock do not count against the app.
The sound card is virtual (`PacedSoundDevice`, tests/audio/fake_sounddevice.py) under the real
`MicrophoneSource` and `SpeakerSink`: its streams run on their own threads, one 20 ms block per
20 ms of real time, whatever the event loop is doing, as PortAudio's callbacks do.

A message typed in the prompt asks for a reply. The service answers with --seconds of tone,
sent in 40 ms pieces in real time (each piece --lead-ms before it is due: 0 is a service that
speaks as it generates, the hardest case), and with its transcript: the demo's long Markdown reply
(`long_markdown`) in pieces at a fixed rate, which the chat shows as it does any streamed reply.
Each rate runs in a fresh process, next to a baseline measured in the same run: the same audio
with no transcript streaming (one short line).

Figures, over the reply (from sending the message to the last of its audio heard):
  underruns/min   blocks the speaker found short of audio while the reply was still coming
                  (`PlaybackQueue.underruns`), per minute of reply audio; and the silence they
                  put in, ms per minute. Target: 0.
  xruns           callbacks of the virtual card later than its buffer (2 blocks): the interpreter
                  lock kept from the audio thread. Target: 0.
  meter/s         `AudioMeter.show` calls per second (target: `VoiceSetup.meter_rate`, 30), and
  meter gap       the longest time between two of them (ms).
  loop lag        how late a 5 ms timer on the UI's event loop fires: p50 / p99 / max (ms); the
                  stalls a busy screen puts in the way of everything else on that loop (not of the
                  reply audio: the voice session reads and plays it on a thread of its own).
  jitter          the speaker's jitter buffer at the end (ms): sized from the lag it measured of the
                  loop that writes reply audio (the voice session's own).
  cpu             the app process's CPU time over wall time, share of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AUDIO_CHUNK_MS = 40
LAG_TICK_S = 0.005
BASELINE_TEXT = "A reply whose words are not shown while it plays."


# --- the service (its own process) ---------------------------------------------------------------


def paced_service(chunks_per_s: int, seconds: float, lead_s: float) -> Any:
    """The fake OpenAI Realtime service, answering every response with the bench's reply."""
    from tests.fakes.realtime_openai import RATE, FakeOpenAIRealtime
    from tests.fakes.realtime_server import tone
    from tui_chat.providers.demo import long_markdown

    class PacedReplies(FakeOpenAIRealtime):
        """Replies of `seconds` of tone sent in real time, with their transcript at `chunks_per_s`."""

        async def respond(self, conn: Any, reply: Any, active: dict[str, Any]) -> None:
            rid = active["id"]
            ev = lambda: self.new_id("event")  # noqa: E731
            item_id = self.new_id("item")
            item = {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress", "content": []}
            where = {"response_id": rid, "item_id": item_id, "output_index": 0, "content_index": 0}
            await conn.send({"type": "response.created", "event_id": ev(), "response": {"id": rid, "status": "in_progress", "output": []}})
            await conn.send({"type": "response.output_item.added", "event_id": ev(), "response_id": rid, "output_index": 0, "item": item})
            await conn.send({"type": "response.content_part.added", "event_id": ev(), **where, "part": {"type": "audio", "transcript": ""}})
            audio = tone(seconds)
            size = RATE * AUDIO_CHUNK_MS // 1000
            words = long_markdown(int(seconds * chunks_per_s)) if chunks_per_s else [BASELINE_TEXT]
            schedule = [(max(0.0, i / RATE - lead_s), 1, audio[i : i + size]) for i in range(0, audio.size, size)]
            schedule += [(j / chunks_per_s if chunks_per_s else 0.0, 0, piece) for j, piece in enumerate(words)]
            schedule.sort(key=lambda entry: (entry[0], entry[1]))
            loop = asyncio.get_running_loop()
            start = loop.time()
            for at, kind, payload in schedule:
                if active["cancel"].is_set():
                    break
                if (wait := start + at - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if kind:
                    delta = base64.b64encode(payload.tobytes()).decode()
                    await conn.send({"type": "response.output_audio.delta", "event_id": ev(), **where, "delta": delta})
                else:
                    await conn.send({"type": "response.output_audio_transcript.delta", "event_id": ev(), **where, "delta": payload})
            transcript = "".join(words)
            done = {**item, "status": "completed", "content": [{"type": "output_audio", "transcript": transcript}]}
            await conn.send({"type": "response.output_audio.done", "event_id": ev(), **where})
            await conn.send({"type": "response.output_audio_transcript.done", "event_id": ev(), **where, "transcript": transcript})
            await conn.send({"type": "response.output_item.done", "event_id": ev(), "response_id": rid, "output_index": 0, "item": done})
            conn.state["active"] = None
            await conn.send({"type": "response.done", "event_id": ev(), "response": {"id": rid, "status": "completed", "status_details": None,
                                                                                    "output": [done], "usage": {"total_tokens": 1}}})

    return PacedReplies()


async def serve(chunks_per_s: int, seconds: float, lead_s: float) -> None:
    """Run the service until a line arrives on stdin; its port goes to stdout."""
    async with paced_service(chunks_per_s, seconds, lead_s) as server:
        print(server.port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


# --- the app (its own process) -------------------------------------------------------------------


class Probes:
    """Timestamps of meter updates and loop lag samples, and the terminal write each frame costs."""

    def __init__(self, app: Any, meter: Any) -> None:
        self.meter_updates: list[float] = []
        self.lags: list[float] = []
        self.frames = 0
        show, display = meter.show, app._display

        def timed_show(*args: Any) -> None:
            self.meter_updates.append(time.perf_counter())
            show(*args)

        def encoded_display(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None and hasattr(renderable, "render_segments"):
                renderable.render_segments(app.console)  # what a terminal write needs (headless skips it)
                self.frames += 1

        meter.show = timed_show
        app._display = encoded_display

    async def watch_loop(self, stop: asyncio.Event) -> None:
        """Sample the loop's lateness: a timer of LAG_TICK_S, how late it fires."""
        while not stop.is_set():
            due = time.perf_counter() + LAG_TICK_S
            await asyncio.sleep(LAG_TICK_S)
            self.lags.append(max(0.0, time.perf_counter() - due))


async def until(condition: Callable[[], bool], timeout: float, failure: Callable[[], str]) -> None:
    """Wait (polling every 10 ms) until `condition` holds; `failure()` says why not after `timeout` s."""
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            why = failure()
            print(why, file=sys.stderr, flush=True)  # at once: the app may take a while to close
            raise RuntimeError(why)
        await asyncio.sleep(0.01)


def notices(app: Any) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


def start_service(chunks_per_s: int, seconds: float, lead_s: float) -> tuple[subprocess.Popen[str], int]:
    args = [sys.executable, __file__, "--serve", str(chunks_per_s), "--seconds", str(seconds), "--lead-ms", str(lead_s * 1000)]
    process = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stdout is not None
    return process, int(process.stdout.readline())


def without_jitter_buffer() -> None:
    """Open speakers as they were before the jitter buffer: playing each piece as soon as it comes."""
    from tui_chat.audio.devices import SpeakerSink

    open_speaker = SpeakerSink.open.__func__  # type: ignore[attr-defined]

    async def open_unbuffered(cls: type[SpeakerSink], *args: Any, **options: Any) -> SpeakerSink:
        return await open_speaker(cls, *args, **options, min_jitter_s=0.0, max_jitter_s=0.0)

    SpeakerSink.open = classmethod(open_unbuffered)  # type: ignore[method-assign, assignment]


async def measure(chunks_per_s: int, seconds: float, lead_s: float, size: tuple[int, int]) -> dict[str, Any]:
    from tests.audio.fake_sounddevice import (
        FakeDevice,
        PacedOutputStream,
        PacedSoundDevice,
    )
    from tui_chat.config import ProviderConfig
    from tui_chat.session import Choices, build_session
    from tui_chat.ui.app import TuiChatApp
    from tui_chat.ui.widgets.audio_meter import AudioMeter
    from tui_chat.ui.widgets.prompt_input import PromptInput
    from tui_chat.voice.settings import VoiceConfig

    card = PacedSoundDevice([FakeDevice("virtual mic", inputs=1, rate=24000), FakeDevice("virtual speaker", outputs=1, rate=24000)])
    sys.modules["sounddevice"] = card  # type: ignore[assignment]
    os.environ["OPENAI_API_KEY"] = "test-key"
    service, port = start_service(chunks_per_s, seconds, lead_s)
    choices = Choices(config_path=Path("/nonexistent/tui-chat-bench.toml"), provider="demo")
    app = TuiChatApp(build_session(choices), save_settings=False)
    app.session.config.providers["openai"] = ProviderConfig(base_url=f"ws://127.0.0.1:{port}/v1")
    app.session.config.voice = VoiceConfig(provider="openai-realtime", mode="push-to-talk")
    try:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await pilot.press("f5")
            await until(lambda: app.screen.voice is not None and app.screen.voice.running, 30, lambda: f"voice never started: {notices(app)}")
            voice = app.screen.voice
            probes = Probes(app, app.query_one(AudioMeter))
            stop = asyncio.Event()
            watcher = asyncio.create_task(probes.watch_loop(stop))
            cpu0, started = time.process_time(), time.perf_counter()
            app.query_one(PromptInput).insert("Tell me everything.")
            app.query_one(PromptInput).action_submit()
            queue = voice.sink.inner.queue
            heard_out = lambda: sum(queue.played.values()) >= seconds * queue.rate - 1 and not voice.sink.pending_s  # noqa: E731
            played = lambda: f"{sum(queue.played.values()) / queue.rate:.2f} s played, {voice.sink.pending_s:.2f} s queued"  # noqa: E731
            await until(heard_out, 3 * seconds + 30, lambda: f"the reply never finished playing ({played()}): {notices(app)}")
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
            stop.set()
            await watcher
            speaker = next(stream for stream in card.streams if isinstance(stream, PacedOutputStream))
            jitter_ms = queue.prebuffer / queue.rate * 1000
            shows = [t for t in probes.meter_updates if started <= t]
            gaps = [b - a for a, b in itertools.pairwise(shows)]
            lags = sorted(probes.lags)
            result = {
                "rate": chunks_per_s,
                "audio_s": seconds,
                "wall_s": wall,
                "underruns_per_min": queue.underruns * 60 / seconds,
                "underrun_ms_per_min": queue.underrun_samples / queue.rate * 1000 * 60 / seconds,
                "xruns": speaker.pacer.xruns,
                "late_ms": speaker.pacer.latest * 1000,
                "meter_per_s": len(shows) / wall,
                "meter_gap_ms": max(gaps, default=0.0) * 1000,
                "meter_target": voice.setup.meter_rate,
                "lag_p50_ms": statistics.median(lags) * 1000,
                "lag_p99_ms": lags[int(0.99 * (len(lags) - 1))] * 1000,
                "lag_max_ms": lags[-1] * 1000,
                "jitter_ms": jitter_ms,
                "frames_per_s": probes.frames / wall,
                "cpu": cpu / wall,
            }
        return result
    finally:
        assert service.stdin is not None
        service.stdin.write("\n")
        service.stdin.flush()
        service.wait(timeout=30)


def run_child(chunks_per_s: int, args: argparse.Namespace) -> dict[str, Any]:
    command = [sys.executable, __file__, "--run", str(chunks_per_s), "--seconds", str(args.seconds), "--lead-ms", str(args.lead_ms), "--size", args.size,
               "--jitter", args.jitter]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=6 * args.seconds + 120, check=False)
    if done.returncode != 0:
        raise SystemExit(f"the run at {chunks_per_s} chunks/s failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> bool:
    print(f"voice while text streams: {args.seconds:g} s of reply audio in {AUDIO_CHUNK_MS} ms pieces, lead {args.lead_ms:g} ms, "
          f"size {args.size}, jitter buffer {args.jitter}")
    head = ("transcript", "underruns/min", "ms/min", "xruns", "late ms", "meter/s", "gap ms", "lag p50/p99/max ms", "jitter ms", "frames/s", "cpu")
    print(" | ".join(head))
    ok = True
    for r in results:
        label = "none (baseline)" if not r["rate"] else f"{r['rate']} chunks/s"
        print(" | ".join((
            label, f"{r['underruns_per_min']:.1f}", f"{r['underrun_ms_per_min']:.0f}", str(r["xruns"]), f"{r['late_ms']:.1f}",
            f"{r['meter_per_s']:.1f} (target {r['meter_target']:g})", f"{r['meter_gap_ms']:.0f}",
            f"{r['lag_p50_ms']:.1f}/{r['lag_p99_ms']:.1f}/{r['lag_max_ms']:.1f}", f"{r['jitter_ms']:.0f}",
            f"{r['frames_per_s']:.0f}", f"{r['cpu']:.2f}",
        )))
        ok = ok and r["underruns_per_min"] == 0 and r["xruns"] == 0 and r["meter_per_s"] >= 0.9 * r["meter_target"]
    print("target (no underruns, no xruns, meter at 90% of its rate or more):", "met" if ok else "NOT met")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of reply audio per run")
    parser.add_argument("--rates", default="50,200", help="transcript chunks per second, comma-separated")
    parser.add_argument("--lead-ms", type=float, default=0.0, help="how long before it is due the service sends each audio piece")
    parser.add_argument("--size", default="120x40")
    parser.add_argument("--jitter", choices=("on", "off"), default="on", help="off: the speaker without its jitter buffer (as before it)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--run", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        asyncio.run(serve(args.serve, args.seconds, args.lead_ms / 1000))
        return 0
    if args.run is not None:
        if args.jitter == "off":
            without_jitter_buffer()
        width, height = (int(part) for part in args.size.split("x"))
        print(json.dumps(asyncio.run(measure(args.run, args.seconds, args.lead_ms / 1000, (width, height)))))
        return 0
    rates = [0, *(int(rate) for rate in args.rates.split(",") if rate.strip())]
    results = [run_child(rate, args) for rate in rates]
    return 0 if report(results, args) else 1


if __name__ == "__main__":
    sys.exit(main())
