"""How much the provider adapters cost over plain SSE parsing, and how much memory a long reply takes.

For each adapter, a loopback server (tests/fakes) sends a 20,000-event reply in that provider's
wire format as fast as the socket takes it. In the same run, the same bytes from the same server
are read with plain httpx-sse (`aconnect_sse` + `aiter_sse`, nothing done with the events), which
is the baseline; a second baseline also parses each event's JSON with the providers' own `loads`
(orjson when it is installed, else `json.loads`), the least any adapter here must do. The adapter's
time covers everything: request building, our SSE parser, decoding into chunks, retry/timeout
bookkeeping. Target: adapter / httpx-sse within 1.5x.

Also, the SSE parsing alone on the same bytes in memory: our bounded parser next to httpx-sse's
decoders, and the JSON parsing of every event, with the standard library's `json.loads` and with
the providers' `loads`. With `json.loads`, parsing the events alone costs more than 1.5x of bare
httpx-sse iteration; orjson is what lets an adapter come near the target.

Then, memory: tracemalloc's peak while streaming a large reply through the OpenAI adapter and
keeping its text, next to the size of that text and of the body on the wire: the peak follows the
text the consumer keeps, not the body.

Run: python bench/provider_overhead.py [--events N] [--rounds R]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
from httpx_sse import aconnect_sse  # noqa: E402

from tests.fakes.anthropic_wire import AnthropicWire  # noqa: E402
from tests.fakes.cohere_wire import CohereWire  # noqa: E402
from tests.fakes.gemini_wire import GeminiWire, VertexWire  # noqa: E402
from tests.fakes.openai_wire import AzureWire, MistralWire, OpenAIWire  # noqa: E402
from tests.fakes.replicate_wire import ReplicateWire  # noqa: E402
from tests.fakes.server import FakeServer, Send, Status  # noqa: E402
from tests.fakes.wire import Wire  # noqa: E402
from tui_chat.chunks import Message, Role, TextDelta  # noqa: E402
from tui_chat.providers import encoding  # noqa: E402
from tui_chat.providers.base import ChatRequest  # noqa: E402
from tui_chat.providers.registry import create_provider  # noqa: E402

WIRES: list[type[Wire]] = [OpenAIWire, AzureWire, MistralWire, AnthropicWire, GeminiWire, VertexWire, CohereWire, ReplicateWire]
BLOCK = 64 * 1024


def json_parser() -> str:
    """Which JSON parser the providers' `loads` uses."""
    if getattr(encoding, "_fast_loads", None) is None:
        return "json (standard library)"
    import orjson

    return f"orjson {orjson.__version__}"


def body_for(wire: Wire, events: int, words: int = 1) -> bytes:
    text = " ".join(["token"] * words)
    return b"".join(wire.reply([f"{text} {i} " for i in range(events)]))


def script(body: bytes) -> list:
    return [Status()] + [Send(body[i : i + BLOCK]) for i in range(0, len(body), BLOCK)]


async def run_adapter(wire: Wire, server: FakeServer, provider, body: bytes) -> tuple[float, int]:
    server.enqueue(script(body))
    request = ChatRequest(wire.model, (Message(Role.USER, "go"),))
    count = 0
    start = time.perf_counter()
    async for chunk in provider.stream(request):
        if isinstance(chunk, TextDelta):
            count += 1
    return time.perf_counter() - start, count


async def run_baseline(client: httpx.AsyncClient, server: FakeServer, body: bytes, parse_json: bool) -> tuple[float, int]:
    server.enqueue(script(body))
    count = 0
    start = time.perf_counter()
    async with aconnect_sse(client, "POST", server.url + "/baseline", json={"go": True}) as source:
        async for event in source.aiter_sse():
            if parse_json and event.data.startswith("{"):
                encoding.loads(event.data)
            count += 1
    return time.perf_counter() - start, count


