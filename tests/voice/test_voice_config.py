"""The `[voice]` table: read and checked like the rest of the config, used by `tui-chat voice` and
the TUI's voice mode, with command-line flags winning over it."""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tui_chat.voice.arguments import add_voice_arguments
from tui_chat.voice.headless import options_from_args, voice_config_from_args
from tui_chat.voice.session import VoiceOptions
from tui_chat.voice.settings import VoiceConfig, turn_detection_for
from tui_chat.voice.turns import TurnParams
from tui_chat.audio.vad import VadParams
from tui_chat.config import Config, load_config, masked_toml, set_value, write_default_config

GOOD = """\
theme = "nord"

[voice]
provider = "gemini-live"
model = "gemini-live-2.5-flash"
voice = "Kore"
input_device = "USB"
output_device = 3
mode = "hands-free"
hold_release = 0.3
interruption = "deferred"
turn_detection = "local"
vad_threshold = 9
vad_start = 0.25
vad_stop = 0.6
vad_min_volume = -45
pre_roll = 0.4
max_turn = 20
"""


def load(tmp_path: Path, text: str) -> tuple[Config, list[str]]:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    result = load_config(path)
    return result.config, result.warnings


def test_every_voice_setting_is_read(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, GOOD)
    assert warnings == []
    voice = config.voice
    assert (voice.provider, voice.model, voice.voice) == ("gemini-live", "gemini-live-2.5-flash", "Kore")
    assert (voice.input_device, voice.output_device) == ("USB", 3)
    assert (voice.mode, voice.interruption, voice.turn_detection) == ("hands-free", "deferred", "local")
    vad = voice.vad_params()
    assert (vad.threshold_db, vad.start_s, vad.stop_s, vad.min_volume_db) == (9.0, 0.25, 0.6, -45.0)
    assert vad.release_db == 6.0  # below the threshold, as the VAD needs
    assert voice.turn_params() == TurnParams(pre_roll_s=0.4, max_turn_s=20.0)
    options = voice.voice_options()
    assert options.interruption == "deferred" and options.vad == vad
    assert "[voice]" in masked_toml(config) and 'mode = "hands-free"' in masked_toml(config)


def test_an_empty_table_is_the_built_in_defaults(tmp_path: Path) -> None:
    config, warnings = load(tmp_path, "[voice]\n")
    assert warnings == []
    assert config.voice == VoiceConfig() and config.voice.effective_mode == "push-to-talk"
    assert config.voice.vad_params() == VadParams() and config.voice.turn_params() == TurnParams()
    assert config.voice.voice_options() == VoiceOptions()
    assert "[voice]" not in masked_toml(config)


def test_a_low_threshold_brings_the_release_level_down_with_it() -> None:
    vad = VoiceConfig(vad_threshold=4.0).vad_params()
    assert vad.threshold_db == 4.0 and vad.release_db == 4.0


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('mode = "handsfree"', "expected one of push-to-talk, hold, hands-free, got 'handsfree' (did you mean 'hands-free'?)"),
        ('interruption = "never"', "expected one of ignore, immediate, deferred, got 'never'"),
        ('turn_detection = "cloud"', "expected one of server, local, got 'cloud'"),
        ("vad_stop = 0", "expected a number above 0 up to 10 s, got 0"),
        ('vad_threshold = "loud"', "expected a number above 0 up to 60 dB, got a string"),
        ("vad_min_volume = 3", "expected a number from -100 to 0 dBFS, got 3"),
        ("vad_start = true", "expected a number above 0 up to 5 s, got a boolean"),
        ("pre_roll = -0.1", "expected a number from 0 to 2 s, got -0.1"),
        ("max_turn = 0.5", "expected a number from 1 to 600 s, got 0.5"),
        ("hold_release = 3", "expected a number above 0 up to 2 s, got 3"),
        ("input_device = -1", "expected a device index >= 0 or a name, got -1"),
        ("output_device = 1.5", "expected a device name or index (see `tui-chat devices`), got a float"),
        ('model = ""', "expected a non-empty string, got an empty one"),
        ('provider = "anthropic"', "provider 'anthropic' has no bidirectional (voice) sessions"),
        ('provider = "gemnii-live"', "unknown provider 'gemnii-live' (did you mean gemini-live"),
    ],
)
def test_a_bad_value_is_named_with_file_line_and_key_and_its_default_used(tmp_path: Path, line: str, problem: str) -> None:
    config, warnings = load(tmp_path, f'theme = "nord"\n\n[voice]\nvoice = "Kore"\n{line}\n')
    key = line.split(" = ")[0]
    [warning] = warnings
    assert warning.startswith(f"{tmp_path / 'config.toml'}:5: voice.{key}: {problem}")
    assert warning.endswith("; using the default")
    assert getattr(config.voice, key) is None  # the default
    assert config.voice.voice == "Kore" and config.theme == "nord"  # the rest applies


