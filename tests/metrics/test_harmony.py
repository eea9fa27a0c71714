"""Harmony metrics: tonal distance, and voice-leading checks on hand-written four-part progressions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from opencomposer.metrics.harmony import tonal_centroids, tonal_distance, voice_leading
from opencomposer.music.pianoroll import RollSpec, to_roll
from opencomposer.music.score import Note, Score, Track

SPEC = RollSpec(steps_per_beat=4)
BEAT = 4

Chord = tuple[int | None, int | None, int | None, int | None]


def satb(*chords: Chord, steps_per_chord: int = BEAT) -> np.ndarray:
    """A four-track roll (S, A, T, B): one chord per beat, None for a silent voice."""
    tracks = []
    for voice in range(4):
        pitches = [(index, chord[voice]) for index, chord in enumerate(chords)]
        notes = [Note(pitch, index * steps_per_chord, steps_per_chord) for index, pitch in pitches if pitch is not None]
        tracks.append(Track(notes=tuple(notes)))
    score = Score(resolution=SPEC.steps_per_beat, tracks=tuple(tracks))
    return to_roll(score, SPEC, n_steps=len(chords) * steps_per_chord)


def part(*beats: tuple[int, ...]) -> np.ndarray:
    """One part (steps, pitches): a chord of the given pitches on each beat (empty tuple: silence)."""
    notes = [Note(pitch, index * BEAT, BEAT) for index, chord in enumerate(beats) for pitch in chord]
    score = Score(resolution=SPEC.steps_per_beat, tracks=(Track(notes=tuple(notes)),))
    return np.asarray(to_roll(score, SPEC, n_steps=len(beats) * BEAT)[0])


def test_tonal_centroid_of_c_sits_at_angle_zero_on_every_circle() -> None:
    chroma = np.zeros(12)
    chroma[0] = 3.0  # any weight: the chroma is normalized
    np.testing.assert_allclose(tonal_centroids(chroma), [0, 1, 0, 1, 0, 0.5], atol=1e-12)
    assert np.isnan(tonal_centroids(np.zeros(12))).all()


def test_tonal_distance_is_zero_for_the_same_harmony_in_another_octave_and_voicing() -> None:
    c_major = part((60, 64, 67), (60, 64, 67))
    c_major_low = part((48, 55, 64), (36, 52, 55))
    assert tonal_distance(c_major, c_major_low, SPEC) == pytest.approx(0.0, abs=1e-12)


def test_tonal_distance_grows_with_harmonic_remoteness() -> None:
    c_major = part((60, 64, 67))
    g_major = part((67, 71, 74))
    f_sharp_major = part((66, 70, 73))
    near = tonal_distance(c_major, g_major, SPEC)
    far = tonal_distance(c_major, f_sharp_major, SPEC)
    assert 0 < near < far


def test_tonal_distance_averages_over_beats_where_both_parts_sound() -> None:
    melody = part((72,), (66,), ())
    chords = part((60, 64, 67), (60, 64, 67), (60, 64, 67))
    only_second_beat = tonal_distance(part((66,)), part((60, 64, 67)), SPEC)
    first_beat = tonal_distance(part((72,)), part((60, 64, 67)), SPEC)
    assert tonal_distance(melody, chords, SPEC) == pytest.approx((first_beat + only_second_beat) / 2)
    assert math.isnan(tonal_distance(part((), ()), chords[: 2 * BEAT], SPEC))


def test_tonal_distance_works_on_batches() -> None:
    first = np.stack([part((60,)), part((66,))])
    second = np.stack([part((60,)), part((60,))])
    result = tonal_distance(first, second, SPEC)
    assert result.shape == (2,)
    assert result[0] == pytest.approx(0.0, abs=1e-12)
    assert result[1] > 0


# Voice leading. Pitches: C3 48, D3 50, G3 55, A3 57, C4 60, D4 62, E4 64, F4 65, G4 67, A4 69, B4 71, C5 72.


def test_parallel_fifths_between_outer_voices() -> None:
    counts = voice_leading(satb((67, 64, 60, 48), (69, 64, 60, 50)), SPEC)  # S G4->A4, B C3->D3: 19 -> 19
    assert counts.transitions == 1
    assert counts.parallel_fifths == 1
    assert counts.parallel_octaves == 0
    assert counts.per_100_transitions()["parallel_fifths"] == pytest.approx(100.0)


def test_fifths_in_contrary_motion_and_direct_fifths_are_not_parallel() -> None:
    contrary = voice_leading(satb((67, 64, 60, 48), (62, 62, 57, 55)), SPEC)  # S G4->D4 down, B C3->G3 up
    direct = voice_leading(satb((64, 60, 55, 48), (69, 64, 60, 50)), SPEC)  # S-B from a tenth to a twelfth
    assert contrary.parallel_fifths == 0
    assert direct.parallel_fifths == 0


def test_a_fifth_moving_to_a_twelfth_in_the_same_direction_counts_as_parallel_fifths() -> None:
    counts = voice_leading(satb((79, 76, 55, 48), (79, 76, 69, 50)), SPEC)  # T-B: G3 over C3 (7) -> A4 over D3 (19)
    assert counts.parallel_fifths == 1


def test_parallel_octaves_and_unisons() -> None:
    octaves = voice_leading(satb((72, 64, 60, 48), (74, 65, 62, 50)), SPEC)  # S, T and B all up a tone in octaves
    assert octaves.parallel_octaves == 3  # S-T, S-B, T-B
    unisons = voice_leading(satb((72, 64, 64, 48), (72, 65, 65, 48)), SPEC)  # A and T move together at unison
    assert unisons.parallel_octaves == 1


def test_voice_crossing_counts_crossed_pairs_at_transitions() -> None:
    counts = voice_leading(satb((67, 64, 60, 48), (65, 67, 60, 48), (64, 60, 55, 48)), SPEC)
    assert counts.transitions == 2
    assert counts.crossings == 1  # the alto above the soprano on beat 2
    assert counts.per_100_transitions()["crossings"] == pytest.approx(50.0)


def test_spacing_checks_soprano_alto_and_alto_tenor_but_not_tenor_bass() -> None:
    counts = voice_leading(satb((72, 64, 60, 48), (76, 62, 48, 36)), SPEC)  # S-A 14, A-T 14, T-B 12
    assert counts.spacings == 2
    wide_bass = voice_leading(satb((72, 64, 60, 48), (72, 67, 62, 36)), SPEC)  # only T-B is wide (26)
    assert wide_bass.spacings == 0


def test_a_cadence_without_faults_counts_only_its_transitions() -> None:
    # I - IV - V - I in C major, textbook voicing.
    counts = voice_leading(
        satb((72, 67, 64, 48), (72, 69, 65, 53), (71, 67, 62, 55), (72, 67, 64, 48)),
        SPEC,
    )
    assert counts.transitions == 3
    faults = [counts.parallel_fifths, counts.parallel_octaves, counts.crossings, counts.spacings]
    assert [int(count) for count in faults] == [0, 0, 0, 0]


def test_held_chords_and_entries_from_silence_are_not_transitions() -> None:
    counts = voice_leading(satb((72, None, 60, 48), (72, 67, 60, 48), (72, 67, 60, 48)), SPEC)
    assert counts.transitions == 0
    assert math.isnan(counts.per_100_transitions()["parallel_fifths"])


def test_voice_leading_counts_per_window_and_in_total() -> None:
    fifths = satb((67, 64, 60, 48), (69, 64, 60, 50))
    clean = satb((72, 67, 64, 48), (72, 69, 65, 53))
    counts = voice_leading(np.stack([fifths, clean, fifths]), SPEC)
    np.testing.assert_array_equal(counts.parallel_fifths, [1, 0, 1])
    np.testing.assert_array_equal(counts.transitions, [1, 1, 1])
    total = counts.total()
    assert (int(total.parallel_fifths), int(total.transitions)) == (2, 3)


def test_voice_leading_needs_four_voices() -> None:
    with pytest.raises(ValueError, match="four voices"):
        voice_leading(np.zeros((3, 8, SPEC.n_pitches), dtype=np.uint8), SPEC)
