"""Streaming Markdown render benchmark: our StreamingMarkdown against Textual's MarkdownStream.

Run:  python bench/stream_render.py [--chunks 2000,8000] [--repeat 3] [--flush timer|refresh]
                                   [--size 120x40] [--gc-freeze] [--no-compare]

Every measurement runs in a fresh Python process (this script with --run), one app per process as
in real use: an app's objects outlive it in the process and would slow the garbage collector, and
so the runs measured after it. Each app and count is run --repeat times: the time shown is the
median, and the key-press and garbage-collector samples of all the runs are pooled (one run of
2000 chunks lasts about a second, so it holds only a handful of key presses).

For each chunk count, two apps of the same size show the pieces of `long_markdown(n)` (the demo
provider's long reply), headless, in one run:

  ours      tui-chat itself (`TuiChatApp`) on the demo provider at speed 0 with `reply_chunks=n`:
            a message is sent from the prompt and the app streams the reply exactly as it does
            for a person (conversation, tool loop, worker, `StreamingMarkdown`).
  baseline  a bare Textual app: a VerticalScroll holding one plain `Markdown` fed through
            `Markdown.get_stream`, a focused TextArea under it; each chunk `await stream.write(chunk)`
            (which yields to the loop once), at the end `stop()`, in a worker.

Both streams run as Textual workers on the app's loop and hand the loop back once per chunk (the
demo provider does at speed 0).

Figures, per app and chunk count:
  total s    from the first chunk to the frame that shows the finished reply
  chunks/s   chunks / total s
  key p50/p90  key-press latency: every 100 ms while the reply streams and finishes, an "x" key
             event is sent through the driver (as a terminal's input thread does); the latency is
             the time from sending it to the end of the first frame whose prompt lines were
             rendered from a document that contains it. "Frame" means `App._display` was called
             with the compositor update: headless Textual skips the terminal write, so the probe
             does the rest of that work itself (`render_segments`, turning the update into the
             escape sequences a terminal would get), so both apps pay for their frames. The prompt
             lines being "rendered from a document that contains it" is observed by wrapping the
             prompt's `render_line`, which the compositor calls while building that very update.
  frames     frames displayed during the run
  gc2        the garbage collector's full collections during the run: count, total and longest
             pause (they stop the loop, so they are the worst key latencies of both apps)

Then: ours/baseline chunks/s at the largest count (target >= 1.5x), ours time(max)/time(min)
(target <= 4.4x for 8000/2000), ours key p90 (target <= 100 ms), and whether the final screen of
ours equals the whole reply rendered at once: the same tui-chat screen, with the reply's
`StreamingMarkdown` swapped for a plain `Markdown` that is given the whole text once at the end
(compared page by page, every cell's character and style, scrolling the log from top to bottom).

With --huge, the few-huge-chunks shape instead (issue 12.12): `huge_markdown` (about --huge-size
characters of long paragraphs, code fences, lists and tables) arriving in --huge-chunk pieces.
  ours      tui-chat itself, its demo provider made to send those pieces (as fast as the app takes
            them), once to the end (time to the finished frame) and once stopped with Esc, sent
            through the driver --esc-after seconds after the first chunk.
  baseline  the bare Textual app above, fed the same pieces through MarkdownStream, stopped with
            Esc (which cancels the feeding worker) at the same time. Its text is capped at
            --baseline-size characters (the whole reply would take far too long) and its run at
            --baseline-cap seconds; both caps are printed.
Figures: key p50/p90 while streaming (before Esc), Esc: from sending the key to the first frame
after the reply stopped, the process's peak RSS (and its RSS before the reply), and for ours
the time to finish the whole reply without Esc.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Awaitable, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from textual import __version__ as textual_version  # noqa: E402
from textual import events  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.containers import VerticalScroll  # noqa: E402
from textual.widget import Widget  # noqa: E402
from textual.widgets import Markdown, TextArea  # noqa: E402

from tui_chat.providers import demo as demo_module  # noqa: E402
from tui_chat.providers.demo import long_markdown  # noqa: E402
from tui_chat.session import Choices, build_session  # noqa: E402
from tui_chat.ui import app as app_module  # noqa: E402
from tui_chat.ui.widgets import message as message_module  # noqa: E402
from tui_chat.ui.widgets.chat_log import ChatLog  # noqa: E402
from tui_chat.ui.widgets.prompt_input import PromptInput  # noqa: E402
from tui_chat.ui.widgets.markdown.streaming import StreamingMarkdown  # noqa: E402

KEY_INTERVAL = 0.1


# -- the apps -------------------------------------------------------------------------------


class HarnessApp(App[None]):
    """A chat log (VerticalScroll) with one reply widget in it, and a focused prompt."""

    # A stable scrollbar gutter, as a chat log should have: otherwise the whole log re-wraps
    # (and a long reply's parked parts are measured again) when the scrollbar first appears.
    CSS = "#log { height: 1fr; scrollbar-gutter: stable; } #prompt { height: 3; }"

    def __init__(self, body: Widget) -> None:
        super().__init__()
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log"):
            yield self.body
        yield TextArea(id="prompt")

    def on_mount(self) -> None:
        self.query_one("#prompt").focus()
        self.query_one("#log").anchor()


@dataclass
class AppUnderTest:
    """An app, how to make it stream the whole reply (`stream` returns once it is finished), and its parts."""

    app: App
    stream: Callable[[App], Awaitable[None]]
    scroller: Callable[[App], Widget]
    prompt: Callable[[App], TextArea]


class WholeAtOnce(Markdown):
    """A plain Markdown that takes a reply's pieces but renders the whole text once, at the end."""

    def __init__(self, markdown: str = "", **_: object) -> None:
        super().__init__(markdown, open_links=False)
        self._parts = [markdown]

    def append(self, text: str) -> None:
        self._parts.append(text)

    @property
    def source(self) -> str:
        return "".join(self._parts)

    async def finish(self, *, cancelled: bool = False) -> None:
        await self.update(self.source)