async def bench_overhead(events: int, rounds: int) -> list[float]:
    print(f"Adapter overhead: {events:,} events per reply, best of {rounds} rounds, loopback server, same bytes")
    print(f"JSON: {json_parser()} (the adapters' and the +loads baseline's)")
    print(f"{'adapter':<12} {'body':>9} {'adapter':>10} {'httpx-sse':>10} {'+loads':>10} {'ratio':>7} {'vs +loads':>10}")
    ratios: list[float] = []
    ratios_json: list[float] = []
    for wire_class in WIRES:
        wire = wire_class()
        async with FakeServer() as server:
            wire.install(server)
            options = {"fetch_usage": False} if wire.provider == "replicate" else {}
            provider = create_provider(wire.provider, wire.settings(server, "bench-key", **options))
            body = body_for(wire, events)
            client = httpx.AsyncClient(timeout=None)
            ours, plain, with_json = [], [], []
            try:
                await run_adapter(wire, server, provider, body)  # warm up: connection, imports
                await run_baseline(client, server, body, False)
                for _ in range(rounds):
                    gc.collect()
                    elapsed, count = await run_adapter(wire, server, provider, body)
                    assert count == events, (wire.provider, count)
                    ours.append(elapsed)
                    gc.collect()
                    plain.append((await run_baseline(client, server, body, False))[0])
                    gc.collect()
                    with_json.append((await run_baseline(client, server, body, True))[0])
            finally:
                await provider.aclose()
                await client.aclose()
        best, base, base_json = min(ours), min(plain), min(with_json)
        ratios.append(best / base)
        ratios_json.append(best / base_json)
        print(
            f"{wire.provider:<12} {len(body) / 1e6:>7.2f}MB {best * 1000:>8.1f}ms {base * 1000:>8.1f}ms "
            f"{base_json * 1000:>8.1f}ms {best / base:>6.2f}x {best / base_json:>9.2f}x"
        )
    print(f"ratio adapter / httpx-sse: median {statistics.median(ratios):.2f}x, worst {max(ratios):.2f}x (target <= 1.5x)")
    print(f"ratio adapter / (httpx-sse + loads): median {statistics.median(ratios_json):.2f}x, worst {max(ratios_json):.2f}x")
    return ratios


def bench_parsing(events: int, rounds: int) -> None:
    from tui_chat.providers.sse import SSEParser

    try:
        from httpx_sse._decoders import SSEDecoder, SSELineDecoder
    except ImportError:  # a private module; skip the comparison if it moves
        return
    body = body_for(OpenAIWire(), events)
    blocks = [body[i : i + BLOCK] for i in range(0, len(body), BLOCK)]

    def ours() -> int:
        parser = SSEParser()
        return sum(len(parser.feed(block)) for block in blocks) + len(parser.close())

    def theirs() -> int:
        lines, decoder, count = SSELineDecoder(), SSEDecoder(), 0
        for block in blocks:
            for line in lines.decode(block.decode("utf-8")):
                count += decoder.decode(line) is not None
        return count

    parsed = SSEParser().feed(body)

    def json_only() -> int:
        return sum(1 for event in parsed if event.data.startswith("{") and json.loads(event.data) is not None)

    def loads_only() -> int:
        return sum(1 for event in parsed if event.data.startswith("{") and encoding.loads(event.data) is not None)

    def best(fn) -> float:
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return min(times)

    print()
    print(f"SSE parsing alone, {events:,} OpenAI events ({len(body) / 1e6:.2f} MB) in memory, 64 KiB reads, best of {rounds}")
    print(f"  ours (bytes, bounded)       {best(ours) * 1000:7.1f} ms")
    print(f"  httpx-sse decoders (text)   {best(theirs) * 1000:7.1f} ms")
    print(f"  json.loads of every event   {best(json_only) * 1000:7.1f} ms")
    print(f"  loads of every event        {best(loads_only) * 1000:7.1f} ms  ({json_parser()}: the floor under any adapter)")


async def bench_memory() -> None:
    print()
    print("Memory: tracemalloc peak while streaming a reply through the OpenAI adapter and keeping its text")
    print(f"{'events':>8} {'body':>9} {'text kept':>10} {'peak':>9} {'peak/text':>10}")
    wire = OpenAIWire()
    async with FakeServer() as server:
        provider = create_provider("openai", wire.settings(server, "bench-key"))
        request = ChatRequest(wire.model, (Message(Role.USER, "go"),))
        for events, words in ((20_000, 8), (80_000, 8)):
            body = body_for(wire, events, words)
            server.enqueue(script(body))
            parts: list[str] = []
            gc.collect()
            tracemalloc.start()
            async for chunk in provider.stream(request):
                if isinstance(chunk, TextDelta):
                    parts.append(chunk.text)
            text = "".join(parts)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            kept = sys.getsizeof(text) + sum(sys.getsizeof(p) for p in parts) + sys.getsizeof(parts)
            print(f"{events:>8,} {len(body) / 1e6:>7.2f}MB {kept / 1e6:>8.2f}MB {peak / 1e6:>7.2f}MB {peak / kept:>9.2f}x")
            del parts, text
        await provider.aclose()
    print("(text kept = the consumer's list of pieces plus the joined string; the body is never held whole)")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    await bench_overhead(args.events, args.rounds)
    bench_parsing(args.events, args.rounds)
    await bench_memory()


if __name__ == "__main__":
    asyncio.run(main())