def test_unknown_keys_and_a_voice_value_that_is_not_a_table(tmp_path: Path) -> None:
    _config, warnings = load(tmp_path, "[voice]\nvad_treshold = 9\n")
    assert warnings == [f"{tmp_path / 'config.toml'}:2: voice.vad_treshold: unknown setting (did you mean 'vad_threshold'?); ignored"]
    config, warnings = load(tmp_path, 'voice = "loud"\n')
    assert warnings == [f"{tmp_path / 'config.toml'}:1: voice: expected a table, got a string; ignored"]
    assert config.voice == VoiceConfig()


def test_the_template_documents_the_built_in_defaults(tmp_path: Path) -> None:
    """Uncommenting the template's [voice] lines changes nothing but what names a choice
    (provider, model, voice, devices): the defaults it shows are the real ones."""
    path = write_default_config(tmp_path / "config.toml")
    text = path.read_text()
    block = text[text.index("# [voice]") : text.index("# One table per provider")]
    lines = [re.sub(r"^# ", "", line) for line in block.splitlines() if line.startswith("# ") and not line.startswith("#  ")]
    data = tomllib.loads("\n".join(lines))["voice"]
    assert set(data) == set(VoiceConfig.__slots__)
    chosen = VoiceConfig(**{k: v for k, v in data.items() if k not in ("provider", "model", "voice", "input_device", "output_device")})
    assert chosen.vad_params() == VadParams() and chosen.turn_params() == TurnParams()
    assert chosen.voice_options() == VoiceOptions()
    assert (chosen.mode, chosen.turn_detection) == ("push-to-talk", "server")
    from tui_chat.voice.modal_turns import KeyTiming

    assert chosen.hold_release == KeyTiming().release_s
    # And `set_value` fills the table in, keeping the file valid.
    set_value(path, "voice.mode", "hands-free")
    assert load_config(path).config.voice.mode == "hands-free" and load_config(path).warnings == []


# --- the command line over the config ------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_voice_arguments(parser)
    return parser.parse_args(list(argv))


def test_flags_win_over_the_table_and_the_table_over_the_defaults() -> None:
    table = VoiceConfig(interruption="deferred", vad_threshold=9.0, vad_stop=0.6, input_device=2, voice="Kore")
    options = options_from_args(parse("--vad-stop", "0.4", "--interruption", "ignore"), table)
    assert options.interruption == "ignore" and options.vad.stop_s == 0.4 and options.vad.threshold_db == 9.0
    assert options.levels is False
    chosen = voice_config_from_args(parse("--output-device", "HDMI", "--turn-detection", "local"), table)
    assert (chosen.input_device, chosen.output_device, chosen.voice, chosen.turn_detection) == (2, "HDMI", "Kore", "local")
    assert options_from_args(parse()).interruption == "immediate"  # no table, no flag: the default


