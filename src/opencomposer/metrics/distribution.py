"""How close two sets of pieces are: the feature-distribution method of Yang and Lerch (2018).

Li-Chia Yang and Alexander Lerch, "On the evaluation of generative models in music", Neural Computing
and Applications 32, 2020 (online 2018). For each feature of a piece (`piece_features`):

1. distances between pieces: the Euclidean distance between their feature values (the absolute
   difference for a number, the L2 distance for a histogram);
2. three distance distributions: *intra-set* distances between the pieces of one set (generated with
   generated, reference with reference, every unordered pair once) and *inter-set* distances between a
   generated piece and a reference piece (every pair);
3. each distribution is smoothed by a Gaussian kernel density estimate (`gaussian_density`), and two of
   them are compared by their *overlapped area* ``OA = integral of min(p, q)`` (1 for identical
   distributions, 0 for disjoint ones) and their *Kullback-Leibler divergence* ``KL(p || q)``.

A generated set that sounds like the reference has inter-set distances distributed like the reference's
own intra-set distances (OA near 1, KL near 0). Comparing the generated set's intra-set distances with
the inter-set ones as well catches a model that always plays the same thing: its intra-set distances
are all small.

The *similarity index* is the mean over features of ``(OA(intra-reference, inter) +
OA(intra-generated, inter)) / 2``, in [0, 1] (a feature whose generated term is undefined, because
fewer than two generated pieces have it, counts with its reference term alone). The generated term
rests on n (n - 1) / 2 pairs of n generated pieces: with fewer than about ten it is noisy, and low.
A set compared with itself does not reach 1 exactly: its inter-set distances include each piece's zero
distance to itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import gaussian_filter1d

from opencomposer.metrics.rolls import (
    AnyRoll,
    FloatArray,
    any_along,
    count_along,
    highest_pitches,
    key_from_histogram,
    note_pitch_class_histogram,
    note_starts,
    pitch_class_counts,
    polyphony,
    safe_ratio,
    scale_counts,
    sounding,
)
from opencomposer.music.pianoroll import RollSpec

FEATURES = (
    "pitch_count",
    "pitch_class_histogram",
    "pitch_range",
    "pitch_interval",
    "notes_per_bar",
    "inter_onset_interval_beats",
    "note_length_histogram",
    "polyphony",
    "in_scale_ratio",
)
# Upper edges, in beats, of the note length histogram's bins (the last bin takes every longer note).
NOTE_LENGTH_BIN_BEATS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, math.inf)
MAX_PAIRS = 10_000
GRID_POINTS = 512
_KL_FLOOR = 1e-10

Features = Mapping[str, FloatArray]


def piece_features(roll: AnyRoll, spec: RollSpec, steps_per_bar: int) -> dict[str, FloatArray]:
    """The features of one piece, from its roll (tracks, steps, pitches), all tracks taken together.

    Pass the pitched tracks only (drum pitches name sounds, not notes). Every feature is a 1-D array
    (length 1 for a number); a feature a piece does not have, such as intervals in a piece of one note,
    is NaN. `steps_per_bar` is the piece's bar length.

    - ``pitch_count``: number of distinct pitches used.
    - ``pitch_class_histogram``: share of the notes on each of the 12 pitch classes.
    - ``pitch_range``: highest minus lowest pitch, in semitones.
    - ``pitch_interval``: mean absolute interval, in semitones, between consecutive notes of the top
      line (the notes that start on the highest sounding pitch of their step).
    - ``notes_per_bar``: number of notes divided by the number of bars.
    - ``inter_onset_interval_beats``: mean time, in beats, between consecutive steps where a note starts.
    - ``note_length_histogram``: share of the notes in each length bin (`NOTE_LENGTH_BIN_BEATS`).
    - ``polyphony``: mean number of pitches sounding together when any sounds (`rolls.polyphony`).
    - ``in_scale_ratio``: share of the notes in the scale of the piece's detected key (`detect_key`).
    """
    if roll.ndim != 3 or roll.shape[-1] != spec.n_pitches:
        raise ValueError(f"Expected one piece's roll (tracks, steps, {spec.n_pitches}), got shape {roll.shape}.")
    on = sounding(roll)
    starts = note_starts(roll)
    merged_on = any_along(on, 0)  # (steps, pitches)
    merged_starts = any_along(starts, 0)
    histogram = note_pitch_class_histogram(roll, spec).sum(axis=0)  # (12,)
    n_notes = int(histogram.sum())
    used = any_along(merged_on, 0)
    rows = np.flatnonzero(used)
    top = highest_pitches(merged_on[None], spec)[0] - spec.low_pitch  # (steps,), -1 + offset where silent
    top_line_steps = np.flatnonzero((top >= 0) & merged_starts[np.arange(len(top)), np.clip(top, 0, None)])
    onset_steps = np.flatnonzero(any_along(merged_starts, -1))
    n_bars = -(-roll.shape[-2] // steps_per_bar)
    key = key_from_histogram(pitch_class_counts(count_along(merged_on, 0), spec))
    in_scale, in_key_notes = scale_counts(histogram[None], key)
    return {
        "pitch_count": np.array([float(rows.size)]),
        "pitch_class_histogram": safe_ratio(histogram, n_notes) if n_notes else np.full(12, np.nan),
        "pitch_range": np.array([float(rows[-1] - rows[0]) if rows.size else np.nan]),
        "pitch_interval": np.array([_mean_abs_diff(top[top_line_steps])]),
        "notes_per_bar": safe_ratio([n_notes], [n_bars]),
        "inter_onset_interval_beats": np.array([_mean_abs_diff(onset_steps) / spec.steps_per_beat]),
        "note_length_histogram": _note_length_histogram(on, starts, spec),
        "polyphony": polyphony(merged_on[None]),
        "in_scale_ratio": safe_ratio(in_scale, in_key_notes),
    }


def _mean_abs_diff(values: npt.NDArray[np.generic]) -> float:
    """Mean absolute difference between consecutive values; NaN for fewer than two."""
    if len(values) < 2:
        return math.nan
    return float(np.abs(np.diff(np.asarray(values, dtype=np.float64))).mean())


def _note_length_histogram(on: npt.NDArray[np.bool_], starts: npt.NDArray[np.bool_], spec: RollSpec) -> FloatArray:
    """Share of the notes in each length bin; NaN everywhere when there is no note."""
    # Lay every (track, pitch) row out in time order: a note's cells then follow its start, and
    # numbering the starts with a running count labels each sounding cell with its note.
    on_rows = np.ascontiguousarray(np.swapaxes(on, -1, -2)).ravel()
    start_rows = np.ascontiguousarray(np.swapaxes(starts, -1, -2)).ravel()
    note_of_cell = np.cumsum(start_rows)[on_rows]
    lengths_steps = np.bincount(note_of_cell)[1:]
    if lengths_steps.size == 0:
        return np.full(len(NOTE_LENGTH_BIN_BEATS), np.nan)
    edges_steps = np.asarray(NOTE_LENGTH_BIN_BEATS) * spec.steps_per_beat
    bins = np.searchsorted(edges_steps, lengths_steps, side="left")
    counts = np.bincount(bins, minlength=len(NOTE_LENGTH_BIN_BEATS)).astype(np.float64)
    return np.asarray(counts / counts.sum(), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class FeatureComparison:
    """How one feature's distance distributions compare (see the module docstring).

    `overlap_area` and `kl_divergence` compare the reference set's intra-set distances with the
    inter-set ones; the `_generated` pair compares the generated set's intra-set distances with them.
    The means are of the distances themselves. NaN where a set has fewer than two pieces with the
    feature.
    """

    feature: str
    overlap_area: float
    kl_divergence: float
    overlap_area_generated: float
    kl_divergence_generated: float
    intra_reference_mean: float
    intra_generated_mean: float
    inter_mean: float

    def to_dict(self) -> dict[str, float]:
        """The numbers of the comparison, by field name (everything but the feature's name)."""
        return {key: value for key, value in asdict(self).items() if key != "feature"}


def compare_feature_sets(
    generated: Sequence[Features],
    reference: Sequence[Features],
    *,
    seed: int = 0,
    max_pairs: int = MAX_PAIRS,
) -> dict[str, FeatureComparison]:
    """Compare the feature distributions of a generated and a reference set of pieces, feature by feature.

    Parameters
    ----------
    generated, reference
        One `piece_features` dictionary per piece.
    seed
        Seeds the subsampling of distances, so that a comparison is reproducible.
    max_pairs
        Each distance distribution uses at most this many pairs, drawn at random without replacement
        (the kernel density estimate costs pairs x grid points).

    Returns
    -------
    dict
        Feature name to its `FeatureComparison`, for the features of `FEATURES` that both sets have.
    """
    rng = np.random.default_rng(seed)
    comparisons = {}
    for feature in FEATURES:
        gen = _stack(generated, feature)
        ref = _stack(reference, feature)
        intra_ref = _subsample(_pair_distances(ref, None), max_pairs, rng)
        intra_gen = _subsample(_pair_distances(gen, None), max_pairs, rng)
        inter = _subsample(_pair_distances(gen, ref), max_pairs, rng)
        overlap_ref, kl_ref = compare_distributions(intra_ref, inter)
        overlap_gen, kl_gen = compare_distributions(intra_gen, inter)
        comparisons[feature] = FeatureComparison(
            feature=feature,
            overlap_area=overlap_ref,
            kl_divergence=kl_ref,
            overlap_area_generated=overlap_gen,
            kl_divergence_generated=kl_gen,
            intra_reference_mean=_mean(intra_ref),
            intra_generated_mean=_mean(intra_gen),
            inter_mean=_mean(inter),
        )
    return comparisons


def similarity_index(comparisons: Mapping[str, FeatureComparison]) -> float:
    """The summary in [0, 1]: the mean over features of ``(OA_reference + OA_generated) / 2``.

    ``OA_reference`` is the overlapped area of the reference intra-set and the inter-set distance
    distributions, ``OA_generated`` that of the generated intra-set and the inter-set ones; a feature
    whose ``OA_generated`` is NaN counts with ``OA_reference`` alone, one whose ``OA_reference`` is NaN
    not at all. NaN when no feature could be compared.
    """
    scores = []
    for comparison in comparisons.values():
        if math.isnan(comparison.overlap_area):
            continue
        if math.isnan(comparison.overlap_area_generated):
            scores.append(comparison.overlap_area)
        else:
            scores.append((comparison.overlap_area + comparison.overlap_area_generated) / 2)
    return float(np.mean(scores)) if scores else math.nan


def _stack(pieces: Sequence[Features], feature: str) -> FloatArray:
    """The feature of every piece that has it, shape (pieces, dims)."""
    rows = [np.asarray(piece[feature], dtype=np.float64) for piece in pieces]
    rows = [row for row in rows if not np.isnan(row).any()]
    if not rows:
        return np.zeros((0, 1))
    return np.stack(rows)


def _pair_distances(first: FloatArray, second: FloatArray | None) -> FloatArray:
    """Euclidean distances of every pair across two sets, or of every unordered pair within one."""
    if second is None:
        upper, lower = np.triu_indices(len(first), k=1)
        return np.asarray(np.linalg.norm(first[upper] - first[lower], axis=-1), dtype=np.float64)
    if len(first) == 0 or len(second) == 0:
        return np.zeros(0)
    return np.asarray(np.linalg.norm(first[:, None, :] - second[None, :, :], axis=-1).ravel(), dtype=np.float64)


def _subsample(values: FloatArray, max_count: int, rng: np.random.Generator) -> FloatArray:
    if len(values) <= max_count:
        return values
    return values[rng.choice(len(values), size=max_count, replace=False)]


def _mean(values: FloatArray) -> float:
    return float(values.mean()) if values.size else math.nan


def gaussian_density(samples: FloatArray, grid: FloatArray) -> FloatArray:
    """A Gaussian kernel density estimate of `samples`, evaluated at the points of an evenly spaced `grid`.

    The bandwidth follows Scott's rule, ``h = std(samples) * n ** (-1 / 5)`` (what
    `scipy.stats.gaussian_kde` uses for one dimension). When every sample is equal the spread is 0;
    then ``h`` is 1% of the grid's span, a narrow bump at that value. The estimate is binned: each
    sample counts at its nearest grid point, and the counts are smoothed with a Gaussian of standard
    deviation ``h`` (`scipy.ndimage.gaussian_filter1d`), which costs grid points rather than samples x
    grid points and matches the exact sum closely while ``h`` spans a few grid steps. Samples outside
    the grid are left out.
    """
    step = float(grid[1] - grid[0])
    spread = float(np.std(samples, ddof=1)) if len(samples) > 1 else 0.0
    bandwidth = spread * len(samples) ** (-0.2)
    if bandwidth <= 0:
        bandwidth = 0.01 * float(grid[-1] - grid[0])
    edges = np.concatenate([grid - step / 2, [grid[-1] + step / 2]])
    counts, _ = np.histogram(samples, bins=edges)
    smoothed = gaussian_filter1d(counts.astype(np.float64), sigma=bandwidth / step, mode="constant", truncate=6.0)
    return np.asarray(smoothed / (len(samples) * step), dtype=np.float64)


def compare_distributions(first: FloatArray, second: FloatArray) -> tuple[float, float]:
    """Overlapped area and KL divergence ``KL(first || second)`` of two samples' density estimates.

    Both densities (`gaussian_density`) are evaluated on `GRID_POINTS` points spanning both samples
    plus three standard deviations on each side. ``OA = integral of min(p, q) dx`` by the trapezoid rule;
    ``KL = sum_i p_i log(p_i / q_i)`` over the grid with p and q normalized to sum to 1 there and q
    floored at 1e-10 so that it stays finite. NaN, NaN when either sample has fewer than two values.
    """
    if len(first) < 2 or len(second) < 2:
        return math.nan, math.nan
    pooled = np.concatenate([first, second])
    margin = 3 * max(float(np.std(first)), float(np.std(second)), 1e-6)
    grid = np.linspace(pooled.min() - margin, pooled.max() + margin, GRID_POINTS)
    p = gaussian_density(first, grid)
    q = gaussian_density(second, grid)
    overlap = float(np.trapezoid(np.minimum(p, q), grid))
    p_mass = p / p.sum()
    q_mass = np.maximum(q / q.sum(), _KL_FLOOR)
    kl = float(np.sum(np.where(p_mass > 0, p_mass * np.log(np.maximum(p_mass, _KL_FLOOR) / q_mass), 0.0)))
    return min(overlap, 1.0), kl
