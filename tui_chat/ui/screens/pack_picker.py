"""Choose the prompt pack and prompt for the chat, from the bundled packs and the one in use."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...errors import PackError
from ...packs import Pack, bundled_pack_paths, load_pack


@dataclass(frozen=True, slots=True)
class PackChoice:
    """A pack file and one of its prompts."""

    path: Path
    prompt_id: str


class PackPickerScreen(ModalScreen[PackChoice | None]):
    """A list of pack / prompt pairs; Enter picks one, Esc leaves things as they are."""

    DEFAULT_CSS = """
    PackPickerScreen { align: center middle; }
    PackPickerScreen > Vertical {
        width: 80;
        height: auto;
        max-height: 80%;
        border: thick $primary;
        background: $surface;
        padding: 1 2;
    }
    PackPickerScreen .title { text-style: bold; margin-bottom: 1; }
    PackPickerScreen OptionList { height: auto; max-height: 20; }
    """

    BINDINGS = [Binding("escape", "dismiss(None)", "Close")]

    def __init__(self, current: Pack | None, current_prompt: str | None) -> None:
        super().__init__()
        self.current = current
        self.current_prompt = current_prompt

    def _packs(self) -> tuple[list[Pack], list[str]]:
        packs: dict[Path, Pack] = {}
        problems: list[str] = []
        if self.current is not None and self.current.path is not None:
            packs[self.current.path.resolve()] = self.current
        for path in bundled_pack_paths():
            try:
                packs.setdefault(path.resolve(), load_pack(path))
            except PackError as error:
                problems.append(str(error))
        return list(packs.values()), problems

    def compose(self) -> ComposeResult:
        packs, problems = self._packs()
        self._choices: list[PackChoice] = []
        options: list[Option] = []
        highlighted = 0
        for pack in packs:
            for prompt in pack.prompts.values():
                assert pack.path is not None
                if pack is self.current and prompt.id == self.current_prompt:
                    highlighted = len(options)
                label = Content.assemble((pack.name, "bold"), " / ", prompt.name or prompt.id)
                if prompt.description or pack.description:
                    label = Content.assemble(label, "\n  ", (prompt.description or pack.description, "dim"))
                options.append(Option(label))
                self._choices.append(PackChoice(pack.path, prompt.id))
        with Vertical():
            yield Static("Prompt pack", classes="title")
            option_list = OptionList(*options)
            option_list.highlighted = highlighted if options else None
            yield option_list
            for problem in problems:
                yield Static(Content(problem), classes="problem")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self._choices[event.option_index])
