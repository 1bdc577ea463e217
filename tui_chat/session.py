"""Turn command-line choices and the config file into a ready `Conversation`.

Both front ends (the TUI and `tui-chat ask`) start here, so they pick the provider, model and
prompt pack by the same rules: the command line wins over the config file, and the config file
wins over the defaults (the first provider with a key in the environment, else `demo`; the
bundled general-assistant pack).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .config import Config, default_config_path, load_config
from .conversation import Conversation
from .errors import ConfigError
from .packs import DEFAULT_PACK_ID, Pack, RenderedPrompt, find_pack, load_pack
from .providers.base import Provider
from .providers.registry import create_provider, spec_for

if TYPE_CHECKING:
    import concurrent.futures

    from .store.history import Store
    from .store.records import ChatInfo
    from .store.recorder import ChatSettings, Recorder
    from .store.resume import ReadingStore
    from .tools.approval import Approver
    from .tools.loop import ToolLoop
    from .tools.mcp.manager import McpManager

OPEN_HISTORY_WITHIN_S = 2.0
"""How long the store waits for a UI that never says it has settled (a safety net: the app says
so half a second after its first screen, and any use of the recorder opens it at once)."""


def _already_set() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


@dataclass(slots=True)
class Choices:
    """What the person asked for on the command line; None means "use the config or the default"."""

    config_path: Path | None = None
    provider: str | None = None
    model: str | None = None
    base_url: str | None = None
    pack: str | None = None
    prompt: str | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    provider_options: Mapping[str, Any] = field(default_factory=dict)
    workspace: str | None = None
    yes: bool = False
    continue_chat: bool = False
    """`--continue`: go on with the most recently updated saved chat."""
    chat: str | None = None
    """`--chat ID`: go on with this saved chat (any unique prefix of its id)."""
    no_history: bool = False
    """`--no-history`: save nothing this run (a resumed chat is still read)."""


@dataclass(slots=True)
class Session:
    """A configured conversation and what it was built from."""

    config: Config
    config_path: Path
    provider_name: str
    conversation: Conversation
    pack: Pack | None
    rendered: RenderedPrompt | None
    warnings: list[str]
    workspace: str | None = None
    yes: bool = False
    always_allowed: set[str] = field(default_factory=set)
    """Tools the person allowed "for this chat"; kept when the pack changes."""
    mcp: McpManager | None = None
    """The MCP servers of the config (None when it has none); their tools join every tool loop."""
    variables: Mapping[str, str] = field(default_factory=dict)
    """The pack variables in force (the config's, then the command line's)."""
    recorder: Recorder | None = None
    """Saves the chat as it happens (None: history is off for this run); see `start_history`."""
    incognito: bool = False
    """History was turned off (`--no-history`, `[history] enabled = false`): the UI says nothing is saved."""
    unsaved: bool = False
    """History is on but this chat is not (all) saved: the store's file could not be used, or writing
    to it failed (a full disk, a damaged file). The UI marks the chat unsaved, as an incognito one."""
    on_warning: Callable[[], None] | None = None
    """Called when a warning joins `warnings` through `warn`, on whichever thread added it (the store's
    opener, its writer): the UI sets it to show them at once."""
    history_may_open: threading.Event = field(default_factory=_already_set)
    """Set when the store may start opening: at once, except for the TUI's new chat, where the app
    sets it once it has settled after its first screen, or the recorder when first used (see
    `start_history`)."""

    @property
    def provider(self) -> Provider:
        return self.conversation.provider

    def warn(self, warning: str) -> None:
        """Add a warning that arrived after start-up (on any thread), and tell `on_warning`."""
        self.warnings.append(warning)
        if (arrived := self.on_warning) is not None:
            arrived()

    def saving_failed(self, notice: str) -> None:
        """The store could not save part of the chat (its `on_notice`, on its writer thread, once per
        failed write): the chat is marked unsaved and the person told, the first time only."""
        if not self.unsaved:
            self.unsaved = True
            self.warn(notice)

    def tool_loop(self, approver: Approver) -> ToolLoop:
        """The tool loop for the active prompt, asking `approver`; its warnings join `warnings`."""
        from .tools.setup import build_tool_loop

        loop, warnings = build_tool_loop(
            self.conversation,
            tool_policy=self.conversation.prompt.tool_policy,
            settings=self.config.tools,
            workspace=self.workspace,
            approver=approver,
            yes=self.yes,
            pack_approvals=self.config.pack_tools.get(self.pack.id, {}) if self.pack else None,
            always_allowed=self.always_allowed,
            mcp=self.mcp,
        )
        loop.recorder = self.recorder
        self.warnings.extend(warnings)
        return loop

    async def start_mcp(self, *, wait: bool = True, end_on_sigterm: bool = True) -> None:
        """Start the MCP servers (waiting until each runs or fails, unless not `wait`).

        With `end_on_sigterm`, SIGTERM ends them too (for `asyncio.run` front ends; the TUI has its
        own SIGTERM handling and closes them on exit). A server that fails adds one warning naming
        it, unless the manager's `on_notice` was set (the UI sets it to show a notice).
        """
        if self.mcp is None:
            return
        if end_on_sigterm:
            self.mcp.end_on_sigterm()
        if self.mcp.on_notice is None:
            self.mcp.on_notice = self.warnings.append
        if wait:
            await self.mcp.started()
        else:
            self.mcp.start()

    async def close_mcp(self) -> None:
        """End every MCP server process."""
        if self.mcp is not None:
            await self.mcp.aclose()

    def chat_settings(self) -> ChatSettings:
        """The provider, model, pack, prompt and variables in force, as a saved chat keeps them."""
        from .store.recorder import ChatSettings

        return ChatSettings(
            provider=self.provider_name,
            model=self.provider.model,
            pack=self.pack.id if self.pack else None,
            prompt=self.rendered.prompt_id if self.rendered else None,
            variables=dict(self.variables),
        )

    def close_history(self) -> None:
        """Commit what is still queued and close the store (at exit)."""
        if self.recorder is not None:
            self.recorder.close()


def build_provider(config: Config, name: str, choices: Choices) -> Provider:
    """Build provider `name` from the config, with the command line's model, URL and options on top."""
    spec_for(name)  # fail early, with suggestions, on an unknown name
    settings = config.provider_settings(
        name,
        model=choices.model,
        base_url=choices.base_url,
        options=dict(choices.provider_options),
    )
    return create_provider(name, settings)


