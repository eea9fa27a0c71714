"""Roll metrics: each formula on tiny hand-made rolls, empty input, batches and pitch offsets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from opencomposer.metrics import rolls
from opencomposer.music.pianoroll import RollSpec, to_roll
from opencomposer.music.score import Note, Score, Track

SPEC = RollSpec(steps_per_beat=4, low_pitch=0, high_pitch=127)
BAR = 16  # steps in a 4/4 bar at 4 steps per beat

C4, D4, E4, F4, FS4, G4, A4, B4, C5 = 60, 62, 64, 65, 66, 67, 69, 71, 72


def roll_of(*tracks: list[tuple[int, int, int]], n_steps: int, spec: RollSpec = SPEC) -> np.ndarray:
    """A roll with one track per list of (pitch, start step, length in steps) notes."""
    score = Score(
        resolution=spec.steps_per_beat,  # one tick per step
        tracks=tuple(Track(notes=tuple(Note(p, s, d) for p, s, d in notes)) for notes in tracks),
    )
    return to_roll(score, spec, n_steps=n_steps)


def test_empty_bar_rate_counts_silent_bars_per_track() -> None:
    roll = roll_of([(C4, 0, 4)], [], [(C4, 0, 4), (C4, 3 * BAR, 4)], n_steps=4 * BAR)
    np.testing.assert_allclose(rolls.empty_bar_rate(roll, BAR), [0.75, 1.0, 0.5])


def test_empty_bar_rate_counts_a_short_last_bar_and_is_nan_without_steps() -> None:
    roll = roll_of([(C4, 0, 2)], n_steps=BAR + 4)  # one full bar and a quarter of one
    np.testing.assert_allclose(rolls.empty_bar_rate(roll, BAR), [0.5])
    assert math.isnan(rolls.empty_bar_rate(roll_of([], n_steps=0), BAR)[0])


def test_empty_beat_rate_counts_silent_beats() -> None:
    roll = roll_of([(C4, 0, 6)], n_steps=BAR)  # sounds in beats 1 and 2 of 4
    np.testing.assert_allclose(rolls.empty_beat_rate(roll, SPEC), [0.5])


def test_pitches_per_bar_averages_over_the_bars_that_sound() -> None:
    # Bar 1: a C major triad then C5; bar 2: one C; bars 3 and 4 silent.
    roll = roll_of([(C4, 0, 4), (E4, 0, 4), (G4, 0, 4), (C5, 4, 4), (C4, BAR, 4)], [], n_steps=4 * BAR)
    per_bar = rolls.pitches_per_bar(roll, BAR)
    assert per_bar[0] == pytest.approx((4 + 1) / 2)
    assert math.isnan(per_bar[1])


def test_pitch_classes_per_bar_folds_octaves() -> None:
    roll = roll_of([(C4, 0, 4), (C5, 4, 4), (G4, 8, 4)], n_steps=BAR)
    assert rolls.pitches_per_bar(roll, BAR)[0] == 3
    assert rolls.pitch_classes_per_bar(roll, SPEC, BAR)[0] == 2


def test_whole_roll_pitch_counts_are_zero_for_a_silent_track() -> None:
    roll = roll_of([(C4, 0, 4), (C5, 4, 4), (G4, 8, 4)], [], n_steps=BAR)
    np.testing.assert_array_equal(rolls.n_pitches_used(roll), [3, 0])
    np.testing.assert_array_equal(rolls.n_pitch_classes_used(roll, SPEC), [2, 0])


def test_pitch_range_is_highest_minus_lowest_and_nan_when_silent() -> None:
    roll = roll_of([(G4, 0, 4), (C4, 4, 4), (E4, 8, 4)], [], n_steps=BAR)
    result = rolls.pitch_range(roll)
    assert result[0] == G4 - C4
    assert math.isnan(result[1])


def test_polyphony_and_polyphonic_rate() -> None:
    # A three-note chord for 4 steps, one note for 4 steps, 8 silent steps.
    roll = roll_of([(C4, 0, 4), (E4, 0, 4), (G4, 0, 4), (C5, 4, 4)], n_steps=BAR)
    assert rolls.polyphony(roll)[0] == pytest.approx((3 * 4 + 4) / 8)
    assert rolls.polyphonic_rate(roll, threshold=2)[0] == pytest.approx(4 / BAR)
    assert rolls.polyphonic_rate(roll, threshold=0)[0] == pytest.approx(8 / BAR)
    silent = roll_of([], n_steps=BAR)
    assert math.isnan(rolls.polyphony(silent)[0])
    assert rolls.polyphonic_rate(silent)[0] == 0


def test_qualified_note_rate_counts_notes_of_three_steps_or_more() -> None:
    roll = roll_of([(C4, 0, 1), (D4, 2, 2), (E4, 5, 3), (F4, 9, 6)], n_steps=BAR)
    assert rolls.qualified_note_rate(roll)[0] == pytest.approx(2 / 4)
    assert rolls.qualified_note_rate(roll, min_steps=1)[0] == 1
    assert math.isnan(rolls.qualified_note_rate(roll_of([], n_steps=BAR))[0])


def test_qualified_note_rate_tells_a_restruck_note_from_a_held_one() -> None:
    restruck = roll_of([(C4, 0, 2), (C4, 2, 2)], n_steps=BAR)  # two 2-step notes, one sounding run
    assert rolls.qualified_note_rate(restruck)[0] == 0
    # A plain binary roll has no onsets: the run is one 4-step note.
    assert rolls.qualified_note_rate(restruck > 0)[0] == 1


def test_qualified_note_rate_measures_a_note_cut_by_the_end_of_the_roll_as_it_is_there() -> None:
    roll = roll_of([(C4, 14, 8)], n_steps=BAR)  # only 2 of its 8 steps are in the roll
    assert rolls.qualified_note_rate(roll)[0] == 0


def test_pitch_class_entropy_in_bits() -> None:
    four_classes = roll_of([(C4, 0, 2), (E4, 2, 2), (G4, 4, 2), (B4, 6, 2)], n_steps=BAR)
    one_class = roll_of([(C4, 0, 2), (C5, 2, 2), (C4, 4, 2)], n_steps=BAR)
    two_to_one = roll_of([(C4, 0, 2), (C4, 2, 2), (G4, 4, 2)], n_steps=BAR)
    assert rolls.pitch_class_entropy(four_classes, SPEC)[0] == pytest.approx(2.0)
    assert rolls.pitch_class_entropy(one_class, SPEC)[0] == 0
    expected = -(2 / 3 * math.log2(2 / 3) + 1 / 3 * math.log2(1 / 3))
    assert rolls.pitch_class_entropy(two_to_one, SPEC)[0] == pytest.approx(expected)
    assert math.isnan(rolls.pitch_class_entropy(roll_of([], n_steps=BAR), SPEC)[0])


C_MAJOR_SCALE = [C4, D4, E4, F4, G4, A4, B4, C5]


def scale_roll(pitches: list[int], transpose: int = 0) -> np.ndarray:
    """Quarter notes up a scale, the first (tonic) note held for a whole bar."""
    notes = [(pitches[0] + transpose, 0, BAR)] + [(p + transpose, BAR + 4 * i, 4) for i, p in enumerate(pitches)]
    return roll_of(notes, n_steps=4 * BAR)


@pytest.mark.parametrize("semitones", range(12))
def test_detect_key_finds_the_major_key_a_scale_is_in(semitones: int) -> None:
    key = int(rolls.detect_key(scale_roll(C_MAJOR_SCALE, semitones), SPEC))
    assert key == semitones
    assert rolls.key_name(key).endswith("major")


def test_detect_key_finds_a_minor_key() -> None:
    a_harmonic_minor = [57, 59, 60, 62, 64, 65, 68, 69]  # A B C D E F G# A
    key = int(rolls.detect_key(scale_roll(a_harmonic_minor), SPEC))
    assert rolls.key_name(key) == "A minor"


def test_detect_key_is_minus_one_for_silence() -> None:
    assert int(rolls.detect_key(roll_of([], n_steps=BAR), SPEC)) == -1
    assert rolls.key_name(-1) == "no key"


def test_in_scale_ratio_against_c_major_and_against_another_key() -> None:
    roll = roll_of([(p, 2 * i, 2) for i, p in enumerate([*C_MAJOR_SCALE[:7], FS4])], n_steps=BAR)
    assert rolls.in_scale_ratio(roll, SPEC, rolls.C_MAJOR)[0] == pytest.approx(7 / 8)
    g_major = 7
    assert rolls.in_scale_ratio(roll, SPEC, g_major)[0] == pytest.approx(7 / 8)  # F# in, F out
    d_major = 2
    assert rolls.in_scale_ratio(roll, SPEC, d_major)[0] == pytest.approx(6 / 8)  # F# in, C and F out


def test_in_scale_ratio_is_nan_without_notes_or_key() -> None:
    assert math.isnan(rolls.in_scale_ratio(roll_of([], n_steps=BAR), SPEC, 0)[0])
    assert math.isnan(rolls.in_scale_ratio(roll_of([(C4, 0, 4)], n_steps=BAR), SPEC, -1)[0])


def test_groove_consistency_is_one_for_a_repeated_rhythm() -> None:
    rhythm = [0, 4, 6, 8, 12]
    roll = roll_of([(C4 + bar, bar * BAR + s, 1) for bar in range(3) for s in rhythm], n_steps=3 * BAR)
    assert rolls.groove_consistency(roll, BAR)[0] == 1


def test_groove_consistency_counts_onset_positions_that_differ_between_neighbouring_bars() -> None:
    bar_one = [(C4, s, 1) for s in (0, 4, 8, 12)]
    bar_two = [(C4, BAR + s, 1) for s in (0, 4, 10, 14)]  # two onsets moved: 4 positions differ
    roll = roll_of(bar_one + bar_two, n_steps=2 * BAR)
    assert rolls.groove_consistency(roll, BAR)[0] == pytest.approx(1 - 4 / BAR)
    assert math.isnan(rolls.groove_consistency(roll_of(bar_one, n_steps=BAR), BAR)[0])


def test_drum_in_pattern_rate_on_the_eighth_and_sixteenth_grids() -> None:
    roll = roll_of([(36, 0, 1), (38, 2, 1), (42, 3, 1), (42, 5, 1)], n_steps=BAR)
    assert rolls.drum_in_pattern_rate(roll, SPEC, subdivision=2)[0] == pytest.approx(2 / 4)
    assert rolls.drum_in_pattern_rate(roll, SPEC, subdivision=4)[0] == 1
    assert math.isnan(rolls.drum_in_pattern_rate(roll_of([], n_steps=BAR), SPEC)[0])


def test_drum_in_pattern_rate_with_triplet_steps() -> None:
    spec = RollSpec(steps_per_beat=12)
    roll = roll_of([(36, 0, 1), (38, 3, 1), (42, 4, 1), (42, 8, 1), (42, 13, 1)], n_steps=24, spec=spec)
    assert rolls.drum_in_pattern_rate(roll, spec, subdivision=4)[0] == pytest.approx(2 / 5)  # steps 0 and 3
    assert rolls.drum_in_pattern_rate(roll, spec, subdivision=3)[0] == pytest.approx(3 / 5)  # steps 0, 4, 8


def test_highest_pitches_follow_the_top_line() -> None:
    roll = roll_of([(C4, 0, 2), (E4, 0, 1), (G4, 3, 1)], n_steps=4)
    np.testing.assert_array_equal(rolls.highest_pitches(roll, SPEC), [[E4, C4, -1, G4]])


def test_a_narrow_pitch_range_gives_the_same_results_as_the_full_one() -> None:
    notes = [(C4, 0, 4), (E4, 0, 4), (G4, 4, 2), (B4, 8, 8), (FS4, 8, 3)]
    full = roll_of(notes, n_steps=BAR)
    narrow_spec = RollSpec(steps_per_beat=4, low_pitch=55, high_pitch=80)  # row 0 is G3
    narrow = roll_of(notes, n_steps=BAR, spec=narrow_spec)
    assert rolls.pitch_class_entropy(full, SPEC) == pytest.approx(rolls.pitch_class_entropy(narrow, narrow_spec))
    assert int(rolls.detect_key(full, SPEC)) == int(rolls.detect_key(narrow, narrow_spec))
    assert rolls.in_scale_ratio(full, SPEC, 0) == pytest.approx(rolls.in_scale_ratio(narrow, narrow_spec, 0))
    np.testing.assert_array_equal(rolls.highest_pitches(full, SPEC), rolls.highest_pitches(narrow, narrow_spec))
    assert rolls.n_pitch_classes_used(full, SPEC) == rolls.n_pitch_classes_used(narrow, narrow_spec)


def test_a_batch_gives_each_window_its_own_values() -> None:
    first = roll_of([(C4, 0, 4), (G4, 4, 1)], [], n_steps=BAR)
    second = roll_of([(E4, 0, 1)], [(C4, 0, 16), (E4, 0, 16), (G4, 0, 16)], n_steps=BAR)
    batch = np.stack([first, second])
    for metric in (rolls.pitch_range, rolls.polyphony, rolls.qualified_note_rate):
        result = metric(batch)
        assert result.shape == (2, 2)
        np.testing.assert_array_equal(result[0], metric(first))
        np.testing.assert_array_equal(result[1], metric(second))
    keys = rolls.detect_key(batch, SPEC)
    assert keys.shape == (2,)
    in_scale = rolls.in_scale_ratio(batch, SPEC, keys)
    np.testing.assert_array_equal(in_scale[1], rolls.in_scale_ratio(second, SPEC, int(keys[1])))


def test_a_roll_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="pitch rows"):
        rolls.pitch_class_entropy(np.zeros((1, 4, 12), dtype=np.uint8), SPEC)
    with pytest.raises(ValueError, match="tracks, steps, pitches"):
        rolls.pitch_range(np.zeros((4, 12), dtype=np.uint8))
