"""Levels, the energy VAD and the turn detector, on real (espeak-ng) and synthesized speech."""

from __future__ import annotations

import numpy as np
import pytest

from tui_chat.audio.levels import MIN_DB, LevelMeter, peak_dbfs, rms_dbfs
from tui_chat.voice.turns import TurnAudio, TurnDetector, TurnEnd, TurnParams, TurnStart
from tui_chat.audio.vad import EnergyVad, SpeechEnd, SpeechStart, VadParams, VadState, VoiceActivityDetector

from .conftest import RATE, Spoken, concatenate, silence

FRAME = RATE // 50  # 20 ms
TOLERANCE = 0.1  # turn boundaries within 100 ms of the truth


def run_turns(samples: np.ndarray, *, frame: int = FRAME, vad_params: VadParams | None = None, turn_params: TurnParams | None = None):  # type: ignore[no-untyped-def]
    detector = TurnDetector(EnergyVad(RATE, vad_params), turn_params)
    events = []
    for first in range(0, samples.size, frame):
        events.extend(detector.process(samples[first : first + frame]))
    events.extend(detector.finish())
    return events


def turns_of(events) -> list[tuple[float, float, str]]:  # type: ignore[no-untyped-def]
    return [(e.start, e.at, e.reason) for e in events if isinstance(e, TurnEnd)]


def assert_turns_match(events, spoken: Spoken) -> None:  # type: ignore[no-untyped-def]
    found = turns_of(events)
    assert len(found) == len(spoken.truth), f"found {found}, truth {spoken.truth}"
    for (start, end, reason), (true_start, true_end) in zip(found, spoken.truth):
        assert reason == "silence"
        assert abs(start - true_start) <= TOLERANCE, f"start {start:.3f} vs {true_start:.3f}"
        assert abs(end - true_end) <= TOLERANCE, f"end {end:.3f} vs {true_end:.3f}"


# --- levels ---------------------------------------------------------------------------------------


def test_levels_of_a_full_scale_sine_and_of_silence() -> None:
    t = np.arange(FRAME * 10) / RATE
    full = np.rint(np.sin(2 * np.pi * 1000 * t) * 32767).astype(np.int16)
    assert rms_dbfs(full) == pytest.approx(-3.01, abs=0.05)
    assert peak_dbfs(full) == pytest.approx(0.0, abs=0.01)
    assert rms_dbfs(np.zeros(FRAME, np.int16)) == MIN_DB == peak_dbfs(np.zeros(FRAME, np.int16))
    assert rms_dbfs(np.zeros(0, np.int16)) == MIN_DB
    assert peak_dbfs(np.full(4, -32768, np.int16)) == 0.0  # no overflow on the most negative sample


def test_peak_hold_stays_then_falls_by_audio_time() -> None:
    meter = LevelMeter(RATE, hold_s=1.0, fall_db_per_s=20.0)
    loud = np.full(FRAME, 16384, np.int16)  # -6 dBFS
    quiet = np.full(FRAME, 164, np.int16)  # -46 dBFS
    assert meter.measure(loud).hold_db == pytest.approx(-6.02, abs=0.01)
    readings = [meter.measure(quiet) for _ in range(100)]  # 2 s
    assert readings[48].hold_db == pytest.approx(-6.02, abs=0.01)  # still held at 0.98 s
    assert readings[99].hold_db == pytest.approx(-6.02 - 20.0 * 1.0, abs=0.5)  # one second of falling
    assert readings[0].peak_db == pytest.approx(-46.0, abs=0.1)
    clipped = meter.measure(np.full(FRAME, 32767, np.int16))
    assert clipped.clipped and not readings[0].clipped


# --- VAD ------------------------------------------------------------------------------------------


def test_energy_vad_is_a_voice_activity_detector() -> None:
    assert isinstance(EnergyVad(RATE), VoiceActivityDetector)


def test_espeak_turn_boundaries_are_within_100_ms(two_phrases: Spoken) -> None:
    assert_turns_match(run_turns(two_phrases.samples), two_phrases)


def test_espeak_turns_in_steady_noise(two_phrases: Spoken) -> None:
    noise = np.random.default_rng(1).normal(0, 160, two_phrases.samples.size)  # about -46 dBFS
    noisy = np.clip(two_phrases.samples + noise, -32768, 32767).astype(np.int16)
    assert_turns_match(run_turns(noisy), two_phrases)


