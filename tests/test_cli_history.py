"""Saving chats from the command line: `ask` saves, `-c`/`--chat` continue, `--no-history` and
`[history] enabled = false` save nothing, and `--provider replay --from` plays a chat back.

The command runs in this process (`main`) against the isolated data folder of tests/conftest.py,
so every test reads the real SQLite file the command wrote; the key test runs the real command in
a subprocess against the loopback OpenAI fake.
"""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.live import LiveFake
from tests.fakes.openai_wire import OpenAIWire
from tests.fakes.server import json_response, stream
from tests.fakes.wires import KEY
from tui_chat.cli import main
from tui_chat.providers.demo import compose_reply

FAST = ["--provider", "demo", "--speed", "0"]
ROOT = Path(__file__).resolve().parents[1]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def chats(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    code, out, err = run(capsys, "history", "list", "--json")
    assert code == 0, err
    listed: list[dict[str, Any]] = json.loads(out)
    return listed


def database() -> Path:
    return Path(os.environ["XDG_DATA_HOME"]) / "tui-chat" / "chats.db"


def test_ask_saves_the_exchange_and_continue_gives_the_model_its_history(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "ask", *FAST, "first question")
    assert code == 0, err
    [chat] = chats(capsys)
    assert (chat["title"], chat["messages"], chat["provider"], chat["pack"]) == ("first question", 2, "demo", "assistant")

    code, out, err = run(capsys, "ask", *FAST, "-c", "second question")
    assert code == 0, err
    assert out == compose_reply("second question", 2)  # the demo counts the user messages it was sent
    code, out, err = run(capsys, "ask", *FAST, "--chat", chat["id"][:6], "third question")
    assert out == compose_reply("third question", 3)
    [chat] = chats(capsys)
    assert chat["messages"] == 6

    code, out, _ = run(capsys, "history", "show", chat["id"], "--json")
    texts = [m["text"] for m in json.loads(out)["messages"]]
    assert texts[::2] == ["first question", "second question", "third question"]
    assert texts[5] == compose_reply("third question", 3)


def test_continue_with_nothing_saved_and_an_unknown_chat_are_one_line_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "ask", *FAST, "-c", "hello")
    assert (code, out) == (1, "") and err.startswith("tui-chat: error: there is no saved chat") and err.count("\n") == 1
    code, out, err = run(capsys, "ask", *FAST, "--chat", "feedbeef", "hello")
    assert (code, out) == (1, "") and "'feedbeef' is not in the history" in err


def test_no_history_saves_nothing_but_still_reads_the_chat_it_continues(capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "ask", *FAST, "kept")
    code, out, err = run(capsys, "ask", *FAST, "--no-history", "-c", "not kept")
    assert code == 0, err
    assert out == compose_reply("not kept", 2)
    assert [chat["messages"] for chat in chats(capsys)] == [2]
    run(capsys, "ask", *FAST, "--no-history", "incognito")
    assert [chat["title"] for chat in chats(capsys)] == ["kept"]


