"""Settings from one TOML file: which provider, model, theme and pack to use, and per-provider tables.

Where a value comes from, highest first: the command line or the UI; the config file; the
environment; built-in defaults. So an `api_key` in `[providers.NAME]` wins over the provider's
environment variable: writing a key into the file is the deliberate act, the variable may be left
over in a shell. Keys are best kept in the environment all the same.

Reading never fails and never writes: a broken file gives the defaults and a warning naming the
file, line and key, so the app still starts. Writing (`set_value`, `write_default_config`) is
atomic, creates the file readable by its owner alone, and refuses to replace a file it cannot
parse. No message here ever contains an API key.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import textwrap
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Callable

import platformdirs
import tomli_w

from .voice.settings import INTERRUPTIONS, TURN_DETECTIONS, VOICE_MODES, VoiceConfig
from .errors import ConfigError, TuiChatError
from .providers import registry
from .providers.registry import ProviderSettings, ProviderSpec

CONFIG_ENV = "TUI_CHAT_CONFIG"
"""Environment variable naming a config file to use instead of the default one."""

DEFAULT_THEME = "textual-dark"


def default_config_path() -> Path:
    """`$TUI_CHAT_CONFIG` if set, else `config.toml` in the platform's config folder for tui-chat."""
    if override := os.environ.get(CONFIG_ENV, "").strip():
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir("tui-chat", appauthor=False)) / "config.toml"


