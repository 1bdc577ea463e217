"""Start-up imports only what the first screen needs (the measured time is in bench/startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = Path(__file__).resolve().parents[1] / "bench" / "startup_probe.py"


def test_first_screen_loads_no_audio_network_or_unused_provider_modules() -> None:
    out = subprocess.run(
        [sys.executable, str(PROBE), "tui-chat"], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    modules = set(json.loads(next(line for line in out.splitlines() if line.startswith("{")))["modules"])
    assert "tui_chat.ui.app" in modules  # the probe really started the app
    for heavy in ("numpy", "sounddevice", "websockets", "httpx"):
        assert heavy not in modules, f"{heavy} was imported at start"
    providers = {m for m in modules if m.startswith("tui_chat.providers.")}
    assert providers == {"tui_chat.providers.base", "tui_chat.providers.registry", "tui_chat.providers.demo"}
    # The empty first screen needs no Markdown parser and no voice UI (they load with their first use).
    for later in ("markdown_it", "tui_chat.ui.widgets.message", "tui_chat.ui.voice", "soxr"):
        assert later not in modules, f"{later} was imported at start"