def ours_app(count: int) -> AppUnderTest:
    """tui-chat on the demo provider, replying with `long_markdown(count)` as fast as it can."""
    choices = Choices(
        config_path=Path("/nonexistent/tui-chat-bench.toml"),  # the defaults, not the person's config
        provider="demo",
        provider_options={"speed": 0, "reply_chunks": count},
    )
    app = app_module.TuiChatApp(build_session(choices), save_settings=False)

    async def stream(app: App) -> None:
        app.query_one(PromptInput).insert("benchmark")
        app.query_one(PromptInput).action_submit()
        chat = app.screen
        while not chat.streaming:
            await asyncio.sleep(0)
        await chat._reply_worker.wait()

    return AppUnderTest(app, stream, lambda app: app.query_one(ChatLog), lambda app: app.query_one(PromptInput))


def baseline_app(chunks: list[str]) -> AppUnderTest:
    """A bare Textual app feeding the same pieces to one Markdown through MarkdownStream."""

    async def stream(app: App) -> None:
        async def feed() -> None:
            markdown_stream = Markdown.get_stream(app.query_one(Markdown))
            for chunk in chunks:
                await markdown_stream.write(chunk)  # appends, then `await asyncio.sleep(0)`
            await markdown_stream.stop()

        await app.run_worker(feed(), exclusive=False).wait()

    return AppUnderTest(
        HarnessApp(Markdown()), stream, lambda app: app.query_one("#log"), lambda app: app.query_one("#prompt", TextArea)
    )


def huge_markdown(size: int) -> str:
    """About `size` characters of realistic Markdown: per section a long paragraph, a code fence,
    a numbered list with nested points and a table."""
    parts: list[str] = []
    total = 0
    section = 0
    while total < size:
        section += 1
        sentence = f"Step {section} keeps *state* in `buffer_{section}` and calls **flush()** when it is full"
        paragraph = ". ".join(f"{sentence} ({j})" for j in range(25)) + "."
        code = "\n".join(f"    total += weight[{j}] * sample({section}, {j})  # running sum" for j in range(40))
        items = "\n".join(f"{j}. check case {j} of section {section}\n   - with a *nested* point" for j in range(1, 9))
        rows = "\n".join(f"| case {j} | {section * j} ms | `ok` |" for j in range(12))
        part = (
            f"## Section {section}\n\n{paragraph}\n\n```python\ndef step_{section}(weight, sample):\n"
            f"    total = 0\n{code}\n    return total\n```\n\n{items}\n\n"
            f"| case | time | result |\n| --- | ---: | :---: |\n{rows}\n\n"
        )
        parts.append(part)
        total += len(part)
    return "".join(parts)


