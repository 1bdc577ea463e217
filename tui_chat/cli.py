"""The `tui-chat` command: the TUI by default, and `ask`, `packs`, `config`, `themes`, `models`.

Each subcommand imports what it needs when it runs, so `tui-chat ask` never loads Textual and the
TUI never loads a provider it does not use. Errors meant for the user end the program with one
line on stderr and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
import sys
from pathlib import Path
from typing import IO, Any, Callable, NoReturn, Sequence

from .errors import TuiChatError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_BROKEN_PIPE = 0, 1, 2, 130, 141


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (not the whole usage), exit 2.

    Subcommand parsers are made of the same class, so every bad flag value of every command reads
    the same way: what was wrong, and where to look.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _VersionAction(argparse.Action):
    """`--version`: the installed package's version, looked up only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        from . import __version__

        print(f"tui-chat {__version__}")
        parser.exit(EXIT_OK)


def _pace(value: str) -> float:
    """`--speed`: a finite number of tokens per second, at least 0 (0 = no delay)."""
    try:
        speed = float(value)
    except ValueError:
        speed = float("nan")
    if not 0 <= speed < float("inf"):
        raise argparse.ArgumentTypeError(f"expected tokens per second (a number, 0 for no delay), not {value!r}")
    return speed


def _common_options() -> argparse.ArgumentParser:
    """Options shared by the TUI and `ask`. SUPPRESS keeps a subcommand from resetting them."""
    common = _Parser(add_help=False, argument_default=argparse.SUPPRESS)
    common.add_argument("--config", type=Path, metavar="FILE", help="config file to use instead of the default")
    common.add_argument("--provider", "-p", metavar="NAME", help="provider (demo, openai, anthropic, gemini, ...)")
    common.add_argument("--model", "-m", metavar="MODEL", help="model name")
    common.add_argument("--base-url", metavar="URL", help="API base URL (proxies, compatible servers, tests)")
    common.add_argument("--pack", metavar="FILE|ID", help="prompt pack file, or the id of a bundled pack")
    common.add_argument("--prompt", metavar="NAME", help="prompt of the pack to use")
    common.add_argument("--var", action="append", metavar="KEY=VALUE", help="pack variable (repeatable)")
    common.add_argument("--speed", type=_pace, metavar="N", help="demo pace in tokens/s; replay: N times the recorded pace (0 = no delay)")
    common.add_argument(
        "--workspace", type=Path, metavar="DIR", help="folder that file tools are confined to (default: here)"
    )
    common.add_argument(
        "--yes", "-y", action="store_true", help="approve tool calls without asking (never run_shell or write_file)"
    )
    resume = common.add_mutually_exclusive_group()
    resume.add_argument("--continue", "-c", dest="continue_chat", action="store_true", help="go on with the last saved chat")
    resume.add_argument("--chat", metavar="ID", help="go on with the saved chat ID (`tui-chat history list`)")
    common.add_argument("--no-history", action="store_true", help="save nothing this run")
    common.add_argument(
        "--from", dest="replay_from", metavar="CHAT.json|ID", help="the chat the replay provider plays back"
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    common = _common_options()
    parser = _Parser(
        prog="tui-chat",
        description="A keyboard-driven terminal chat client for large language models.",
        parents=[common],
    )
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = commands.add_parser(
        "ask",
        parents=[common],
        help="send one prompt and stream the reply to stdout",
        description="Send one prompt and stream the reply to stdout. Text piped to stdin is added after"
        " the prompt (cat notes.txt | tui-chat ask 'summarise this'); '-' alone reads the whole prompt"
        " from stdin.",
    )
    ask.add_argument(
        "text", metavar="PROMPT", help="the prompt; piped stdin follows it; '-' alone reads the prompt from stdin"
    )
    ask.add_argument("--json", action="store_true", help="print one JSON object per chunk per line")
    ask.set_defaults(run=_cmd_ask)

    packs = commands.add_parser("packs", help="list, show and validate prompt packs")
    packs_commands = packs.add_subparsers(dest="packs_command", metavar="ACTION", required=True)
    packs_commands.add_parser("list", help="the bundled packs").set_defaults(run=_cmd_packs_list)
    show = packs_commands.add_parser("show", help="prompts, variables and parameters of a pack")
    show.add_argument("pack", metavar="FILE|ID")
    show.set_defaults(run=_cmd_packs_show)
    validate = packs_commands.add_parser("validate", help="check pack files")
    validate.add_argument("files", nargs="+", type=Path, metavar="FILE")
    validate.set_defaults(run=_cmd_packs_validate)

    config = commands.add_parser("config", help="where the config is, what it says, a starting file")
    config.add_argument("--config", type=Path, metavar="FILE", default=argparse.SUPPRESS)
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    config_commands.add_parser("path", help="print the config file's path").set_defaults(run=_cmd_config_path)
    config_commands.add_parser("show", help="print the effective config, keys masked").set_defaults(run=_cmd_config_show)
    init = config_commands.add_parser("init", help="write a commented starting config")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(run=_cmd_config_init)

    themes = commands.add_parser("themes", help="list the available themes")
    themes.add_argument("--config", type=Path, metavar="FILE", default=argparse.SUPPRESS)
    themes.set_defaults(run=_cmd_themes)

    models = commands.add_parser("models", parents=[common], help="list a provider's models: capabilities and prices")
    models.add_argument("--json", action="store_true", help="print one JSON object per model per line")
    models.set_defaults(run=_cmd_models)

    from .voice.arguments import add_voice_arguments  # light: not the voice path itself

    voice = commands.add_parser("voice", parents=[common], help="talk with a model by voice, without the TUI")
    add_voice_arguments(voice)
    voice.set_defaults(run=_cmd_voice)
    commands.add_parser("devices", help="list microphones and speakers").set_defaults(run=_cmd_devices)

    from .store.cli import add_history_command  # light: argparse only

    add_history_command(commands, _write_private)

    mcp = commands.add_parser("mcp", help="MCP servers: their state and tools; import them from another client")
    mcp.add_argument("--config", type=Path, metavar="FILE", default=argparse.SUPPRESS)
    mcp_commands = mcp.add_subparsers(dest="mcp_command", metavar="ACTION", required=True)
    mcp_commands.add_parser("list", help="each server, its state and its tools").add_argument("--json", action="store_true")
    mcp_commands.add_parser("import", help="add the servers of an mcpServers JSON file").add_argument("file", type=Path)
    mcp.set_defaults(run=_cmd_mcp)
    return parser


def _write_private(path: Path, text: str) -> None:
    """Write an export where `-o` says (`config.private_output`: imported only when one is written)."""
    from .config.private_output import write_private_output

    write_private_output(path, text)


def choices_from(args: argparse.Namespace) -> Any:
    """The session choices the command line made."""
    from .packs import parse_var_assignments
    from .session import Choices

    options: dict[str, Any] = {}
    provider = getattr(args, "provider", None)
    if (speed := getattr(args, "speed", None)) is not None:
        options["speed"] = speed
    if (replay_from := getattr(args, "replay_from", None)) is not None:
        provider = _replaying(provider)
        options["from"] = replay_from
    return Choices(
        config_path=getattr(args, "config", None),
        provider=provider,
        model=getattr(args, "model", None),
        base_url=getattr(args, "base_url", None),
        pack=getattr(args, "pack", None),
        prompt=getattr(args, "prompt", None),
        variables=parse_var_assignments(getattr(args, "var", None) or []),
        provider_options=options,
        workspace=str(workspace) if (workspace := getattr(args, "workspace", None)) else None,
        yes=getattr(args, "yes", False),
        continue_chat=getattr(args, "continue_chat", False),
        chat=getattr(args, "chat", None),
        no_history=getattr(args, "no_history", False),
    )


def _replaying(provider: str | None) -> str:
    """The provider `--from` goes with: a recording is played by the replay provider alone, so `--from`
    by itself means replay (nothing else could use it), and next to another provider it is refused
    (one of the two is a mistake, and guessing which would run the wrong thing)."""
    if provider not in (None, "replay"):
        raise TuiChatError(
            f"--from names a recording for the replay provider, not for {provider}",
            hint="leave out --provider, or give --provider replay",
        )
    return "replay"


def _warn(lines: Sequence[str]) -> None:
    for line in lines:
        print(f"tui-chat: warning: {line}", file=sys.stderr)


# --- the TUI ------------------------------------------------------------------------------------


def _cmd_tui(args: argparse.Namespace) -> int:
    import gc

    # Until the first screen the collector would walk only objects that live as long as the app
    # (modules, classes, the config, the widgets), about a twentieth of start-up's CPU; the app
    # turns it on again, with those objects frozen out of its sight (`TuiChatApp.on_mount`).
    gc.disable()
    from .session import build_session, start_history

    choices = choices_from(args)
    session = build_session(choices)
    start_history(session, choices, wait=False)
    from .ui.app import TuiChatApp

    app = TuiChatApp(session)
    try:
        app.run()
    finally:
        session.close_history()
    return EXIT_FAILED if app.return_code else EXIT_OK  # Textual sets it when the app ended on an error


# --- ask ----------------------------------------------------------------------------------------


def _cmd_ask(args: argparse.Namespace) -> int:
    from .session import build_session, start_history

    stdin_read = args.text == "-" or _stdin_is_piped()
    piped = _read_stdin() if stdin_read else ""
    text = piped if args.text == "-" else "\n\n".join(part for part in (args.text, piped) if part.strip())
    if not text.strip():
        raise TuiChatError("the prompt is empty", hint="pass the prompt as an argument, or '-' and text on stdin")
    choices = choices_from(args)
    session = build_session(choices)
    start_history(session, choices)
    saving_problems: list[str] = []
    if session.recorder is not None:  # (its opening notice is among the session's warnings already)
        session.recorder.store.on_notice = saving_problems.append  # called on the store's thread
    try:
        return asyncio.run(_ask(session, text, as_json=args.json, answers=_terminal_input(stdin_read)))
    finally:
        session.close_history()
        _warn(saving_problems[:1])  # the first says why; the exit code stays the reply's


def _stdin_is_piped() -> bool:
    """True when stdin is a pipe or a file (`cat notes | tui-chat ask ...`, `< notes`), not a terminal or nothing."""
    try:
        mode = os.fstat(sys.stdin.fileno()).st_mode
    except (AttributeError, OSError, ValueError):  # no stdin, or one without a file descriptor
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def _read_stdin() -> str:
    """All of stdin as UTF-8 text; bytes in another encoding are refused, never passed on garbled."""
    binary: IO[bytes] | None = getattr(sys.stdin, "buffer", None)
    if binary is None:  # already text (a StringIO in place of stdin)
        return sys.stdin.read()
    data = binary.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TuiChatError(
            f"stdin is not UTF-8 text (byte 0x{data[error.start]:02x} at offset {error.start})",
            hint="convert it first, e.g. with iconv -t utf-8",
        ) from None


def _terminal_input(stdin_read: bool) -> Any:
    """Where tool approvals are read from: stdin, or the terminal itself when stdin held the prompt."""
    if not stdin_read:
        return sys.stdin
    try:
        return open("/dev/tty", encoding="utf-8")  # noqa: SIM115 - kept open for the whole run
    except OSError:
        return None  # no terminal: every call that needs approval is refused, with a message


async def _ask(session: Any, text: str, *, as_json: bool, answers: Any) -> int:
    from contextlib import aclosing

    import json

    from .chunks import Notice, RetryNotice, TextDelta, UsageChunk
    from .tools.loop import LoopNote, ToolEvent, item_to_dict

    from .tools.terminal import TerminalApprover

    approver = TerminalApprover(answers, sys.stderr, interactive=None if answers is not None else False)
    await session.start_mcp()
    loop = session.tool_loop(approver)
    _warn(session.warnings)
    out = sys.stdout
    ascii_only = not _encodes_all_text(out)  # JSON escapes what the output cannot carry, and stays JSON
    turn = loop.send(text)
    at_line_start = True
    try:
        async with aclosing(turn) as items:
            async for item in items:
                if as_json:
                    line = item_to_dict(item)
                    if isinstance(item, UsageChunk):
                        line.update(_usage_figures(session.provider, item))
                    out.write(json.dumps(line, ensure_ascii=ascii_only) + "\n")
                    out.flush()
                elif isinstance(item, TextDelta):
                    out.write(item.text)
                    out.flush()
                    at_line_start = item.text.endswith("\n")
                elif isinstance(item, RetryNotice):
                    print(
                        f"tui-chat: retrying in {item.delay:.0f} s (attempt {item.attempt} of {item.attempts}): {item.reason}",
                        file=sys.stderr,
                    )
                elif isinstance(item, ToolEvent) and item.final:
                    if not at_line_start:  # the model's next words start on a line of their own
                        out.write("\n")
                        at_line_start = True
                    print(f"tui-chat: tool {item.title}: {item.status.value}", file=sys.stderr)
                elif isinstance(item, (LoopNote, Notice)):
                    print(f"tui-chat: {item.message}", file=sys.stderr)
    finally:
        await session.provider.aclose()
        await session.close_mcp()
    if not as_json and turn.text and not turn.text.endswith("\n"):
        out.write("\n")
    out.flush()
    if turn.error:
        print(f"tui-chat: error: reply {turn.status.value}: {turn.error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def _usage_figures(provider: Any, chunk: Any) -> dict[str, Any]:
    """Tokens, context used against the window and the reply's cost, from the provider's model card.

    Looked up once the reply has ended, not per chunk: the first lookup loads the price table.
    """
    from .models import default_catalog
    from .models.usage import usage_figures

    catalog = getattr(provider, "catalog", None) or default_catalog()
    return usage_figures(catalog.lookup(provider.name, provider.model), chunk.usage)


# --- packs --------------------------------------------------------------------------------------


def _cmd_packs_list(args: argparse.Namespace) -> int:
    from .packs import bundled_pack_paths, load_pack

    for path in bundled_pack_paths():
        pack = load_pack(path)
        prompts = ", ".join(pack.prompts)
        print(f"{pack.id:<20} {pack.name}  [{prompts}]")
    return EXIT_OK


def _cmd_packs_show(args: argparse.Namespace) -> int:
    from .packs import find_pack, load_pack

    pack = load_pack(find_pack(args.pack))
    print(f"{pack.name} ({pack.id}, version {pack.version})")
    if pack.description:
        print(f"  {pack.description}")
    print(f"  file: {pack.path}")
    for prompt in pack.prompts.values():
        print(f"\nprompt {prompt.id}: {prompt.name}")
        for variable in prompt.variables:
            need = "required" if variable.required else f"default {variable.default!r}"
            print(f"  var {variable.name} ({variable.type}, {need})")
        if prompt.parameters:
            print("  parameters: " + ", ".join(f"{k}={v}" for k, v in prompt.parameters.items()))
        if prompt.tools:
            print("  tools: " + ", ".join(prompt.tools))
    return EXIT_OK


def _cmd_packs_validate(args: argparse.Namespace) -> int:
    from .packs import validate_pack

    failed = 0
    for path in args.files:
        problems = validate_pack(path)
        if problems:
            failed += 1
            for problem in problems:
                print(problem)
        else:
            print(f"{path}: ok")
    return EXIT_FAILED if failed else EXIT_OK


# --- config and themes --------------------------------------------------------------------------


def _config_path(args: argparse.Namespace) -> Path:
    from .config import default_config_path

    return getattr(args, "config", None) or default_config_path()


def _cmd_config_path(args: argparse.Namespace) -> int:
    print(_config_path(args))
    return EXIT_OK


def _cmd_config_show(args: argparse.Namespace) -> int:
    from .config import load_config, masked_toml

    loaded = load_config(_config_path(args))
    _warn(loaded.warnings)
    print(masked_toml(loaded.config), end="")
    return EXIT_OK


def _cmd_config_init(args: argparse.Namespace) -> int:
    from .config import write_default_config

    print(f"wrote {write_default_config(_config_path(args), force=args.force)}")
    return EXIT_OK


def _cmd_themes(args: argparse.Namespace) -> int:
    from .ui.themes import builtin_theme_names, discover_themes, theme_dirs

    themes, warnings = discover_themes(theme_dirs(_config_path(args)))
    _warn(warnings)
    for name in builtin_theme_names():
        print(f"{name}  (built in)")
    for theme in themes:
        print(f"{theme.name}  ({'dark' if theme.dark else 'light'})")
    return EXIT_OK


def _cmd_models(args: argparse.Namespace) -> int:
    import json

    from .errors import ProviderError
    from .models import default_catalog
    from .models.listing import card_dict, card_table

    session = build_session_for(args)
    provider = session.provider
    catalog = getattr(provider, "catalog", None) or default_catalog()

    async def listing() -> list[Any]:
        try:
            return await provider.list_models()
        except ProviderError as error:  # offline or no key: the catalog's own models still show
            _warn([f"could not list {provider.name}'s models ({error}); showing the catalog's"])
            return []
        finally:
            await provider.aclose()

    served = [model.id for model in asyncio.run(listing())]
    known = [card.id for card in catalog.known_models(provider.name)]
    cards = [catalog.lookup(provider.name, model_id) for model_id in dict.fromkeys(served + known)]
    if args.json:
        for card in cards:
            print(json.dumps(card_dict(card), ensure_ascii=not _encodes_all_text(sys.stdout)))
    else:
        print("\n".join(card_table(cards)))
    return EXIT_OK


def build_session_for(args: argparse.Namespace) -> Any:
    """The session the command line asks for, its warnings said."""
    from .session import build_session

    session = build_session(choices_from(args))
    _warn(session.warnings)
    return session


# --- voice --------------------------------------------------------------------------------------


VOICE_PACK = "voice-assistant"
"""The pack `voice` uses when none is chosen: short answers meant to be heard."""


def _cmd_voice(args: argparse.Namespace) -> int:
    from .voice.headless import run_voice_from_args
    from .config import load_config
    from .realtime import bidi_spec_for
    from .session import render_prompt

    loaded = load_config(getattr(args, "config", None))
    _warn(loaded.warnings)
    voice = loaded.config.voice
    spec = bidi_spec_for(getattr(args, "provider", None) or voice.provider or "demo")
    # The key, endpoint and options come from the text side's config (openai for openai-realtime);
    # its model is a text model the realtime service would refuse, so only --model or the
    # [voice] table's model names one.
    settings = loaded.config.provider_settings(spec.text_provider or spec.name, base_url=getattr(args, "base_url", None))
    settings.model = getattr(args, "model", None) or voice.model
    choices = choices_from(args)
    if not choices.pack and not loaded.config.pack:
        choices.pack = VOICE_PACK
    _, rendered = render_prompt(loaded.config, choices)
    return asyncio.run(run_voice_from_args(
        args, spec.name, settings, instructions=rendered.system, voice=voice, history=loaded.config.history_enabled
    ))


def _cmd_devices(args: argparse.Namespace) -> int:
    from .voice.headless import run_devices

    return run_devices()


# --- running a command -------------------------------------------------------------------------


def _cmd_mcp(args: argparse.Namespace) -> int:
    from .config import default_config_path, load_config

    path: Path = getattr(args, "config", None) or default_config_path()
    if args.mcp_command == "import":
        from .config.mcp_import import import_servers

        print("\n".join(import_servers(args.file, path)))
        return EXIT_OK
    from .tools.mcp.command import print_listing

    loaded = load_config(path)
    _warn(loaded.warnings)
    return print_listing(loaded.config.mcp, path, as_json=args.json)


def _encodes_all_text(stream: IO[str]) -> bool:
    """True when `stream`'s encoding is a Unicode one, so any text can be written to it as it is."""
    import codecs

    return codecs.lookup(getattr(stream, "encoding", None) or "ascii").name.startswith("utf")


def _tolerate_narrow_output() -> None:
    """Let stdout that cannot encode all text (PYTHONIOENCODING=ascii, a latin-1 locale) show the
    characters it lacks as escapes (\\xe9), as stderr already does, instead of failing mid-reply."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)
    if reconfigure is not None and not _encodes_all_text(sys.stdout):
        reconfigure(errors="backslashreplace")


def _refuse_undecodable(args: argparse.Namespace) -> None:
    """Refuse text arguments whose bytes were not UTF-8 (Python keeps them as lone surrogates, which
    would fail later, deep in a request). File names (`Path` values) may be any bytes and pass."""
    for value in vars(args).values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raw = item.encode("utf-8", "surrogateescape")
                    raise TuiChatError(f"the argument {raw!r} is not UTF-8 text") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    _tolerate_narrow_output()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error already printed
        return done.code if isinstance(done.code, int) else EXIT_USAGE
    run: Callable[[argparse.Namespace], int] = getattr(args, "run", _cmd_tui)
    try:
        _refuse_undecodable(args)
        return run(args)
    except TuiChatError as error:
        print(f"tui-chat: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("tui-chat: cancelled", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`tui-chat ask ... | head`): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
