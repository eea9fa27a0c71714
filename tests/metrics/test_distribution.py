"""Yang and Lerch feature distributions: piece features, density overlap and KL, set comparisons."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import gaussian_kde, norm

from opencomposer.metrics.distribution import (
    FEATURES,
    NOTE_LENGTH_BIN_BEATS,
    compare_distributions,
    compare_feature_sets,
    gaussian_density,
    piece_features,
    similarity_index,
)
from opencomposer.music.pianoroll import RollSpec, to_roll
from opencomposer.music.score import Note, Score, Track

SPEC = RollSpec(steps_per_beat=4)
BAR = 16


def piece(*tracks: list[tuple[int, int, int]], n_steps: int = BAR) -> np.ndarray:
    score = Score(
        resolution=SPEC.steps_per_beat,
        tracks=tuple(Track(notes=tuple(Note(p, s, d) for p, s, d in notes)) for notes in tracks),
    )
    return to_roll(score, SPEC, n_steps=n_steps)


def test_piece_features_of_a_melody_over_a_held_fifth() -> None:
    melody = [(60, 0, 4), (64, 4, 4), (67, 8, 2), (72, 12, 4)]
    fifth = [(48, 0, 16), (55, 0, 16)]
    features = piece_features(piece(melody, fifth), SPEC, steps_per_bar=BAR)
    assert set(features) == set(FEATURES)
    assert features["pitch_count"][0] == 6
    assert features["pitch_range"][0] == 72 - 48
    histogram = np.zeros(12)
    histogram[[0, 4, 7]] = [3, 1, 2]
    np.testing.assert_allclose(features["pitch_class_histogram"], histogram / 6)
    assert features["pitch_interval"][0] == pytest.approx((4 + 3 + 5) / 3)  # the G3 under the rest is no top note
    assert features["notes_per_bar"][0] == 6
    assert features["inter_onset_interval_beats"][0] == pytest.approx(1.0)  # onsets every beat
    lengths = np.zeros(len(NOTE_LENGTH_BIN_BEATS))
    lengths[[1, 3, 7]] = [1, 3, 2]  # one half beat, three single beats, two four-beat notes
    np.testing.assert_allclose(features["note_length_histogram"], lengths / 6)
    assert features["polyphony"][0] == pytest.approx((10 * 3 + 2 * 2 + 4 * 3) / 16)
    assert features["in_scale_ratio"][0] == 1


def test_piece_features_of_silence_are_nan_where_undefined() -> None:
    features = piece_features(piece([]), SPEC, steps_per_bar=BAR)
    assert features["pitch_count"][0] == 0
    assert features["notes_per_bar"][0] == 0
    for name in ("pitch_class_histogram", "pitch_range", "pitch_interval", "note_length_histogram", "polyphony"):
        assert np.isnan(features[name]).all(), name


def test_gaussian_density_integrates_to_one_and_handles_equal_samples() -> None:
    grid = np.linspace(-10, 10, 2001)
    samples = np.random.default_rng(0).normal(size=300)
    assert np.trapezoid(gaussian_density(samples, grid), grid) == pytest.approx(1.0, abs=1e-3)
    equal = gaussian_density(np.full(5, 2.0), grid)
    assert np.isfinite(equal).all()
    assert grid[np.argmax(equal)] == pytest.approx(2.0)
    assert np.trapezoid(equal, grid) == pytest.approx(1.0, abs=1e-3)


def test_gaussian_density_matches_scipy_gaussian_kde() -> None:
    samples = np.random.default_rng(4).gamma(2.0, size=1000)
    grid = np.linspace(-2, 14, 512)
    exact = gaussian_kde(samples)(grid)  # the same Scott bandwidth, summed exactly
    np.testing.assert_allclose(gaussian_density(samples, grid), exact, atol=0.01 * exact.max())


def test_identical_samples_overlap_completely() -> None:
    samples = np.random.default_rng(1).gamma(2.0, size=500)
    overlap, kl = compare_distributions(samples, samples.copy())
    assert overlap == pytest.approx(1.0, abs=1e-6)
    assert kl == pytest.approx(0.0, abs=1e-9)


def test_overlap_and_kl_of_two_gaussian_samples_match_those_of_the_fitted_gaussians() -> None:
    rng = np.random.default_rng(2)
    first, second = rng.normal(0, 1, 2000), rng.normal(1, 1.5, 2000)
    overlap, kl = compare_distributions(first, second)
    (m1, s1), (m2, s2) = (first.mean(), first.std()), (second.mean(), second.std())
    grid = np.linspace(-12, 12, 20001)
    expected_overlap = np.trapezoid(np.minimum(norm.pdf(grid, m1, s1), norm.pdf(grid, m2, s2)), grid)
    expected_kl = math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
    assert overlap == pytest.approx(expected_overlap, abs=0.03)
    assert kl == pytest.approx(expected_kl, abs=0.05)


def test_far_apart_samples_do_not_overlap() -> None:
    rng = np.random.default_rng(3)
    overlap, kl = compare_distributions(rng.normal(0, 1, 300), rng.normal(20, 1, 300))
    assert overlap < 1e-3
    assert kl > 5
    constant_overlap, _ = compare_distributions(np.zeros(10), np.full(10, 5.0))
    assert constant_overlap < 1e-3


def test_too_few_distances_give_nan() -> None:
    assert all(math.isnan(value) for value in compare_distributions(np.array([1.0]), np.arange(5.0)))


def fake_pieces(count: int, shift: float, seed: int) -> list[dict[str, np.ndarray]]:
    """Feature dictionaries drawn around `shift` (a 12-bin histogram feature, the others numbers)."""
    rng = np.random.default_rng(seed)
    return [
        {name: rng.normal(shift, 1.0, 12 if name.endswith("histogram") else 1) for name in FEATURES}
        for _ in range(count)
    ]


def test_sets_from_one_distribution_are_similar_and_shifted_sets_are_not() -> None:
    reference = fake_pieces(80, 0.0, seed=10)
    same = compare_feature_sets(fake_pieces(60, 0.0, seed=11), reference)
    shifted = compare_feature_sets(fake_pieces(60, 5.0, seed=12), reference)
    assert set(same) == set(FEATURES)
    assert min(c.overlap_area for c in same.values()) > 0.8
    assert max(c.overlap_area for c in shifted.values()) < 0.3
    assert similarity_index(same) > 0.85
    assert similarity_index(shifted) < 0.3
    assert same["pitch_count"].inter_mean < shifted["pitch_count"].inter_mean


def test_a_set_that_always_plays_the_same_thing_loses_similarity() -> None:
    reference = fake_pieces(80, 0.0, seed=20)
    varied = fake_pieces(60, 0.0, seed=21)
    collapsed = [fake_pieces(1, 0.0, seed=22)[0]] * 60
    varied_result = compare_feature_sets(varied, reference)
    collapsed_result = compare_feature_sets(collapsed, reference)
    assert collapsed_result["pitch_count"].overlap_area_generated < 0.1
    assert similarity_index(collapsed_result) < similarity_index(varied_result) - 0.3


def test_comparisons_are_reproducible_with_a_seed() -> None:
    reference, generated = fake_pieces(100, 0.0, seed=30), fake_pieces(100, 0.5, seed=31)
    first = compare_feature_sets(generated, reference, seed=7, max_pairs=500)
    again = compare_feature_sets(generated, reference, seed=7, max_pairs=500)
    other_seed = compare_feature_sets(generated, reference, seed=8, max_pairs=500)
    assert first == again
    assert first != other_seed


def test_pieces_without_a_feature_are_left_out_of_its_distances() -> None:
    reference = fake_pieces(40, 0.0, seed=40)
    generated = fake_pieces(30, 0.0, seed=41)
    generated[0]["pitch_interval"] = np.array([np.nan])
    result = compare_feature_sets(generated, reference)
    assert not math.isnan(result["pitch_interval"].overlap_area)
    assert not math.isnan(result["pitch_interval"].inter_mean)


def test_one_generated_piece_is_compared_by_the_reference_term_alone() -> None:
    result = compare_feature_sets(fake_pieces(1, 0.0, seed=50), fake_pieces(40, 0.0, seed=51))
    assert math.isnan(result["polyphony"].overlap_area_generated)
    assert not math.isnan(result["polyphony"].overlap_area)
    index = similarity_index(result)
    assert index == pytest.approx(np.mean([c.overlap_area for c in result.values()]))
