"""Snapshots of voice mode: the meter in each state, the chat screen with voice on, and a saved
chat with spoken turns opened again (each marked spoken; the cut reply with the words heard).

The meter is given fixed readings through `AudioMeter.show`, so what is drawn never depends on
timing. Update them with `python -m pytest tests/ui/test_voice_snapshots.py --snapshot-update`
after checking the report that a failing run writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from tui_chat.chunks import ReplyStatus, Role
from tui_chat.session import Choices, build_session, start_history
from tui_chat.store.history import open_store
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.widgets.audio_meter import AudioMeter
from tui_chat.voice.meter import MeterLevels

from .conftest import SIZE, fixed_clock, screen_text
from .test_chat_screen import wait_for
from .test_voice import feed, meter, replies, silence, speech, voice_app, voice_on

QUIET = MeterLevels()
READINGS: dict[str, tuple[str, MeterLevels, MeterLevels]] = {
    "muted": ("push-to-talk", MeterLevels(-47.0, -39.5, -31.0), QUIET),
    "listening": ("hands-free", MeterLevels(-52.0, -45.0, -41.0), QUIET),
    "speaking": ("push-to-talk", MeterLevels(-21.5, -9.0, -4.5), QUIET),
    "assistant": ("hands-free", MeterLevels(-58.0, -50.0, -44.0), MeterLevels(-16.0, -6.5, -2.5)),
    "interrupted": ("hold", MeterLevels(-11.0, -0.1, 0.0, clipped=True), MeterLevels(-30.0, -19.0, -7.0)),
}


class MeterApp(App[None]):
    """One meter showing fixed readings."""

    CSS = "AudioMeter { display: block; }"

    def __init__(self, state: str) -> None:
        super().__init__()
        self.state = state

    def compose(self) -> ComposeResult:
        yield AudioMeter()

    def on_mount(self) -> None:
        mode, input, output = READINGS[self.state]
        meter = self.query_one(AudioMeter)
        meter.set_mode(mode)
        meter.show(input, output, self.state)


@pytest.mark.parametrize("state", list(READINGS))
def test_meter(snap_compare, state: str) -> None:
    assert snap_compare(MeterApp(state), terminal_size=(100, 1))


async def _settle(pilot: Pilot, state: str, output: MeterLevels) -> None:
    """Fixed meter readings, no notifications: nothing left that depends on timing."""
    meter(pilot.app).show(MeterLevels(-54.0, -47.0, -12.0), output, state)  # type: ignore[arg-type]
    pilot.app.clear_notifications()
    await pilot.pause()


def test_chat_in_voice_mode(snap_compare) -> None:
    app, rig = voice_app()

    async def run_before(pilot: Pilot) -> None:
        source = await voice_on(pilot, rig)
        await pilot.press("f4")
        await feed(pilot, source, speech(1.0))
        await pilot.press("f4")
        await feed(pilot, source, silence(0.02))
        await wait_for(pilot, lambda: bool(replies(app)) and replies(app)[0].status is ReplyStatus.COMPLETE)
        await _settle(pilot, "assistant", MeterLevels(-17.0, -5.5, -3.0))

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_chat_with_an_interrupted_voice_reply(snap_compare) -> None:
    app, rig = voice_app(hold_after_s=0.3)

    async def run_before(pilot: Pilot) -> None:
        source = await voice_on(pilot, rig)
        await pilot.press("f4")
        await feed(pilot, source, speech(1.0))
        await pilot.press("f4")
        await feed(pilot, source, silence(0.02))
        await wait_for(pilot, lambda: bool(replies(app)) and bool(replies(app)[0].text))
        await feed(pilot, source, silence(1.0))
        await pilot.press("f4")
        await feed(pilot, source, speech(0.1))
        await wait_for(pilot, lambda: replies(app)[0].status is ReplyStatus.INTERRUPTED)
        await _settle(pilot, "interrupted", QUIET)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)



def test_chat_while_the_user_is_heard(snap_compare) -> None:
    """A partial transcript: one dimmed entry, growing, its untrusted text shown as text."""
    from .test_voice import UNTRUSTED, hear

    app, rig = voice_app()

    async def run_before(pilot: Pilot) -> None:
        await voice_on(pilot, rig)
        await hear(pilot, "What is ", "the weather ", UNTRUSTED)
        await _settle(pilot, "speaking", QUIET)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_chat_with_a_voice_reply_stopped_with_escape(snap_compare) -> None:
    from .test_voice import talk_and_get_a_reply_playing

    app, rig = voice_app(hold_after_s=0.6)

    async def run_before(pilot: Pilot) -> None:
        source = await voice_on(pilot, rig)
        await talk_and_get_a_reply_playing(pilot, source)
        await pilot.press("escape")
        await wait_for(pilot, lambda: replies(app)[0].status is ReplyStatus.INTERRUPTED)
        await _settle(pilot, "interrupted", QUIET)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def _save_a_voice_chat(db: Path) -> None:
    """Two spoken exchanges (the first reply cut by the second question), then a typed one."""
    store = open_store(db)
    chat = store.new_chat(provider="demo", model="demo-1")
    spoken = [
        (Role.USER, "What is the weather like in Lisbon?", ReplyStatus.COMPLETE, (500, 2300, False)),
        (Role.ASSISTANT, "It is sunny and warm, with", ReplyStatus.INTERRUPTED, (2900, 4100, False)),
        (Role.USER, "And tomorrow?", ReplyStatus.COMPLETE, (4000, 4900, True)),
        (Role.ASSISTANT, "Rain tomorrow, from the afternoon.", ReplyStatus.COMPLETE, (5600, 8200, False)),
    ]
    for role, text, status, (started, ended, barge_in) in spoken:
        message = store.add_message(chat, role, text, status=status, provider="openai-realtime" if role is Role.ASSISTANT else None)
        store.mark_voice(message, started_ms=started, ended_ms=ended, barge_in=barge_in)
    store.add_message(chat, Role.USER, "thanks, typed this time")
    store.add_message(chat, Role.ASSISTANT, "You are welcome.")
    store.close()


def test_a_reopened_chat_with_spoken_turns(snap_compare, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    _save_a_voice_chat(data / "tui-chat" / "chats.db")
    choices = Choices(provider="demo", provider_options={"speed": 0}, continue_chat=True)
    session = build_session(choices)
    start_history(session, choices)
    app = TuiChatApp(session, clock=fixed_clock, save_settings=False, approval_arm_delay=0, tune_collector=False, blink=False)

    async def run_before(pilot: Pilot) -> None:
        await wait_for(pilot, lambda: len(replies(app)) == 3 and all(r.status is not ReplyStatus.STREAMING for r in replies(app)))
        await pilot.app.workers.wait_for_complete()
        await wait_for(pilot, lambda: "You are welcome." in screen_text(pilot.app))

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    session.close_history()
