"""One line under the prompt: provider, model, prompt pack, whether the chat is not saved, reply
state, elapsed time, and what the last turn used and cost (tokens in and out, the context window
in use, the turn's and the chat's cost).

States: idle, waiting for the first token (with a spinner), streaming (characters and tokens per
second), retrying, done, cancelled, interrupted, error. Time comes from the app's clock so that
snapshot tests can fix it. The tokens-per-second clock stops while the reply waits on the person
(a tool call waiting for approval), so a long think does not read as a slow model.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from rich.text import Text
from textual.widget import Widget

from .._textual_frames import AncestryKept, repaint_with_next_frame

UNSAVED_MARK = "not saved"
"""Shown before the reply's state while nothing of the chat is saved (incognito, or saving failed)."""

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

TICK = 1 / 10
"""Seconds between two updates of the spinner, the elapsed time and the rate while a reply runs."""
STREAMING_TICKS = 3
"""While text streams in, the line is updated every this many ticks (the first tick of it at once):
its counters change with every chunk, and each update is a repaint of the line (at 50 chunks/s, ten
a second were ~4% of the app's CPU) for figures nobody reads that fast. Counted in ticks, not by the
clock, which snapshot tests stop."""


@dataclass(slots=True)
class ReplyStats:
    """What is known about the reply being shown."""

    state: str = "idle"
    started: float = 0.0
    first_token: float | None = None
    ended: float | None = None
    chars: int = 0
    tokens: int = 0
    detail: str = ""
    paused_at: float | None = None
    """When the rate clock stopped (the reply waits on the person), while it is stopped."""
    paused_for: float = 0.0
    """Seconds since the first token that the rate clock was stopped."""

    def rate_span(self, now: float) -> float:
        """Seconds from the first token to the end (or `now`) that count for the rate."""
        if self.first_token is None:
            return 0.0
        stopped = self.paused_for
        if self.paused_at is not None:
            stopped += now - max(self.paused_at, self.first_token)
        return (self.ended or now) - self.first_token - stopped

    def pause(self, paused: bool, now: float) -> None:
        """Stop (True) or restart (False) the rate clock; either when it already is does nothing."""
        if paused and self.paused_at is None:
            self.paused_at = now
        elif not paused and self.paused_at is not None:
            if self.first_token is not None:
                self.paused_for += now - max(self.paused_at, self.first_token)
            self.paused_at = None


