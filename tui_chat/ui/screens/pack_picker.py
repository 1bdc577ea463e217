"""Choose the prompt pack and prompt for the chat, from the bundled packs and the one in use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.content import Content

from ...errors import PackError
from ...packs import Pack, bundled_pack_paths, load_pack
from .picker import PickerScreen


@dataclass(frozen=True, slots=True)
class PackChoice:
    """A pack file and one of its prompts."""

    path: Path
    prompt_id: str


def pack_choices(current: Pack | None) -> tuple[list[tuple[Content, PackChoice]], list[str]]:
    """Every prompt of the pack in use and of the bundled packs, and the packs that failed to load."""
    packs: dict[Path, Pack] = {}
    problems: list[str] = []
    if current is not None and current.path is not None:
        packs[current.path.resolve()] = current
    for path in bundled_pack_paths():
        try:
            packs.setdefault(path.resolve(), load_pack(path))
        except PackError as error:
            problems.append(str(error))
    choices: list[tuple[Content, PackChoice]] = []
    for pack in packs.values():
        assert pack.path is not None
        for prompt in pack.prompts.values():
            label = Content.assemble((pack.name, "bold"), " / ", prompt.name or prompt.id)
            if description := prompt.description or pack.description:
                label = Content.assemble(label, "\n  ", (description, "dim"))
            choices.append((label, PackChoice(pack.path, prompt.id)))
    return choices, problems


class PackPickerScreen(PickerScreen[PackChoice]):
    """The pack / prompt pairs, the one in use highlighted."""

    def __init__(self, current: Pack | None, current_prompt: str | None) -> None:
        choices, self.problems = pack_choices(current)
        chosen = PackChoice(current.path, current_prompt) if current and current.path and current_prompt else None
        super().__init__("Prompt pack", choices, current=chosen)

    def on_mount(self) -> None:
        super().on_mount()
        if self.problems:
            self.show_note("\n".join(self.problems))
