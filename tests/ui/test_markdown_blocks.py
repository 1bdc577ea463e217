"""The pure parts of streaming Markdown: block splitting and flush pacing, without Textual."""

from __future__ import annotations

import subprocess
import sys

from tui_chat.ui.widgets.markdown.blocks import (
    changed_cells,
    grown_inline,
    kept_items,
    line_offsets,
    new_parser,
    settled_start,
    signature,
    top_level_groups,
)
from tui_chat.ui.widgets.markdown.pacing import FlushPacer, PendingText


def test_block_splitting_and_pacing_load_without_textual() -> None:
    code = (
        "import sys\n"
        "import tui_chat.ui.widgets.markdown.blocks, tui_chat.ui.widgets.markdown.pacing\n"
        "assert 'textual' not in sys.modules, sorted(m for m in sys.modules if m.startswith('textual'))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_top_level_groups_are_the_blocks_with_their_lines() -> None:
    text = "# Title\n\npara one\nstill one\n\n- a\n- b\n\n```\ncode\n```\n"
    groups = top_level_groups(new_parser().parse(text))
    assert [(group.start, group.end) for group in groups] == [(0, 1), (2, 4), (5, 8), (8, 11)]  # a list takes the blank line after it


def test_a_block_is_settled_only_once_a_later_block_starts_on_a_line_followed_by_another() -> None:
    text = "para\n\nnext"
    groups = top_level_groups(new_parser().parse(text))
    assert settled_start(groups, text.count("\n")) == 0  # "next" may still become a setext underline's
    text = "para\n\nnext\nmore\n"
    groups = top_level_groups(new_parser().parse(text))
    assert settled_start(groups, text.count("\n")) == 2


def test_signatures_tell_changed_blocks_apart_and_ignore_line_numbers() -> None:
    first = new_parser().parse("same *text*\n")
    moved = new_parser().parse("\n\nsame *text*\n")
    changed = new_parser().parse("same **text**\n")
    sign = lambda tokens: signature(tokens, top_level_groups(tokens)[0])
    assert sign(first) == sign(moved) != sign(changed)


def test_line_offsets_are_where_lines_start() -> None:
    assert line_offsets("ab\ncd\n\nef", [0, 1, 3]) == [0, 3, 7]


def test_pending_text_cuts_a_huge_piece_to_the_limit() -> None:
    pending = PendingText()
    pending.add("a" * 100_000)
    pending.add("bc")
    assert pending.take(1000) == "a" * 1000
    assert pending.chars == 99_002
    assert pending.take(100_000) == "a" * 99_000 + "bc"
    assert not pending


def test_the_budget_shrinks_after_a_slow_flush_and_grows_after_fast_ones_within_its_bounds() -> None:
    pacer = FlushPacer(start=1024, minimum=256, maximum=4096)
    pacer.adapt(elapsed=0.030, target=0.015)
    assert pacer.budget == 512
    pacer.adapt(elapsed=1.0, target=0.015)
    assert pacer.budget == 256
    for _ in range(10):
        pacer.adapt(elapsed=0.001, target=0.015)
    assert pacer.budget == 4096


def test_the_one_grown_inline_text_of_a_block_is_found() -> None:
    parser = new_parser()
    before = parser.parse("1. first\n2. second, grow")
    after = parser.parse("1. first\n2. second, growing on\n   its next line")
    index = grown_inline(before, after)
    assert index is not None
    assert after[index].type == "inline" and after[index].content.startswith("second, growing")


def test_a_block_that_changed_otherwise_has_no_grown_inline_text() -> None:
    parser = new_parser()
    base = parser.parse("1. first\n2. second")
    assert grown_inline(base, parser.parse("1. first\n2. second\n3. third")) is None  # a new item
    assert grown_inline(base, parser.parse("1. first!\n2. second!")) is None  # two texts changed
    assert grown_inline(base, parser.parse("- first\n- second")) is None  # another kind of list
    assert grown_inline(base, parser.parse("1. first\n2. second")) is None  # nothing changed
    table = parser.parse("| a | b |\n| - | - |\n| 1 | 2")
    assert grown_inline(table, parser.parse("| a | b |\n| - | - |\n| 1 | 2 |\n| 3")) is None  # a new row


def test_a_list_that_gains_items_keeps_the_items_before_the_first_that_changed() -> None:
    parser = new_parser()
    base = parser.parse("1. first\n2. second\n3.")
    assert kept_items(base, parser.parse("1. first\n2. second\n3. third")) == 2  # the empty item grew
    assert kept_items(base, parser.parse("1. first\n2. second\n3. third\n4. four")) == 2
    bullets = parser.parse("- a\n- b")
    assert kept_items(bullets, parser.parse("- a\n- b\n  - nested")) == 1  # b gained a list
    assert kept_items(bullets, parser.parse("- a\n- b\n- c")) == 2
    assert kept_items(bullets, parser.parse("- a\n- b\n\n- c")) == 0  # loose now: every item changed
    assert kept_items(bullets, parser.parse("* a\n* b\n* c")) is None  # another bullet: another list
    assert kept_items(base, bullets) is None
    nine = "".join(f"{n}. item\n" for n in range(1, 10))
    assert kept_items(parser.parse(nine), parser.parse(nine + "10. item")) is None  # every number widens
    assert kept_items(parser.parse("para"), parser.parse("para more")) is None  # not a list


def test_a_table_that_gains_rows_tells_the_cells_that_changed_from_the_new_ones() -> None:
    parser = new_parser()
    base = parser.parse("| a | b |\n| - | - |\n| 1 | 2 |")
    assert changed_cells(base, parser.parse("| a | b |\n| - | - |\n| 1 | 2 |\n| 3")) == ([], 4, 6)
    assert changed_cells(base, parser.parse("| a | b |\n| - | - |\n| 1 | 2x |\n| 3 | 4")) == ([3], 4, 6)
    header_only = parser.parse("| a | b |\n| - | - |")
    assert changed_cells(header_only, base) == ([], 2, 4)
    assert changed_cells(base, header_only) == ([], 4, 2)  # a row parsed away: its cells go
    assert changed_cells(base, parser.parse("| a | c |\n| - | - |\n| 1 | 2 |")) == ([1], 4, 4)
    assert changed_cells(base, parser.parse("| a | b | c |\n| - | - | - |\n| 1 | 2 |")) is None  # a column more
    assert changed_cells(base, parser.parse("| a | b |\n| - | -: |\n| 1 | 2 |")) is None  # aligned otherwise
    assert changed_cells(base, parser.parse("- a")) is None
