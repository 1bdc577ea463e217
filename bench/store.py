"""Store benchmark: search over 100,000 stored messages against the same search over 1,000.

Run:  python bench/store.py [--small 1000] [--large 100000] [--repeat 100] [--cold-repeat 3]

Two databases are filled with the same kind of chats (50 messages each, about 30 words of a
5,000-word vocabulary per message, and marker words at fixed rates: `zephyr` in 1 message of
1,000, `quartz` in 1 of 10, `amber` in every other, `lime` in the others; so `quartz lime` matches nothing
and has to look through both lists: the worst case of an inverted index). Single words and several,
with hits and without. Each query runs through the store as the UI and the history command run it
(`Store.run(reads.search, ...)`: the writer thread, 50 hits at most), timed until its answer is in
hand (and let go after: see `_timed_ms`), `--repeat` times (100: a round of all the queries takes
milliseconds, and more rounds steady the medians on a busy machine), on the
small file then the large in turn (so what else runs on the machine falls on both alike); the
medians are printed side by side with their ratio, the middle half of the ratios of each pair of
runs (how steady it was), and the number of hits at each size (a word rare at 1,000 messages has
1 hit there and 50 at 100,000: the time per hit is most of that ratio); the target is a ratio
within 3x of these warm medians. A search keeps in memory, per connection, which messages hold the
common words it was asked for (`store/word_bits.py`); so next to each warm median is the cold
figure, the first search on a fresh connection, which makes them (median of `--cold-repeat`
fresh connections; no target). Also shown: opening each file, and the caller's cost of one
`append_text` (what a streamed chunk costs the loop). Streaming with saving on against off is
bench/saving.py.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tui_chat.store import reads
from tui_chat.store.history import new_id, now, open_store

QUERIES = (
    "zephyr", "quartz", "amber", "nosuchword",
    "quartz amber", "zephyr amber", "quartz lime", "amber nosuchword", "amber lime zephyr",
)  # fmt: skip
PER_CHAT = 50


def fill(conn: sqlite3.Connection, count: int, seed: int, per_chat: int = PER_CHAT) -> None:
    """`count` messages in chats of `per_chat`, in one transaction (a bench set-up, not the app's path;
    bench/startup.py fills its history with it too)."""
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(3, 9))) for _ in range(5000)]
    conn.execute("BEGIN")
    chat = ""
    for n in range(count):
        if n % per_chat == 0:
            chat = new_id()
            conn.execute(
                "INSERT INTO chats (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)", (chat, f"chat {n}", now(), now())
            )
        words = rng.choices(vocabulary, k=30)
        if n % 1000 == 7:
            words.append("zephyr")
        if n % 10 == 4:
            words.append("quartz")
        if n % 2 == 0:
            words.append("amber")
        else:
            words.append("lime")
        text = "\n".join(" ".join(words[i : i + 10]) for i in range(0, len(words), 10))
        conn.execute(
            "INSERT INTO messages (id, chat_id, role, text, created_at) VALUES (?, ?, ?, ?, ?)",
            (new_id(), chat, "user" if n % 2 == 0 else "assistant", text, now()),
        )
    conn.execute("COMMIT")


def _timed_ms(fn: Callable[[], object]) -> float:
    """The time `fn` takes to answer, in ms. Its answer is let go after the clock is read, not
    before: a search's 50 hits freed by this thread, which did not make them, took ~70 us at
    100,000 messages against ~15 at 1,000 (measured), and a caller keeps what it asked for (the
    UI shows the hits; they are freed when the next answer replaces them, outside any search)."""
    start = time.perf_counter()
    answer = fn()
    elapsed = time.perf_counter() - start
    del answer
    return elapsed * 1000


def _spread(values: list[float]) -> str:
    """The middle half of `values` (first to third quartile), as `low-high`."""
    low, _, high = statistics.quantiles(values, n=4)
    return f"{low:.2f}-{high:.2f}"


def _first_search_ms(path: Path, query: str) -> float:
    """The time of `query` searched first on a fresh connection to `path` (its opening not counted)."""
    store = open_store(path)
    try:
        return _timed_ms(lambda: store.run(reads.search, query, 50).result())
    finally:
        store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--cold-repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tui-chat-bench-") as folder:
        return _run(Path(folder), args)


def _run(folder: Path, args: argparse.Namespace) -> int:
    stores = {}
    for size in (args.small, args.large):
        path = folder / f"{size}.db"
        start = time.perf_counter()
        store = open_store(path)
        store.run(fill, size, 1).result()
        store.close()
        print(f"filled {size:,} messages in {time.perf_counter() - start:.1f} s ({path.stat().st_size / 1e6:.1f} MB)")
    cold = {
        query: {size: statistics.median(_first_search_ms(folder / f"{size}.db", query) for _ in range(args.cold_repeat))
                for size in (args.small, args.large)}
        for query in QUERIES
    }  # fmt: skip
    opening: dict[int, float] = {}
    for size in (args.small, args.large):
        start = time.perf_counter()
        stores[size] = open_store(folder / f"{size}.db")
        opening[size] = (time.perf_counter() - start) * 1000
    times: dict[str, dict[int, list[float]]] = {query: {args.small: [], args.large: []} for query in QUERIES}
    hits = {
        query: {size: len(store.run(reads.search, query, 50).result()) for size, store in stores.items()}
        for query in QUERIES
    }
    for _ in range(args.repeat):  # each query on the small file then the large: what else runs on the machine hits both
        for query in QUERIES:
            for size, store in stores.items():
                times[query][size].append(_timed_ms(lambda s=store, q=query: s.run(reads.search, q, 50).result()))
    chat = stores[args.large].new_chat()
    reply = stores[args.large].start_reply(chat)
    n = 20_000
    start = time.perf_counter()
    for _ in range(n):
        stores[args.large].append_text(reply, "token ")
    per_call_us = (time.perf_counter() - start) / n * 1e6
    for store in stores.values():
        store.close()
    heading = f"{'query (median ms)':<22}{args.small:>10,}{args.large:>10,}{'ratio':>8}  {'pairs: mid half':>15}"
    print(f"\n{heading}   target <= 3x   hits       cold (first on a fresh connection)")
    worst = 0.0
    for query in QUERIES:
        small, large = (statistics.median(times[query][size]) for size in (args.small, args.large))
        ratio = large / small
        pairs = [big / little for little, big in zip(times[query][args.small], times[query][args.large], strict=True)]
        worst = max(worst, ratio)
        verdict = "met" if ratio <= 3 else "MISSED"
        counts = f"{hits[query][args.small]} / {hits[query][args.large]}"
        firsts = f"{cold[query][args.small]:.3f} / {cold[query][args.large]:.3f}"
        print(f"{query!r:<22}{small:>10.3f}{large:>10.3f}{ratio:>7.2f}x  {_spread(pairs):>15}   {verdict:<15}{counts:<11}{firsts}")
    small_open, large_open = opening[args.small], opening[args.large]
    print(f"{'open':<22}{small_open:>10.1f}{large_open:>10.1f}{large_open / small_open:>7.1f}x  {'':>15}   (no target)")
    print(f"\nappend_text on the caller's side: {per_call_us:.2f} us per chunk")
    print(f"search: worst ratio {worst:.2f}x, target 3x: {'met' if worst <= 3 else 'MISSED'}")
    return 0 if worst <= 3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