def render_prompt(config: Config, choices: Choices) -> tuple[Pack, RenderedPrompt]:
    """Load the chosen pack (command line, config, or the bundled default) and render its prompt."""
    pack = load_pack(find_pack(choices.pack or config.pack or DEFAULT_PACK_ID))
    prompt_name = choices.prompt or (config.prompt if not choices.pack else None)
    variables = {**config.variables, **choices.variables}
    return pack, pack.render(prompt_name, variables)


def workspace_problem(folder: str) -> str | None:
    """Why `folder` cannot be the workspace (it is missing, or not a folder), or None when it can."""
    path = Path(folder).expanduser()
    if not path.exists():
        return f"the workspace {str(path)!r} does not exist"
    if not path.is_dir():
        return f"the workspace {str(path)!r} is not a folder"
    return None


def choose_workspace(choices: Choices, config: Config, warnings: list[str]) -> str | None:
    """The workspace folder: the command line's (refused when unusable), else the config's.

    An unusable folder in the config file only adds a warning and falls back to the current folder,
    as every broken config value does.
    """
    if choices.workspace:
        if problem := workspace_problem(choices.workspace):
            raise ConfigError(problem, hint="--workspace takes an existing folder")
        return choices.workspace
    if config.workspace and (problem := workspace_problem(config.workspace)):
        warnings.append(f"{config.path or 'config'}: workspace: {problem}; using the current folder")
        return None
    return config.workspace


def build_session(choices: Choices) -> Session:
    """Load the config and build the conversation the person asked for.

    Raises `TuiChatError` subclasses for an unknown provider or a bad pack; a broken config file
    only adds warnings (the defaults are used and the file is left alone).
    """
    loaded = load_config(choices.config_path)
    config = loaded.config
    warnings = list(loaded.warnings)
    workspace = choose_workspace(choices, config, warnings)  # before the provider opens any connection
    name = choices.provider or config.effective_provider()
    if name == "replay":
        choices.provider_options = replay_options(choices.provider_options)
    provider = build_provider(config, name, choices)
    pack, rendered = render_prompt(config, choices)
    conversation = Conversation(provider, rendered.settings())
    warnings += (f"{pack.path}: {w}" for w in rendered.warnings)
    mcp = None
    if config.mcp:
        from .tools.mcp.manager import McpManager  # only with servers configured: it needs the tools package

        mcp = McpManager(config.mcp)
    return Session(
        config=config,
        config_path=config.path or choices.config_path or default_config_path(),
        provider_name=name,
        conversation=conversation,
        pack=pack,
        rendered=rendered,
        warnings=warnings,
        workspace=workspace,
        yes=choices.yes,
        mcp=mcp,
        variables={**config.variables, **choices.variables},
    )


def replay_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The replay provider's options: `from` (a file or chat id) loaded into the recording it plays."""
    out = dict(options)
    if (source := out.pop("from", None)) is not None:
        from .store.recording import load_recording

        out["recorded_model"], out["recording"] = load_recording(str(source))
    return out