def test_history_enabled_false_in_the_config_saves_nothing(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[history]\nenabled = false\n")
    code, _, err = run(capsys, "ask", *FAST, "--config", str(config), "hello")
    assert code == 0, err
    assert not database().exists()
    code, out, _ = run(capsys, "config", "--config", str(config), "show")
    assert "[history]\nenabled = false" in out
    config.write_text('[history]\nenabled = "no"\n')
    code, _, err = run(capsys, "ask", *FAST, "--config", str(config), "hello")
    assert "history.enabled" in err and "expected true or false" in err
    assert [chat["title"] for chat in chats(capsys)] == ["hello"]  # a wrong value leaves the default: saving


def test_no_api_key_reaches_the_database(tmp_path: Path) -> None:
    """The real command against the loopback OpenAI server: the key is sent, never saved."""
    wire = OpenAIWire()
    with LiveFake(wire) as fake:
        fake.enqueue(stream(wire.start() + wire.text("Hi there") + wire.finish(usage=(5, 2), reason="stop")))
        result = subprocess.run(
            [sys.executable, "-m", "tui_chat", "ask", "--provider", "openai", "--base-url", fake.base_url,
             "--model", wire.model, "hello"],
            cwd=ROOT, env={**os.environ, "OPENAI_API_KEY": KEY, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        [request] = fake.stream_requests()
    assert result.returncode == 0, result.stderr
    wire.check_request(request, KEY)  # the key did go out, in its header
    saved = b"".join(path.read_bytes() for path in database().parent.glob("chats.db*"))
    assert b"Hi there" in saved and b"hello" in saved  # the chat is in the file (or its WAL)
    assert KEY.encode() not in saved


def demo_chunks(out: str) -> list[str]:
    return [line["text"] for line in map(json.loads, out.splitlines()) if line["type"] == "text"]


def test_replay_plays_a_recorded_chat_back_with_its_chunking(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _, first, _ = run(capsys, "ask", *FAST, "--json", "one")
    _, second, _ = run(capsys, "ask", *FAST, "--json", "-c", "two")
    [chat] = chats(capsys)
    export = tmp_path / "chat.json"
    run(capsys, "history", "export", chat["id"], "--format", "json", "-o", str(export))

    for source in (str(export), chat["id"][:8]):
        code, out, err = run(capsys, "ask", "--provider", "replay", "--from", source, "--no-history", "--json", "anything")
        assert code == 0, err
        assert demo_chunks(out) == demo_chunks(first)  # the same pieces, not just the same text
        assert json.loads(out.splitlines()[-1]) == {"type": "done", "finish_reason": "stop"}
    code, out, err = run(capsys, "ask", "--provider", "replay", "--from", str(export), "--no-history", "--json", "a")
    assert demo_chunks(out) == demo_chunks(first)


def test_replayed_tool_calls_still_pass_through_approval(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A recorded tool chat replaces a hand-written script: the calls come back as made, and are put
    to approval again (refused without a terminal, run with --yes)."""
    run(capsys, "ask", *FAST, "--pack", "tools-demo", "--yes", "calculate 17*23")
    [chat] = chats(capsys)
    replay = ["ask", "--provider", "replay", "--from", chat["id"], "--pack", "tools-demo", "--no-history"]

    code, out, err = run(capsys, *replay, "--yes", "anything")
    assert code == 0, err
    assert "tui-chat: tool calculator: done" in err and "17*23 = 391" in out

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # no terminal to ask on
    code, _, err = run(capsys, "ask", *FAST, "--pack", "tools-demo", "list the files here")
    assert "tui-chat: tool list_directory: denied" in err  # asked, and refused: no terminal
    listing = ["ask", "--provider", "replay", "--from", chats(capsys)[0]["id"], "--pack", "tools-demo", "--no-history"]
    code, out, err = run(capsys, *listing, "anything")
    assert "tui-chat: tool list_directory: denied" in err  # replayed, the call is put to approval again
    assert "tui-chat: tool list_directory: done" not in err
    code, out, err = run(capsys, *listing, "--yes", "anything")
    assert "tui-chat: tool list_directory: done" in err  # this time approved: the call is the model's, the decision ours
    assert "denied" not in err


def test_from_without_a_provider_plays_the_recording_and_with_another_provider_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`--from` names a recording, which only the replay provider plays: alone it means replay; next to
    another provider it is a contradiction, refused rather than silently ignored."""
    _, first, _ = run(capsys, "ask", *FAST, "--json", "one")
    [chat] = chats(capsys)
    export = tmp_path / "chat.json"
    run(capsys, "history", "export", chat["id"], "--format", "json", "-o", str(export))
    code, out, err = run(capsys, "ask", "--from", str(export), "--no-history", "--json", "anything")
    assert code == 0, err
    assert demo_chunks(out) == demo_chunks(first)
    code, out, err = run(capsys, "ask", "--provider", "demo", "--from", str(export), "--no-history", "hi")
    assert (code, out) == (1, "") and err.count("\n") == 1
    assert "--from" in err and "replay" in err and "demo" in err


CONFIG_KEY, URL_PASSWORD, HEADER_VALUE = "sk-config-0123456789abcdef", "url-pa55word-42", "header-value-7f3e9a"


def test_no_config_key_url_password_or_header_value_reaches_the_database_or_an_export(tmp_path: Path) -> None:
    """The real command against the loopback OpenAI server, with every secret a config can hold: a
    reply, then an error reply whose text echoes them (as services do with a wrong key); none of
    them is in the database, its log, or a JSON or Markdown export."""
    wire = OpenAIWire()
    with LiveFake(wire) as fake:
        host = fake.base_url.split("://", 1)[1]
        config = tmp_path / "config.toml"
        config.write_text(
            f'[providers.openai]\napi_key = "{CONFIG_KEY}"\nbase_url = "http://me:{URL_PASSWORD}@{host}"\n'
            f'model = "{wire.model}"\nretries = 0\nheaders = {{ X-Team = "{HEADER_VALUE}" }}\n'
        )
        fake.enqueue(stream(wire.start() + wire.text("Hi there") + wire.finish(usage=(5, 2), reason="stop")))
        echoed = f"Incorrect API key provided: {CONFIG_KEY} (header {HEADER_VALUE}, url password {URL_PASSWORD})"
        fake.enqueue(json_response({"error": {"message": echoed, "type": "invalid_request_error"}}, code=401))
        env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
        command = [sys.executable, "-m", "tui_chat", "ask", "--config", str(config), "--provider", "openai"]
        first = subprocess.run([*command, "hello"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
        second = subprocess.run([*command, "-c", "again"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                                check=False)  # fmt: skip
        requests = fake.stream_requests()
    assert first.returncode == 0, first.stderr
    assert second.returncode == 1 and "Incorrect API key" in second.stderr  # the error reply came
    assert requests[0].headers.get("x-team") == HEADER_VALUE  # the secrets did go out
    saved = b"".join(path.read_bytes() for path in database().parent.glob("chats.db*"))
    assert b"Hi there" in saved and b"again" in saved and b"Incorrect API key" in saved  # both replies were saved
    listed = subprocess.run(
        [sys.executable, "-m", "tui_chat", "history", "list", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    [chat] = json.loads(listed.stdout)
    exports = [
        subprocess.run(
            [sys.executable, "-m", "tui_chat", "history", "export", chat["id"], "--format", form],
            cwd=ROOT, env=env, capture_output=True, timeout=60, check=True,
        ).stdout
        for form in ("json", "md")
    ]
    for where, data in [("the database", saved), ("the JSON export", exports[0]), ("the Markdown export", exports[1])]:
        for secret in (CONFIG_KEY, URL_PASSWORD, HEADER_VALUE):
            assert secret.encode() not in data, f"{secret} is in {where}"


def test_replaying_a_chat_by_id_reads_the_history_without_creating_or_changing_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "ask", "--provider", "replay", "--from", "0123abcd", "--no-history", "anything")
    assert code != 0 and "0123abcd" in err and "Traceback" not in err
    assert not database().exists(), "a chat id that is not there created no history"

    code, out, err = run(capsys, "ask", *FAST, "a question to play back")
    assert code == 0, err
    [chat] = chats(capsys)
    before = database().read_bytes()
    code, out, err = run(capsys, "ask", "--provider", "replay", "--from", chat["id"], "--no-history", "again")
    assert code == 0, err
    assert out == compose_reply("a question to play back", 1)
    assert database().read_bytes() == before


def _export_to(target: str | Path, stdout: Any) -> subprocess.CompletedProcess[bytes]:
    """Run `history export` of the one saved chat (the real command, its own standard output)."""
    tui_chat = [sys.executable, "-m", "tui_chat"]
    subprocess.run([*tui_chat, "ask", *FAST, "Teapots"], cwd=ROOT, capture_output=True, timeout=60, check=True)
    listed = subprocess.run([*tui_chat, "history", "list", "--json"], cwd=ROOT, capture_output=True, timeout=60, check=True)
    [chat] = json.loads(listed.stdout)
    command = [*tui_chat, "history", "export", chat["id"], "--format", "md", "-o", str(target)]
    return subprocess.run(command, cwd=ROOT, stdout=stdout, stderr=subprocess.PIPE, timeout=60, check=False)


def test_export_to_its_own_standard_output_writes_through_the_redirect_and_keeps_what_it_held(tmp_path: Path) -> None:
    """`-o /dev/stdout` (here its /proc name) under `>> file`: the export is appended to the file the
    shell opened; nothing replaces the name or the file."""
    redirected = tmp_path / "log.md"
    redirected.write_text("kept line\n")
    with redirected.open("ab") as appending:
        done = _export_to("/proc/self/fd/1", appending)
    assert done.returncode == 0, done.stderr
    text = redirected.read_text()
    assert text.startswith("kept line\n") and "Teapots" in text


def test_export_to_a_pipe_writes_through_it(tmp_path: Path) -> None:
    """A FIFO (what `>(gzip > chat.gz)` names) is written to, not replaced by a file."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # open first, so the command's open does not wait
    try:
        done = _export_to(fifo, subprocess.DEVNULL)
        assert done.returncode == 0, done.stderr
        assert fifo.is_fifo()
        received = os.read(reader, 1 << 16).decode()
    finally:
        os.close(reader)
    assert "Teapots" in received


def test_export_through_a_symbolic_link_replaces_the_file_it_names_and_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "exports" / "chat.md"
    target.parent.mkdir()
    target.write_text("an older export")
    link = tmp_path / "latest.md"
    link.symlink_to(target)
    done = _export_to(link, subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and link.resolve() == target
    assert "Teapots" in target.read_text() and stat.S_IMODE(target.stat().st_mode) == 0o600