def huge_chunks(args: argparse.Namespace, size: int) -> list[str]:
    text = huge_markdown(size)
    step = args.huge_chunk
    return [text[index : index + step] for index in range(0, len(text), step)]


# -- measuring ------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    chunks: int
    seconds: float
    frames: int
    key_latencies: list[float] = field(default_factory=list)
    gc_pauses: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.chunks / self.seconds

    def key(self, quantile: float) -> float | None:
        if not self.key_latencies:
            return None
        ordered = sorted(self.key_latencies)
        return ordered[min(len(ordered) - 1, int(quantile * len(ordered)))]


class GcProbe:
    """Records the garbage collector's full (generation 2) pauses: they show up as key latency."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append(time.perf_counter() - self._started)

    def __enter__(self) -> "GcProbe":
        gc.callbacks.append(self)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self)


class FrameProbe:
    """Counts frames and times key presses from sending to the frame that shows them."""

    def __init__(self, app: App, prompt: TextArea) -> None:
        self.app = app
        self.prompt = prompt
        self.frames = 0
        self.last_frame = 0.0
        self.outstanding: list[tuple[int, float]] = []  # (prompt length that shows it, sent at)
        self.latencies: list[float] = []
        self._rendered_length = -1
        self._sent = 0
        original_display = app._display
        original_render_line = prompt.render_line

        def render_line(y: int):  # called by the compositor while it builds an update
            self._rendered_length = len(prompt.text)
            return original_render_line(y)

        def display(screen, renderable) -> None:
            original_display(screen, renderable)
            if renderable is None or app._batch_count:
                return
            # Headless skips the terminal write; do the encoding a terminal write would need.
            if hasattr(renderable, "render_segments"):
                renderable.render_segments(app.console)
            now = time.perf_counter()
            self.frames += 1
            self.last_frame = now
            if self._rendered_length >= 0 and self.outstanding:
                shown = [item for item in self.outstanding if item[0] <= self._rendered_length]
                for item in shown:
                    self.latencies.append(now - item[1])
                    self.outstanding.remove(item)
            self._rendered_length = -1

        app._display = display  # type: ignore[method-assign]
        prompt.render_line = render_line  # type: ignore[method-assign]

    async def press_keys(self, stop: asyncio.Event) -> None:
        """Send an "x" every KEY_INTERVAL seconds, as the driver's input thread would."""
        driver = self.app._driver
        assert driver is not None
        base = len(self.prompt.text)
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), KEY_INTERVAL)
            except asyncio.TimeoutError:
                self._sent += 1
                self.outstanding.append((base + self._sent, time.perf_counter()))
                driver.send_message(events.Key("x", "x"))


async def wait_for_frame(app: App, probe: FrameProbe, after: float) -> None:
    """Wait until a frame has been displayed after the time `after`."""
    while probe.last_frame <= after:
        await app.screen.wait_for_refresh()
        if probe.last_frame <= after:
            await asyncio.sleep(0.001)


async def run_one(
    label: str, target: AppUnderTest, count: int, size: tuple[int, int], *, capture: bool = False
) -> tuple[Result, list]:
    """Stream `target`'s reply with keys pressed meanwhile; its result, and its pages once done if `capture`
    (the final screen, for the comparison with a plain Markdown)."""
    app = target.app
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        probe = FrameProbe(app, target.prompt(app))
        stop = asyncio.Event()
        keys = asyncio.create_task(probe.press_keys(stop))
        with GcProbe() as gc_probe:
            started = time.perf_counter()
            await target.stream(app)
            closed_at = time.perf_counter()
            await wait_for_frame(app, probe, closed_at)
            seconds = probe.last_frame - started
        stop.set()
        await keys
        await pilot.pause()  # let keys still on their way arrive before the app closes
        result = Result(label, count, seconds, probe.frames, probe.latencies, gc_probe.pauses)
        pages = await capture_pages(app, target.scroller(app)) if capture else []
    return result, pages


