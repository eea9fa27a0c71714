"""Piano rolls: `to_roll` and `from_roll` round trips, roll values, shapes and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from opencomposer.music.pianoroll import HOLD, OFF, ONSET, RollSpec, from_roll, to_roll
from opencomposer.music.score import Note, Score, Track

RESOLUTION = 480
SPEC = RollSpec(steps_per_beat=4)  # 120 ticks per step at RESOLUTION
TICKS_PER_STEP = RESOLUTION // SPEC.steps_per_beat


def on_grid(pitch: int, start_steps: int, duration_steps: int) -> Note:
    return Note(pitch, start_steps * TICKS_PER_STEP, duration_steps * TICKS_PER_STEP, 80)


def round_trip(score: Score, spec: RollSpec = SPEC) -> Score:
    return from_roll(
        to_roll(score, spec),
        spec,
        tracks=score.tracks,
        resolution=score.resolution,
        tempo=score.tempo,
        time_signature=score.time_signature,
    )


def test_round_trip_keeps_held_notes_next_to_repeated_notes_on_one_pitch() -> None:
    melody = Track(
        name="Melody",
        role="melody",
        notes=(
            on_grid(60, 0, 4),  # held, then struck again right away
            on_grid(60, 4, 1),
            on_grid(60, 5, 1),
            on_grid(60, 6, 6),
            on_grid(64, 12, 1),
        ),
    )
    score = Score(resolution=RESOLUTION, tempo=96.0, time_signature=(3, 4), tracks=(melody,))
    assert round_trip(score) == score


def test_round_trip_keeps_one_step_notes_and_chords() -> None:
    notes = tuple(on_grid(pitch, step, 1) for step in range(8) for pitch in (60, 64, 67))
    score = Score(resolution=RESOLUTION, tracks=(Track(notes=notes),))
    assert round_trip(score) == score


def test_round_trip_keeps_several_tracks_in_order_with_their_settings() -> None:
    score = Score(
        resolution=RESOLUTION,
        tracks=(
            Track(name="Lead", program=73, notes=(on_grid(72, 0, 2), on_grid(74, 2, 2)), role="melody"),
            Track(name="Bass", program=33, notes=(on_grid(36, 0, 8),), role="accompaniment"),
            Track(name="Empty", program=48),
            Track(name="Drums", is_drum=True, notes=(on_grid(36, 0, 1), on_grid(38, 4, 1))),
        ),
    )
    assert to_roll(score, SPEC).shape == (4, 8, 128)
    assert round_trip(score) == score


def test_notes_outside_the_pitch_range_are_dropped() -> None:
    spec = RollSpec(steps_per_beat=4, low_pitch=48, high_pitch=84)
    inside = (on_grid(48, 0, 2), on_grid(84, 2, 2))
    score = Score(resolution=RESOLUTION, tracks=(Track(notes=(*inside, on_grid(47, 0, 4), on_grid(85, 4, 4))),))
    roll = to_roll(score, spec)
    assert roll.shape == (1, 4, 37)  # the dropped note at steps 4-8 does not lengthen the roll
    assert round_trip(score, spec) == score.with_tracks([Track(notes=inside)])


def test_roll_marks_onsets_and_held_steps() -> None:
    score = Score(resolution=RESOLUTION, tracks=(Track(notes=(on_grid(60, 1, 3), on_grid(60, 4, 1))),))
    roll = to_roll(score, SPEC)
    assert roll.dtype == np.uint8
    assert roll[0, :, 60].tolist() == [OFF, ONSET, HOLD, HOLD, ONSET]
    assert np.count_nonzero(roll) == 4


def test_a_note_shorter_than_a_step_still_takes_one_step() -> None:
    score = Score(resolution=RESOLUTION, tracks=(Track(notes=(Note(60, 240, 10),)),))
    roll = to_roll(score, SPEC)
    assert roll[0, :, 60].tolist() == [OFF, OFF, ONSET]


def test_overlapping_notes_on_one_pitch_sound_as_one_run_with_both_onsets() -> None:
    score = Score(resolution=RESOLUTION, tracks=(Track(notes=(on_grid(60, 0, 4), on_grid(60, 2, 4))),))
    assert to_roll(score, SPEC)[0, :, 60].tolist() == [ONSET, HOLD, ONSET, HOLD, HOLD, HOLD]


def test_n_steps_pads_with_silence_or_cuts_notes() -> None:
    score = Score(resolution=RESOLUTION, tracks=(Track(notes=(on_grid(60, 0, 2), on_grid(62, 2, 4))),))
    longer = to_roll(score, SPEC, n_steps=10)
    assert longer.shape == (1, 10, 128)
    assert not longer[:, 6:].any()
    shorter = to_roll(score, SPEC, n_steps=4)
    assert shorter[0, :, 62].tolist() == [OFF, OFF, ONSET, HOLD]
    assert from_roll(shorter, SPEC).tracks[0].notes == (on_grid(60, 0, 2), on_grid(62, 2, 2))


def test_empty_scores_give_empty_rolls() -> None:
    assert to_roll(Score(), SPEC).shape == (0, 0, 128)
    assert to_roll(Score(tracks=(Track(), Track())), SPEC).shape == (2, 0, 128)
    assert to_roll(Score(tracks=(Track(),)), SPEC, n_steps=16).shape == (1, 16, 128)


def test_a_boolean_roll_gives_one_note_per_run() -> None:
    roll = np.zeros((1, 8, 128), dtype=bool)
    roll[0, 0:3, 60] = True
    roll[0, 3:5, 60] = True  # touches the previous run: the same run
    roll[0, 6:8, 60] = True
    roll[0, 2:4, 67] = True
    score = from_roll(roll, SPEC, velocity=100)
    assert score.tracks[0].notes == (
        Note(60, 0, 5 * TICKS_PER_STEP, 100),
        Note(67, 2 * TICKS_PER_STEP, 2 * TICKS_PER_STEP, 100),
        Note(60, 6 * TICKS_PER_STEP, 2 * TICKS_PER_STEP, 100),
    )


def test_a_binary_roll_merges_repeated_notes_that_the_onset_roll_keeps_apart() -> None:
    score = Score(resolution=RESOLUTION, tracks=(Track(notes=(on_grid(60, 0, 2), on_grid(60, 2, 2))),))
    roll = to_roll(score, SPEC)
    assert from_roll(roll > 0, SPEC).tracks[0].notes == (on_grid(60, 0, 4),)
    assert from_roll((roll > 0).astype(np.float32), SPEC).tracks[0].notes == (on_grid(60, 0, 4),)
    assert from_roll(roll, SPEC).tracks[0].notes == score.tracks[0].notes


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.int8, np.uint16])
def test_an_onset_roll_of_any_integer_dtype_keeps_its_onsets(dtype: type[np.integer]) -> None:
    # Rolls come back from torch as int64; the onsets must survive that.
    score = Score(resolution=RESOLUTION, tracks=(Track(notes=(on_grid(60, 0, 2), on_grid(60, 2, 2))),))
    assert from_roll(to_roll(score, SPEC).astype(dtype), SPEC).tracks[0].notes == score.tracks[0].notes


def test_from_roll_uses_default_tracks_and_the_given_score_settings() -> None:
    roll = np.zeros((2, 4, 128), dtype=np.uint8)
    score = from_roll(roll, SPEC, resolution=96, tempo=90.0, time_signature=(6, 8))
    assert [track.name for track in score.tracks] == ["Track 1", "Track 2"]
    assert (score.resolution, score.tempo, score.time_signature) == (96, 90.0, (6, 8))
    assert score.n_notes == 0


def test_from_roll_rejects_a_roll_of_the_wrong_shape() -> None:
    with pytest.raises(ValueError, match=r"shape \(tracks, steps, 128\), got \(4, 128\)"):
        from_roll(np.zeros((4, 128), dtype=np.uint8), SPEC)
    with pytest.raises(ValueError, match=r"got \(1, 4, 88\)"):
        from_roll(np.zeros((1, 4, 88), dtype=np.uint8), SPEC)


def test_from_roll_rejects_the_wrong_number_of_track_templates() -> None:
    with pytest.raises(ValueError, match="The roll has 2 tracks but 1 track templates were given"):
        from_roll(np.zeros((2, 4, 128), dtype=np.uint8), SPEC, tracks=[Track()])


def test_from_roll_rejects_a_resolution_that_steps_do_not_divide() -> None:
    with pytest.raises(ValueError, match="resolution 100 is not a multiple of steps_per_beat 3"):
        from_roll(np.zeros((1, 4, 128), dtype=np.uint8), RollSpec(steps_per_beat=3), resolution=100)


def test_to_roll_rejects_a_negative_length() -> None:
    with pytest.raises(ValueError, match="n_steps must be zero or more, not -1"):
        to_roll(Score(tracks=(Track(notes=(Note(60, 0, 480),)),)), SPEC, n_steps=-1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps_per_beat": 0}, "steps_per_beat must be positive"),
        ({"low_pitch": 60, "high_pitch": 59}, "pitch range 60-59 is not inside 0-127"),
        ({"high_pitch": 128}, "pitch range 0-128 is not inside 0-127"),
        ({"low_pitch": -1}, "pitch range -1-127 is not inside 0-127"),
    ],
)
def test_roll_spec_rejects_invalid_settings(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RollSpec(**kwargs)


def test_steps_per_bar_follows_the_time_signature() -> None:
    assert SPEC.steps_per_bar((4, 4)) == 16
    assert SPEC.steps_per_bar((3, 4)) == 12
    assert SPEC.steps_per_bar((6, 8)) == 12
    with pytest.raises(ValueError, match="A 7/8 bar is not a whole number of steps at 1 per beat"):
        RollSpec(steps_per_beat=1).steps_per_bar((7, 8))


def test_ticks_to_steps_rounds_half_a_step_up() -> None:
    assert SPEC.ticks_to_steps(np.array([0, 59, 60, 179, 180]), RESOLUTION).tolist() == [0, 0, 1, 1, 2]


@st.composite
def grid_scores(draw: st.DrawFn) -> Score:
    """Scores whose notes lie on the step grid, with no two notes of one pitch overlapping in a track."""
    tracks = []
    for index in range(draw(st.integers(1, 3))):
        onsets = draw(st.sets(st.tuples(st.integers(40, 80), st.integers(0, 31)), max_size=20))
        notes = []
        for pitch, start_steps in onsets:
            later = [step for other, step in onsets if other == pitch and step > start_steps]
            longest_steps = min(later, default=start_steps + 8) - start_steps
            notes.append(on_grid(pitch, start_steps, draw(st.integers(1, longest_steps))))
        tracks.append(Track(name=f"Track {index}", program=draw(st.integers(0, 127)), notes=tuple(notes)))
    return Score(resolution=RESOLUTION, tracks=tuple(tracks))


@given(grid_scores())
def test_round_trip_is_identical_for_notes_on_the_grid(score: Score) -> None:
    assert round_trip(score) == score
