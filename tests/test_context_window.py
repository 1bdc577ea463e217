"""`tui-chat ask` refuses a prompt that would not fit the model's context window, before sending it.

The real command in a subprocess against OpenAI's loopback fake, the window set by a
`[models."name"]` table in the config (so the config's overrides are shown to reach the provider).
"""

from __future__ import annotations

from pathlib import Path

from tests.fakes.live import LiveFake
from tests.fakes.openai_wire import OpenAIWire
from tests.fakes.server import stream
from tests.fakes.wires import KEY
from tests.test_cli_against_fakes import tui_chat


def _ask(fake: LiveFake, tmp_path: Path, prompt: str) -> tuple[int, str, str]:
    config = tmp_path / "config.toml"
    config.write_text(f'[models."{fake.wire.model}"]\ncontext_window = 200\n', encoding="utf-8")
    result = tui_chat(
        "ask", "--provider", "openai", "--base-url", fake.base_url, "--model", fake.wire.model,
        "--config", str(config), prompt, env={"OPENAI_API_KEY": KEY},
    )  # fmt: skip
    return result.returncode, result.stdout, result.stderr


def test_ask_refuses_a_prompt_too_long_for_the_window_and_sends_nothing(tmp_path: Path) -> None:
    with LiveFake(OpenAIWire()) as fake:
        code, out, err = _ask(fake, tmp_path, "word " * 200)  # 1,000 characters: about 250 tokens of 200
        assert fake.call(lambda: list(fake.server.requests)) == []
    assert code != 0 and out == ""
    [line] = err.splitlines()
    assert "would not fit gpt-4o-mini's context window" in line and "of 200" in line
    assert "pick a model with a larger window" in line


def test_ask_sends_a_prompt_that_fits(tmp_path: Path) -> None:
    wire = OpenAIWire()
    with LiveFake(wire) as fake:
        fake.enqueue(stream(wire.start() + wire.text("hi") + wire.finish(usage=(5, 1), reason="stop")))
        code, out, err = _ask(fake, tmp_path, "Say hello")
        assert len(fake.stream_requests()) == 1
    assert code == 0, err
    assert out == "hi\n"