def rss_mb() -> float:
    """The process's resident memory now, in MB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


async def run_huge(what: str, args: argparse.Namespace, size: tuple[int, int]) -> dict:
    """One few-huge-chunks measurement: keys while streaming, Esc (unless "ours-full"), peak RSS."""
    ours = what.startswith("ours")
    chunks = huge_chunks(args, args.huge_size if ours else min(args.huge_size, args.baseline_size))
    if ours:
        demo_module.DemoProvider._reply_for = lambda self, request: chunks  # type: ignore[method-assign]
        target = ours_app(1)
    else:
        target = baseline_app(chunks)
        target.app.bind("escape", "cancel_feed")
        target.app.action_cancel_feed = lambda: target.app.workers.cancel_all()  # type: ignore[attr-defined]
    app = target.app
    rss_before = rss_mb()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        probe = FrameProbe(app, target.prompt(app))
        stop = asyncio.Event()
        keys = asyncio.create_task(probe.press_keys(stop))
        started = time.perf_counter()
        streaming = asyncio.create_task(target.stream(app))
        result: dict = {"chars": sum(map(len, chunks))}
        if what == "ours-full":
            await streaming
            await wait_for_frame(app, probe, time.perf_counter())
            result["seconds"] = probe.last_frame - started
        else:
            done, _ = await asyncio.wait([streaming], timeout=args.esc_after)
            if not done:
                stop.set()
                await keys
                # Keys not shown yet count with what they have waited so far (a lower bound).
                now = time.perf_counter()
                result["keys"] = probe.latencies + [now - sent for _, sent in probe.outstanding]
                assert app._driver is not None
                sent = time.perf_counter()
                app._driver.send_message(events.Key("escape", None))
                await asyncio.wait([streaming])
                await wait_for_frame(app, probe, time.perf_counter())
                result["esc"] = probe.last_frame - sent
            else:
                result["esc"] = None  # it had finished before Esc
        stop.set()
        await keys
        result.setdefault("keys", list(probe.latencies))
        if ours:
            from tui_chat.ui.widgets.message import AssistantMessage

            reply = app.query(AssistantMessage).last()
            result["shown_chars"] = len(reply.text)
            result["blocks_built"] = reply.body.blocks_built
        await pilot.pause()
    result["rss_before"] = rss_before
    result["rss_peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def huge_main(args: argparse.Namespace, size: tuple[int, int]) -> int:
    """The few-huge-chunks shape: ours to the end and with Esc, the baseline with Esc (capped)."""
    print(
        f"stream_render --huge: {size[0]}x{size[1]}, about {args.huge_size:,} characters in {args.huge_chunk:,}-character"
        f" chunks, Esc after {args.esc_after} s; baseline capped at {args.baseline_size:,} characters and"
        f" {args.baseline_cap:.0f} s; python {sys.version.split()[0]}, textual {textual_version}"
    )
    print()
    print(
        f"{'run':<11}{'chars':>11}{'shown':>11}{'blocks':>8}{'keys':>6}{'key p50 ms':>12}{'key p90 ms':>12}"
        f"{'Esc ms':>9}{'full s':>8}{'RSS MB':>8}{'peak MB':>9}"
    )
    for what in ("ours-full", "ours", "baseline"):
        timeout = args.baseline_cap if what == "baseline" else None
        try:
            run = run_in_child(what, 0, args, timeout)
        except subprocess.TimeoutExpired:
            print(f"{what:<11}  did not stop within the {args.baseline_cap:.0f} s cap")
            continue
        result = Result(what, 0, 1.0, 0, run["keys"])
        esc = "n/a" if run.get("esc") is None else f"{run['esc'] * 1000:.0f}"
        full = f"{run['seconds']:.1f}" if "seconds" in run else "-"
        print(
            f"{what:<11}{run['chars']:>11,}{run.get('shown_chars', 0):>11,}{run.get('blocks_built', 0):>8}"
            f"{len(result.key_latencies):>6}{fmt_ms(result.key(0.5)):>12}{fmt_ms(result.key(0.9)):>12}"
            f"{esc:>9}{full:>8}{run['rss_before']:>8.0f}{run['rss_peak']:>9.0f}",
            flush=True,
        )
    print()
    print(
        "keys: one every 100 ms until Esc (or the end), those not shown by Esc counted with their wait so far;"
        " shown: characters the reply holds when done; blocks: block widgets built (ours)"
    )
    return 0


# -- comparing screens ----------------------------------------------------------------------


def region_cells(app: App, widget: Widget) -> list[tuple]:
    """Every line of the screen inside `widget`'s region, as (text, style) runs."""
    region = widget.region
    strips = app.screen._compositor.render_strips()[region.y : region.bottom]
    return [
        tuple((segment.text, str(segment.style)) for segment in strip.crop(region.x, region.right).simplify())
        for strip in strips
    ]


