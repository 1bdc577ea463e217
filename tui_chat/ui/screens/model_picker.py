"""Choose the model: the list comes from the provider's models endpoint, fetched when opened.

Typing narrows the list; a name the list does not hold is offered as it was typed, so a model the
endpoint leaves out, or any model when the list cannot be fetched, can still be chosen.
"""

from __future__ import annotations

from textual import work
from textual.content import Content

from ...errors import TuiChatError
from ...providers.base import Provider
from ..wording import counted
from .picker import PickerScreen


class ModelPickerScreen(PickerScreen[str]):
    """The provider's models; the one in use highlighted."""

    def __init__(self, provider: Provider) -> None:
        super().__init__(f"Model ({provider.name})", current=provider.model, typed=str)
        self.provider = provider

    def on_mount(self) -> None:
        super().on_mount()
        self.show_note("Asking the provider for its models…")
        self._load()

    @work(exclusive=True)
    async def _load(self) -> None:
        try:
            models = await self.provider.list_models()
        except TuiChatError as error:
            self.show_note(f"Could not list the models: {error}\nType a model's name and press Enter to use it.")
            return
        self.show_choices([(Content(model.id), model.id) for model in models])
        self.show_note(counted(len(models), "model") if models else "The provider listed no models.")
