"""FlushPacer: a flood judged from what is pending, how fast text arrives and how fast flushes took it on;
the flush budgets.

Pure bookkeeping on a fake clock: every time is passed in.
"""

from __future__ import annotations

from tui_chat.ui.widgets.markdown.pacing import FlushPacer

SCREEN = 4320  # 120 x 36 characters: what a 120x40 terminal's log holds


def started(now: float) -> FlushPacer:
    """A pacer whose reply's first flush (its first chunk, alone) started at `now`."""
    pacer = FlushPacer()
    pacer.arrived(20)
    assert not pacer.flooded(pending=0, taken=20, screen=SCREEN, now=now)
    return pacer


def flushes(
    pacer: FlushPacer, now: float, *, every: float, arriving: int, count: int, pending: int, taken: int
) -> tuple[float, list[bool]]:
    """`count` flushes `every` seconds from `now`, `arriving` characters before each: the last one's
    time and whether each judged a flood."""
    floods = []
    for _ in range(count):
        pacer.arrived(arriving)
        now += every
        floods.append(pacer.flooded(pending=pending, taken=taken, screen=SCREEN, now=now))
    return now, floods


def test_a_zero_delay_backlog_is_a_flood_however_little_is_pending_when_the_flush_starts() -> None:
    """Whichever of the next flush and the arrivals runs first, a backlog is judged the same.

    At zero delay text comes at ~100,000 characters a second while the loop is free. A flush that
    starts 5 ms after the first, having taken all 500 characters that came, sees the same flood as
    one that starts 50 ms after it with 5,000 in and 4,000 left.
    """
    early, late = started(1.000), started(1.000)
    early.arrived(500)
    late.arrived(5000)
    assert early.flooded(pending=0, taken=500, screen=SCREEN, now=1.005)
    assert late.flooded(pending=4000, taken=1000, screen=SCREEN, now=1.050)


def test_a_model_speed_stream_is_never_a_flood() -> None:
    """200 chunks a second of 8 characters (a fast model), each flush 30 ms taking all: never a flood."""
    _, floods = flushes(started(1.0), 1.0, every=0.030, arriving=48, count=100, pending=0, taken=48)
    assert not any(floods)


def test_a_lull_in_a_flood_does_not_end_it() -> None:
    """Three frames in which little came (the loop busy elsewhere) after a flood: still a flood."""
    pacer = started(1.0)
    now, flood = flushes(pacer, 1.0, every=0.020, arriving=5000, count=5, pending=2000, taken=3000)
    _, lull = flushes(pacer, now, every=0.020, arriving=50, count=3, pending=0, taken=50)
    assert all(flood) and all(lull)


def test_a_flood_ends_a_fraction_of_a_second_after_text_stops_coming_or_at_once_when_the_stream_ended() -> None:
    pacer = started(1.0)
    now, _ = flushes(pacer, 1.0, every=0.020, arriving=5000, count=5, pending=0, taken=5000)
    assert not pacer.flooded(pending=0, taken=0, screen=SCREEN, now=now + 0.001, ended=True)
    assert pacer.flooded(pending=0, taken=0, screen=SCREEN, now=now + 0.1)
    assert not pacer.flooded(pending=0, taken=0, screen=SCREEN, now=now + 1.0)


def test_text_waiting_longer_than_flushes_take_to_show_it_is_a_flood() -> None:
    """Slow flushes on a loaded machine leave the arriving text little loop time: it seems to come
    slowly (well under a screen a quarter second), but 1,500 characters wait behind flushes that
    take on 256 every 150 ms. Less waiting than they show meanwhile is not."""
    _, floods = flushes(started(1.0), 1.0, every=0.150, arriving=250, count=10, pending=1500, taken=256)
    assert floods[-1]
    assert not FlushPacer().flooded(pending=200, taken=256, screen=SCREEN, now=1.0)


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