def rebuilding(app: App) -> bool:
    """Whether a parked part of a reply has been asked to rebuild and has not finished."""
    return any(getattr(segment, "_unpark_requested", False) for segment in app.screen.query("StreamingMarkdown > *"))


async def capture_pages(app: App, scroller: Widget) -> list[list[tuple]]:
    """The screen at each page of the scroller, from the top to the end."""
    pages = []
    y = 0
    await app.screen.wait_for_refresh()
    while True:
        scroller.scroll_to(y=y, animate=False, immediate=True)
        # Parts of a long reply scrolled back into view are rebuilt over a frame or two: take the
        # page once it is the same on two refreshes in a row.
        page = None
        for _ in range(50):
            await app.screen.wait_for_refresh()
            await asyncio.sleep(0.02)
            if rebuilding(app):
                continue  # a parked part came into view and is being rebuilt: not a settled page yet
            latest = region_cells(app, scroller)
            if latest == page:
                break
            page = latest
        pages.append(page)
        if y >= scroller.max_scroll_y:
            return pages
        y = min(y + scroller.size.height, scroller.max_scroll_y)


async def reference_pages(count: int, size: tuple[int, int]) -> list[list[tuple]]:
    """The pages of the same tui-chat screen with the reply rendered at once by a plain Markdown."""
    message_module.StreamingMarkdown = WholeAtOnce  # type: ignore[misc, assignment]
    target = ours_app(count)
    async with target.app.run_test(size=size) as pilot:
        await pilot.pause()
        await target.stream(target.app)
        await pilot.pause()
        return await capture_pages(target.app, target.scroller(target.app))


# -- main ----------------------------------------------------------------------------------


def fmt_ms(value: float | None) -> str:
    return "   n/a" if value is None else f"{value * 1000:6.1f}"


def page_digests(pages: list[list[tuple]]) -> list[str]:
    return [hashlib.sha256(repr(page).encode()).hexdigest()[:16] for page in pages]


async def run_in_this_process(what: str, count: int, size: tuple[int, int], args: argparse.Namespace) -> dict:
    """One measurement (or the reference pages), as a dict for the parent process."""
    compare = not args.no_compare
    if args.huge:
        return await run_huge(what, args, size)
    if what == "reference":
        return {"pages": page_digests(await reference_pages(count, size))}
    target = ours_app(count) if what == "ours" else baseline_app(long_markdown(count))
    result, pages = await run_one(what, target, count, size, capture=compare and what == "ours")
    return {
        "seconds": result.seconds,
        "frames": result.frames,
        "keys": result.key_latencies,
        "gc": result.gc_pauses,
        "pages": page_digests(pages) if compare else [],
    }


