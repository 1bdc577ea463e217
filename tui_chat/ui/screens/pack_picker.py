"""Choose the prompt pack and prompt for the chat, from the bundled packs and the one in use, or
a prompt that an MCP server offers.

A prompt with required variables that have no value (from the config's `[variables]`) asks for
them in a small form before the choice is made; Esc there goes back to the list. A server's prompt
is listed under its server's name; its required arguments are asked in the same form, then the
server is asked for the prompt (`prompts/get`) and the picker closes with its messages. When the
server cannot give it, the picker stays open and says why under the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from textual import work
from textual.content import Content

from ...chunks import Message
from ...errors import PackError
from ...packs import Pack, bundled_pack_paths, load_pack
from ...packs.model import Variable
from ...tools.mcp.prompts import RemotePrompt
from ...tools.mcp.server import ServerUnavailable
from .picker import PickerScreen
from .variables_form import VariablesForm

if TYPE_CHECKING:
    from ...tools.mcp.manager import McpManager


@dataclass(frozen=True, slots=True)
class PackChoice:
    """A pack file, one of its prompts, and values for its variables asked for in the picker."""

    path: Path
    prompt_id: str
    variables: Mapping[str, str] = field(default_factory=dict, compare=False)


@dataclass(frozen=True, slots=True)
class McpPromptChoice:
    """A prompt of an MCP server, the values given for its arguments, and the messages it gave."""

    prompt: RemotePrompt
    arguments: Mapping[str, str] = field(default_factory=dict, compare=False)
    messages: tuple[Message, ...] = field(default=(), compare=False)

    @property
    def label(self) -> str:
        """"MCP server NAME / TITLE", as the list shows it."""
        return f"MCP server {self.prompt.server} / {self.prompt.title}"


def load_packs(current: Pack | None) -> tuple[dict[Path, Pack], list[str]]:
    """The pack in use and the bundled packs by resolved path, and the packs that failed to load."""
    packs: dict[Path, Pack] = {}
    problems: list[str] = []
    if current is not None and current.path is not None:
        packs[current.path.resolve()] = current
    for path in bundled_pack_paths():
        try:
            packs.setdefault(path.resolve(), load_pack(path))
        except PackError as error:
            problems.append(str(error))
    return packs, problems


def pack_choices(packs: Mapping[Path, Pack]) -> list[tuple[Content, PackChoice]]:
    """Every prompt of `packs`, labelled with its pack's name and its description."""
    choices: list[tuple[Content, PackChoice]] = []
    for path, pack in packs.items():
        for prompt in pack.prompts.values():
            label = Content.assemble((pack.name, "bold"), " / ", prompt.name or prompt.id)
            if description := prompt.description or pack.description:
                label = Content.assemble(label, "\n  ", (description, "dim"))
            choices.append((label, PackChoice(path, prompt.id)))
    return choices


def server_prompt_choices(prompts: Sequence[RemotePrompt]) -> list[tuple[Content, McpPromptChoice]]:
    """Every prompt MCP servers offer, labelled with its server's name and its description."""
    choices: list[tuple[Content, McpPromptChoice]] = []
    for prompt in prompts:
        label = Content.assemble((f"MCP server {prompt.server}", "bold"), " / ", prompt.title)
        if prompt.description:
            label = Content.assemble(label, "\n  ", (prompt.description, "dim"))
        choices.append((label, McpPromptChoice(prompt)))
    return choices


def unfilled(pack: Pack, prompt_id: str, given: Mapping[str, Any]) -> list[Variable]:
    """The required variables of a prompt with neither a value in `given` nor a default."""
    return [
        variable
        for variable in pack.prompt(prompt_id).variables
        if variable.required and variable.default is None and variable.name not in given
    ]


class PackPickerScreen(PickerScreen["PackChoice | McpPromptChoice"]):
    """The pack / prompt pairs, the one in use highlighted, then the prompts of `mcp`'s running
    servers; `variables` are the values already given."""

    def __init__(
        self, current: Pack | None, current_prompt: str | None, variables: Mapping[str, Any], mcp: McpManager | None = None
    ) -> None:
        self.packs, self.problems = load_packs(current)
        self.given = variables
        self.mcp = mcp
        chosen = PackChoice(current.path.resolve(), current_prompt) if current and current.path and current_prompt else None
        server_prompts = server_prompt_choices(mcp.prompts()) if mcp is not None else []
        super().__init__("Prompt pack", [*pack_choices(self.packs), *server_prompts], current=chosen)

    def on_mount(self) -> None:
        super().on_mount()
        if self.problems:
            self.show_note("\n".join(self.problems))

    def choose(self, value: PackChoice | McpPromptChoice) -> None:
        """Close with `value`, after asking for the variables it still needs (and a server for its prompt)."""
        if isinstance(value, McpPromptChoice):
            self._choose_server_prompt(value.prompt)
            return
        pack = self.packs[value.path]
        needed = unfilled(pack, value.prompt_id, self.given)
        if not needed:
            self.dismiss(value)
            return

        def check(values: dict[str, str]) -> str:
            try:
                pack.render(value.prompt_id, {**self.given, **values})
            except PackError as error:
                return error.message
            return ""

        def filled(values: dict[str, str] | None) -> None:
            if values is not None:
                self.dismiss(PackChoice(value.path, value.prompt_id, values))

        title = f"{pack.name} / {pack.prompt(value.prompt_id).name or value.prompt_id}"
        self.app.push_screen(VariablesForm(title, needed, check), filled)

    def _choose_server_prompt(self, prompt: RemotePrompt) -> None:
        """Ask for the prompt's required arguments (if it has any), then the server for the prompt."""
        needed = [Variable(argument.name, required=True, description=argument.description) for argument in prompt.required]
        if not needed:
            self._get_prompt(prompt, {})
            return

        def filled(values: dict[str, str] | None) -> None:
            if values is not None:
                self._get_prompt(prompt, values)

        self.app.push_screen(VariablesForm(f"MCP server {prompt.server} / {prompt.title}", needed, lambda _values: ""), filled)

    @work(exclusive=True, group="mcp-prompt")
    async def _get_prompt(self, prompt: RemotePrompt, arguments: dict[str, str]) -> None:
        """Get the prompt's messages from its server and close with them; say why not, and stay, if it cannot."""
        assert self.mcp is not None  # server prompts are listed only with a manager
        self.show_note(f"Asking MCP server {prompt.server} for {prompt.title}...")
        try:
            messages = await self.mcp.get_prompt(prompt, arguments)
        except (ServerUnavailable, TimeoutError) as error:
            self.show_note(f"The prompt could not be had: {error}")
            return
        self.dismiss(McpPromptChoice(prompt, arguments, messages))
