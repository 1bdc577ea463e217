"""Voice mode in the chat screen, on the demo voice provider, with generated audio and no sound card.

The microphone is a `FedSource`: frames come only when the test feeds them, so audio time (which
drives turns, key timing and the meter) is the test's, and nothing waits on the wall clock. The
speaker is the virtual `ClockedSink`, advanced by the input. Device failures use a source that
raises the audio layer's `AudioDeviceError`, or the real device classes on a fake sounddevice.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, AsyncIterator

import numpy as np
import pytest
from textual.pilot import Pilot

from tests.audio.fake_sounddevice import FakeDevice, FakeSoundDevice, without_portaudio
from tui_chat.audio.errors import AudioDeviceError
from tui_chat.audio.playback import ClockedSink
from tui_chat.audio.synth import speech_like
from tui_chat.audio.vad import EnergyVad
from tui_chat.chunks import ReplyStatus, Role
from tui_chat.providers.demo import compose_reply
from tui_chat.ui.app import TuiChatApp
from tui_chat.ui.screens.chat import ChatScreen
from tui_chat.ui.screens.help import HelpScreen
from tui_chat.ui.voice import VoiceController, VoiceSetup
from tui_chat.voice.dispatch import dispatch
from tui_chat.voice.modal_turns import KeyTiming, ModalTurns
from tui_chat.ui.widgets.audio_meter import AudioMeter
from tui_chat.ui.widgets.chat_log import ChatLog
from tui_chat.ui.widgets.message import AssistantMessage, UserMessage
from tui_chat.ui.widgets.prompt_input import PromptInput

from .conftest import SIZE, make_app, screen_text
from .test_chat_screen import wait_for

RATE = 16000
FRAME = RATE // 50


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(round(seconds * RATE)), dtype=np.int16)


def speech(seconds: float, text: str = "Hello there, how are you today? Tell me a story about the sea.") -> np.ndarray:
    """Exactly `seconds` of the demo's speech-like voice."""
    voice = speech_like(text, RATE)
    return np.resize(voice, int(round(seconds * RATE)))


class FedSource:
    """A microphone stand-in: frames come when the test feeds them; `lose()` fails it like a lost device."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.frame_samples = rate // 50
        self.warnings: list[str] = []
        self.fed = 0
        self.taken = 0
        self.closed = False
        self._queue: asyncio.Queue[Any] = asyncio.Queue()

    def feed(self, samples: np.ndarray) -> None:
        n = self.frame_samples
        samples = np.asarray(samples, dtype=np.int16)
        samples = np.concatenate((samples, np.zeros((-samples.size) % n, dtype=np.int16)))
        for first in range(0, samples.size, n):
            self._queue.put_nowait(samples[first : first + n])
            self.fed += 1

    def lose(self) -> None:
        self._queue.put_nowait(AudioDeviceError("the microphone 'USB mic' stopped: the device was lost or failed", hint="check that it is connected"))

    async def frames(self) -> AsyncIterator[np.ndarray]:
        while not self.closed:
            item = await self._queue.get()
            if item is None:
                return
            if isinstance(item, BaseException):
                raise item
            self.taken += 1
            yield item

    async def aclose(self) -> None:
        self.closed = True
        self._queue.put_nowait(None)


class Rig:
    """The injected audio: every source made, and the sinks."""

    def __init__(self) -> None:
        self.sources: list[FedSource] = []
        self.sinks: list[ClockedSink] = []

    def source(self, rate: int) -> FedSource:
        source = FedSource(rate)
        self.sources.append(source)
        return source

    async def sink(self, rate: int) -> ClockedSink:
        sink = ClockedSink(rate)
        self.sinks.append(sink)
        return sink


def voice_app(*, timing: KeyTiming | None = None, **provider_options: Any) -> tuple[TuiChatApp, Rig]:
    rig = Rig()
    app = make_app()
    app.voice_setup = VoiceSetup(
        source_factory=rig.source,
        sink_factory=rig.sink,
        provider_options=provider_options,
        timing=timing or KeyTiming(),
    )
    return app, rig


def chat(app: TuiChatApp) -> ChatScreen:
    assert isinstance(app.screen, ChatScreen)
    return app.screen


def controller(app: TuiChatApp) -> VoiceController:
    voice = chat(app).voice
    assert voice is not None
    return voice


def meter(app: TuiChatApp) -> AudioMeter:
    return app.query_one(AudioMeter)


def notices(app: TuiChatApp) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


async def voice_on(pilot: Pilot, rig: Rig) -> FedSource:
    await pilot.press("f5")
    await wait_for(pilot, lambda: chat(pilot.app).voice is not None and chat(pilot.app).voice.running and meter(pilot.app).display)  # type: ignore[union-attr]
    return rig.sources[-1]


async def feed(pilot: Pilot, source: FedSource, samples: np.ndarray) -> None:
    """Feed audio and let the session take all of it (each frame is processed as it is taken)."""
    source.feed(samples)
    await wait_for(pilot, lambda: source.taken == source.fed)
    await pilot.pause()


async def play_out(pilot: Pilot, source: FedSource, rig: Rig) -> None:
    """Feed silence until the replies' audio has all been played (a reply ends when heard out)."""
    while rig.sinks[-1].pending_s:
        await feed(pilot, source, silence(0.5))


def user_texts(app: TuiChatApp) -> list[str]:
    return [m.text for m in app.query(UserMessage)]


def replies(app: TuiChatApp) -> list[AssistantMessage]:
    return app.query_one(ChatLog).replies


async def wait_for_reply(pilot: Pilot, count: int, status: ReplyStatus = ReplyStatus.COMPLETE) -> AssistantMessage:
    await wait_for(pilot, lambda: len(replies(pilot.app)) >= count and replies(pilot.app)[count - 1].status is status)
    return replies(pilot.app)[count - 1]


# --- on and off ----------------------------------------------------------------------------------


async def test_f5_turns_voice_on_and_off() -> None:
    app, rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        assert not meter(app).display
        source = await voice_on(pilot, rig)
        assert controller(app).provider == "demo"
        assert meter(app).display and meter(app).state == "muted" and meter(app).mode == "push-to-talk"
        assert any("Voice on with demo" in n and "F4" in n for n in notices(app))
        await pilot.pause()
        assert "f4 Talk" in screen_text(app) and "f3 Voice mode" in screen_text(app)

        await pilot.press("f5")
        await wait_for(pilot, lambda: source.closed and rig.sinks[-1] is not None)
        assert chat(app).voice is None and not meter(app).display
        await pilot.pause()
        assert "f4 Talk" not in screen_text(app) and "f5 Voice" in screen_text(app)

        # On again: a new session.
        await voice_on(pilot, rig)
        assert len(rig.sources) == 2


async def test_the_talk_and_mode_keys_do_nothing_while_voice_is_off() -> None:
    app, _rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4", "f3")
        assert chat(app).voice is None and chat(app).voice_mode == "push-to-talk"
        assert app.query_one(PromptInput).text == ""


