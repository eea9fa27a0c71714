"""`window_metrics`: the keys the dataset pipeline and the trainer read, and NaN-safe means over windows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from opencomposer.metrics import (
    DRUM_TRACK_METRICS,
    PITCHED_TRACK_METRICS,
    VOICE_LEADING_METRICS,
    track_names,
    window_metric_values,
    window_metrics,
)
from opencomposer.music.pianoroll import RollSpec, to_roll
from opencomposer.music.score import Note, Score, Track

SPEC = RollSpec(steps_per_beat=4, low_pitch=24, high_pitch=107)
BAR = 16
SATB = ["Soprano", "Alto", "Tenor", "Bass"]


def window(*tracks: list[tuple[int, int, int]], n_steps: int = 4 * BAR) -> np.ndarray:
    """One window with one track per list of (pitch, start step, length in steps) notes."""
    score = Score(
        resolution=SPEC.steps_per_beat,
        tracks=tuple(Track(notes=tuple(Note(p, s, d) for p, s, d in notes)) for notes in tracks),
    )
    return to_roll(score, SPEC, n_steps=n_steps)


def chorale_window() -> np.ndarray:
    """A four-bar SATB window, one chord per bar: I V I ii, with parallel fifths into the last chord."""
    chords = [(72, 67, 64, 48), (71, 67, 62, 43), (67, 64, 60, 48), (69, 64, 60, 50)]
    return window(*([(chord[voice], bar * BAR, BAR) for bar, chord in enumerate(chords)] for voice in range(4)))


def test_four_pitched_tracks_get_every_per_track_metric_tonal_distance_and_voice_leading() -> None:
    metrics = window_metrics(chorale_window(), SPEC, steps_per_bar=BAR, track_names=SATB)
    expected_per_track = {f"{name}/{track}" for name in PITCHED_TRACK_METRICS for track in SATB}
    whole = {"polyphony", "pitch_class_entropy", "in_scale_ratio", "in_c_major_ratio", "tonal_distance"}
    assert set(metrics) == expected_per_track | whole | set(VOICE_LEADING_METRICS)
    assert metrics["empty_bar_rate/Soprano"] == 0
    assert metrics["pitch_range/Bass"] == 50 - 43
    assert metrics["polyphony"] == 4
    assert metrics["in_c_major_ratio"] == 1
    assert metrics["parallel_fifths"] == pytest.approx(100 / 3)  # S-B G4/C3 -> A4/D3, one of 3 transitions
    assert all(isinstance(value, float) for value in metrics.values())


def test_a_drum_track_gets_drum_metrics_and_turns_voice_leading_off() -> None:
    melody = [(72, 4 * i, 4) for i in range(16)]
    bass = [(36, 8 * i, 8) for i in range(8)]
    piano = [(60, 0, 64), (64, 0, 64)]
    drums = [(36, 4 * i, 1) for i in range(16)] + [(42, 4 * i + 3, 1) for i in range(16)]
    names = ["Melody", "Bass", "Piano", "Drums"]
    metrics = window_metrics(
        window(melody, bass, piano, drums),
        SPEC,
        steps_per_bar=BAR,
        track_names=names,
        drum_tracks=[False, False, False, True],
    )
    assert {key for key in metrics if key.endswith("/Drums")} == {f"{name}/Drums" for name in DRUM_TRACK_METRICS}
    assert metrics["drum_in_8th_pattern_rate/Drums"] == pytest.approx(0.5)  # kicks on beats, hats on the last 16th
    assert metrics["drum_in_16th_pattern_rate/Drums"] == 1
    assert not set(VOICE_LEADING_METRICS) & set(metrics)
    assert "tonal_distance" in metrics


def test_no_melody_means_no_tonal_distance() -> None:
    metrics = window_metrics(chorale_window(), SPEC, steps_per_bar=BAR, track_names=SATB, melody_index=None)
    assert "tonal_distance" not in metrics


def test_means_leave_out_windows_where_a_metric_is_undefined() -> None:
    silent_soprano = window([], [(60, 0, 4)], [(55, 0, 4)], [(48, 0, 4)])
    soprano_fifth = window([(72, 0, 4), (79, 4, 4)], [(60, 0, 4)], [(55, 0, 4)], [(48, 0, 4)])
    batch = np.stack([silent_soprano, soprano_fifth, silent_soprano])
    metrics = window_metrics(batch, SPEC, steps_per_bar=BAR, track_names=SATB)
    assert metrics["pitch_range/Soprano"] == 7  # not 7 / 3
    assert metrics["empty_bar_rate/Soprano"] == pytest.approx((1 + 0.75 + 1) / 3)  # defined everywhere
    values = window_metric_values(batch, SPEC, steps_per_bar=BAR, track_names=SATB)
    assert values["pitch_range/Soprano"].shape == (3,)
    assert math.isnan(values["pitch_range/Soprano"][0])


def test_a_metric_undefined_in_every_window_is_nan() -> None:
    metrics = window_metrics(window([], [], [], []), SPEC, steps_per_bar=BAR, track_names=SATB)
    assert math.isnan(metrics["pitch_range/Soprano"])
    assert metrics["empty_bar_rate/Soprano"] == 1


def test_one_window_is_a_batch_of_one() -> None:
    single = window_metrics(chorale_window(), SPEC, steps_per_bar=BAR, track_names=SATB)
    batch = window_metrics(chorale_window()[None], SPEC, steps_per_bar=BAR, track_names=SATB)
    assert single == batch


def test_the_mean_over_a_batch_is_the_mean_of_each_window() -> None:
    first = chorale_window()
    second = window([(60, 0, 16)], [(57, 0, 16)], [(53, 0, 16)], [(41, 0, 16)])
    both = window_metrics(np.stack([first, second]), SPEC, steps_per_bar=BAR, track_names=SATB)
    one = window_metrics(first, SPEC, steps_per_bar=BAR, track_names=SATB)
    two = window_metrics(second, SPEC, steps_per_bar=BAR, track_names=SATB)
    for key in ("pitch_class_entropy", "empty_bar_rate/Alto", "in_scale_ratio", "groove_consistency/Bass"):
        assert both[key] == pytest.approx((one[key] + two[key]) / 2)


def test_arguments_that_do_not_fit_the_rolls_are_refused() -> None:
    roll = chorale_window()
    with pytest.raises(ValueError, match="track names"):
        window_metrics(roll, SPEC, steps_per_bar=BAR, track_names=SATB[:3])
    with pytest.raises(ValueError, match="drum_tracks"):
        window_metrics(roll, SPEC, steps_per_bar=BAR, track_names=SATB, drum_tracks=[3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="melody_index"):
        window_metrics(roll, SPEC, steps_per_bar=BAR, track_names=SATB, melody_index=4)
    with pytest.raises(ValueError, match="shape"):
        window_metrics(roll[..., :12], SPEC, steps_per_bar=BAR, track_names=SATB)


def test_track_names_are_distinct_keys() -> None:
    score = Score(tracks=(Track(name="Piano"), Track(name=""), Track(name="Piano"), Track(name="Bass")))
    assert track_names(score) == ["Piano", "Track 2", "Piano 2", "Bass"]
