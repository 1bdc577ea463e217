"""The commented starting config `tui-chat config init` writes, around any settings the file already holds."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..providers import registry
from .editing import atomic_write_secret
from .loading import read_toml
from .model import DEFAULT_THEME

_TEMPLATE = """\
# tui-chat configuration. Every setting is optional: remove the "# " in front of a line to use it.
# `tui-chat config show` prints the settings in effect, with API keys masked.
#
# API keys are best kept in environment variables (OPENAI_API_KEY, ANTHROPIC_API_KEY,
# GEMINI_API_KEY, ...), so they never sit in a file. An api_key written below wins over the
# environment variable, and a changed key applies to the next request without a restart.
# This file was created readable by you alone (mode 0600); keep it so if it holds a key.

# The provider to talk to. Unset: the first of openai, anthropic and gemini with a key, here or in
# the environment, else the offline demo.
{providers}
# provider = "openai"

# The model of that provider. Unset: the provider's own default.
# model = "{openai}"

# The colour theme: one of Textual's, a bundled one, or one from the themes folder next to this file.
# theme = "{theme}"

# A prompt pack, a prompt from it to start with, and the working folder.
# pack = "my-pack"
# prompt = "my-prompt"
# workspace = "~/projects"

# Values for the {{{{variables}}}} of prompts.
# [variables]
# name = "Ada"

# How each tool is approved (ask, auto or deny); run_shell and write_file always ask.
# A pack tool can be bound to a command, which gets the arguments as JSON on stdin.
# [tools.list_directory]
# approval = "auto"
# [tools.lookup_order]
# command = ["python3", "/home/me/bin/lookup_order.py"]
# timeout = 30
# Approval for the tools of one prompt pack only (by its id):
# [packs.tools-demo.tools]
# list_directory = "auto"

# MCP servers: their tools join the chat as mcp__NAME__TOOL, and ask before they run.
# `tui-chat mcp list` shows them; `tui-chat mcp import FILE` adds an "mcpServers" JSON file's.
# "${{NAME}}" in env or headers is read from the environment, so secrets stay out of this file.
# [mcp.servers.files]
# command = "npx"
# args = ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/notes"]
# [mcp.servers.github]
# url = "https://api.githubcopilot.com/mcp/"
# headers = {{ Authorization = "Bearer ${{GITHUB_TOKEN}}" }}
# approval = "ask"               # ask | auto | deny: the default for its tools
# tools = {{ get_issue = "auto" }} # per tool, by the server's own tool name
# timeout = 60                   # seconds a call may take

# Saved chats (`tui-chat history`, `--continue`). `--no-history` saves nothing for one run.
# [history]
# enabled = true                 # false: no chat is saved, in the TUI or `tui-chat ask`

# Voice: F5 in the chat, and `tui-chat voice`. Command-line flags win over these.
# [voice]
# provider = "openai-realtime"   # demo, openai-realtime or gemini-live; unset: the chat's provider
#                                # when it has a voice side, else the offline voice demo
# model = "gpt-realtime"         # the voice provider's model (unset: its default)
# voice = "marin"                # the provider's voice
# input_device = "USB"           # microphone, by (part of its) name or index: `tui-chat devices`
# output_device = 3              # speaker, likewise
# mode = "push-to-talk"          # push-to-talk | hold | hands-free (F3 switches in the chat)
# hold_release = 0.25            # hold mode: talking ends this many seconds after the key's last repeat
# interruption = "immediate"     # speaking over a reply: ignore | immediate | deferred
# turn_detection = "server"      # hands-free: server (the provider's own, when it has one) | local
# vad_threshold = 12.0           # dB above the noise floor that starts speech
# vad_start = 0.2                # seconds of speech before a turn starts
# vad_stop = 0.8                 # seconds of silence that end a turn
# vad_min_volume = -50.0         # dBFS below which nothing is speech
# pre_roll = 0.3                 # seconds from before the start of speech sent with it
# max_turn = 30.0                # seconds after which a turn is cut and the next begun

# One table per provider. Each knows model, base_url and api_key, plus options of its own.
# Every provider also takes reasoning settings, sent to models that reason (dropped, with a
# notice, for those that do not); a prompt pack's own parameters win over them:
# reasoning_effort = "low"  # the model's effort levels, e.g. minimal, low, medium, high
# thinking_budget = 2048    # tokens of thinking, for models that take a budget (Claude, Gemini)

[providers.demo]
# speed = 60               # tokens per second; 0 streams as fast as the screen takes them
# first_token_delay = 0.4  # seconds of "thinking" before the reply starts

[providers.openai]
# model = "{openai}"
# base_url = "https://api.openai.com/v1"
# api_key = "sk-..."       # better: export OPENAI_API_KEY

[providers.anthropic]
# model = "{anthropic}"
# api_version = "2026-10-21"  # or "2023-06-01", the version before (keys sent as x-api-key)
# api_key = "..."          # better: export ANTHROPIC_API_KEY

[providers.gemini]
# model = "{gemini}"
# api_key = "..."          # better: export GEMINI_API_KEY

[providers.ollama]
# model = "{ollama}"
# base_url = "http://localhost:11434/v1"

# Your own facts about a model, winning over the bundled catalog and what the service reports
# (`tui-chat models --provider NAME` shows the catalog). The table name is the model id.
# [models."llama3.2"]
# provider = "ollama"          # only for this provider (unset: any)
# context_window = 131072      # tokens
# max_output = 8192            # tokens
# input = ["text", "image"]    # of text, image, audio, pdf
# tools = true                 # also: streaming, realtime
# params = ["temperature", "top_p"]   # the sampling parameters it takes
# reasoning = "none"           # or reasoning_levels = ["low", "high"]
# price_input = 0.0            # USD per million tokens; also price_output, price_cached_input
"""


def write_default_config(path: Path, *, force: bool = False) -> Path:
    """Write the commented template config to `path`.

    An existing file is kept unless `force`; with `force` the template is written around the
    settings the file holds (a theme picked in the app, keys, tables), keeping every one of them.
    A file that does not parse is never replaced.
    """
    import tomlkit  # only when writing

    existing: dict[str, Any] = {}
    if path.exists():
        if not force:
            raise ConfigError(f"{path} already exists", hint="use --force to write the template around its settings")
        try:
            existing = read_toml(path)[1]
        except OSError as error:
            raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    known = textwrap.fill(", ".join(registry.PROVIDERS) + ".", 98, initial_indent="# Known: ", subsequent_indent="#   ")
    from ..models.catalog import default_model

    defaults = {name: default_model(name) for name in ("openai", "anthropic", "gemini", "ollama")}
    document = tomlkit.parse(_TEMPLATE.format(providers=known, theme=DEFAULT_THEME, **defaults))
    _merge(document, existing)
    atomic_write_secret(path, tomlkit.dumps(document))
    return path


def _merge(target: Any, values: dict[str, Any]) -> None:
    """Put `values` into the tomlkit table `target`, table by table, so the template's tables take them in."""
    import tomlkit

    for key, value in values.items():
        if isinstance(value, dict):
            if not isinstance(target.get(key), dict):
                target[key] = tomlkit.table()
            _merge(target[key], value)
        else:
            target[key] = value