async def test_a_text_provider_without_voice_falls_back_to_the_demo_and_says_so() -> None:
    rig = Rig()
    app = make_app()
    app.voice_setup = VoiceSetup(source_factory=rig.source, sink_factory=rig.sink)
    app.session.provider_name = "cohere"  # a text provider with no voice sessions
    async with app.run_test(size=SIZE) as pilot:
        await voice_on(pilot, rig)
        assert controller(app).provider == "demo"
        assert any("cohere has no voice sessions: using the offline voice demo" in n for n in notices(app))


# --- turns ---------------------------------------------------------------------------------------


async def test_push_to_talk_turn_gives_a_transcript_and_a_reply() -> None:
    app, rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        await feed(pilot, source, speech(0.5))  # muted: nothing of it is a turn
        assert not controller(app).turns.in_turn  # type: ignore[union-attr]
        assert meter(app).state == "muted"

        await pilot.press("f4")
        await feed(pilot, source, speech(1.0))
        assert controller(app).turns.in_turn  # type: ignore[union-attr]
        assert meter(app).state == "speaking"
        await pilot.press("f4")
        await feed(pilot, source, silence(0.02))

        reply = await wait_for_reply(pilot, 1)
        [heard] = user_texts(app)
        assert heard.startswith("(1.0 s of audio, ")  # exactly the audio between the two presses
        assert reply.text.startswith("I heard 1.0 seconds of audio at ")
        # The reply's audio went to the speaker: the meter says so while it plays.
        assert rig.sinks[-1].pending_s > 0
        await feed(pilot, source, silence(0.1))
        assert meter(app).state == "assistant"
        assert meter(app).output.hold_db > -20  # its held peak (the level itself may be in a gap between words)


async def test_hold_mode_keeps_talking_while_the_key_repeats_and_stops_after_the_timeout() -> None:
    timing = KeyTiming(first_s=0.7, release_s=0.25)
    app, rig = voice_app(timing=timing)
    async with app.run_test(size=SIZE) as pilot:
        chat(app).set_voice_mode("hold")  # as the command palette does; F3 works only in voice mode
        source = await voice_on(pilot, rig)
        turns = controller(app).turns
        assert turns is not None and turns.mode == "hold"
        assert meter(app).mode == "hold"
        await feed(pilot, source, silence(0.2))

        await pilot.press("f4")  # pressed at 0.2 s: talking until 0.9 s unless it repeats
        await feed(pilot, source, speech(0.4))
        await pilot.press("f4")  # auto-repeat at 0.6 s: until 0.85 s
        await feed(pilot, source, speech(0.2))
        await pilot.press("f4")  # auto-repeat at 0.8 s: until 1.05 s
        await feed(pilot, source, speech(0.24))
        assert turns.talking and turns.in_turn  # 1.04 s
        await feed(pilot, source, speech(0.02))  # the frame from 1.04 s still starts before 1.05 s
        assert turns.talking
        await feed(pilot, source, speech(0.02))  # the frame from 1.06 s: the key was let go
        assert not turns.talking and not turns.in_turn

        await wait_for_reply(pilot, 1)
        assert user_texts(app)[0].startswith("(0.9 s of audio, ")  # 0.2 s to 1.06 s
        assert meter(app).state in ("muted", "assistant")


async def test_hold_mode_talks_until_the_key_is_released_where_the_terminal_reports_releases() -> None:
    """With the kitty keyboard protocol's release events, a held F4 with no auto-repeat at all keeps
    talking past every timeout, and its release ends the turn at once (see ui/key_release.py)."""
    from tui_chat.ui.key_release import KeyReleased, KeyReleaseStatus

    app, rig = voice_app(timing=KeyTiming(first_s=0.7, release_s=0.25))
    async with app.run_test(size=SIZE) as pilot:
        chat(app).set_voice_mode("hold")
        source = await voice_on(pilot, rig)
        chat(app).post_message(KeyReleaseStatus(True, 27))  # the terminal's answer to the flags query
        await wait_for(pilot, lambda: controller(app).turns is not None and controller(app).turns.releases_reported)  # type: ignore[union-attr]
        turns = controller(app).turns
        assert turns is not None
        await feed(pilot, source, silence(0.2))
        await pilot.press("f4")  # pressed at 0.2 s, never repeated
        await feed(pilot, source, speech(1.5))  # far past first_s: still talking
        assert turns.talking and turns.in_turn
        app.screen.post_message(KeyReleased("f4"))
        await wait_for(pilot, lambda: not turns.talking)
        await feed(pilot, source, silence(0.04))
        assert not turns.in_turn
        await wait_for_reply(pilot, 1)
        assert user_texts(app)[0].startswith("(1.5 s of audio, ")  # 0.2 s to 1.7 s, ended by the release


async def test_hold_mode_keeps_its_timeout_where_the_terminal_does_not_report_releases() -> None:
    """No answer to the flags query (a terminal without the protocol): nothing changes."""
    app, rig = voice_app(timing=KeyTiming(first_s=0.7, release_s=0.25))
    async with app.run_test(size=SIZE) as pilot:
        chat(app).set_voice_mode("hold")
        source = await voice_on(pilot, rig)
        turns = controller(app).turns
        assert turns is not None and not turns.releases_reported
        await pilot.press("f4")
        await feed(pilot, source, speech(0.72))  # past first_s with no repeat: the key was let go
        assert not turns.talking


async def test_push_to_talk_ignores_the_auto_repeat_of_a_held_key() -> None:
    app, rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        turns = controller(app).turns
        assert turns is not None
        await pilot.press("f4")
        await feed(pilot, source, speech(0.5))  # held: auto-repeat starts after 0.5 s...
        for _ in range(10):  # ...and repeats every 40 ms
            await pilot.press("f4")
            await feed(pilot, source, speech(0.04))
        await feed(pilot, source, speech(0.5))  # let go
        assert turns.talking and turns.in_turn
        await pilot.press("f4")  # a new press: talking stops
        await feed(pilot, source, silence(0.02))
        assert not turns.talking and not turns.in_turn
        await wait_for_reply(pilot, 1)
        assert user_texts(app)[0].startswith("(1.4 s of audio, ")


async def test_a_quick_second_press_is_told_from_auto_repeat_by_what_follows_it() -> None:
    app, rig = voice_app(timing=KeyTiming(first_s=0.7, release_s=0.25))
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        turns = controller(app).turns
        assert turns is not None
        await pilot.press("f4")
        await feed(pilot, source, speech(0.5))
        await pilot.press("f4")  # 0.5 s after the press: a second press, or the key held down?
        await feed(pilot, source, speech(0.24))
        assert turns.talking  # not known yet
        await feed(pilot, source, speech(0.04))
        assert not turns.talking and not turns.in_turn  # no auto-repeat came: it was a press
        await wait_for_reply(pilot, 1)
        assert user_texts(app)[0].startswith("(0.8 s of audio, ")  # (sent until it was known)


