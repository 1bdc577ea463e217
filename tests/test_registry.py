"""Provider names, default detection and lazy loading."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tui_chat.errors import UnknownProviderError
from tui_chat.providers.demo import DemoProvider
from tui_chat.providers.registry import ProviderSettings, create_provider, default_provider_name


def test_default_is_demo_without_keys() -> None:
    assert default_provider_name({}) == "demo"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"OPENAI_API_KEY": "k"}, "openai"),
        ({"ANTHROPIC_API_KEY": "k"}, "anthropic"),
        ({"GEMINI_API_KEY": "k"}, "gemini"),
        ({"GOOGLE_API_KEY": "k"}, "gemini"),
        ({"ANTHROPIC_API_KEY": "k", "OPENAI_API_KEY": "k"}, "openai"),
        ({"GEMINI_API_KEY": "k", "ANTHROPIC_API_KEY": "k"}, "anthropic"),
        ({"OPENAI_API_KEY": "  "}, "demo"),
        ({"CO_API_KEY": "k"}, "demo"),
    ],
)
def test_default_follows_the_first_configured_key(environ: dict[str, str], expected: str) -> None:
    assert default_provider_name(environ) == expected


def test_unknown_provider_suggests_close_names() -> None:
    with pytest.raises(UnknownProviderError) as caught:
        create_provider("antropic")
    assert "antropic" in str(caught.value)
    assert "anthropic" in caught.value.hint


def test_unknown_provider_without_close_names_lists_them_all() -> None:
    with pytest.raises(UnknownProviderError) as caught:
        create_provider("zzzz")
    assert "demo" in caught.value.hint and "openai" in caught.value.hint


def test_demo_is_built_with_its_options() -> None:
    provider = create_provider("demo", ProviderSettings(model="m", options={"speed": 0}))
    assert isinstance(provider, DemoProvider)
    assert provider.model == "m" and provider.speed == 0


def test_provider_modules_load_only_when_used() -> None:
    """Importing the registry (as the app does at start) loads no provider module."""
    code = (
        "import sys, tui_chat.providers.registry, tui_chat.session, tui_chat.cli;"
        "print(sorted(m for m in sys.modules if m.startswith('tui_chat.providers.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['tui_chat.providers.base', 'tui_chat.providers.registry']"
