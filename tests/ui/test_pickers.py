"""The pack picker (Ctrl+O) and the model picker (Ctrl+N) as a new user meets them: a filter, a
form for a pack's required variables, a typed model name, and a way on when the list cannot be had.

The model lists come from the real OpenAI-compatible provider talking to a loopback fake server.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from textual.pilot import Pilot
from textual.widgets import Input

from tests.fakes.live import LiveFake
from tests.fakes.openai_wire import OpenAIWire
from tests.fakes.server import json_response
from tui_chat.session import Choices, build_session
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.model_picker import ModelPickerScreen
from tui_chat.ui.screens.pack_picker import PackPickerScreen
from tui_chat.ui.screens.variables_form import VariablesForm

from .conftest import SIZE, fixed_clock, make_app, screen_text
from .test_chat_screen import wait_for

MODELS = ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3-mini", "text-embedding-3-small"]


@contextmanager
def served_models(*scripts: list) -> Iterator[TuiChatApp]:
    """The app on the OpenAI-compatible provider, its models endpoint answering with `scripts` in turn."""
    with LiveFake(OpenAIWire()) as fake:
        fake.enqueue(*scripts)
        session = build_session(Choices(provider="openai-compatible", base_url=fake.base_url, model="gpt-4o"))
        yield TuiChatApp(
            session, clock=fixed_clock, save_settings=False, approval_arm_delay=0, tune_collector=False, blink=False
        )


def model_list() -> list:
    return json_response({"object": "list", "data": [{"id": name, "object": "model"} for name in MODELS]})


def refusal() -> list:
    return json_response({"error": {"message": "Incorrect API key provided"}}, 401)


def picker(app: TuiChatApp) -> ModelPickerScreen:
    assert isinstance(app.screen, ModelPickerScreen)
    return app.screen


async def open_models(pilot: Pilot, *, listed: bool = True) -> ModelPickerScreen:
    await pilot.press("ctrl+n")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ModelPickerScreen))
    screen = picker(pilot.app)  # type: ignore[arg-type]
    await wait_for(pilot, lambda: not screen.query_one(".note").render().plain.startswith("Asking"))
    return screen


# --- the pack picker -----------------------------------------------------------------------------


async def filter_packs(pilot: Pilot, typed: str, prompt_id: str) -> PackPickerScreen:
    """Open the pack picker and type `typed`, which leaves only the prompt `prompt_id` listed."""
    await pilot.press("ctrl+o", *typed)
    packs = pilot.app.screen
    assert isinstance(packs, PackPickerScreen)
    await wait_for(pilot, lambda: [c.prompt_id for c in packs.values] == [prompt_id])
    return packs


async def test_a_prompt_with_a_required_variable_asks_for_it_in_a_form_and_uses_it() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        packs = await filter_packs(pilot, "tutor", "tutor")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, VariablesForm))
        await pilot.press("escape")  # back to the list, nothing changed
        await wait_for(pilot, lambda: app.screen is packs)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, VariablesForm))
        form = app.screen
        await pilot.press("enter")  # an empty box is not a value
        assert app.screen is form and "target_language needs a value" in screen_text(app)
        await pilot.press(*"Spanish", "enter")
        await wait_for(pilot, lambda: app.screen is app.screen_stack[0])
        prompt = app.session.conversation.prompt
        assert "Spanish" in (prompt.system or "")
        assert app.session.rendered is not None and app.session.rendered.prompt_id == "tutor"


async def test_a_prompt_whose_variables_all_have_values_is_used_at_once() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await filter_packs(pilot, "storyteller adventure", "adventure")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.screen is app.screen_stack[0])
        assert app.session.rendered is not None and app.session.rendered.prompt_id == "adventure"


def test_the_variables_form(snap_compare) -> None:
    async def run_before(pilot: Pilot) -> None:
        await filter_packs(pilot, "tutor", "tutor")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, VariablesForm))

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


# --- the model picker ----------------------------------------------------------------------------


async def test_typing_narrows_the_model_list_and_enter_picks_the_highlighted_one() -> None:
    with served_models(model_list()) as app:
        async with app.run_test(size=SIZE) as pilot:
            models = await open_models(pilot)
            assert models.values == sorted(MODELS)
            await pilot.press(*"mini")
            assert models.values == ["gpt-4.1-mini", "gpt-4o-mini", "o3-mini", "mini"]  # and the text as typed
            await pilot.press("down", "enter")
            await wait_for(pilot, lambda: app.screen is app.screen_stack[0])
            assert app.session.provider.model == "gpt-4o-mini"


async def test_a_model_name_the_list_does_not_hold_is_offered_as_typed() -> None:
    with served_models(model_list()) as app:
        async with app.run_test(size=SIZE) as pilot:
            models = await open_models(pilot)
            await pilot.press(*"gpt-5-preview")
            assert models.values == ["gpt-5-preview"]
            assert "Use 'gpt-5-preview' (not in the list)" in screen_text(app)
            await pilot.press("enter")
            await wait_for(pilot, lambda: app.screen is app.screen_stack[0])
            assert app.session.provider.model == "gpt-5-preview"


async def test_when_the_list_cannot_be_fetched_the_error_shows_and_a_typed_name_still_works() -> None:
    with served_models(refusal()) as app:
        async with app.run_test(size=SIZE) as pilot:
            models = await open_models(pilot)
            text = screen_text(app)
            assert "Could not list the models" in text and "401" in text
            assert isinstance(app.focused, Input)
            await pilot.press(*"my-model", "enter")
            await wait_for(pilot, lambda: app.screen is app.screen_stack[0])
            assert app.session.provider.model == "my-model"
            assert models.values == ["my-model"]


def test_model_list_filtered(snap_compare) -> None:
    with served_models(model_list()) as app:

        async def run_before(pilot: Pilot) -> None:
            await open_models(pilot)
            await pilot.press(*"4o")

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_model_list_fetch_failure(snap_compare) -> None:
    with served_models(refusal()) as app:

        async def run_before(pilot: Pilot) -> None:
            await open_models(pilot)
            await pilot.press(*"my-model")

        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