async def test_hands_free_turns_are_taken_by_the_voice_detector() -> None:
    app, rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        app.screen.set_voice_mode("hands-free")  # type: ignore[attr-defined]
        assert meter(app).mode == "hands-free"
        await feed(pilot, source, silence(0.5))
        assert meter(app).state == "listening"
        await feed(pilot, source, speech(1.5))
        assert meter(app).state == "speaking"
        await feed(pilot, source, silence(1.2))
        reply = await wait_for_reply(pilot, 1)
        [heard] = user_texts(app)
        seconds = float(heard.removeprefix("(").split(" s of audio")[0])
        assert 1.5 <= seconds <= 1.5 + 0.3 + 0.8 + 0.1  # the speech, with the pre-roll and the silence that ended it
        assert reply.text.startswith(f"I heard {seconds:.1f} seconds of audio")

        # F4 mutes in hands-free: speech is no longer a turn.
        await pilot.press("f4")
        while rig.sinks[-1].pending_s:  # the reply plays out
            await feed(pilot, source, silence(0.5))
        await feed(pilot, source, silence(0.1))
        assert meter(app).state == "muted"
        await feed(pilot, source, np.concatenate((speech(1.5), silence(1.2))))
        assert len(user_texts(app)) == 1


async def test_switching_the_mode_ends_an_open_turn() -> None:
    app, rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        await pilot.press("f4")
        await feed(pilot, source, speech(0.6))
        await pilot.press("f3")  # -> hold: the push-to-talk turn ends and is answered
        await feed(pilot, source, silence(0.04))
        assert controller(app).turns.mode == "hold" and not controller(app).turns.in_turn  # type: ignore[union-attr]
        await wait_for_reply(pilot, 1)
        assert user_texts(app)[0].startswith("(0.6 s of audio, ")


async def test_speaking_over_a_reply_interrupts_it() -> None:
    app, rig = voice_app(hold_after_s=0.3)  # the demo stops sending its reply after 0.3 s of audio
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        await pilot.press("f4")
        await feed(pilot, source, speech(1.0))
        await pilot.press("f4")
        await feed(pilot, source, silence(0.02))
        await wait_for(pilot, lambda: len(replies(app)) == 1 and bool(replies(app)[0].text))
        await feed(pilot, source, silence(1.0))
        assert meter(app).state == "assistant"

        await pilot.press("f4")  # talking over the reply
        await feed(pilot, source, speech(0.1))
        reply = await wait_for_reply(pilot, 1, ReplyStatus.INTERRUPTED)
        await wait_for(pilot, lambda: meter(app).state == "interrupted")
        assert "interrupted" in str(reply.status_line.render())
        assert rig.sinks[-1].pending_s == 0  # what was left of its audio was dropped
        assert reply.text  # the words said before the cut stay


async def test_typed_text_goes_to_the_voice_session_while_voice_is_on() -> None:
    app, rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        await voice_on(pilot, rig)
        app.query_one(PromptInput).insert("hello there")
        await pilot.press("enter")
        reply = await wait_for_reply(pilot, 1)
        assert user_texts(app) == ["hello there"]
        assert reply.text == "You wrote 2 words. This is the offline voice demo."


async def test_the_meter_is_updated_about_30_times_a_second_of_audio() -> None:
    app, rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        await feed(pilot, source, silence(0.1))
        before = meter(app).updates
        await feed(pilot, source, silence(2.0))  # 100 level readings
        assert 58 <= meter(app).updates - before <= 62


# --- failures ------------------------------------------------------------------------------------


async def type_and_get_a_text_reply(pilot: Pilot) -> None:
    app = pilot.app
    count = len(replies(app))  # type: ignore[arg-type]
    app.query_one(PromptInput).insert("still there?")
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    reply = await wait_for_reply(pilot, count + 1)
    assert reply.text == compose_reply("still there?", 1)


async def test_a_microphone_that_cannot_be_opened_turns_voice_off_and_text_goes_on() -> None:
    def no_microphone(rate: int) -> Any:
        raise AudioDeviceError("no microphone (input device) found", hint="check that the device is connected")

    rig = Rig()
    app = make_app()
    app.voice_setup = VoiceSetup(source_factory=no_microphone, sink_factory=rig.sink)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: any("Voice off" in n for n in notices(app)))
        [notice] = [n for n in notices(app) if "Voice off" in n]
        assert "no microphone (input device) found" in notice and "check that the device is connected" in notice
        assert "Text chat still works" in notice
        assert chat(app).voice is None and not meter(app).display
        await type_and_get_a_text_reply(pilot)


async def test_a_device_lost_mid_session_turns_voice_off_and_text_goes_on() -> None:
    app, rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        await pilot.press("f4")
        await feed(pilot, source, speech(0.5))
        source.lose()
        await wait_for(pilot, lambda: chat(app).voice is None)
        [notice] = [n for n in notices(app) if "Voice off" in n]
        assert "'USB mic' stopped" in notice and "check that it is connected" in notice
        assert source.closed and not meter(app).display
        await type_and_get_a_text_reply(pilot)


async def test_portaudio_missing_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    without_portaudio(monkeypatch)
    app = make_app()  # the real microphone and speaker
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: any("Voice off" in n for n in notices(app)))
        [notice] = [n for n in notices(app) if "Voice off" in n]
        assert "PortAudio" in notice and "libportaudio2" in notice
        await type_and_get_a_text_reply(pilot)


async def test_no_microphone_on_a_machine_with_only_a_speaker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sounddevice", FakeSoundDevice([FakeDevice("Speakers", outputs=2)]))
    app = make_app()  # the real device classes, on the fake sounddevice
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: any("Voice off" in n for n in notices(app)))
        [notice] = [n for n in notices(app) if "Voice off" in n]
        assert "no microphone (input device) found" in notice
        await type_and_get_a_text_reply(pilot)