def start_history(session: Session, choices: Choices, *, wait: bool = True) -> None:
    """Load the chat to go on with (`--continue`, `--chat`) and start saving, as the choices and the
    `[history]` table say. The store is opened on a thread; with `wait` False (the TUI starting a
    new chat) the first screen does not wait for it, and it does not start opening until the UI sets
    `session.history_may_open` once it has settled (the opening's imports and reads would take the
    interpreter from the first screen's work), the recorder is first used (a message, the chat
    list, closing), or `OPEN_HISTORY_WITHIN_S` has passed. Its notice, if any, is told by `warn`.
    """
    import concurrent.futures

    save = session.config.history_enabled and not choices.no_history
    session.incognito = not save
    resume = choices.continue_chat or choices.chat is not None
    if not save:
        if resume:  # read only: no file is made or written
            from .store.resume import reading_store

            off = "--no-history" if choices.no_history else "[history] enabled = false"
            _load_chat(reading_store(saving_off=off), session, choices, close=True)
        return
    opening: concurrent.futures.Future[Store] = concurrent.futures.Future()
    if not wait and not resume:
        session.history_may_open.clear()
    threading.Thread(
        target=_open_store, args=(opening, session), name="tui-chat store opener"
    ).start()
    chat_id = _load_chat(opening.result(), session, choices) if resume else None
    from .store.recorder import Recorder, cost_of

    session.recorder = Recorder(
        opening if not wait and not resume else opening.result(), session.chat_settings,
        chat_id=chat_id, cost=cost_of(lambda: session.provider), open_now=session.history_may_open.set,
    )  # fmt: skip


def use_saved_settings(session: Session, info: ChatInfo) -> str | None:
    """Go on with the provider, model, pack and prompt saved chat `info` last used, where they are
    configured and usable here; returns what could not be used (one sentence), or None.

    A provider is usable when it can be built from the config and, if it needs a key, has one.
    Whatever is not usable is left as it is: the chat goes on with the current one.
    """
    from .errors import TuiChatError

    problems: list[str] = []
    wanted = info.provider
    if wanted and (wanted, info.model or session.provider.model) != (session.provider_name, session.provider.model):
        try:
            provider = build_provider(session.config, wanted, Choices(model=info.model))
            if getattr(provider, "requires_key", False):
                provider.api_key()  # type: ignore[attr-defined]  (an HTTP provider: raises without a key)
        except TuiChatError as error:
            problems.append(f"{'/'.join(filter(None, (wanted, info.model)))} ({error.message})")
        else:
            session.conversation.use_provider(provider)
            session.provider_name = wanted
    current_prompt = session.rendered.prompt_id if session.rendered else None
    if info.pack and (info.pack, info.prompt) != (session.pack.id if session.pack else None, current_prompt):
        variables = {**session.config.variables, **info.variables}
        try:
            pack = load_pack(find_pack(info.pack))
            rendered = pack.render(info.prompt, variables)
        except TuiChatError as error:
            problems.append(f"the prompt pack {info.pack} ({error.message})")
        else:
            session.conversation.use_prompt(rendered.settings())
            session.pack, session.rendered, session.variables = pack, rendered, variables
    if not problems:
        return None
    now = f"{session.provider_name}/{session.provider.model}, {session.conversation.prompt.label}"
    return f"This chat used {' and '.join(problems)}; it goes on with {now}"


def _open_store(into: concurrent.futures.Future[Store], session: Session) -> None:
    """Open the store (on the opener thread) once `session.history_may_open`; what it says (a file
    moved aside, why nothing is saved) is a warning of the session, and what its writer says later
    marks the chat unsaved (`Session.saving_failed`)."""
    session.history_may_open.wait(OPEN_HISTORY_WITHIN_S)
    from .store.history import open_store

    try:
        store = open_store()
    except BaseException as error:  # open_store answers a bad file itself; this is a bug, told where it is awaited
        into.set_exception(error)
        return
    session.unsaved = not store.saved
    store.on_notice = session.saving_failed
    if store.notice:
        session.warn(store.notice)
    into.set_result(store)


def _load_chat(store: Store | ReadingStore, session: Session, choices: Choices, *, close: bool = False) -> str:
    """Put the saved chat's history into the conversation, and its settings unless the command line
    chose a provider, model, pack or prompt; returns the chat's full id. `close`: the store is only
    read from, and closed once it has been."""
    from .store.reads import load_chat
    from .store.resume import chat_to_resume, history_messages

    try:
        chat_id = store.run(chat_to_resume, choices.chat).result()
        record = store.run(load_chat, chat_id).result()
    except BaseException:
        store.close()
        raise
    if close:
        store.close()
    session.conversation.history[:] = history_messages(record)
    if not (choices.provider or choices.model or choices.pack or choices.prompt):
        if notice := use_saved_settings(session, record.info):
            session.warnings.append(notice)
    return chat_id

