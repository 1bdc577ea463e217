"""Capability checks name the problem and a capable model of the same provider."""

from __future__ import annotations


from tui_chat.models import Catalog, problems


def test_a_capable_model_has_no_problems() -> None:
    catalog = Catalog()
    card = catalog.lookup("openai", "gpt-5-mini")
    assert problems(card, tools=True, input_kinds={"text", "image"}, catalog=catalog) == []


def test_an_image_to_a_text_only_model() -> None:
    catalog = Catalog({"text-only-model": {"provider": "openai", "input": ["text"]}})
    card = catalog.lookup("openai", "text-only-model")
    [problem] = problems(card, input_kinds={"image"}, catalog=catalog)
    assert problem.need == "image"
    assert problem.message == "text-only-model does not read images"
    assert problem.instead[0] == "gpt-5-mini"
    assert str(problem).startswith("text-only-model does not read images; try gpt-5-mini")


def test_tools_offered_to_a_model_without_tools() -> None:
    catalog = Catalog()
    card = catalog.lookup("replicate", "meta/meta-llama-3-8b-instruct")
    [problem] = problems(card, tools=True, catalog=catalog)
    assert problem.message == "meta/meta-llama-3-8b-instruct cannot use tools"
    assert problem.instead == ()  # the catalog knows no Replicate model with tools
    assert str(problem) == problem.message


def test_voice_with_a_model_that_has_no_realtime_api() -> None:
    catalog = Catalog()
    [problem] = problems(catalog.lookup("openai", "gpt-5-mini"), voice=True, catalog=catalog)
    assert problem.message == "gpt-5-mini has no realtime API for voice"
    assert problem.instead == catalog.realtime_models("openai")
    assert problems(catalog.lookup("openai", "gpt-realtime-mini"), voice=True, catalog=catalog) == []


def test_every_problem_is_reported() -> None:
    catalog = Catalog({"bare": {"provider": "gemini", "input": ["text"], "tools": False}})
    found = problems(catalog.lookup("gemini", "bare"), tools=True, input_kinds={"audio", "pdf"}, voice=True, catalog=catalog)
    assert [problem.need for problem in found] == ["tools", "audio", "pdf", "voice"]
    assert all(problem.instead for problem in found)