@dataclass(slots=True)
class ProviderConfig:
    """One `[providers.NAME]` table: the keys every provider knows, and the rest as `options`."""

    api_key: str | None = field(default=None, repr=False)
    """Never shown: kept out of `repr` so a logged config cannot leak it."""
    base_url: str | None = None
    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Config:
    """The settings read from the config file; every field has a default."""

    provider: str | None = None
    """None: chosen by `effective_provider()`."""
    model: str | None = None
    """The model of `provider` (or of the provider chosen by default); None: the provider's default."""
    theme: str = DEFAULT_THEME
    pack: str | None = None
    prompt: str | None = None
    variables: dict[str, str] = field(default_factory=dict)
    workspace: str | None = None
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    tools: dict[str, Any] = field(default_factory=dict)
    """The `[tools.<name>]` tables, raw: `tui_chat.tools.settings` checks them when tools are built."""
    pack_tools: dict[str, dict[str, str]] = field(default_factory=dict)
    """Per pack id, how its tools are approved: `[packs.<id>.tools] <tool> = "ask" | "auto" | "deny"`."""
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    """The `[voice]` table: provider, devices, mode, interruption, VAD and turn settings."""
    path: Path | None = None
    """The file these settings were loaded from (it may not exist)."""
    _stamp: tuple[int, int, int] | None = field(default=None, init=False, repr=False, compare=False)

    def effective_provider(self) -> str:
        """`provider`, else the first of `registry.DEFAULT_ORDER` with a key in this file or the
        environment, else "demo". Like `registry.default_provider_name()`, but a key written in
        the file counts too."""
        if self.provider:
            return self.provider
        for name in registry.DEFAULT_ORDER:
            if _clean_key(self.provider_config(name).api_key) or registry.env_key(registry.PROVIDERS[name]):
                return name
        return "demo"

    def provider_config(self, name: str) -> ProviderConfig:
        """The `[providers.NAME]` table, or an empty one."""
        return self.providers.get(name) or ProviderConfig()

    def provider_settings(
        self,
        name: str,
        *,
        model: str | None = None,
        base_url: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> ProviderSettings:
        """What provider `name` is built from: the explicit arguments, then this config.

        The top-level `model` applies only to the provider it goes with (`provider`, or the one
        chosen by default) and wins over `[providers.NAME].model` there. The API key is looked up
        on every request: see `_KeySource`.
        """
        spec = registry.spec_for(name)
        own = self.provider_config(name)
        return ProviderSettings(
            model=model or (self.model if name == self.effective_provider() else None) or own.model,
            base_url=base_url or own.base_url,
            api_key=_KeySource(spec, self.path, own.api_key, self._stamp),
            options={**own.options, **(options or {})},
        )


@dataclass(slots=True)
class LoadResult:
    """A config and the problems found reading it, one readable sentence each."""

    config: Config
    warnings: list[str] = field(default_factory=list)


class _KeySource:
    """The provider's API key for the next request: the config file's, else the environment's.

    The file is re-read only when its modification time, size or inode changed since it was last
    read, so a key edited in the file applies to the next request without a restart, at the cost
    of one `stat` per request. A file that does not parse (say, half-saved) keeps the last key.
    """

    def __init__(
        self, spec: ProviderSpec, path: Path | None, key: str | None, stamp: tuple[int, int, int] | None
    ) -> None:
        self._spec = spec
        self._path = path
        self._key = _clean_key(key)
        self._stamp = stamp

    def __call__(self) -> str | None:
        if self._path is not None:
            self._refresh(self._path)
        return self._key or registry.env_key(self._spec)

    def _refresh(self, path: Path) -> None:
        try:
            stamp = _stamp_of(path)
        except FileNotFoundError:
            self._key, self._stamp = None, None
            return
        except OSError:
            return
        if stamp == self._stamp:
            return
        try:
            data = tomllib.loads(path.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return
        self._key = _clean_key(_dig(data, "providers", self._spec.name, "api_key"))
        self._stamp = stamp


def _dig(data: Any, *keys: str) -> Any:
    """`data[k1][k2]...`, or None where a table or key is missing."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _clean_key(key: Any) -> str | None:
    """A usable key: a non-blank string, stripped."""
    return (key.strip() or None) if isinstance(key, str) else None


def _stamp_of(path: Path) -> tuple[int, int, int]:
    """What tells that a file changed: modification time, size, inode (an atomic replace changes it)."""
    status = os.stat(path)
    return status.st_mtime_ns, status.st_size, status.st_ino


# Reading and validating.

_STRING_KEYS = ("provider", "model", "theme", "pack", "prompt", "workspace")
_TOP_LEVEL_KEYS = (*_STRING_KEYS, "variables", "providers", "tools", "packs", "voice")

_Check = tuple[str, Callable[[Any], bool]]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_NON_NEGATIVE_NUMBER: _Check = ("a number >= 0", lambda v: _is_number(v) and v >= 0)
_NON_NEGATIVE_INT: _Check = ("a whole number >= 0", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0)

_KNOWN_OPTIONS: dict[str, dict[str, _Check]] = {
    "demo": {
        "speed": _NON_NEGATIVE_NUMBER,
        "first_token_delay": _NON_NEGATIVE_NUMBER,
        "reply_chunks": _NON_NEGATIVE_INT,
        "fail_after_chunks": _NON_NEGATIVE_INT,
    },
}
"""Provider options whose type is checked on load; any other option is passed on as it is."""


def _voice_provider_problem(value: str) -> str | None:
    """Why `value` cannot hold a voice session (unknown, or a text provider without a voice side)."""
    from .realtime import bidi_spec_for

    try:
        bidi_spec_for(value)
    except TuiChatError as error:
        return str(error)
    return None


def _voice_choice(choices: tuple[str, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return f"expected one of {', '.join(choices)}, got {_toml_type(value)}"
        if value not in choices:
            return f"expected one of {', '.join(choices)}, got {value!r}{_suggest(value, choices)}"
        return None

    return check


def _voice_number(low: float, high: float, *, low_open: bool = False, unit: str = "") -> Callable[[Any], str | None]:
    bound = f"{'above' if low_open else 'from'} {low:g} {'up ' if low_open else ''}to {high:g}{unit}"

    def check(value: Any) -> str | None:
        if not _is_number(value):
            return f"expected a number {bound}, got {_toml_type(value)}"
        if not (value > low if low_open else value >= low) or value > high:
            return f"expected a number {bound}, got {value:g}"
        return None

    return check


def _voice_string(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"expected a non-empty string, got {_toml_type(value) if not isinstance(value, str) else 'an empty one'}"
    return None


def _voice_device(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return None if value >= 0 else f"expected a device index >= 0 or a name, got {value}"
    if isinstance(value, str) and value.strip():
        return None
    return f"expected a device name or index (see `tui-chat devices`), got {_toml_type(value)}"


_VOICE_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "provider": lambda v: _voice_string(v) or _voice_provider_problem(v),
    "model": _voice_string,
    "voice": _voice_string,
    "input_device": _voice_device,
    "output_device": _voice_device,
    "mode": _voice_choice(VOICE_MODES),
    "hold_release": _voice_number(0, 2, low_open=True, unit=" s"),
    "interruption": _voice_choice(INTERRUPTIONS),
    "turn_detection": _voice_choice(TURN_DETECTIONS),
    "vad_threshold": _voice_number(0, 60, low_open=True, unit=" dB"),
    "vad_start": _voice_number(0, 5, low_open=True, unit=" s"),
    "vad_stop": _voice_number(0, 10, low_open=True, unit=" s"),
    "vad_min_volume": _voice_number(-100, 0, unit=" dBFS"),
    "pre_roll": _voice_number(0, 2, unit=" s"),
    "max_turn": _voice_number(1, 600, unit=" s"),
}
"""Each `[voice]` key and its check: None when the value is good, else what is wrong with it."""


def _toml_type(value: Any) -> str:
    """The TOML name of a parsed value's type, for messages that must not show the value."""
    for kind, name in (
        (bool, "a boolean"), (int, "an integer"), (float, "a float"), (str, "a string"),
        (dict, "a table"), (list, "an array"), (datetime, "a date-time"), (date, "a date"), (time, "a time"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _suggest(word: str, choices: Any) -> str:
    import difflib  # only when a name was wrong

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class _Validator:
    """Builds a `Config` from parsed TOML, dropping each wrong value with a warning."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text
        self.warnings: list[str] = []

    def warn(self, keys: tuple[str, ...], problem: str) -> None:
        line = _key_line(self.text, keys)
        where = f"{self.path}:{line}" if line else str(self.path)
        self.warnings.append(f"{where}: {'.'.join(keys)}: {problem}")

    def wrong_type(self, keys: tuple[str, ...], expected: str, value: Any) -> None:
        self.warn(keys, f"expected {expected}, got {_toml_type(value)}; ignored")

    def build(self, data: dict[str, Any]) -> Config:
        config = Config(path=self.path)
        for key, value in data.items():
            if key in _STRING_KEYS:
                if not isinstance(value, str):
                    self.wrong_type((key,), "a string", value)
                elif key == "provider" and value not in registry.PROVIDERS:
                    self.warn((key,), f"unknown provider {value!r}{_suggest(value, registry.PROVIDERS)}; ignored")
                else:
                    setattr(config, key, value)
            elif key == "variables":
                config.variables = self.variables(value)
            elif key == "providers":
                config.providers = self.providers(value)
            elif key == "tools":
                if isinstance(value, dict):
                    config.tools = value
                else:
                    self.wrong_type((key,), "a table", value)
            elif key == "packs":
                config.pack_tools = self.pack_tools(value)
            elif key == "voice":
                config.voice = self.voice(value)
            else:
                self.warn((key,), f"unknown setting{_suggest(key, _TOP_LEVEL_KEYS)}; ignored")
        return config

    def pack_tools(self, value: Any) -> dict[str, dict[str, str]]:
        """`[packs.<id>.tools]` tables: tool name -> approval mode (checked when tools are built)."""
        if not isinstance(value, dict):
            self.wrong_type(("packs",), "a table", value)
            return {}
        result: dict[str, dict[str, str]] = {}
        for pack_id, table in value.items():
            if not isinstance(table, dict):
                self.wrong_type(("packs", pack_id), "a table", table)
                continue
            for key in table:
                if key != "tools":
                    self.warn(("packs", pack_id, key), "unknown setting (only tools); ignored")
            tools = table.get("tools", {})
            if not isinstance(tools, dict):
                self.wrong_type(("packs", pack_id, "tools"), "a table", tools)
                continue
            modes: dict[str, str] = {}
            for tool, mode in tools.items():
                if isinstance(mode, str):
                    modes[tool] = mode
                else:
                    self.wrong_type(("packs", pack_id, "tools", tool), 'a string ("ask", "auto" or "deny")', mode)
            result[pack_id] = modes
        return result

    def voice(self, value: Any) -> VoiceConfig:
        """The `[voice]` table; a wrong value is named (file, line, key) and its default is used."""
        voice = VoiceConfig()
        if not isinstance(value, dict):
            self.wrong_type(("voice",), "a table", value)
            return voice
        for key, item in value.items():
            check = _VOICE_CHECKS.get(key)
            if check is None:
                self.warn(("voice", key), f"unknown setting{_suggest(key, _VOICE_CHECKS)}; ignored")
            elif (problem := check(item)) is not None:
                self.warn(("voice", key), f"{problem}; using the default")
            else:
                setattr(voice, key, float(item) if _is_number(item) and key not in ("input_device", "output_device") else item)
        return voice

    def variables(self, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            self.wrong_type(("variables",), "a table", value)
            return {}
        result: dict[str, str] = {}
        for name, text in value.items():
            if isinstance(text, str):
                result[name] = text
            else:
                self.wrong_type(("variables", name), "a string", text)
        return result

    def providers(self, value: Any) -> dict[str, ProviderConfig]:
        if not isinstance(value, dict):
            self.wrong_type(("providers",), "a table", value)
            return {}
        result: dict[str, ProviderConfig] = {}
        for name, table in value.items():
            if name not in registry.PROVIDERS:
                self.warn(("providers", name), f"unknown provider{_suggest(name, registry.PROVIDERS)}; ignored")
            elif not isinstance(table, dict):
                self.wrong_type(("providers", name), "a table", table)
            else:
                result[name] = self.provider(name, table)
        return result

    def provider(self, name: str, table: dict[str, Any]) -> ProviderConfig:
        config = ProviderConfig()
        checks = _KNOWN_OPTIONS.get(name, {})
        for key, value in table.items():
            keys = ("providers", name, key)
            if key in ("api_key", "base_url", "model"):
                if isinstance(value, str):
                    setattr(config, key, value)
                else:
                    self.wrong_type(keys, "a string", value)
            elif key in checks and not checks[key][1](value):
                self.wrong_type(keys, checks[key][0], value)
            else:
                config.options[key] = value
        return config


_KEY_PART = r"""(?:"[^"\n]*"|'[^'\n]*'|[A-Za-z0-9_-]+)"""
_DOTTED_KEY = rf"{_KEY_PART}(?:\s*\.\s*{_KEY_PART})*"
_HEADER = re.compile(rf"^\s*\[\[?\s*({_DOTTED_KEY})\s*\]")
_ASSIGNMENT = re.compile(rf"^(\s*)({_DOTTED_KEY})\s*=")
_COMMENTED_ASSIGNMENT = re.compile(rf"^(\s*)#\s*({_DOTTED_KEY})\s*=")
_COMMENTED_HEADER = re.compile(r"^\s*#\s*\[")


def _key_parts(dotted: str) -> tuple[str, ...]:
    """`a."b.c".d` -> ("a", "b.c", "d"); escapes in quoted keys are not decoded."""
    return tuple(part[1:-1] if part[0] in "\"'" else part for part in re.findall(_KEY_PART, dotted))


def _key_line(text: str, keys: tuple[str, ...]) -> int | None:
    """The line where `keys` is defined, found by a line scan good enough for messages."""
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        if match := _HEADER.match(line):
            table = _key_parts(match.group(1))
            if table == keys:
                return number
        elif (match := _ASSIGNMENT.match(line)) and table + _key_parts(match.group(2)) == keys:
            return number
    return None


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The text of `path` and its parsed TOML; ConfigError, naming the file, if it is not TOML."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text (byte {error.start})") from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None


def load_config(path: Path | None = None) -> LoadResult:
    """Read the config at `path` (default: `default_config_path()`); never raises, never writes."""
    path = path or default_config_path()
    try:
        stamp = _stamp_of(path)
        text, data = _read_toml(path)
    except FileNotFoundError:
        return LoadResult(Config(path=path))
    except OSError as error:
        return LoadResult(Config(path=path), [f"{path}: cannot read: {error.strerror or error}; using defaults"])
    except ConfigError as error:
        return LoadResult(Config(path=path), [f"{error}; using defaults"])
    validator = _Validator(path, text)
    config = validator.build(data)
    config._stamp = stamp
    return LoadResult(config, validator.warnings)


# Writing.


def atomic_write_secret(path: Path, text: str) -> None:
    """Replace `path` with `text` atomically, readable and writable by its owner alone.

    The temporary file is created in the same folder by `tempfile.mkstemp`, which opens it with
    O_CREAT | O_EXCL and mode 0600, so there is never a moment when the content is readable by
    others; it is fsynced before `os.replace`, so a crash leaves the old file or the new one, never
    half of one. Missing parent folders are created with mode 0700.
    """
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise ConfigError(f"cannot write {path}: {error.strerror or error}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(error, OSError):
            raise ConfigError(f"cannot write {path}: {error.strerror or error}") from None
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable, where the platform allows opening a folder."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def set_value(path: Path, dotted_key: str, value: Any) -> None:
    """Set `dotted_key` (e.g. "theme", "providers.demo.speed") to `value` in the file at `path`.

    The file's other content, comments included, is kept where a line edit can do it (checked by
    parsing the result); otherwise the file is rewritten from its parsed content. A file that does
    not parse is never touched: ConfigError instead.
    """
    keys = tuple(dotted_key.split("."))
    if not all(keys):
        raise ConfigError(f"invalid setting name {dotted_key!r}")
    try:
        text, data = _read_toml(path) if path.exists() else ("", {})
    except OSError as error:
        raise ConfigError(f"cannot read {path}: {error.strerror or error}") from None
    table = data
    for depth, key in enumerate(keys[:-1], start=1):
        table = table.setdefault(key, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {'.'.join(keys[:depth])} is not a table", hint="cannot set a key inside it")
    table[keys[-1]] = value
    edited = _edit_line(text, keys, value)
    if edited is None or _parses_to(edited) != data:
        edited = tomli_w.dumps(data)
    atomic_write_secret(path, edited)


def _parses_to(text: str) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _format_key(key: str) -> str:
    """`key` as TOML writes it: bare if it can be, else quoted."""
    return tomli_w.dumps({key: 0}).removesuffix(" = 0\n")


def _edit_line(text: str, keys: tuple[str, ...], value: Any) -> str | None:
    """`text` with `keys` set to `value` by editing one line, or None when that is not possible.

    An existing `key = ...` line in the right table is replaced; else a commented-out `# key = ...`
    there is uncommented (so a `config init` template fills in); else the line is added to the
    table, or a new table is appended. The caller checks the result by parsing it.
    """
    rendered = tomli_w.dumps({"v": value})
    if not rendered.startswith("v = "):
        return None
    table, leaf = keys[:-1], (keys[-1],)
    new_line = f"{_format_key(keys[-1])} = {rendered.removeprefix('v = ')}"
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    current: tuple[str, ...] = ()
    in_commented_table = False
    live = commented = header = last_line = first_header = None
    for index, line in enumerate(lines):
        if match := _HEADER.match(line):
            current, in_commented_table = _key_parts(match.group(1)), False
            first_header = index if first_header is None else first_header
            if current == table:
                header = last_line = index
            continue
        if _COMMENTED_HEADER.match(line):
            in_commented_table = True
        if current != table:
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment and live is None and _key_parts(assignment.group(2)) == leaf:
            live = index
        elif (match := _COMMENTED_ASSIGNMENT.match(line)) and not in_commented_table:
            commented = index if commented is None and _key_parts(match.group(2)) == leaf else commented
        if assignment or (table and line.strip()):
            last_line = index
    target = live if live is not None else commented
    if target is not None:
        match = _ASSIGNMENT.match(lines[target]) or _COMMENTED_ASSIGNMENT.match(lines[target])
        lines[target] = (match.group(1) if match else "") + new_line
    elif table and header is None:
        heading = "[" + ".".join(_format_key(key) for key in table) + "]\n"
        lines += (["\n"] if lines else []) + [heading, new_line]
    elif last_line is not None:
        lines.insert(last_line + 1, new_line)
    else:
        at = len(lines) if first_header is None else first_header
        if first_header is not None:
            while at > 0 and (not lines[at - 1].strip() or lines[at - 1].lstrip().startswith("#")):
                at -= 1  # above the comments that introduce the first table
        lines[at:at] = [new_line] + (["\n"] if at < len(lines) else [])
    return "".join(lines)


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
# model = "gpt-4o-mini"

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

[providers.demo]
# speed = 60               # tokens per second; 0 streams as fast as the screen takes them
# first_token_delay = 0.4  # seconds of "thinking" before the reply starts

[providers.openai]
# model = "gpt-4o-mini"
# base_url = "https://api.openai.com/v1"
# api_key = "sk-..."       # better: export OPENAI_API_KEY

[providers.anthropic]
# model = "claude-sonnet-4-5"
# api_key = "..."          # better: export ANTHROPIC_API_KEY

[providers.gemini]
# model = "gemini-2.5-flash"
# api_key = "..."          # better: export GEMINI_API_KEY

[providers.ollama]
# model = "llama3.2"
# base_url = "http://localhost:11434/v1"
"""


def write_default_config(path: Path, *, force: bool = False) -> Path:
    """Write a commented template config to `path`; an existing file is kept unless `force`."""
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists", hint="use --force to replace it")
    known = textwrap.fill(", ".join(registry.PROVIDERS) + ".", 98, initial_indent="# Known: ", subsequent_indent="#   ")
    text = _TEMPLATE.format(providers=known, theme=DEFAULT_THEME)
    atomic_write_secret(path, text)
    return path


# Showing.

_SECRET_OPTION = re.compile(r"(key|secret|password|token)$", re.IGNORECASE)
"""Option names whose values are masked like API keys."""


def mask_secret(secret: str) -> str:
    """Enough of a secret to tell two apart, never enough to use: "…" and the last 4 characters of
    a long one, just "set" for one too short to show any of."""
    return f"…{secret[-4:]}" if len(secret) >= 16 else "set"


def _env_source(spec: ProviderSpec) -> tuple[str, str] | None:
    """The environment variable that supplies `spec`'s key, and its value."""
    for var in spec.key_env:
        if value := os.environ.get(var, "").strip():
            return var, value
    return None


def _key_report(config: Config) -> list[str]:
    """One comment line per provider that takes a key: where its key comes from, masked."""
    lines = []
    for name, spec in registry.PROVIDERS.items():
        own = config.provider_config(name).api_key
        env = _env_source(spec)
        if own:
            overrides = f", overriding {env[0]}" if env else ""
            lines.append(f"#   {name}: api_key in [providers.{name}] = {mask_secret(own)}{overrides}")
        elif env:
            lines.append(f"#   {name}: {env[0]} = {mask_secret(env[1])}")
        elif spec.key_env:
            lines.append(f"#   {name}: no key (set {' or '.join(spec.key_env)})")
    return lines


def masked_toml(config: Config) -> str:
    """The settings in effect as TOML, every API key and secret-named option masked."""
    data: dict[str, Any] = {"provider": config.effective_provider()}
    for key in ("model", "theme", "pack", "prompt", "workspace"):
        if value := getattr(config, key):
            data[key] = value
    if config.variables:
        data["variables"] = dict(config.variables)
    providers: dict[str, dict[str, Any]] = {}
    for name, own in config.providers.items():
        table: dict[str, Any] = {key: value for key in ("model", "base_url") if (value := getattr(own, key))}
        if own.api_key:
            table["api_key"] = mask_secret(own.api_key)
        for key, value in own.options.items():
            table[key] = mask_secret(value) if isinstance(value, str) and _SECRET_OPTION.search(key) else value
        if table:
            providers[name] = table
    if providers:
        data["providers"] = providers
    if config.tools:
        data["tools"] = config.tools
    if config.pack_tools:
        data["packs"] = {pack_id: {"tools": modes} for pack_id, modes in config.pack_tools.items()}
    if voice := config.voice.set_values():
        data["voice"] = voice
    if config.path is not None and config.path.is_file():
        source = f"# Settings in effect, from {config.path}."
    else:
        source = f"# Settings in effect: built-in defaults ({config.path or 'no config file'} does not exist)."
    chosen = "" if config.provider else "# provider: not set, so chosen by which keys are set.\n"
    header = "\n".join([source, "# API keys, masked:", *_key_report(config)])
    return f"{header}\n{chosen}\n{tomli_w.dumps(data)}"
