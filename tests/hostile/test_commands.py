"""Every command over the hostile set (tests/fakes/hostile.py): its stdout and stderr, as bytes, are harmless.

Each command runs through the real command line (`main`) in this process, against real files in a
temporary folder, the providers' loopback fakes (on a thread: the command runs its own event loop),
a real SQLite history and a real MCP server. What the terminal would get is the bytes written to
stdout and stderr; `assert_harmless` holds them to one rule: no control, escape, bidi or surrogate
character, and the planted markup shown as it was written.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.fakes import hostile as h
from tests.fakes.live import LiveFake
from tests.fakes.openai_wire import CompatibleWire
from tests.fakes.realtime_openai import FakeOpenAIRealtime
from tests.fakes.server import json_response, stream
from tests.fakes.wire import Wire
from tests.fakes.wires import KEY, WIRES
from tui_chat.cli import EXIT_OK, main

Output = tuple[int, bytes, bytes]
Run = Callable[..., Output]


@pytest.fixture
def run(capsysbinary: pytest.CaptureFixture[bytes]) -> Run:
    """`run(*argv)` runs the command line; returns the exit code, stdout and stderr as bytes."""

    def command(*argv: str) -> Output:
        code = main(list(argv))
        out, err = capsysbinary.readouterr()
        return code, out, err

    return command


@pytest.fixture
def compatible() -> Iterator[LiveFake]:
    with LiveFake(CompatibleWire()) as live:
        yield live


def ask_args(fake: LiveFake, *extra: str) -> list[str]:
    return ["ask", "--provider", "openai-compatible", "--base-url", fake.base_url, "--model", "m", *extra, "hi"]


# --- replies, error bodies, retries --------------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True], ids=["ask", "ask --json"])
def test_ask_shows_a_hostile_reply_and_retry_reason_harmlessly(compatible: LiveFake, run: Run, as_json: bool) -> None:
    wire = compatible.wire
    compatible.enqueue(
        json_response(wire.error_body(503, h.hostile("retry")), 503, {"retry-after": "0"}),
        stream(h.on_the_wire(lambda planted: wire.reply([planted(h.hostile("reply")), h.LONG_LINE]))),
    )
    code, out, err = run(*ask_args(compatible, *(["--json"] if as_json else [])))
    assert code == EXIT_OK, err
    retry = f"retry{h.MARKUP}"  # the reason for the retry: a JSON line, or a line on stderr
    h.assert_harmless(out, shows=(f"reply{h.MARKUP}", *([retry] if as_json else [])))
    h.assert_harmless(err, shows=() if as_json else (retry,))


@pytest.mark.parametrize("as_json", [False, True], ids=["ask", "ask --json"])
def test_ask_shows_a_hostile_error_body_harmlessly(compatible: LiveFake, run: Run, as_json: bool) -> None:
    compatible.enqueue(json_response(compatible.wire.error_body(400, h.hostile("refusal")), 400))
    code, out, err = run(*ask_args(compatible, *(["--json"] if as_json else [])))
    assert code != EXIT_OK
    h.assert_harmless(err, shows=(f"refusal{h.MARKUP}",))
    h.assert_harmless(out, shows=(f"refusal{h.MARKUP}",) if as_json else ())


def test_ask_shows_a_hostile_mid_stream_error_harmlessly(compatible: LiveFake, run: Run) -> None:
    wire = compatible.wire
    compatible.enqueue(stream(h.on_the_wire(lambda planted: [*wire.start(), *wire.text("partial"), *wire.error_event(planted(h.hostile("mid-stream")))])))
    code, out, err = run(*ask_args(compatible))
    assert code != EXIT_OK
    h.assert_harmless(out, shows=("partial",))
    h.assert_harmless(err, shows=(f"mid-stream{h.MARKUP}",))


@pytest.mark.parametrize("as_json", [False, True], ids=["ask --yes", "ask --yes --json"])
def test_ask_runs_a_tool_over_hostile_file_names_harmlessly(compatible: LiveFake, run: Run, tmp_path: Path, as_json: bool) -> None:
    wire = compatible.wire
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    h.plant_files(workspace)
    arguments = json.dumps({"path": "."})
    compatible.enqueue(
        stream(wire.start() + wire.tool_calls([("call_1", "list_directory", arguments)]) + wire.finish(tool_calls=True)),
        stream(wire.reply(["done"])),
    )
    argv = ask_args(compatible, "--yes", "--workspace", str(workspace), "--pack", str(h.write_pack(tmp_path)))
    code, out, err = run(*argv, *(["--json"] if as_json else []))
    assert code == EXIT_OK, err
    h.assert_harmless(out, shows=("file[bold]B[bold]",) if as_json else ("done",))  # the listing is in the JSON
    h.assert_harmless(err, shows=())
    assert len(compatible.stream_requests()) == 2


# --- model ids from every provider ----------------------------------------------------------------


def planted_models(wire: Wire) -> tuple[object, str]:
    """`wire`'s models body with its last model's id made hostile (no "/" or space: some ids are paths)."""
    last = wire.models_expected[-1].rpartition("/")[2]
    planted = h.fit_for(h.hostile("model"), slash=False, space=False)
    body = json.dumps(wire.models_body).replace(f'{last}"', f'{last}{json.dumps(planted)[1:-1]}"')
    return json.loads(body), planted


@pytest.mark.parametrize("as_json", [False, True], ids=["models", "models --json"])
@pytest.mark.parametrize("wire_type", WIRES, ids=[wire.provider for wire in WIRES])
def test_models_lists_hostile_ids_harmlessly(
    wire_type: type[Wire], as_json: bool, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wire = wire_type()
    if not wire.models_path:
        pytest.skip(f"{wire.provider} lists no models from the server")
    config = tmp_path / "config.toml"
    config.write_text(f'[providers.{wire.provider}]\napi_key = "{KEY}"\n', encoding="utf-8")
    config.chmod(0o600)
    if wire.provider == "vertex":
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "p1")
        monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "us-central1")
    body, _ = planted_models(wire)
    with LiveFake(wire) as fake:
        fake.enqueue(json_response(body))
        argv = ["models", "--config", str(config), "--provider", wire.provider, "--base-url", fake.base_url]
        code, out, err = run(*argv, *(["--json"] if as_json else []))
    assert code == EXIT_OK, err
    h.assert_harmless(out, shows=("model[bold]B[bold]",))  # the "/" of [/bold] cannot be in these ids
    h.assert_harmless(err, shows=())


# --- packs, themes, config ------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["list", "show", "validate"])
def test_packs_show_a_hostile_pack_harmlessly(action: str, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = h.write_pack(tmp_path)
    monkeypatch.setattr("tui_chat.packs.finder.bundled_dir", lambda kind: tmp_path)  # the pack is the one bundled
    code, out, err = run("packs", action, *([] if action == "list" else [str(path)]))
    assert code == EXIT_OK, err
    h.assert_harmless(out, shows=() if action == "validate" else (f"pack-name{h.MARKUP}",))
    h.assert_harmless(err, shows=())


def test_packs_validate_names_hostile_keys_harmlessly(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "bad.pack.json"
    path.write_text(json.dumps({**h.pack_data(), h.hostile("pack-key"): 1}), encoding="utf-8")
    code, out, err = run("packs", "validate", str(path))
    assert code != EXIT_OK
    h.assert_harmless(out + err, shows=(f"pack-key{h.MARKUP}",))


def test_themes_names_hostile_names_and_keys_harmlessly(run: Run, tmp_path: Path) -> None:
    h.write_theme(tmp_path / "themes")
    code, out, err = run("themes", "--config", str(tmp_path / "config.toml"))
    assert code == EXIT_OK
    h.assert_harmless(out, shows=())
    h.assert_harmless(err, shows=(f"theme{h.MARKUP}", f"theme-key{h.MARKUP}"))  # neither is a theme: both are named


def test_config_show_warns_of_hostile_keys_harmlessly(run: Run, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(h.config_text() + f'[providers.openai]\nmodel = {h.toml_string(h.hostile("configured"))}\n', encoding="utf-8")
    code, out, err = run("config", "--config", str(config), "show")
    assert code == EXIT_OK, err
    h.assert_harmless(out, shows=())
    h.assert_harmless(err, shows=(f"config-key{h.MARKUP}", f"voice-key{h.MARKUP}"))


def test_a_command_warns_of_hostile_config_keys_harmlessly(run: Run, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(h.config_text(), encoding="utf-8")
    code, out, err = run("ask", "--config", str(config), "--provider", "demo", "--speed", "0", "hi")
    assert code == EXIT_OK, err
    h.assert_harmless(out + err, shows=(f"config-key{h.MARKUP}",))


# --- saved chats ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [["list"], ["list", "--json"], ["show"], ["search", "needle"], ["search", "needle", "--json"], ["export", "--format", "md"], ["export", "--format", "json"]],
    ids=" ".join,
)
def test_history_shows_a_hostile_chat_harmlessly(action: list[str], run: Run, tmp_path: Path) -> None:
    db = tmp_path / "chats.db"
    chat = h.save_chat(db)
    argv = ["history", "--db", str(db), *action[:1], *([chat] if action[0] in ("show", "export") else []), *action[1:]]
    code, out, err = run(*argv)
    assert code == EXIT_OK, err
    h.assert_harmless(out, shows=(h.MARKUP,))
    h.assert_harmless(err, shows=())


def test_history_import_of_a_hostile_export_is_shown_harmlessly(run: Run, tmp_path: Path) -> None:
    db = tmp_path / "chats.db"
    chat = h.save_chat(db)
    code, exported, err = run("history", "--db", str(db), "export", chat, "--format", "json")
    assert code == EXIT_OK, err
    planted = tmp_path / "hostile.json"
    planted.write_text(json.dumps(h.plant_in_export(json.loads(exported))), encoding="utf-8")
    other = tmp_path / "other.db"
    code, out, err = run("history", "--db", str(other), "import", str(planted))
    assert code == EXIT_OK, err
    h.assert_harmless(out + err, shows=())
    code, out, err = run("history", "--db", str(other), "list")
    h.assert_harmless(out + err, shows=(f"imported-title{h.MARKUP}",))
    code, out, err = run("history", "--db", str(other), "search", "needle")
    h.assert_harmless(out + err, shows=(f"imported{h.MARKUP}",))


# --- MCP and voice --------------------------------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True], ids=["mcp list", "mcp list --json"])
def test_mcp_list_shows_hostile_tools_harmlessly(as_json: bool, run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    config = tmp_path / "config.toml"
    config.write_text(h.mcp_toml(), encoding="utf-8")
    code, out, err = run("mcp", "--config", str(config), "list", *(["--json"] if as_json else []))
    assert code == EXIT_OK, err
    h.assert_harmless(out + err, shows=())
    assert b"mcp__hostile__mcp-tool_bold_B" in out


async def test_voice_json_shows_hostile_transcripts_harmlessly(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np

    from tests.voice.test_voice_path import speech_like
    from tui_chat.audio.wav import write_wav

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    speech = tmp_path / "turn.wav"
    rate = 24000
    write_wav(speech, np.concatenate((np.zeros(rate // 2, np.int16), speech_like("Hello", rate), np.zeros(rate, np.int16))), rate)
    async with FakeOpenAIRealtime() as server:
        server.replies.append(h.voice_reply())
        argv = ["voice", "--provider", "openai-realtime", "--base-url", server.url, "--audio-in", str(speech), "--fast", "--json"]
        code, out, err = await asyncio.to_thread(run, *argv)  # the command runs its own event loop; the fake runs on this one
    assert code == EXIT_OK, err
    h.assert_harmless(out, shows=(f"said{h.MARKUP}", f"heard{h.MARKUP}"))
    h.assert_harmless(err, shows=())