@pytest.fixture
def voice_runs(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What `tui-chat voice` asked `run_voice` for (the provider and every keyword); nothing is run."""
    from tui_chat.voice import headless

    seen: dict[str, Any] = {}

    async def record_run_voice(provider: str, **kwargs: Any) -> int:
        seen.update(kwargs, provider=provider)
        return 0

    monkeypatch.setattr(headless, "run_voice", record_run_voice)
    return seen


def test_the_voice_command_uses_the_table(tmp_path: Path, voice_runs: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    """`tui-chat voice` with no flags takes the provider, voice, devices and VAD from `[voice]`."""
    from tui_chat import cli

    seen = voice_runs
    path = tmp_path / "config.toml"
    path.write_text(GOOD.replace('provider = "gemini-live"', 'provider = "demo"').replace('model = "gemini-live-2.5-flash"\n', ""))
    assert cli.main(["voice", "--config", str(path), "--audio-in", "in.wav", "--fast", "--vad-stop", "0.7"]) == 0
    assert seen["provider"] == "demo" and seen["voice"] == "Kore" and seen["turn_detection"] == "local"
    assert (seen["input_device"], seen["output_device"]) == ("USB", 3)
    options = seen["options"]
    assert options.interruption == "deferred" and options.vad.threshold_db == 9.0 and options.vad.stop_s == 0.7
    assert options.turns.pre_roll_s == 0.4
    assert capsys.readouterr().err == ""


def test_a_broken_table_still_starts_the_voice_command(tmp_path: Path, voice_runs: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    from tui_chat import cli

    seen = voice_runs
    path = tmp_path / "config.toml"
    path.write_text('[voice]\nmode = 3\ninterruption = "sometimes"\nvad_stop = 0.5\n')
    assert cli.main(["voice", "--config", str(path), "--audio-in", "in.wav", "--fast"]) == 0
    err = capsys.readouterr().err
    assert f"tui-chat: warning: {path}:3: voice.interruption: expected one of ignore, immediate, deferred" in err
    assert f"{path}:2: voice.mode: expected one of" in err
    assert seen["options"].interruption == "immediate" and seen["options"].vad.stop_s == 0.5


# --- turn detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider", "mode", "preference", "expected"),
    [
        ("openai-realtime", "hands-free", None, "server"),
        ("openai", "hands-free", "server", "server"),  # a text provider's voice side
        ("gemini-live", "hands-free", None, "server"),
        ("gemini-live", "hands-free", "local", "manual"),
        ("openai-realtime", "push-to-talk", None, "manual"),
        ("gemini-live", "hold", None, "manual"),
        ("demo", "hands-free", None, "manual"),  # the demo has no detection of its own
        ("nonsense", "hands-free", None, "manual"),
    ],
)
def test_turn_detection_for(provider: str, mode: str, preference: str | None, expected: str) -> None:
    assert turn_detection_for(provider, mode, preference) == expected


def test_reading_the_table_loads_no_audio_library() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from tui_chat.config import load_config; from tui_chat.voice.settings import turn_detection_for; "
        "turn_detection_for('openai', 'hands-free'); "
        "print(sorted(m for m in ('numpy', 'sounddevice', 'websockets', 'soxr') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_the_config_is_used_by_the_tui_voice_setup() -> None:
    from tui_chat.ui.voice import VoiceSetup
    from tui_chat.voice.modal_turns import KeyTiming

    table = VoiceConfig(provider="demo", model="m", voice="v", input_device=1, hold_release=0.9, interruption="ignore", pre_roll=0.5)
    setup = VoiceSetup(output_device="injected").with_config(table)
    assert (setup.provider, setup.model, setup.voice, setup.input_device, setup.output_device) == ("demo", "m", "v", 1, "injected")
    assert setup.options is not None and setup.options.interruption == "ignore" and setup.options.turns.pre_roll_s == 0.5
    assert setup.timing == KeyTiming(first_s=0.9, release_s=0.9)
    # What a test (or a front end) injects wins over the table.
    custom = VoiceSetup(options=VoiceOptions(interruption="deferred"), timing=KeyTiming(0.5, 0.2)).with_config(table)
    assert custom.options.interruption == "deferred" and custom.timing == KeyTiming(0.5, 0.2)  # type: ignore[union-attr]