class StatusBar(AncestryKept, Widget):
    """Shows where the chat goes and how the current reply is doing."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
    }
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.provider = ""
        self.model = ""
        self.prompt_label = ""
        self.stats = ReplyStats()
        self.problem = ""
        """What stops the chat before any reply (a missing API key), shown while idle."""
        self.usage = ""
        """What the last turn used and cost, and the chat so far (`models.usage.usage_line`)."""
        self.unsaved = False
        """Nothing of the chat is saved: `UNSAVED_MARK` stays on the line, whatever its width."""
        self._ticker = None
        self._ticks_unshown = 0
        """Ticks since the last one that asked for a repaint."""

    def describe(self, provider: str, model: str, prompt_label: str) -> None:
        """Set what the left side says."""
        self.provider, self.model, self.prompt_label = provider, model, prompt_label
        self.refresh()

    def alert(self, problem: str) -> None:
        """Show `problem` in place of "ready" until a reply begins."""
        self.problem = problem
        self.refresh()

    def mark_unsaved(self) -> None:
        """Say, from now on, that the chat is not saved."""
        self.unsaved = True
        self.refresh()

    def show_usage(self, line: str) -> None:
        """Show what the last turn used and cost ("" shows nothing)."""
        self.usage = line
        self.refresh()

    # --- the reply's life ---------------------------------------------------------------------

    def begin(self) -> None:
        self.stats = ReplyStats(state="waiting", started=self.clock())
        if self._ticker is None:
            self._ticker = self.set_interval(TICK, self._tick)
        self.refresh()

    def _tick(self) -> None:
        """Show the time gone on: with the next frame (while text streams, the reply's), or on its own
        within a tick if none comes (the spinner while the first token is awaited, a pause); while
        text streams, every STREAMING_TICKS ticks."""
        self._ticks_unshown += 1
        if self.stats.state == "streaming" and self._ticks_unshown < STREAMING_TICKS:
            return
        self._ticks_unshown = 0
        repaint_with_next_frame(self, within=TICK)

    def text_received(self, text: str) -> None:
        stats = self.stats
        if stats.first_token is None:
            stats.first_token = self.clock()
            self._ticks_unshown = STREAMING_TICKS  # the first tick shows that text streams
        stats.state = "streaming"
        stats.chars += len(text)
        stats.tokens += 1

    def waiting_on_person(self, waiting: bool) -> None:
        """The reply waits on the person (True), or goes on (False): the rate leaves the wait out."""
        self.stats.pause(waiting, self.clock())

    def retrying(self, delay: float, attempt: int, attempts: int) -> None:
        self.stats.state = "retrying"
        self.stats.detail = f"retrying in {delay:.0f} s (attempt {attempt} of {attempts})"
        self.refresh()

    def end(self, state: str, *, tokens: int | None = None, detail: str = "") -> None:
        """The reply ended as `state` (done, cancelled, interrupted, error)."""
        stats = self.stats
        stats.pause(False, self.clock())
        stats.state, stats.ended, stats.detail = state, self.clock(), detail
        if tokens:
            stats.tokens = tokens
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None
        self.refresh()

    # --- drawing ------------------------------------------------------------------------------

    def _rate(self, now: float) -> float:
        span = self.stats.rate_span(now)
        return self.stats.tokens / span if span > 0 else 0.0

    def _state_text(self, now: float) -> tuple[str, str]:
        stats = self.stats
        elapsed = (stats.ended or now) - stats.started
        match stats.state:
            case "idle":
                return (self.problem, "$error") if self.problem else ("ready", "")
            case "waiting":
                return f"{SPINNER[int(elapsed * 10) % len(SPINNER)]} waiting for the first token", "$accent"
            case "streaming":
                return f"streaming {stats.chars:,} chars · {self._rate(now):.0f} tok/s", "$accent"
            case "retrying":
                return stats.detail, "$warning"
            case "done":
                return f"done · {stats.tokens:,} tokens · {self._rate(now):.0f} tok/s", "$success"
            case "error":
                return f"error: {stats.detail}", "$error"
            case _:
                shown = stats.detail and stats.detail != stats.state  # "cancelled", not "cancelled: cancelled"
                return stats.state + (f": {stats.detail}" if shown else ""), "$warning"

    DROP_FIRST = ("elapsed", "label", "usage", "model", "provider")
    """Items left out, in this order, until the line fits: the reply's state always stays."""

    def render(self) -> Text:
        """The items that fit, whole: those in `DROP_FIRST` go first, in its order."""
        now = self.clock()
        state, colour = self._state_text(now)
        items: dict[str, tuple[str, str]] = {"provider": (self.provider, "bold"), "model": (self.model, "")}
        if self.prompt_label:
            items["label"] = (self.prompt_label, "")
        if self.unsaved:
            items["saving"] = (UNSAVED_MARK, self.app.theme_variables.get("warning", ""))
        items["state"] = (state, self.app.theme_variables.get(colour.lstrip("$"), "") if colour else "")
        if self.stats.state != "idle":
            items["elapsed"] = (f"{(self.stats.ended or now) - self.stats.started:.1f} s", "")
        if self.usage:
            items["usage"] = (self.usage, "")
        width = self.content_size.width
        for dropped in range(len(self.DROP_FIRST) + 1):
            text = self._line({k: v for k, v in items.items() if k not in self.DROP_FIRST[:dropped]})
            if text.cell_len <= width:
                break
        return text

    @staticmethod
    def _line(items: dict[str, tuple[str, str]]) -> Text:
        """The items in their order: " · " within where the chat goes, "  │  " before the state and the time."""
        text = Text(no_wrap=True, overflow="ellipsis")
        for name, (words, style) in items.items():
            if text:
                text.append("  │  " if name in ("saving", "state", "elapsed", "usage") else " · ")
            text.append(words, style=style)
        return text
