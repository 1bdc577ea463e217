"""Cold start to a focused prompt: tui-chat next to a bare Textual app with the same widgets.

Each run is a fresh Python process (bench/startup_probe.py); the time is from just before the
process is spawned to the moment the prompt has focus. Runs alternate between the apps so that
machine noise falls on all. Prints the median and spread of each and their ratio (target:
tui-chat within 1.3x of the bare app), the CPU time spent by then on the main thread (the path to
the first screen) and on all threads, and which heavy modules were imported at start.

tui-chat starts as the `tui-chat` command does, with its config, data and state folders in a
temporary directory (no user config): with `--no-history`, and with history on against an empty
database (made by a first start, so no run pays for creating it); with `--history-chats N` also
against a database of N chats (`--messages-per-chat`, default 20, filled as bench/store.py fills
its files). For each with history on, after the prompt has focus: how long after it the store had
opened (on its thread, while the first screen came up) and what loading the chat list (F2) takes.

Before timing, tui_chat's bytecode is compiled (`compileall`), as `pip install` does for an
installed package and as Python does on the first run of an editable one. Without it, a machine
that sets PYTHONDONTWRITEBYTECODE (this one does) would compile every tui_chat module from source
on every run while Textual's modules load from the bytecode pip wrote: a cost no user pays.

    python bench/startup.py [--runs 9] [--history-chats 1000] [--messages-per-chat 20]
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

PROBE = Path(__file__).with_name("startup_probe.py")
HEAVY = ("numpy", "sounddevice", "websockets", "httpx")


class App(NamedTuple):
    """One app to start: the bare one (no `home`), or tui-chat with its folders in `home` and `options`."""

    home: Path | None = None
    options: tuple[str, ...] = ()


def start_once(app: App) -> dict[str, Any]:
    """One cold start of `app`, reported as the probe reports it, with `seconds` to a focused prompt."""
    env = dict(os.environ)
    if app.home is not None:
        env |= {f"XDG_{kind}_HOME": str(app.home / kind.lower()) for kind in ("CONFIG", "DATA", "STATE")}
    which = ["bare"] if app.home is None else ["tui-chat", *app.options]
    began = time.time()
    out = subprocess.run(
        [sys.executable, str(PROBE), *which], capture_output=True, text=True, check=True, env=env
    ).stdout
    report: dict[str, Any] = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
    report["seconds"] = report["ready"] - began
    if "store_open" in report:
        report["store_after_ms"] = (report["store_open"] - report["ready"]) * 1000
    return report


def make_history(home: Path, chats: int, per_chat: int) -> None:
    """The database tui-chat will find in `home`: made by a first start, then filled with `chats` chats."""
    start_once(App(home))
    if chats:
        sys.path.insert(0, str(PROBE.parent.parent))
        from bench.store import fill
        from tui_chat.store.history import open_store

        store = open_store(home / "data" / "tui-chat" / "chats.db")
        store.run(fill, chats * per_chat, 1, per_chat).result()
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--history-chats", type=int, default=0, metavar="N")
    parser.add_argument("--messages-per-chat", type=int, default=20, metavar="M")
    args = parser.parse_args()
    import tui_chat  # the copy the probe will import, wherever it is installed

    compileall.compile_dir(Path(tui_chat.__file__).parent, quiet=1)
    with tempfile.TemporaryDirectory(prefix="tui-chat-startup-") as folder:
        empty, full = Path(folder) / "empty", Path(folder) / "full"
        apps = {"bare": App(), "no history": App(empty, ("--no-history",)), "empty DB": App(empty)}
        make_history(empty, 0, args.messages_per_chat)
        if args.history_chats:
            apps[f"{args.history_chats} chats"] = App(full)
            make_history(full, args.history_chats, args.messages_per_chat)
        _measure(apps, args.runs)


def _measure(apps: dict[str, App], runs: int) -> None:
    for app in apps.values():  # warm the disk cache for each
        start_once(app)
    reports: dict[str, list[dict[str, Any]]] = {name: [] for name in apps}
    for _ in range(runs):
        for name, app in apps.items():
            reports[name].append(start_once(app))
    bare = statistics.median(r["seconds"] for r in reports["bare"])
    for name, values in reports.items():
        seconds = [r["seconds"] for r in values]
        line = (
            f"{name:>11}: median {statistics.median(seconds) * 1000:6.0f} ms"
            f"  min {min(seconds) * 1000:6.0f} ms  max {max(seconds) * 1000:6.0f} ms  ({runs} runs)"
        )
        if name != "bare":
            line += f"  {statistics.median(seconds) / bare:.2f}x the bare app (target <= 1.30x)"
        print(line)
    print("CPU by then (median; steadier than wall time on a busy machine):")
    for name, values in reports.items():
        main, process = (statistics.median(r[key] for r in values) * 1000 for key in ("main_cpu", "process_cpu"))
        print(f"{name:>11}: main thread {main:5.0f} ms, all threads {process:5.0f} ms")
    for name, values in reports.items():
        if "store_after_ms" in values[0]:
            print(
                f"{name:>11}: store open {statistics.median(r['store_after_ms'] for r in values):+6.0f} ms after the"
                f" prompt had focus; chat list ({values[0]['chats']} chats) then loads in"
                f" {statistics.median(r['list_ms'] for r in values):.1f} ms"
            )
    modules = reports["empty DB"][-1]["modules"]
    heavy = [m for m in modules if m.split(".")[0] in HEAVY]
    providers = [m for m in modules if m.startswith("tui_chat.providers.")]
    print(f"heavy modules at start: {heavy or 'none'}")
    print(f"provider modules at start: {providers}")


if __name__ == "__main__":
    main()
