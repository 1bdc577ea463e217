"""FlushPacer: a flood judged from what is pending and how fast text arrives, and the flush budgets.

Pure bookkeeping on a fake clock: every time is passed in.
"""

from __future__ import annotations

from tui_chat.ui.widgets.markdown.pacing import FlushPacer

SCREEN = 4320  # 120 x 36 characters: what a 120x40 terminal's log holds


def arrive(pacer: FlushPacer, chars: int, pieces: int) -> None:
    for _ in range(pieces):
        pacer.arrived(chars)


def test_a_zero_delay_backlog_is_a_flood_however_little_is_pending_when_the_flush_starts() -> None:
    """Whichever of the first flush and the arrivals runs first, a backlog is judged the same.

    At zero delay text comes at ~100,000 characters a second while the loop is free. A flush
    that starts 5 ms after the last one ended, with 500 characters in and none left after it,
    sees the same flood as one that starts 50 ms later with 5,000 in and 4,000 left.
    """
    early, late = FlushPacer(), FlushPacer()
    early.flushed(1.000)
    late.flushed(1.000)
    arrive(early, 10, 50)  # 500 characters in 5 ms
    arrive(late, 10, 500)  # 5,000 characters in 50 ms
    assert early.flooded(pending=0, screen=SCREEN, now=1.005)
    assert late.flooded(pending=4000, screen=SCREEN, now=1.050)


def test_a_model_speed_stream_is_never_a_flood() -> None:
    """200 chunks a second of 8 characters (a fast model), flushed every 30 ms: never a flood."""
    pacer = FlushPacer()
    now = 1.0
    pacer.flushed(now)
    for _ in range(100):
        arrive(pacer, 8, 6)
        now += 0.030
        assert not pacer.flooded(pending=0, screen=SCREEN, now=now)
        now += 0.002
        pacer.flushed(now)


def test_time_a_flush_held_does_not_dilute_the_rate() -> None:
    """A flush that held (or awaited) for seconds: the rate is measured from its end, not its start.

    What arrived during it is pending (the caller's count); the flood goes on as long as text keeps
    coming as fast once the loop is free again.
    """
    pacer = FlushPacer()
    pacer.flushed(1.0)
    arrive(pacer, 10, 300)  # arrived during the long flush below: pending, not the rate
    assert pacer.flooded(pending=3000, screen=SCREEN, now=1.015)
    pacer.flushed(4.0)  # a flush that took three seconds
    arrive(pacer, 10, 100)  # 1,000 characters in the 10 ms after it
    assert pacer.flooded(pending=1000, screen=SCREEN, now=4.010)


def test_the_flood_ends_when_text_stops_coming_and_a_screen_or_less_waits() -> None:
    pacer = FlushPacer()
    pacer.flushed(1.0)
    assert not pacer.flooded(pending=SCREEN, screen=SCREEN, now=1.020)
    assert pacer.flooded(pending=SCREEN + 1, screen=SCREEN, now=1.020)


def test_one_slow_flush_at_most_halves_the_budget() -> None:
    """A flush that held a layout (100 ms against a 15 ms target) does not send the budget to its floor."""
    pacer = FlushPacer(start=1024, minimum=256)
    pacer.adapt(elapsed=0.100, target=0.015)
    assert pacer.budget == 512
    pacer.adapt(elapsed=0.020, target=0.015)
    assert pacer.budget == 384  # a flush near its target: aimed at it


def test_catching_up_has_a_budget_of_its_own() -> None:
    """Parking text is far cheaper per character than building it: a catch-up's large slices are
    not what a flush that builds widgets takes on after it."""
    pacer = FlushPacer(start=1024, minimum=256, maximum=1 << 20)
    for _ in range(5):
        pacer.adapt(elapsed=0.002, target=0.020, catching_up=True)
    assert pacer.limit(catching_up=True) == 32 * 1024
    assert pacer.limit(catching_up=False) == 1024
    pacer.adapt(elapsed=0.060, target=0.015)
    assert pacer.limit(catching_up=False) == 512
    assert pacer.limit(catching_up=True) == 32 * 1024