def run_in_child(what: str, count: int, args: argparse.Namespace, timeout: float | None = None) -> dict:
    command = [sys.executable, __file__, "--run", what, "--chunks", str(count), "--size", args.size, "--flush", args.flush]
    if args.gc_freeze:
        command.append("--gc-freeze")
    if args.no_compare:
        command.append("--no-compare")
    if args.huge:
        command += ["--huge", "--huge-size", str(args.huge_size), "--huge-chunk", str(args.huge_chunk)]
        command += ["--esc-after", str(args.esc_after), "--baseline-size", str(args.baseline_size)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=timeout)
    if done.returncode != 0:
        raise SystemExit(f"{what} {count} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", default="2000,8000", help="comma-separated chunk counts")
    parser.add_argument("--flush", choices=("refresh", "timer"), default=StreamingMarkdown.FLUSH_MODE)
    parser.add_argument("--size", default="120x40", help="terminal size, WIDTHxHEIGHT")
    parser.add_argument("--no-compare", action="store_true", help="skip the final screen comparison")
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() once everything is imported (what an app can do at start), for both apps",
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per app and count: median time, key and gc samples pooled"
    )
    parser.add_argument("--huge", action="store_true", help="the few-huge-chunks shape instead (see the docstring)")
    parser.add_argument("--huge-size", type=int, default=5_000_000, help="--huge: characters in the reply")
    parser.add_argument("--huge-chunk", type=int, default=100_000, help="--huge: characters per chunk")
    parser.add_argument("--esc-after", type=float, default=3.0, help="--huge: seconds from the first chunk to Esc")
    parser.add_argument(
        "--baseline-size", type=int, default=500_000, help="--huge: the baseline's reply is capped at this many characters"
    )
    parser.add_argument("--baseline-cap", type=float, default=300.0, help="--huge: seconds the baseline's run may take")
    parser.add_argument(
        "--run", choices=("ours", "ours-full", "baseline", "reference"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    counts = [int(part) for part in args.chunks.split(",") if part.strip()]
    width, height = (int(part) for part in args.size.lower().split("x"))
    size = (width, height)
    StreamingMarkdown.FLUSH_MODE = args.flush
    if args.gc_freeze:
        gc.collect()
        gc.freeze()

    if args.run:  # a child: one measurement, printed as JSON
        print(json.dumps(asyncio.run(run_in_this_process(args.run, counts[0], size, args))))
        return 0
    if args.huge:
        return huge_main(args, size)

    print(
        f"stream_render: {size[0]}x{size[1]}, flush mode {args.flush!r}, --gc-freeze {'on' if args.gc_freeze else 'off'} (tui-chat tunes its own collector),"
        f" python {sys.version.split()[0]}, textual {textual_version}, {args.repeat} runs each, one process per run"
    )
    print("ours: TuiChatApp on the demo provider (speed 0); baseline: bare Textual app, one Markdown fed by MarkdownStream")
    print()
    print(
        f"{'app':<9}{'chunks':>7}{'total s':>9}{'chunks/s':>10}{'frames':>8}{'keys':>6}{'key p50 ms':>12}"
        f"{'key p90 ms':>12}{'gc2 n/s/max ms':>18}"
    )
    results: dict[tuple[str, int], Result] = {}
    equal: dict[int, str] = {}
    for count in counts:
        for label in ("ours", "baseline"):
            runs = [run_in_child(label, count, args) for _ in range(args.repeat)]
            seconds = statistics.median(run["seconds"] for run in runs)
            frames = int(statistics.median(run["frames"] for run in runs))
            keys = [latency for run in runs for latency in run["keys"]]
            pauses = [pause for run in runs for pause in run["gc"]]
            result = Result(label, count, seconds, frames, keys, pauses)
            results[label, count] = result
            print(
                f"{label:<9}{count:>7}{result.seconds:>9.3f}{result.rate:>10.0f}{result.frames:>8}"
                f"{len(result.key_latencies):>6}{fmt_ms(result.key(0.5)):>12}{fmt_ms(result.key(0.9)):>12}"
                f"{len(result.gc_pauses):>7}/{sum(result.gc_pauses):5.2f}/{max(result.gc_pauses, default=0) * 1000:4.0f}",
                flush=True,
            )
            if label == "ours" and not args.no_compare:
                reference = run_in_child("reference", count, args)["pages"]
                for ours in (run["pages"] for run in runs):
                    if ours != reference:
                        first = next(
                            (i for i, (a, b) in enumerate(zip(ours, reference)) if a != b), min(len(ours), len(reference))
                        )
                        equal[count] = f"NO (pages {len(ours)} vs {len(reference)}, first difference on page {first})"
                        break
                else:
                    equal[count] = f"yes ({len(reference)} pages, every run)"

    print()
    low, high = min(counts), max(counts)
    ours_high, base_high = results["ours", high], results["baseline", high]
    ratio = ours_high.rate / base_high.rate
    print(f"ours/baseline chunks/s at {high}: {ratio:.2f}x   (target >= 1.5x)  {'OK' if ratio >= 1.5 else 'MISSED'}")
    if high != low:
        growth = ours_high.seconds / results["ours", low].seconds
        limit = 4.4 * (high / low) / 4
        print(
            f"ours time({high})/time({low}): {growth:.2f}x   (target <= {limit:.1f}x)  "
            f"{'OK' if growth <= limit else 'MISSED'}"
        )
    p90s = [r.key(0.9) for (label, _), r in results.items() if label == "ours" and r.key(0.9) is not None]
    if p90s:
        worst = max(p90s)
        print(f"ours key p90 (worst run): {worst * 1000:.1f} ms   (target <= 100 ms)  {'OK' if worst <= 0.1 else 'MISSED'}")
    else:
        print("ours key p90: no key press fell inside a run (runs shorter than 100 ms)")
    for count, same in equal.items():
        print(f"final screen of ours == Markdown(whole reply) at {count} chunks: {same}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