async def test_a_microphone_lost_through_portaudio(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = [np.asarray(speech(0.02), dtype=np.int16) for _ in range(10)]
    fake = FakeSoundDevice([FakeDevice("USB mic", inputs=1, rate=16000), FakeDevice("Speakers", outputs=1, rate=24000)], input_blocks=blocks, lose_device_after_blocks=True)
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await wait_for(pilot, lambda: any("Voice off" in n for n in notices(app)))
        [notice] = [n for n in notices(app) if "Voice off" in n]
        assert "the microphone 'USB mic' stopped: the device was lost or failed" in notice
        assert all(stream.closed for stream in fake.streams)
        await type_and_get_a_text_reply(pilot)


# --- keys ----------------------------------------------------------------------------------------


async def test_the_voice_keys_are_listed_in_help_and_the_palette() -> None:
    app, _rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "f5 Voice" in screen_text(app)  # in the footer
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key, action in (("f5", "Voice"), ("f4", "Talk"), ("f3", "Voice mode")):
            assert any(key in line and action in line for line in text.splitlines()), (key, action)
        await pilot.press("escape")
        titles = [command.title for command in app.get_system_commands(app.screen)]
        assert {"Voice", "Voice mode: push-to-talk", "Voice mode: hold to talk", "Voice mode: hands-free"} <= set(titles)


# --- the turn taker alone ------------------------------------------------------------------------


def test_modal_turns_cut_a_long_push_to_talk_turn_and_go_on() -> None:
    from tui_chat.voice.turns import TurnEnd, TurnParams, TurnStart

    turns = ModalTurns(EnergyVad(RATE), TurnParams(max_turn_s=1.0))
    turns.key()
    events = [e for _ in range(75) for e in turns.process(np.zeros(FRAME, dtype=np.int16))]
    assert [type(e).__name__ for e in events if not type(e).__name__ == "TurnAudio"] == ["TurnStart", "TurnEnd", "TurnStart"]
    ends = [e for e in events if isinstance(e, TurnEnd)]
    starts = [e for e in events if isinstance(e, TurnStart)]
    assert ends[0].reason == "max_length" and ends[0].at == pytest.approx(1.0) and starts[1].continued
    assert [e.reason for e in turns.finish()] == ["input_end"]


def test_key_timing_is_checked() -> None:
    with pytest.raises(ValueError):
        KeyTiming(first_s=0.2, release_s=0.5)
    with pytest.raises(ValueError):
        ModalTurns(EnergyVad(RATE), mode="sometimes")


# --- tools in voice mode -------------------------------------------------------------------------


async def test_voice_tool_calls_go_through_the_approval_modal() -> None:
    from tui_chat.tools.loop import ToolStatus
    from tui_chat.ui.screens.approval import ApprovalScreen
    from tui_chat.ui.widgets.tool_item import ToolItem

    app, rig = voice_app()
    app.use_pack(app.session.pack.path.with_name("tools-demo.pack.json"), "assistant")
    async with app.run_test(size=SIZE) as pilot:
        await voice_on(pilot, rig)
        app.query_one(PromptInput).insert("list the files here")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        assert "list_directory" in screen_text(app)
        await pilot.press("y")
        reply = await wait_for_reply(pilot, 1)
        assert app.query_one(ToolItem).status is ToolStatus.DONE
        assert reply.text.startswith("The list_directory tool says:")


async def test_voice_tool_call_denied_is_said_and_not_run() -> None:
    from tui_chat.tools.loop import ToolStatus
    from tui_chat.ui.screens.approval import ApprovalScreen
    from tui_chat.ui.widgets.tool_item import ToolItem

    app, rig = voice_app()
    app.use_pack(app.session.pack.path.with_name("tools-demo.pack.json"), "assistant")
    async with app.run_test(size=SIZE) as pilot:
        await voice_on(pilot, rig)
        app.query_one(PromptInput).insert("list the files here")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ApprovalScreen))
        await pilot.press("escape")
        reply = await wait_for_reply(pilot, 1)
        assert app.query_one(ToolItem).status is ToolStatus.DENIED
        assert reply.text.startswith("I could not use the list_directory tool: denied by user")


# --- Esc stops the assistant speaking ------------------------------------------------------------


async def say_and_get_a_reply(pilot: Pilot, source: FedSource) -> AssistantMessage:
    """A push-to-talk turn of 1 s, and its reply's words all come (most of its audio is still to play)."""
    await pilot.press("f4")
    await feed(pilot, source, speech(1.0))
    await pilot.press("f4")
    await feed(pilot, source, silence(0.02))
    return await wait_for_reply(pilot, 1)


async def talk_and_get_a_reply_playing(pilot: Pilot, source: FedSource) -> AssistantMessage:
    """A push-to-talk turn of 1 s, then 1 s of its reply heard (the demo holds after 0.3 s of it)."""
    await pilot.press("f4")
    await feed(pilot, source, speech(1.0))
    await pilot.press("f4")
    await feed(pilot, source, silence(0.02))
    await wait_for(pilot, lambda: len(replies(pilot.app)) == 1 and bool(replies(pilot.app)[0].text))  # type: ignore[arg-type]
    await feed(pilot, source, silence(0.2))
    return replies(pilot.app)[0]  # type: ignore[arg-type]


async def test_escape_stops_the_assistant_speaking() -> None:
    app, rig = voice_app(hold_after_s=0.6)  # the reply stops coming after 0.6 s of audio: it is still in progress
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        reply = await talk_and_get_a_reply_playing(pilot, source)
        sink = rig.sinks[-1]
        assert meter(app).state == "assistant" and sink.pending_s > 0 and controller(app).assistant_active
        played = sink.played_s(1)

        await pilot.press("escape")
        reply = await wait_for_reply(pilot, 1, ReplyStatus.INTERRUPTED)
        assert sink.pending_s == 0  # flushed at once: no more input was needed
        await wait_for(pilot, lambda: meter(app).state == "interrupted")
        status = str(reply.status_line.render())
        assert "interrupted" in status and f"stopped with Esc after {played:.1f} s of its audio" in status
        assert reply.text  # the words that came before stay
        assert chat(app).voice is controller(app) and controller(app).running  # voice itself goes on
        # The history keeps the cut reply, marked.
        assert [(m.role, m.status) for m in app.session.conversation.history][-1] == (Role.ASSISTANT, ReplyStatus.INTERRUPTED)

        # Esc with nothing playing does nothing; the meter falls back once its "interrupted" has shown.
        await pilot.press("escape")
        await feed(pilot, source, silence(1.6))
        assert meter(app).state == "muted" and len(replies(app)) == 1


# --- voice turns join the conversation -----------------------------------------------------------


async def test_voice_turns_join_the_conversation_and_text_chat_goes_on_after_them() -> None:
    app, rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        await pilot.press("f4")
        await feed(pilot, source, speech(1.0))
        await pilot.press("f4")
        await feed(pilot, source, silence(0.02))
        spoken = await wait_for_reply(pilot, 1)
        [heard] = user_texts(app)
        # Typed while voice is on: to the voice session, and into the history too.
        app.query_one(PromptInput).insert("and in words?")
        await pilot.press("enter")
        typed = await wait_for_reply(pilot, 2)
        await play_out(pilot, source, rig)  # a reply goes into the history once it has been heard out
        await wait_for(pilot, lambda: len(app.session.conversation.history) == 4)
        history = [(m.role, m.content, m.status) for m in app.session.conversation.history]
        assert history == [
            (Role.USER, heard, ReplyStatus.COMPLETE),
            (Role.ASSISTANT, spoken.text, ReplyStatus.COMPLETE),
            (Role.USER, "and in words?", ReplyStatus.COMPLETE),
            (Role.ASSISTANT, typed.text, ReplyStatus.COMPLETE),
        ]

        await pilot.press("f5")  # voice off: typing continues the same conversation
        await wait_for(pilot, lambda: chat(app).voice is None)
        app.query_one(PromptInput).insert("still there?")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        text_reply = await wait_for_reply(pilot, 3)
        assert text_reply.text == compose_reply("still there?", 3)  # the third user message of this chat
        assert [m.role for m in app.session.conversation.history] == [Role.USER, Role.ASSISTANT] * 3


