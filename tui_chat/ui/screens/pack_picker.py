"""Choose the prompt pack and prompt for the chat, from the bundled packs and the one in use.

A prompt with required variables that have no value (from the config's `[variables]`) asks for
them in a small form before the choice is made; Esc there goes back to the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from textual.content import Content

from ...errors import PackError
from ...packs import Pack, bundled_pack_paths, load_pack
from ...packs.model import Variable
from .picker import PickerScreen
from .variables_form import VariablesForm


@dataclass(frozen=True, slots=True)
class PackChoice:
    """A pack file, one of its prompts, and values for its variables asked for in the picker."""

    path: Path
    prompt_id: str
    variables: Mapping[str, str] = field(default_factory=dict, compare=False)


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


def unfilled(pack: Pack, prompt_id: str, given: Mapping[str, Any]) -> list[Variable]:
    """The required variables of a prompt with neither a value in `given` nor a default."""
    return [
        variable
        for variable in pack.prompt(prompt_id).variables
        if variable.required and variable.default is None and variable.name not in given
    ]


class PackPickerScreen(PickerScreen[PackChoice]):
    """The pack / prompt pairs, the one in use highlighted; `variables` are the values already given."""

    def __init__(self, current: Pack | None, current_prompt: str | None, variables: Mapping[str, Any]) -> None:
        self.packs, self.problems = load_packs(current)
        self.given = variables
        chosen = PackChoice(current.path.resolve(), current_prompt) if current and current.path and current_prompt else None
        super().__init__("Prompt pack", pack_choices(self.packs), current=chosen)

    def on_mount(self) -> None:
        super().on_mount()
        if self.problems:
            self.show_note("\n".join(self.problems))

    def choose(self, value: PackChoice) -> None:
        """Close with `value`, after asking for the variables it still needs."""
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
