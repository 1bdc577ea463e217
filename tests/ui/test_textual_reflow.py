"""A layout for a change inside a streaming reply lays out only the reply, or the segment of blocks
that changed: every such layout makes the very map Textual's walk of the whole screen makes, and a
layout also asked for outside it is of the whole screen."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from textual._compositor import Compositor
from textual.pilot import Pilot

from tui_chat.chunks import Chunk, Done, FinishReason, TextDelta
from tui_chat.providers.demo import DemoProvider, split_tokens
from tui_chat.ui import _textual_reflow as reflow
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.chat import ChatScreen
from tui_chat.ui.widgets.markdown.streaming import StreamingMarkdown
from tui_chat.ui.widgets.prompt_input import PromptInput

from .conftest import SIZE, make_app
from .test_chat_screen import type_and_send, wait_for

SECTION = """## Counting errors

The function below counts the `ERROR` lines of a log, hour by hour, and skips what it cannot parse.

```python
def errors_per_hour(path):
    counts = {}
    for line in open(path):
        if " ERROR " in line:
            hour = line[:13]
            counts[hour] = counts.get(hour, 0) + 1
    return counts
```

How it works:

1. Each line is read once.
2. The hour is the first 13 characters:
   - the date,
   - and the hour itself.

| approach | memory | speed |
| --- | ---: | ---: |
| whole file | 2.1 GB | 14 s |
| line by line | 12 MB | 17 s |

> **Tip:** run it with `python -X utf8` on Windows.

"""


class Gate:
    """Chunks handed to the reply one permit at a time, so that a test decides when text arrives."""

    def __init__(self, text: str) -> None:
        self.chunks = split_tokens(text)
        self.permits: asyncio.Queue[int] = asyncio.Queue()
        self.sent = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Have the demo provider stream these chunks."""
        gate = self

        async def stream(provider: DemoProvider, request: object) -> AsyncIterator[Chunk]:
            for chunk in gate.chunks:
                await gate.permits.get()
                gate.sent += 1
                yield TextDelta(chunk)
            yield Done(FinishReason.STOP)

        monkeypatch.setattr(DemoProvider, "stream", stream)

    async def let_through(self, pilot: Pilot[None], count: int) -> None:
        """Let `count` more chunks through, then let the app show them."""
        target = min(len(self.chunks), self.sent + count)
        for _ in range(count):
            self.permits.put_nowait(1)
        await wait_for(pilot, lambda: self.sent >= target)
        await pilot.pause()


@asynccontextmanager
async def replying(monkeypatch: pytest.MonkeyPatch, text: str) -> AsyncIterator[tuple[TuiChatApp, Pilot[None], Gate]]:
    """The app asked a question, its reply to stream `text` through a gate (no chunk let through yet)."""
    gate = Gate(text)
    gate.install(monkeypatch)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "count the errors")
        yield app, pilot, gate


@pytest.fixture
def splices(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every layout of part of the screen, checked against Textual's whole walk as it is made: the
    kind of widget each was of."""
    made: list[str] = []
    splice = reflow.spliced_map

    def checked(compositor: Compositor, within: reflow.Widget) -> tuple[reflow.CompositorMap, set[reflow.Widget]] | None:
        spliced = splice(compositor, within)
        if spliced is not None:
            whole = Compositor._arrange_root(compositor, compositor.root, compositor.size, visible_only=False)
            assert spliced == whole, f"a layout of {within!r} alone differs from the whole screen's"
            made.append(type(within).__name__)
        return spliced

    monkeypatch.setattr(reflow, "spliced_map", checked)
    return made


async def test_a_streaming_reply_is_laid_out_by_itself_as_the_whole_screen_would_be(
    monkeypatch: pytest.MonkeyPatch, splices: list[str]
) -> None:
    async with replying(monkeypatch, SECTION * 3) as (app, pilot, gate):
        while gate.sent < len(gate.chunks):
            await gate.let_through(pilot, 3)
        await app.workers.wait_for_complete()
        await pilot.pause()
        reply = app.query_one(StreamingMarkdown)
        assert reply.finished and reply.source == SECTION * 3
    assert splices.count("Segment") > 10  # blocks added to the last segment: the most common layout
    assert len(splices) > 20


async def test_a_layout_asked_for_outside_the_reply_too_is_of_the_whole_screen(
    monkeypatch: pytest.MonkeyPatch, splices: list[str]
) -> None:
    async with replying(monkeypatch, SECTION * 2) as (app, pilot, gate):
        for _ in range(15):
            await gate.let_through(pilot, 3)
        prompt = app.query_one(PromptInput)
        height = prompt.region.height
        before = len(splices)
        reply = app.query_one(StreamingMarkdown)
        prompt.insert("a question\nover\nfive\nlines\nof text")  # the prompt grows: a layout outside the reply
        reply.append("\n\nA paragraph of its own.\n\n")  # and a block is added to the reply, for the same frame
        await reply.wait_flushed()
        await pilot.pause()
        assert prompt.region.height == 5 > height  # five lines
        assert len(splices) == before  # the whole screen was laid out (a layout of the reply alone fails the check)
        while gate.sent < len(gate.chunks):
            await gate.let_through(pilot, 3)
        await app.workers.wait_for_complete()
    assert len(splices) > before + 10  # the reply alone again, once only it changes


async def test_after_each_layout_of_the_reply_alone_every_widget_on_the_map_has_the_size_of_its_place(
    monkeypatch: pytest.MonkeyPatch, splices: list[str]
) -> None:
    """After a layout of one widget alone the screen tells only the widgets it arranged their sizes
    (`Splicing.layers`): every other one was told its place before, and it has not moved."""
    told_wrong: list[str] = []
    refresh_layout = ChatScreen._refresh_layout

    def checked(screen: ChatScreen, size: object = None, scroll: bool = False) -> None:
        refresh_layout(screen, size, scroll)  # type: ignore[arg-type]
        compositor = screen._compositor
        if compositor._full_map_invalidated:
            return  # a scroll: Textual tells only the widgets it brought into view
        for widget, place in compositor._full_map.items():
            told = (widget._size, widget._container_size)  # (a scrolling widget may set its virtual size itself)
            if told != (place.region.size, place.container_size):
                told_wrong.append(f"{widget!r}: {told} for {place}")

    monkeypatch.setattr(ChatScreen, "_refresh_layout", checked)
    async with replying(monkeypatch, SECTION * 2) as (app, pilot, gate):
        while gate.sent < len(gate.chunks):
            await gate.let_through(pilot, 3)
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert len(splices) > 10
    assert told_wrong == []