async def test_an_interrupted_voice_reply_is_kept_in_the_history_marked() -> None:
    app, rig = voice_app(hold_after_s=0.3)
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        await talk_and_get_a_reply_playing(pilot, source)
        await feed(pilot, source, silence(0.8))  # (a press this soon after the last would be taken for auto-repeat)
        await pilot.press("f4")  # talking over the reply
        await feed(pilot, source, speech(0.1))
        reply = await wait_for_reply(pilot, 1, ReplyStatus.INTERRUPTED)
        assert "you spoke over it" in str(reply.status_line.render())
        user, assistant = app.session.conversation.history[:2]
        assert user.role is Role.USER and user.content == user_texts(app)[0]
        assert (assistant.role, assistant.content, assistant.status) == (Role.ASSISTANT, reply.text, ReplyStatus.INTERRUPTED)


# --- partial user transcripts --------------------------------------------------------------------

UNTRUSTED = "[bold red]not markup[/] \x1b[31mred\x1b[0m"


async def hear(pilot: Pilot, *pieces: str) -> None:
    """Post what a provider's partial user transcripts make the controller post: the words so far."""
    from tui_chat.ui.voice_messages import VoiceHearing

    so_far = ""
    for piece in pieces:
        so_far += piece
        chat(pilot.app).post_message(VoiceHearing(controller(pilot.app), so_far))  # type: ignore[arg-type]
        await pilot.pause()


async def test_partial_transcripts_grow_one_entry_that_the_final_one_replaces() -> None:
    from tui_chat.ui.voice_messages import VoiceHeard

    app, rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        await voice_on(pilot, rig)
        await hear(pilot, "What is ", "the weather ", UNTRUSTED)
        [entry] = app.query(UserMessage)
        assert entry.has_class("-hearing") and entry.text == "What is the weather " + UNTRUSTED
        shown = screen_text(app)
        # As text: the markup is not parsed, the escape character is dropped (its visible rest stays).
        assert "What is the weather [bold red]not markup[/] [31mred[0m …" in shown
        assert "\x1b" not in str(entry.render())

        chat(app).post_message(VoiceHeard(controller(app), "What is the weather like?"))
        await pilot.pause()
        [entry] = app.query(UserMessage)
        assert not entry.has_class("-hearing") and entry.text == "What is the weather like?"
        assert "What is the weather like?" in screen_text(app) and "…" not in screen_text(app)

        # A final transcript with nothing in it takes the words shown away.
        await hear(pilot, "mmm")
        chat(app).post_message(VoiceHeard(controller(app), ""))
        await pilot.pause()
        assert user_texts(app) == ["What is the weather like?"]


def test_the_controller_turns_transcript_deltas_into_the_words_so_far() -> None:
    from tui_chat.voice.events import ProviderChunk
    from tui_chat.chunks import TranscriptChunk
    from tui_chat.ui.voice_messages import VoiceHeard, VoiceHearing

    posted: list[Any] = []
    recorded: list[Any] = []

    class Target:
        def post_message(self, message: Any) -> bool:
            posted.append(message)
            return True

    voice = VoiceController(Target(), record=lambda message, spoken: recorded.append(message))
    for text, final in (("What ", False), ("is it", False), ("What is it?", True)):
        dispatch(ProviderChunk(0.0, TranscriptChunk(text, Role.USER, final=final)), voice)
    assert [(type(m).__name__, m.text) for m in posted] == [
        ("VoiceHearing", "What "), ("VoiceHearing", "What is it"), ("VoiceHeard", "What is it?"),
    ]
    assert [(m.role, m.content) for m in recorded] == [(Role.USER, "What is it?")]
    assert isinstance(posted[-1], VoiceHeard) and not isinstance(posted[-1], VoiceHearing)


# --- the [voice] table and server turn detection in the TUI --------------------------------------


async def test_the_voice_table_sets_the_mode_the_chat_starts_in() -> None:
    from tui_chat.voice.settings import VoiceConfig

    app, rig = voice_app()
    app.session.config.voice = VoiceConfig(mode="hands-free", interruption="ignore", vad_stop=0.5)
    async with app.run_test(size=SIZE) as pilot:
        assert chat(app).voice_mode == "hands-free"
        source = await voice_on(pilot, rig)
        voice = controller(app)
        assert voice.mode == "hands-free" and meter(app).mode == "hands-free"
        assert voice.session is not None and voice.session.options.interruption == "ignore"
        assert voice.turn_detection == "manual"  # the demo has no detection of its own
        await feed(pilot, source, np.concatenate((silence(0.3), speech(1.0), silence(0.6))))
        await wait_for_reply(pilot, 1)  # 0.5 s of silence ended the turn, as the table says