def test_espeak_turns_with_other_frame_sizes(two_phrases: Spoken) -> None:
    for frame in (RATE // 100, RATE * 3 // 100):  # 10 ms and 30 ms
        found = turns_of(run_turns(two_phrases.samples, frame=frame))
        assert len(found) == 2
        for (start, end, _), (true_start, true_end) in zip(found, two_phrases.truth):
            assert abs(start - true_start) <= TOLERANCE + frame / RATE
            assert abs(end - true_end) <= TOLERANCE + frame / RATE


def test_synthesized_speech_turn_boundaries(synth_two_phrases: Spoken) -> None:
    assert_turns_match(run_turns(synth_two_phrases.samples), synth_two_phrases)


def test_end_is_reported_after_the_stop_time_to_the_frame(synth_two_phrases: Spoken) -> None:
    ends = [e for e in run_turns(synth_two_phrases.samples) if isinstance(e, TurnEnd)]
    for end in ends:
        assert end.detected_at - end.at == pytest.approx(0.8, abs=FRAME / RATE + 1e-9)


def test_start_is_confirmed_after_the_start_time(synth_two_phrases: Spoken) -> None:
    starts = [e for e in run_turns(synth_two_phrases.samples) if isinstance(e, TurnStart)]
    for start in starts:
        assert 0.2 - 1e-9 <= start.detected_at - start.at <= 0.2 + 0.15 + FRAME / RATE


@pytest.mark.parametrize("level", [400, 3000, 12000])
def test_white_noise_alone_gives_no_turn(level: int) -> None:
    noise = np.random.default_rng(level).normal(0, level, RATE * 6)
    assert turns_of(run_turns(np.clip(noise, -32768, 32767).astype(np.int16))) == []


def test_hum_alone_gives_no_turn() -> None:
    t = np.arange(RATE * 5) / RATE
    hum = (np.sin(2 * np.pi * 50 * t) * 4000 + np.sin(2 * np.pi * 150 * t) * 1000).astype(np.int16)
    assert turns_of(run_turns(hum)) == []


def test_silence_alone_gives_no_turn() -> None:
    assert turns_of(run_turns(silence(5.0))) == []
    assert turns_of(run_turns(np.random.default_rng(0).integers(-3, 4, RATE * 5).astype(np.int16))) == []  # dither


def test_clipping_alone_gives_no_turn() -> None:
    square = np.where((np.arange(RATE * 4) // 40) % 2 == 0, 32767, -32768).astype(np.int16)
    assert turns_of(run_turns(square)) == []
    assert turns_of(run_turns(np.full(RATE * 4, 32767, np.int16))) == []


def test_too_quiet_speech_is_not_speech(synth_two_phrases: Spoken) -> None:
    whisper = (synth_two_phrases.samples.astype(np.float64) * 10 ** (-40 / 20)).astype(np.int16)  # about -57 dBFS
    assert turns_of(run_turns(whisper)) == []


def test_a_click_is_not_speech() -> None:
    signal = silence(2.0)
    signal[RATE : RATE + 800] = 20000  # 50 ms
    assert turns_of(run_turns(signal)) == []


def test_states_and_hysteresis() -> None:
    vad = EnergyVad(RATE, VadParams(threshold_db=12, release_db=6))
    noise = np.random.default_rng(0).normal(0, 100, FRAME * 200)  # -50 dBFS noise floor
    frames = [np.clip(noise[i * FRAME : (i + 1) * FRAME], -32768, 32767).astype(np.int16) for i in range(200)]

    def louder(frame: np.ndarray, db: float) -> np.ndarray:
        return np.clip(frame * 10 ** (db / 20), -32768, 32767).astype(np.int16)

    states, events = [], []
    for i in range(50):
        events += vad.process(frames[i])
    assert vad.state is VadState.QUIET
    events += vad.process(louder(frames[50], 20))
    assert vad.state is VadState.STARTING
    for i in range(51, 61):  # 0.2 s of speech in all
        events += vad.process(louder(frames[i], 20))
    assert vad.state is VadState.SPEAKING and isinstance(events[-1], SpeechStart)
    assert events[-1].at == pytest.approx(50 * FRAME / RATE)
    for i in range(61, 80):  # 9 dB above the floor: not enough to start, enough to go on
        events += vad.process(louder(frames[i], 9))
        states.append(vad.state)
    assert set(states) == {VadState.SPEAKING}
    events += vad.process(frames[80])
    assert vad.state is VadState.STOPPING
    for i in range(81, 120):
        events += vad.process(frames[i])
    assert vad.state is VadState.QUIET and isinstance(events[-1], SpeechEnd)
    assert events[-1].at == pytest.approx(80 * FRAME / RATE)
    assert events[-1].detected_at == pytest.approx(80 * FRAME / RATE + 0.8)
    vad.reset()
    assert vad.state is VadState.QUIET and vad.now == 0


def test_vad_params_are_checked() -> None:
    with pytest.raises(ValueError):
        VadParams(threshold_db=6, release_db=10)
    with pytest.raises(ValueError):
        VadParams(stop_s=0)


# --- turns ----------------------------------------------------------------------------------------


def test_pre_roll_is_delivered_with_the_start(synth_two_phrases: Spoken) -> None:
    events = run_turns(synth_two_phrases.samples)
    start_index = next(i for i, e in enumerate(events) if isinstance(e, TurnStart))
    start = events[start_index]
    first_audio = events[start_index + 1]
    assert isinstance(first_audio, TurnAudio)
    # From 0.3 s before the speech began up to the frame that confirmed it.
    assert first_audio.samples.size / RATE == pytest.approx(start.detected_at - (start.at - 0.3), abs=FRAME / RATE)
    first_sample = int(round((start.detected_at * RATE))) - first_audio.samples.size
    assert np.array_equal(first_audio.samples, synth_two_phrases.samples[first_sample : first_sample + first_audio.samples.size])
    # Everything from the pre-roll to the end of the turn is sent, once, in order.
    end_index = next(i for i, e in enumerate(events) if isinstance(e, TurnEnd))
    sent = np.concatenate([e.samples for e in events[start_index + 1 : end_index] if isinstance(e, TurnAudio)])
    assert sent.size / RATE == pytest.approx(events[end_index].detected_at - (start.at - 0.3), abs=FRAME / RATE)
    assert np.array_equal(sent, synth_two_phrases.samples[first_sample : first_sample + sent.size])


def test_pre_roll_at_the_very_start_is_what_there_is() -> None:
    from tui_chat.audio.synth import speech_like

    # Speech from the very first sample: the floor starts at the speech's level, so the start is
    # found at the first dip (the end of the first syllable), but the pre-roll reaches back to 0.
    events = run_turns(np.concatenate((speech_like("right away", RATE), silence(1.0))))
    assert isinstance(events[0], TurnStart) and events[0].at <= 0.3
    assert isinstance(events[1], TurnAudio) and events[1].samples.size == int(round(events[0].detected_at * RATE))


def test_max_turn_length_cuts_and_goes_on() -> None:
    from tui_chat.audio.synth import speech_like

    talk = np.concatenate([speech_like("on and on and on, without a pause at all", RATE)] * 4)
    events = run_turns(np.concatenate((silence(0.3), talk, silence(1.0))), turn_params=TurnParams(max_turn_s=4.0))
    turns = turns_of(events)
    assert turns[0][2] == "max_length" and turns[0][1] - turns[0][0] == pytest.approx(4.0, abs=FRAME / RATE)
    assert turns[1][0] == pytest.approx(turns[0][1])  # the next turn starts where the cut was
    assert turns[-1][2] == "silence"
    total = talk.size / RATE
    assert turns[-1][1] - turns[0][0] == pytest.approx(total, abs=0.1)


def test_input_end_closes_an_open_turn(synth_two_phrases: Spoken) -> None:
    cut = synth_two_phrases.samples[: int((synth_two_phrases.truth[0][1] + 0.3) * RATE)]
    turns = turns_of(run_turns(cut))
    assert len(turns) == 1 and turns[0][2] == "input_end"
    assert turns[0][1] == pytest.approx(synth_two_phrases.truth[0][1], abs=TOLERANCE)


def test_two_turns_from_pieces(synth_two_phrases: Spoken) -> None:
    spoken = concatenate([("gap", silence(0.2)), ("speech", synth_two_phrases.samples[8000:30000]), ("gap", silence(1.0))])
    assert len(turns_of(run_turns(spoken.samples))) == 1
