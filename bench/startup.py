"""Cold start to a focused prompt: tui-chat next to a bare Textual app with the same widgets.

Each run is a fresh Python process (bench/startup_probe.py); the time is from just before the
process is spawned to the moment the prompt has focus. Runs alternate between the two apps so
that machine noise falls on both. Prints the median and spread of each and their ratio
(target: tui-chat within 1.3x of the bare app), and which heavy modules were imported at start.

Before timing, tui_chat's bytecode is compiled (`compileall`), as `pip install` does for an
installed package and as Python does on the first run of an editable one. Without it, a machine
that sets PYTHONDONTWRITEBYTECODE (this one does) would compile every tui_chat module from source
on every run while Textual's modules load from the bytecode pip wrote: a cost no user pays.

    python bench/startup.py [--runs 9]
"""

from __future__ import annotations

import argparse
import compileall
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROBE = Path(__file__).with_name("startup_probe.py")
HEAVY = ("numpy", "sounddevice", "websockets", "httpx")


def start_once(which: str) -> tuple[float, list[str]]:
    began = time.time()
    out = subprocess.run([sys.executable, str(PROBE), which], capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("{"))
    report = json.loads(line)
    return report["ready"] - began, report["modules"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    import tui_chat  # the copy the probe will import, wherever it is installed

    compileall.compile_dir(Path(tui_chat.__file__).parent, quiet=1)
    start_once("tui-chat"), start_once("bare")  # warm the disk cache for both
    times: dict[str, list[float]] = {"tui-chat": [], "bare": []}
    modules: list[str] = []
    for _ in range(runs):
        for which in times:
            seconds, loaded = start_once(which)
            times[which].append(seconds)
            if which == "tui-chat":
                modules = loaded
    for which, values in times.items():
        print(
            f"{which:>9}: median {statistics.median(values) * 1000:6.0f} ms"
            f"  min {min(values) * 1000:6.0f} ms  max {max(values) * 1000:6.0f} ms  ({runs} runs)"
        )
    ratio = statistics.median(times["tui-chat"]) / statistics.median(times["bare"])
    print(f"    ratio: {ratio:.2f}x the bare Textual app (target <= 1.30x)")
    heavy = [m for m in modules if m.split(".")[0] in HEAVY]
    providers = [m for m in modules if m.startswith("tui_chat.providers.")]
    print(f"heavy modules at start: {heavy or 'none'}")
    print(f"provider modules at start: {providers}")


if __name__ == "__main__":
    main()