async def test_hands_free_with_openai_lets_the_service_take_the_turns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Against the OpenAI Realtime fake: hands-free opens the session with server VAD, the service
    ends the turn and answers it; its transcript (delta, then whole) makes one user entry; the
    exchange joins the history; switching to push-to-talk reopens voice with client commits."""
    from tests.fakes.realtime_openai import FakeOpenAIRealtime
    from tui_chat.voice.settings import VoiceConfig
    from tui_chat.config import ProviderConfig

    monkeypatch.setenv("OPENAI_API_KEY", "test-key")
    rate = 24000
    talk = np.resize(speech_like("What time is it now, please?", rate), rate)  # 1 s at 24 kHz
    async with FakeOpenAIRealtime() as server:
        app, rig = voice_app()
        app.session.config.providers["openai"] = ProviderConfig(base_url=server.url)
        app.session.config.voice = VoiceConfig(provider="openai-realtime", mode="hands-free")
        async with app.run_test(size=SIZE) as pilot:
            source = await voice_on(pilot, rig)
            voice = controller(app)
            assert (voice.provider, voice.turn_detection) == ("openai-realtime", "server")
            assert server.sessions[0]["audio"]["input"]["turn_detection"]["type"] == "server_vad"
            await feed(pilot, source, np.concatenate((np.zeros(rate // 2, np.int16), talk, np.zeros(rate, np.int16))))
            reply = await wait_for_reply(pilot, 1)
            assert reply.text == "Hello from the fake model."
            await wait_for(pilot, lambda: len(user_texts(app)) == 1 and not app.query_one(UserMessage).has_class("-hearing"))
            [heard] = user_texts(app)
            assert heard.endswith(" s of audio)")
            await play_out(pilot, source, rig)
            await wait_for(pilot, lambda: len(app.session.conversation.history) == 2)
            assert [(m.role, m.content) for m in app.session.conversation.history] == [(Role.USER, heard), (Role.ASSISTANT, reply.text)]
            kinds = {m["type"] for m in server.conns[0].received}
            assert "input_audio_buffer.commit" not in kinds  # the service ended the turn

            await pilot.press("f3")  # hands-free -> push-to-talk: a session with client commits
            await wait_for(pilot, lambda: chat(app).voice is not voice and controller(app).running)
            assert controller(app).turn_detection == "manual" and controller(app).mode == "push-to-talk"
            await wait_for(pilot, lambda: len(server.sessions) == 2)
            assert server.sessions[1]["audio"]["input"]["turn_detection"] is None
            assert any("Voice restarts" in n for n in notices(app))


def test_a_transcript_that_comes_after_its_reply_still_goes_before_it_in_the_history() -> None:
    """Transcription runs beside the reply (OpenAI): a reply that ends before the transcript of its
    turn waits for it; one whose turn never gets a transcript goes in after a stand-in."""
    from tui_chat.voice.events import ProviderChunk, ReplyEnded, ReplyStarted
    from tui_chat.chunks import TranscriptChunk
    from tui_chat.voice.history import UNTRANSCRIBED

    recorded: list[Any] = []

    class Target:
        def post_message(self, message: Any) -> bool:
            return True

    voice = VoiceController(Target(), record=lambda message, spoken: recorded.append(message))
    dispatch(ReplyStarted(1.0, 1), voice)
    dispatch(ReplyEnded(2.0, 1, "complete", 0.5, 0.0, "Hello."), voice)
    assert recorded == []  # held for the transcript
    dispatch(ProviderChunk(2.1, TranscriptChunk("Hi there", Role.USER, final=True)), voice)
    dispatch(ReplyStarted(3.0, 2), voice)
    dispatch(ReplyEnded(4.0, 2, "interrupted", 0.5, 0.2, "Well"), voice)  # its turn is never transcribed
    dispatch(ReplyStarted(5.0, 3), voice)
    assert [(m.role, m.content, m.status) for m in recorded] == [
        (Role.USER, "Hi there", ReplyStatus.COMPLETE),
        (Role.ASSISTANT, "Hello.", ReplyStatus.COMPLETE),
        (Role.USER, UNTRANSCRIBED, ReplyStatus.COMPLETE),
        (Role.ASSISTANT, "Well", ReplyStatus.INTERRUPTED),
    ]


# --- the voice session starts from the conversation so far ---------------------------------------


def _voice_fake(provider: str) -> Any:
    """The loopback fake service for `provider` ("openai-realtime" or "gemini-live")."""
    from tests.fakes.realtime_gemini import FakeGeminiLive
    from tests.fakes.realtime_openai import FakeOpenAIRealtime

    return FakeOpenAIRealtime() if provider == "openai-realtime" else FakeGeminiLive()


def _said(rate: int) -> np.ndarray:
    """1 s of speech-like voice at `rate` (loud enough for the fakes' voice detection)."""
    return np.resize(speech_like("What time is it now, please?", rate), rate)


def _seeded(provider: str, conn: Any) -> list[tuple[str, str]]:
    """The conversation a fake connection was given when it opened, as (user | assistant, text)."""
    if provider == "openai-realtime":
        return [
            (m["item"]["role"], m["item"]["content"][0]["text"])
            for m in conn.received
            if m["type"] == "conversation.item.create" and m["item"].get("role") in ("user", "assistant")
        ]
    seeds = [m["clientContent"] for m in conn.received if "clientContent" in m and not m["clientContent"]["turnComplete"]]
    return [
        ("assistant" if turn["role"] == "model" else "user", part["text"])
        for seed in seeds for turn in seed["turns"] for part in turn["parts"]
    ]


@pytest.mark.parametrize("provider", ["openai-realtime", "gemini-live"])
async def test_voice_goes_on_from_the_text_chat_and_a_mode_switch_keeps_what_was_said(provider: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Text first, then voice: the service is given the text chat before any audio. A voice turn,
    then a switch to push-to-talk (a new session): that one is given the text and the voice turn."""
    from tui_chat.voice.settings import VoiceConfig
    from tui_chat.config import ProviderConfig

    from .test_chat_screen import type_and_send

    text_provider = "openai" if provider == "openai-realtime" else "gemini"
    monkeypatch.setenv("OPENAI_API_KEY" if provider == "openai-realtime" else "GEMINI_API_KEY", "test-key")
    async with _voice_fake(provider) as server:
        app, rig = voice_app()
        app.session.config.providers[text_provider] = ProviderConfig(base_url=server.url)
        app.session.config.voice = VoiceConfig(provider=provider, mode="hands-free")
        async with app.run_test(size=SIZE) as pilot:
            await type_and_send(pilot, "My name is Ada.")
            typed = await wait_for_reply(pilot, 1)
            text_chat = [("user", "My name is Ada."), ("assistant", typed.text)]

            source = await voice_on(pilot, rig)
            first = server.conns[0]
            assert _seeded(provider, first) == text_chat
            rate = source.rate
            await feed(pilot, source, np.concatenate((np.zeros(rate // 2, np.int16), _said(rate), np.zeros(rate, np.int16))))
            spoken = await wait_for_reply(pilot, 2)
            await play_out(pilot, source, rig)
            await wait_for(pilot, lambda: len(app.session.conversation.history) == 4)
            heard = app.session.conversation.history[2].content
            kinds = [m.get("type") or next(iter(m)) for m in first.received]
            seed, audio = ("conversation.item.create", "input_audio_buffer.append") if provider == "openai-realtime" else ("clientContent", "realtimeInput")
            assert max(i for i, kind in enumerate(kinds) if kind == seed) < kinds.index(audio)  # the history went before any audio
            if provider == "gemini-live":
                assert spoken.text == "Turn 2 of this conversation."  # the model counted the typed turn

            await pilot.press("f3")  # hands-free -> push-to-talk: the turns are taken another way, a new session
            await wait_for(pilot, lambda: len(server.conns) == 2 and controller(app).running)
            assert controller(app).turn_detection == "manual"
            assert _seeded(provider, server.conns[1]) == [*text_chat, ("user", heard), ("assistant", spoken.text)]


class _Posted:
    """A voice controller's target: keeps what it is posted, and lets a test wait for a condition on it."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self._changed = asyncio.Event()

    def post_message(self, message: Any) -> bool:
        self.messages.append(message)
        self._changed.set()
        return True

    async def wait_for(self, condition: Any, timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout):
            while not condition():
                self._changed.clear()
                await self._changed.wait()


async def _one_heard_turn_over_the_wire(provider: str, reply: Any) -> tuple[_Posted, list[Any]]:
    """A hands-free `VoiceController` against the fake `provider` answering with `reply`: one spoken
    turn, until the controller posts what it heard. What it posted, and what it recorded."""
    from tui_chat.providers.registry import ProviderSettings
    from tui_chat.ui.voice_messages import VoiceHeard

    async with _voice_fake(provider) as server:
        server.replies.append(reply)
        rig = Rig()
        posted = _Posted()
        recorded: list[Any] = []
        voice = VoiceController(
            posted,
            VoiceSetup(source_factory=rig.source, sink_factory=rig.sink, provider=provider),
            chat_settings=lambda name: ProviderSettings(base_url=server.url, api_key=lambda: "test-key"),
            mode="hands-free",
            record=lambda message, spoken: recorded.append(message),
            history=lambda: (),
        )
        worker = asyncio.create_task(voice.run())
        try:
            await posted.wait_for(lambda: voice.running and rig.sources)
            source = rig.sources[-1]
            rate = source.rate
            source.feed(np.concatenate((np.zeros(rate // 2, np.int16), _said(rate), np.zeros(rate, np.int16))))
            await posted.wait_for(lambda: any(isinstance(m, VoiceHeard) for m in posted.messages))
        finally:
            worker.cancel()
            await asyncio.wait({worker})
    return posted, recorded


def _heard(posted: _Posted) -> list[tuple[str, str]]:
    from tui_chat.ui.voice_messages import VoiceHeard, VoiceHearing

    return [(type(m).__name__, m.text) for m in posted.messages if isinstance(m, (VoiceHearing, VoiceHeard))]


@pytest.mark.parametrize("provider", ["openai-realtime", "gemini-live"])
async def test_the_users_words_so_far_come_over_the_wire_word_by_word(provider: str) -> None:
    """The service sends the user transcript in pieces: the controller posts the words so far after
    each, then the whole utterance, which alone joins the history."""
    from tests.fakes.realtime_gemini import Reply as GeminiReply
    from tests.fakes.realtime_openai import Reply as OpenAIReply

    words = "what time is it"
    reply = OpenAIReply if provider == "openai-realtime" else GeminiReply
    posted, recorded = await _one_heard_turn_over_the_wire(provider, reply(heard=words, heard_by_word=True))
    assert _heard(posted) == [
        ("VoiceHearing", "what"), ("VoiceHearing", "what time"), ("VoiceHearing", "what time is"),
        ("VoiceHearing", "what time is it"), ("VoiceHeard", "what time is it"),
    ]
    assert (recorded[0].role, recorded[0].content) == (Role.USER, words)


async def test_a_failed_transcription_takes_the_words_shown_so_far_away() -> None:
    """OpenAI's `input_audio_transcription.failed` after some deltas: the partial words go (they
    would otherwise run on into the next turn's), a warning says why, and no user text is recorded."""
    from tests.fakes.realtime_openai import Reply
    from tui_chat.ui.voice_messages import VoiceNotice
    from tui_chat.voice.history import UNTRANSCRIBED

    failing = Reply(heard="what time is it", heard_by_word=True, transcription_fails=True)
    posted, recorded = await _one_heard_turn_over_the_wire("openai-realtime", failing)
    assert _heard(posted)[-2:] == [("VoiceHearing", "what time is it"), ("VoiceHeard", "")]
    assert any(isinstance(m, VoiceNotice) and "could not transcribe" in m.message for m in posted.messages)
    # No words of the failed transcript go in; the reply, if it ended before the session was
    # stopped, went in after the stand-in for a turn with no transcript.
    assert all(m.content == UNTRANSCRIBED for m in recorded if m.role is Role.USER)


async def test_voice_does_not_start_while_a_typed_reply_streams() -> None:
    """Both would write the conversation's history at once, out of turn: F5 says to stop the reply first."""
    from .test_chat_screen import type_and_send

    rig = Rig()
    app = make_app(hold_after_chunks=5)
    app.voice_setup = VoiceSetup(source_factory=rig.source, sink_factory=rig.sink)
    async with app.run_test(size=SIZE) as pilot:
        await type_and_send(pilot, "hello")
        await wait_for(pilot, lambda: chat(app).streaming and bool(replies(app)) and bool(replies(app)[-1].text))
        await pilot.press("f5")
        await pilot.pause()
        assert chat(app).voice is None and not rig.sources
        assert any("Esc stops it, then F5" in notice for notice in notices(app))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not chat(app).streaming)
        await voice_on(pilot, rig)


async def test_the_terminal_losing_focus_ends_a_held_talk_whose_release_will_not_come() -> None:
    """kitty sends no release when its window loses focus while F4 is held: blur ends the talk."""
    from textual import events

    from tui_chat.ui.key_release import KeyReleaseStatus

    app, rig = voice_app(timing=KeyTiming(first_s=0.7, release_s=0.25))
    async with app.run_test(size=SIZE) as pilot:
        chat(app).set_voice_mode("hold")
        source = await voice_on(pilot, rig)
        chat(app).post_message(KeyReleaseStatus(True, 27))
        await wait_for(pilot, lambda: controller(app).turns is not None and controller(app).turns.releases_reported)  # type: ignore[union-attr]
        turns = controller(app).turns
        assert turns is not None
        await pilot.press("f4")
        await feed(pilot, source, speech(1.0))
        assert turns.talking
        app.post_message(events.AppBlur())
        await wait_for(pilot, lambda: not turns.talking)
        await feed(pilot, source, silence(0.04))
        assert not turns.in_turn
        await wait_for_reply(pilot, 1)


async def test_typing_right_after_voice_off_comes_after_the_cut_voice_reply_in_the_history() -> None:
    """The voice session records a reply cut off by F5 as it closes: a message typed at once waits
    for that, so the history still alternates user, assistant, user."""
    from .test_chat_screen import type_and_send

    app, rig = voice_app(hold_after_s=0.6)
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        await talk_and_get_a_reply_playing(pilot, source)
        await pilot.press("f5")  # off while the reply is in progress
        await type_and_send(pilot, "and now in writing")
        await wait_for(pilot, lambda: not chat(app).streaming and len(app.session.conversation.history) >= 4)
        roles = [m.role for m in app.session.conversation.history]
        assert roles == [Role.USER, Role.ASSISTANT, Role.USER, Role.ASSISTANT]
        assert app.session.conversation.history[1].status is ReplyStatus.CANCELLED  # voice was turned off
        assert app.session.conversation.history[2].content == "and now in writing"


async def test_escape_after_a_reply_has_all_come_marks_it_interrupted_in_the_history_too() -> None:
    """The reply's text has all come (the chat shows it complete) but its audio still plays: it
    is not in the history yet, as how it ends is not known; Esc cuts the audio, and it goes in
    interrupted, with the words of it that were heard, as the chat now shows it."""
    app, rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        reply = await say_and_get_a_reply(pilot, source)  # complete: the provider is done with it
        history = app.session.conversation.history
        await wait_for(pilot, lambda: bool(history))
        assert rig.sinks[-1].pending_s > 0  # ...but most of it is still to be heard
        assert [m.role for m in history] == [Role.USER]  # its place is kept until it ends
        came = reply.text
        await pilot.press("escape")
        await wait_for(pilot, lambda: len(history) == 2)
        shown = await wait_for_reply(pilot, 1, ReplyStatus.INTERRUPTED)
        assert (history[1].role, history[1].content, history[1].status) == (Role.ASSISTANT, shown.text, ReplyStatus.INTERRUPTED)
        assert came.startswith(shown.text) and shown.text != came  # little of it was heard
        assert "stopped with Esc" in str(shown.status_line.render())
        assert rig.sinks[-1].pending_s == 0


@pytest.mark.parametrize("provider", ["openai-realtime", "gemini-live"])
async def test_speech_over_a_finished_reply_still_playing_ends_it_interrupted_in_the_chat_and_the_history(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12.16: the reply's words have all come (the service is done with it) but most of its
    audio is still to be heard when the user speaks again. It ends interrupted, with the words of
    it heard, in the chat and in the history the next session is given, not complete."""
    from tests.fakes.realtime_gemini import Reply as GeminiReply
    from tests.fakes.realtime_openai import Reply as OpenAIReply
    from tui_chat.config import ProviderConfig
    from tui_chat.voice.settings import VoiceConfig

    text_provider = "openai" if provider == "openai-realtime" else "gemini"
    monkeypatch.setenv("OPENAI_API_KEY" if provider == "openai-realtime" else "GEMINI_API_KEY", "test-key")
    reply_type = OpenAIReply if provider == "openai-realtime" else GeminiReply
    async with _voice_fake(provider) as server:
        server.replies.append(reply_type(text="A long answer " * 8, audio_s=3.0))
        app, rig = voice_app()
        app.session.config.providers[text_provider] = ProviderConfig(base_url=server.url)
        app.session.config.voice = VoiceConfig(provider=provider, mode="hands-free", interruption="immediate")
        async with app.run_test(size=SIZE) as pilot:
            source = await voice_on(pilot, rig)
            rate = source.rate
            await feed(pilot, source, np.concatenate((np.zeros(rate // 2, np.int16), _said(rate), np.zeros(rate, np.int16))))
            reply = await wait_for_reply(pilot, 1)  # its words have all come
            history = app.session.conversation.history
            assert rig.sinks[-1].pending_s > 1.0  # ...but most of its audio is still to be heard
            assert [m.role for m in history] == [Role.USER]  # how it ends is not known yet

            came = reply.text
            await feed(pilot, source, np.concatenate((_said(rate), np.zeros(rate // 2, np.int16))))  # spoken over
            shown = await wait_for_reply(pilot, 1, ReplyStatus.INTERRUPTED)
            assert "you spoke over it" in str(shown.status_line.render())
            await wait_for(pilot, lambda: len(history) >= 2)
            assert (history[1].role, history[1].content, history[1].status) == (Role.ASSISTANT, shown.text, ReplyStatus.INTERRUPTED)
            assert shown.text.startswith("A long answer") and came.startswith(shown.text) and shown.text != came


async def test_voice_off_while_a_finished_reply_plays_ends_it_cancelled_in_the_chat_and_the_history() -> None:
    """Its words have all come (shown complete), its audio is cut by F5: the chat and the history
    agree that it was cancelled, and it keeps the words of it that were heard."""
    app, rig = voice_app()
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        reply = await say_and_get_a_reply(pilot, source)
        assert rig.sinks[-1].pending_s > 0
        came = reply.text
        await pilot.press("f5")
        shown = await wait_for_reply(pilot, 1, ReplyStatus.CANCELLED)
        history = app.session.conversation.history
        await wait_for(pilot, lambda: len(history) == 2)
        assert (history[1].role, history[1].content, history[1].status) == (Role.ASSISTANT, shown.text, ReplyStatus.CANCELLED)
        assert came.startswith(shown.text) and shown.text != came


# --- voice turns are saved, and a reopened chat shows them spoken (issue 14) -----------------------


async def test_voice_turns_are_saved_as_they_happen_and_a_reopened_chat_shows_them_spoken() -> None:
    """History on (a real SQLite file in this test's data folder): a spoken turn, its reply cut by
    the person talking over it, and that speech are saved, each marked spoken; opened again from
    the chat list's path, the chat shows them marked, the cut reply with its heard words."""
    from tui_chat.session import Choices, start_history
    from tui_chat.ui.screens.chat_list import ChatChoice

    app, rig = voice_app()
    start_history(app.session, Choices(provider="demo"))
    recorder = app.session.recorder
    assert recorder is not None
    async with app.run_test(size=SIZE) as pilot:
        source = await voice_on(pilot, rig)
        came = (await say_and_get_a_reply(pilot, source)).text  # its words all came; its audio plays
        await feed(pilot, source, silence(0.8))
        await pilot.press("f4")  # talking over the reply
        await feed(pilot, source, speech(0.3))
        cut = await wait_for_reply(pilot, 1, ReplyStatus.INTERRUPTED)
        assert cut.text and came.startswith(cut.text) and cut.text != came  # the words heard of it
        [heard] = user_texts(app)
        store = await recorder.opened()
        await wait_for(pilot, lambda: recorder.chat_id is not None)
        await store.flush()
        saved = (await store.load_chat(recorder.chat_id)).messages  # saved as it happened: voice is still on
        assert [(m.role, m.text, m.status) for m in saved] == [
            (Role.USER, heard, ReplyStatus.COMPLETE),
            (Role.ASSISTANT, cut.text, ReplyStatus.INTERRUPTED),
        ]
        assert saved[1].provider == "demo" and saved[1].model == "demo-voice-1"
        first, reply = saved[0].voice, saved[1].voice
        assert first is not None and reply is not None and not first.barge_in
        assert first.started_ms is not None and first.ended_ms is not None and first.started_ms < first.ended_ms
        assert first.ended_ms <= reply.started_ms < reply.ended_ms  # type: ignore[operator]

        await feed(pilot, source, silence(0.8))
        await pilot.press("f4")  # that speech is a turn of its own, answered
        await feed(pilot, source, silence(0.02))
        answer = await wait_for_reply(pilot, 2)
        await play_out(pilot, source, rig)
        await pilot.press("f5")
        await wait_for(pilot, lambda: chat(app).voice is None)
        await app.workers.wait_for_complete()
        await store.flush()
        chat_id = recorder.chat_id
        saved = (await store.load_chat(chat_id)).messages
        assert [(m.role, m.status) for m in saved] == [(Role.USER, ReplyStatus.COMPLETE), (Role.ASSISTANT, ReplyStatus.INTERRUPTED)] + [
            (Role.USER, ReplyStatus.COMPLETE), (Role.ASSISTANT, ReplyStatus.COMPLETE)
        ]
        assert saved[3].text == answer.text and all(m.voice is not None for m in saved)
        assert [m.voice.barge_in for m in saved if m.voice is not None] == [False, False, True, False]  # it cut reply 1

        await chat(app).open_chat(ChatChoice(chat_id))
        log = app.query_one(ChatLog)
        users, shown = list(log.query(UserMessage)), replies(app)
        assert [u.text for u in users] == [heard, saved[2].text] and [r.text for r in shown] == [cut.text, answer.text]
        assert all(m.has_class("-spoken") for m in [*users, *shown])
        assert shown[0].status is ReplyStatus.INTERRUPTED and "interrupted" in str(shown[0].status_line.render())
        assert [m.spoken for m in app.session.conversation.history] == [True] * 4
    app.session.close_history()
