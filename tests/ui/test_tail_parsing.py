"""The tail parser gives a full parse's tokens, parsing again only the inline text that changed."""

from __future__ import annotations

import random

from markdown_it.token import Token

from tui_chat.ui.widgets.markdown.blocks import new_parser
from tui_chat.ui.widgets.markdown.parsing import TailParser, grown_blocks

LIST = "".join(f"- item *{i}* with `code` and a <https://example.com/{i}> link, ~~gone~~ **bold**\n" for i in range(40))
TABLE = "| a | b |\n| --- | --- |\n" + "".join(f"| cell {i} | [x][ref] _{i}_ |\n" for i in range(30))


def as_dicts(tokens: list[Token]) -> list[dict[str, object]]:
    return [token.as_dict() for token in tokens]


def test_each_parse_of_a_growing_text_equals_a_full_parse() -> None:
    parser = TailParser()
    text = LIST + "\n" + TABLE + "\n[ref]: https://example.com/ref\n\n> quoted *text*\n> more"
    for end in range(0, len(text) + 1, 7):
        env: dict[str, object] = {"references": {}}
        got = parser.parse(text[:end], env)
        assert as_dicts(got) == as_dicts(new_parser().parse(text[:end], {"references": {}})), text[:end]


def test_a_link_reference_known_later_is_applied_to_text_parsed_before() -> None:
    parser = TailParser()
    text = "see [x][ref] here\n\n"
    parser.parse(text, {"references": {}})
    env: dict[str, object] = {"references": {}}
    got = parser.parse(text + "[ref]: https://example.com\n", env)
    assert as_dicts(got) == as_dicts(new_parser().parse(text + "[ref]: https://example.com\n"))
    assert any(child.type == "link_open" for child in got[1].children or [])
    # And a reference the widget knows (the whole reply's, once finished) counts too.
    known = {"references": {"REF": {"href": "https://example.com", "title": ""}}}
    got = parser.parse(text, dict(known))
    assert as_dicts(got) == as_dicts(new_parser().parse(text, dict(known)))


def test_a_growing_list_parses_again_only_its_last_item_text() -> None:
    parser = TailParser()
    lines = LIST.splitlines(keepends=True)
    for count in range(1, len(lines) + 1):
        parser.parse("".join(lines[:count]), {"references": {}})
    assert parser.inline_parsed_chars == sum(len(line) - len("- \n") for line in lines)  # each item's text once


WORD = ["text", "Émile", "*em*", "`code`", "**b**", "__u", "~~s~~", "``x", "[a](b)", "x|y", "**", "1.", "-", "#", ">", "```", "~~~", "===", "[r]:", "*", "_", "a\rb"]
BLOCKS = [
    "A paragraph of {words}\nthat goes {words}",
    "# Heading {words}",
    "Setext {words}\n===",
    "- item {words}\n  lazy {words}\n- second {words}",
    "1. first {words}\n2) other {words}",
    "> quoted {words}\n> - listed {words}\nlazy {words}",
    "```py\ndef f(x):\n    return {words}\n``\n  ```x\n```",
    "~~~\ncode {words}\n   ~~~~",
    "```\nunclosed {words}\n``` not a close",
    "| a | b |\n| --- | --- |\n| {words} | c |\nafter {words}",
    "[r]: /url 'title {words}\ngoes on'",
    "    indented {words}",
    "para {words}\n---",
    "text\t{words}  \nhard {words}\\",
]


def random_markdown(rng: random.Random) -> str:
    blocks = []
    for _ in range(rng.randrange(1, 5)):
        block = rng.choice(BLOCKS)
        while "{words}" in block:
            block = block.replace("{words}", " ".join(rng.choices(WORD, k=rng.randrange(1, 6))), 1)
        blocks.append(block)
    return rng.choice(["\n\n", "\n"]).join(blocks)


def test_a_stream_of_any_markdown_parses_as_a_full_parse_at_every_chunk() -> None:
    """Text grown within its last line mostly keeps the last parse's blocks (`grown_blocks`): every
    parse of a stream, cut anywhere, equals a full parse, and most of them kept the blocks."""
    rng = random.Random(15)
    kept = parses = 0
    for _ in range(150):
        text = random_markdown(rng)
        parser = TailParser()
        end = 0
        while end < len(text):
            end = min(len(text), end + rng.randrange(1, 9))
            before = parser._last_parse
            got = parser.parse(text[:end], {"references": {}})
            kept += before is not None and grown_blocks(*before, text[:end]) is not None
            parses += 1
            assert as_dicts(got) == as_dicts(new_parser().parse(text[:end], {"references": {}})), text[:end]
    assert kept > parses / 4, (kept, parses)
