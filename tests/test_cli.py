"""The command line: `ask`, `packs`, `config`, `themes`, `models`, and one-line errors."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui_chat.cli import main
from tui_chat.providers.demo import compose_reply
from tui_chat.providers.registry import PROVIDERS

FAST = ["--provider", "demo", "--speed", "0"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_streams_the_reply_to_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "ask", *FAST, "hello there")
    assert code == 0, err
    assert out == compose_reply("hello there", 1)
    assert err == ""


def test_ask_reads_the_prompt_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("from stdin\n"))
    code, out, _ = run(capsys, "ask", *FAST, "-")
    assert code == 0
    assert "> from stdin" in out


def test_ask_json_prints_one_object_per_chunk(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ask", *FAST, "--json", "hi")
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert {e["type"] for e in events} == {"text", "usage", "done"}
    assert "".join(e["text"] for e in events if e["type"] == "text") == compose_reply("hi", 1)
    assert events[-1] == {"type": "done", "finish_reason": "stop"}


def test_ask_failure_keeps_partial_text_and_exits_non_zero(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[providers.demo]\nfail_after_chunks = 4\n")
    code, out, err = run(capsys, "ask", *FAST, "--config", str(config), "hello")
    assert code == 1
    assert out.startswith("**This is tui-chat's")
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("tui-chat: error: reply error: the demo provider failed on purpose")


def test_unknown_provider_is_one_line_with_suggestion(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "ask", "--provider", "opnai", "x")
    assert code == 1 and out == ""
    names = ", ".join(PROVIDERS)
    assert err.strip() == f"tui-chat: error: unknown provider 'opnai' (did you mean openai? the providers are: {names})"


def test_unknown_provider_lists_every_name(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ask", "--provider", "nope", "x")
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert all(name in err for name in PROVIDERS)


def test_empty_prompt_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ask", *FAST, "   ")
    assert code == 1 and "prompt is empty" in err


def test_pack_prompt_and_variables_reach_the_conversation() -> None:
    from tui_chat.cli import build_parser, choices_from
    from tui_chat.session import build_session

    args = build_parser().parse_args(["--pack", "storyteller", "--prompt", "story", "--var", "genre=mystery"])
    session = build_session(choices_from(args))
    prompt = session.conversation.prompt
    assert session.pack is not None and session.pack.id == "storyteller"
    assert "mystery" in (prompt.system or "")
    assert prompt.parameters["temperature"] > 1
    assert session.conversation.request().system == prompt.system


def test_variable_failing_validation_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ask", *FAST, "--pack", "storyteller", "--var", "genre=not-a-genre", "x")
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "genre" in err


def test_missing_pack_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "ask", *FAST, "--pack", str(tmp_path / "nope.pack.json"), "x")
    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "nope.pack.json" in err


def test_invalid_pack_names_file_line_and_column(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.pack.json"
    bad.write_text('{"id": "x",\n  "name": }')
    code, _, err = run(capsys, "ask", *FAST, "--pack", str(bad), "x")
    assert code == 1
    assert "bad.pack.json" in err and "line 2" in err


def test_bad_variable_assignment_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "ask", *FAST, "--var", "novalue", "x")
    assert code == 1 and "novalue" in err


def test_packs_list_show_validate(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "packs", "list")
    assert code == 0
    ids = [line.split()[0] for line in out.splitlines()]
    assert {"assistant", "storyteller", "voice-assistant", "tools-demo"} <= set(ids)
    code, out, _ = run(capsys, "packs", "show", "storyteller")
    assert code == 0 and "temperature" in out
    bad = tmp_path / "bad.pack.json"
    bad.write_text("[]")
    from tui_chat.packs import find_pack

    good = find_pack("assistant")
    code, out, _ = run(capsys, "packs", "validate", str(good), str(bad))
    assert code == 1
    assert f"{good}: ok" in out and f"{bad}:" in out


def test_config_path_init_show(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    code, out, _ = run(capsys, "config", "--config", str(path), "path")
    assert (code, out.strip()) == (0, str(path))
    code, out, _ = run(capsys, "config", "--config", str(path), "init")
    assert code == 0 and path.exists()
    assert path.stat().st_mode & 0o777 == 0o600
    code, _, err = run(capsys, "config", "--config", str(path), "init")
    assert code == 1 and "exists" in err
    with path.open("a") as file:
        file.write('\n[providers.anthropic]\napi_key = "sk-ant-SECRET-1234"\n')
    code, out, _ = run(capsys, "config", "--config", str(path), "show")
    assert code == 0
    assert "SECRET" not in out


def test_default_config_path_is_in_the_platform_config_dir(capsys: pytest.CaptureFixture[str]) -> None:
    import os

    code, out, _ = run(capsys, "config", "path")
    assert code == 0
    assert out.strip() == str(Path(os.environ["XDG_CONFIG_HOME"]) / "tui-chat" / "config.toml")


def test_themes_lists_builtin_and_bundled(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "themes")
    assert code == 0
    assert "textual-dark  (built in)" in out
    assert "tui-chat-paper  (light)" in out


def test_models_lists_the_demo_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "models", "--provider", "demo")
    header, row = out.strip().splitlines()
    assert code == 0 and header.split()[0] == "model"
    assert row.split() == ["demo-1", "8,192", "?", "text", "yes", "-", "0", "0"]  # a local model costs nothing
    code, out, _ = run(capsys, "models", "--provider", "demo", "--json")
    [card] = [json.loads(line) for line in out.splitlines()]
    assert (card["id"], card["context_window"], card["price_input"], card["tools"]) == ("demo-1", 8192, "0", True)


def test_python_dash_m_runs_ask_in_a_real_process() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tui_chat", "ask", *FAST, "hi"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == compose_reply("hi", 1)
    assert "textual" not in result.stderr


TOOLS = [*FAST, "--pack", "tools-demo"]


def test_ask_runs_an_auto_approved_tool(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "ask", *TOOLS, "calculate 17*23")
    assert code == 0, err
    assert "17*23 = 391" in out
    assert "tui-chat: tool calculator: done" in err


def test_ask_without_a_terminal_denies_calls_that_need_approval(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, out, err = run(capsys, "ask", *TOOLS, "list the files here")
    assert code == 0
    assert "not reading from a terminal" in err and "--yes" in err
    assert "tui-chat: tool list_directory: denied" in err
    assert "was not run" in out


def test_ask_yes_approves_list_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "marker-file.txt").write_text("x")
    code, out, err = run(capsys, "ask", *TOOLS, "--yes", "--workspace", str(tmp_path), "list the files here")
    assert code == 0, err
    assert "marker-file.txt" in out
    assert "list_directory: done" in err


def test_ask_json_includes_tool_events(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ask", *TOOLS, "--json", "calculate 17*23")
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    tool_events = [e for e in events if e["type"] == "tool_event"]
    assert tool_events[-1]["status"] == "done" and tool_events[-1]["name"] == "calculator"
    assert [e["type"] for e in events].count("done") == 2  # the call round, then the answer


def test_ask_asks_for_approval_on_a_terminal(tmp_path: Path) -> None:
    """A real pseudo-terminal: the question appears, 'y' is typed, the tool runs."""
    import os
    import pty
    import select

    (tmp_path / "seen-by-the-tool.txt").write_text("x")
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "tui_chat", "ask", *TOOLS, "--workspace", str(tmp_path), "list the files here"],
        stdin=follower,
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
    )
    os.close(follower)
    shown = b""
    try:
        while b"Run it?" not in shown:
            ready, _, _ = select.select([leader], [], [], 60)
            assert ready, f"no approval question; the terminal showed: {shown!r}"
            shown += os.read(leader, 4096)
        assert b"list_directory" in shown
        os.write(leader, b"y\n")
        out, _ = process.communicate(timeout=60)
    finally:
        process.kill() if process.poll() is None else None
        os.close(leader)
    assert process.returncode == 0
    assert "seen-by-the-tool.txt" in out


def test_voice_without_bidirectional_support_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import wave

    silence = tmp_path / "silence.wav"
    with wave.open(str(silence), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16000)
        out.writeframes(b"\0\0" * 1600)
    code, _, err = run(capsys, "voice", "--provider", "anthropic", "--audio-in", str(silence), "--fast")
    assert code == 1
    assert err.strip().splitlines() == [
        "tui-chat: error: provider 'anthropic' has no bidirectional (voice) sessions"
        " (voice works with: demo, openai-realtime, gemini-live)"
    ]


def test_voice_on_the_demo_answers_a_spoken_turn(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    import shutil

    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt install espeak-ng)")
    speech, reply = tmp_path / "speech.wav", tmp_path / "reply.wav"
    subprocess.run(["espeak-ng", "-w", str(speech), "What is the weather like today?"], check=True)
    code, out, err = run(capsys, "voice", "--audio-in", str(speech), "--audio-out", str(reply), "--fast", "--json")
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    kinds = [e["type"] for e in events]
    assert kinds[0] == "turn_started" and "turn_ended" in kinds and kinds[-1] == "session_ended"
    [ended] = [e for e in events if e["type"] == "reply_ended"]
    assert ended["status"] == "complete" and ended["audio_s"] > 0.5
    assert reply.stat().st_size > 48000  # the reply's audio was written, not just the input's


def test_devices_lists_what_portaudio_sees(capsys: pytest.CaptureFixture[str]) -> None:
    """`devices` prints exactly the list the audio layer finds, or says how to get devices."""
    from tui_chat.audio.devices import format_devices, list_devices

    try:
        expected = format_devices(list_devices())
    except Exception as error:  # PortAudio missing: the command must say so in one line
        code, out, err = run(capsys, "devices")
        assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
        assert str(error).split("(")[0].strip() in err
        return
    code, out, _ = run(capsys, "devices")
    assert (code, out) == (0, expected)


def test_per_pack_approval_from_config_lets_a_tool_run_without_asking(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "visible-to-the-tool.txt").write_text("x")
    config = tmp_path / "config.toml"
    config.write_text('[packs.tools-demo.tools]\nlist_directory = "auto"\n')
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no terminal: only "auto" tools can run
    code, out, err = run(
        capsys, "ask", *TOOLS, "--config", str(config), "--workspace", str(tmp_path), "list the files here"
    )
    assert code == 0, err
    assert "visible-to-the-tool.txt" in out and "list_directory: done" in err
    # The same setting for another pack does not apply to this one.
    config.write_text('[packs.assistant.tools]\nlist_directory = "auto"\n')
    code, out, err = run(
        capsys, "ask", *TOOLS, "--config", str(config), "--workspace", str(tmp_path), "list the files here"
    )
    assert "list_directory: denied" in err


def test_per_pack_approval_cannot_auto_run_shell(tmp_path: Path) -> None:
    from tui_chat.session import Choices, build_session
    from tui_chat.tools.approval import DenyingApprover
    from tui_chat.tools.registry import Approval

    config = tmp_path / "config.toml"
    config.write_text('[packs.tools-demo.tools]\nrun_shell = "auto"\ncalculator = "sometimes"\n')
    session = build_session(Choices(config_path=config, provider="demo", pack="tools-demo"))
    loop = session.tool_loop(DenyingApprover())
    assert any("sometimes" in warning for warning in session.warnings)
    from tui_chat.tools.builtin import builtin_tools

    shell = builtin_tools()["run_shell"]
    assert loop.policy.rule(shell).mode is Approval.ASK


# --- the command line as a new user meets it ------------------------------------------------------


def tui_chat(
    *argv: str | bytes, stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run the real `python -m tui_chat` with `stdin` piped in; output is kept as bytes."""
    import os

    return subprocess.run(
        [sys.executable, "-m", "tui_chat", *argv],
        input=stdin,
        capture_output=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )


def one_error_line(stderr: bytes) -> str:
    """The single line a failure prints; fails the test on a traceback or a second line."""
    text = stderr.decode("utf-8", "replace")
    assert "Traceback" not in text and "unexpected error" not in text, text
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_ask_puts_piped_text_after_the_prompt() -> None:
    result = tui_chat("ask", *FAST, "summarise this", stdin=b"the notes\nsecond line\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == compose_reply("summarise this\n\nthe notes\nsecond line\n", 1)


def test_ask_dash_alone_takes_the_whole_prompt_from_a_pipe() -> None:
    result = tui_chat("ask", *FAST, "-", stdin=b"only the pipe\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == compose_reply("only the pipe\n", 1)


def test_ask_help_and_readme_say_piped_text_is_added() -> None:
    result = tui_chat("ask", "--help")
    assert result.returncode == 0
    assert b"piped" in result.stdout and b"'-' alone" in result.stdout
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    assert "cat notes.txt | tui-chat ask" in readme and "tui-chat --version" in readme


def test_ask_refuses_stdin_that_is_not_utf8() -> None:
    for argv in (("summarise this",), ("-",)):
        result = tui_chat("ask", *FAST, *argv, stdin=b"caf\xe9 au lait\n")
        assert result.returncode == 1 and result.stdout == b""
        assert one_error_line(result.stderr) == (
            "tui-chat: error: stdin is not UTF-8 text (byte 0xe9 at offset 3) (convert it first, e.g. with iconv -t utf-8)"
        )


def test_ask_refuses_an_argument_that_is_not_utf8() -> None:
    result = tui_chat("ask", *FAST, b"caf\xe9")
    assert result.returncode == 1 and result.stdout == b""
    assert one_error_line(result.stderr) == "tui-chat: error: the argument b'caf\\xe9' is not UTF-8 text"
    result = tui_chat("ask", *FAST, "--model", b"m\xff", "hi")
    assert result.returncode == 1
    assert "b'm\\xff' is not UTF-8" in one_error_line(result.stderr)


def test_a_file_name_that_is_not_utf8_is_still_a_file_name(tmp_path: Path) -> None:
    import os

    folder = os.fsencode(tmp_path) + b"/dossier-\xe9"
    os.mkdir(folder)
    result = tui_chat("ask", *FAST, "--workspace", folder, "hi")
    assert result.returncode == 0, result.stderr


def test_ask_on_an_ascii_only_stdout_escapes_what_it_cannot_show() -> None:
    result = tui_chat("ask", *FAST, "café ☃", env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    expected = compose_reply("café ☃", 1).encode("ascii", "backslashreplace")
    assert result.stdout == expected


def test_ask_json_on_an_ascii_only_stdout_stays_json() -> None:
    result = tui_chat("ask", *FAST, "--json", "café ☃", env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.decode("ascii").splitlines()]
    assert "".join(e["text"] for e in events if e["type"] == "text") == compose_reply("café ☃", 1)


def test_ask_in_the_c_locale_prints_the_reply() -> None:
    result = tui_chat("ask", *FAST, "café ☃", env={"LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": ""})
    assert result.returncode == 0, result.stderr
    assert result.stderr == b""
    assert "café ☃".encode() in result.stdout


def test_version_comes_from_the_package_metadata() -> None:
    from importlib.metadata import version

    result = tui_chat("--version")
    assert (result.returncode, result.stdout.decode()) == (0, f"tui-chat {version('tui-chat')}\n")


def test_workspace_that_does_not_exist_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    code, out, err = run(capsys, "ask", *FAST, "--workspace", str(missing), "hi")
    assert code == 1 and out == ""
    assert err == f"tui-chat: error: the workspace {str(missing)!r} does not exist (--workspace takes an existing folder)\n"


def test_workspace_that_is_a_file_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    code, out, err = run(capsys, "models", *FAST, "--workspace", str(a_file))
    assert code == 1 and out == ""
    assert err == f"tui-chat: error: the workspace {str(a_file)!r} is not a folder (--workspace takes an existing folder)\n"


def test_a_missing_workspace_in_the_config_is_a_warning(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'workspace = "{tmp_path / "gone"}"\n')
    code, out, err = run(capsys, "ask", *FAST, "--config", str(config), "hi")
    assert code == 0 and out == compose_reply("hi", 1)
    assert err == (
        f"tui-chat: warning: {config}: workspace: the workspace {str(tmp_path / 'gone')!r} does not exist;"
        " using the current folder\n"
    )


BAD_FLAG_VALUES = [
    (["ask", "--speed", "fast", "x"], "tui-chat ask: error: argument --speed: expected tokens per second"),
    (["ask", "--speed", "-5", "x"], "tui-chat ask: error: argument --speed: expected tokens per second"),
    (["ask", "--speed", "nan", "x"], "tui-chat ask: error: argument --speed: expected tokens per second"),
    (["ask"], "tui-chat ask: error: the following arguments are required: PROMPT"),
    (["models", "--speed", "-1"], "tui-chat models: error: argument --speed: expected tokens per second"),
    (["--speed", "x"], "tui-chat: error: argument --speed: expected tokens per second"),
    (["chat"], "tui-chat: error: argument COMMAND: invalid choice: 'chat'"),
    (["packs"], "tui-chat packs: error: the following arguments are required: ACTION"),
    (["packs", "show"], "tui-chat packs show: error: the following arguments are required: FILE|ID"),
    (["config", "wipe"], "tui-chat config: error: argument ACTION: invalid choice: 'wipe'"),
    (["themes", "--dark"], "tui-chat: error: unrecognized arguments: --dark"),
    (["voice", "--interruption", "never"], "tui-chat voice: error: argument --interruption: invalid choice: 'never'"),
    (["voice", "--max-seconds", "soon"], "tui-chat voice: error: argument --max-seconds: invalid float value: 'soon'"),
    (["devices", "--all"], "tui-chat: error: unrecognized arguments: --all"),
]


@pytest.mark.parametrize(("argv", "start"), BAD_FLAG_VALUES, ids=[" ".join(a) for a, _ in BAD_FLAG_VALUES])
def test_a_bad_flag_value_is_one_line_and_a_usage_exit(
    capsys: pytest.CaptureFixture[str], argv: list[str], start: str
) -> None:
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith(start) and err.rstrip().endswith("--help)"), err
