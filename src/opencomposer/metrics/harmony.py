"""Harmony metrics: tonal distance between tracks, and voice-leading checks for four-part writing.

Rolls follow the conventions of `opencomposer.metrics.rolls`: `uint8` rolls (`OFF`/`HOLD`/`ONSET`) of
shape (tracks, steps, pitches), or a batch (windows, tracks, steps, pitches).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from opencomposer.metrics.rolls import (
    AnyRoll,
    FloatArray,
    IntArray,
    any_along,
    highest_pitches,
    pitch_class_counts,
    safe_ratio,
    sounding,
    split_segments,
)
from opencomposer.music.pianoroll import RollSpec

# Radii of the circle of fifths, of minor thirds and of major thirds (Harte, Sandler and Gasser 2006).
TONAL_RADII = (1.0, 1.0, 0.5)


def _tonal_matrix(radii: tuple[float, float, float] = TONAL_RADII) -> FloatArray:
    """The 6 x 12 matrix that maps a normalized chroma vector to its tonal centroid."""
    pitch_class = np.arange(12)
    rows = []
    for radius, angle in zip(radii, (7.0 * np.pi / 6.0, 3.0 * np.pi / 2.0, 2.0 * np.pi / 3.0), strict=True):
        rows += [radius * np.sin(pitch_class * angle), radius * np.cos(pitch_class * angle)]
    return np.stack(rows)


TONAL_MATRIX = _tonal_matrix()


def tonal_centroids(chroma: FloatArray) -> FloatArray:
    """The 6-D tonal centroid of each chroma vector (Harte et al. 2006), shape (..., 12) -> (..., 6).

    ``zeta(d) = Phi c(d) / ||c(d)||_1`` where row pairs of ``Phi`` place pitch class ``l`` on the circle
    of fifths (angle ``7 pi l / 6``, radius 1), of minor thirds (``3 pi l / 2``, radius 1) and of major
    thirds (``2 pi l / 3``, radius 0.5). A silent (all-zero) chroma maps to NaN.
    """
    return safe_ratio(chroma, chroma.sum(axis=-1, keepdims=True)) @ TONAL_MATRIX.T


def tonal_distance(first: AnyRoll, second: AnyRoll, spec: RollSpec) -> FloatArray:
    """Mean distance between the tonal centroids of two parts, beat by beat (as MuseGAN).

    `first` and `second` are single parts of shape (steps, pitches), or a batch (windows, steps,
    pitches): one track of a roll, or several tracks merged with ``roll[..., tracks, :, :].max(axis=-3)``.
    For each beat (`spec.steps_per_beat` steps), each part's chroma counts the sounding cells of every
    pitch class; ``distance(beat) = || zeta_first(beat) - zeta_second(beat) ||_2`` (see
    `tonal_centroids`), and the result is its mean over the beats where both parts sound. 0 means the
    two parts outline the same harmony; NaN when no beat has both parts sounding.
    """
    if first.shape != second.shape or first.ndim not in (2, 3):
        raise ValueError(
            f"Expected two parts of one shape (steps, pitches) or (windows, ...): {first.shape}, {second.shape}."
        )
    centroids = []
    for part in (first, second):
        per_beat = np.count_nonzero(split_segments(sounding(part), spec.steps_per_beat), axis=-2)
        centroids.append(tonal_centroids(pitch_class_counts(per_beat, spec).astype(np.float64)))
    distance = np.linalg.norm(centroids[0] - centroids[1], axis=-1)  # (..., beats), NaN where one is silent
    valid = ~np.isnan(distance)
    return safe_ratio(np.where(valid, distance, 0.0).sum(axis=-1), np.count_nonzero(valid, axis=-1))


class VoiceLeading(NamedTuple):
    """Counts of voice-leading events in four-part writing, one value per window.

    See `voice_leading` for the definitions. `per_100_transitions` turns the counts into rates.
    """

    transitions: IntArray
    parallel_fifths: IntArray
    parallel_octaves: IntArray
    crossings: IntArray
    spacings: IntArray

    def per_100_transitions(self) -> dict[str, FloatArray]:
        """Each event count per 100 note transitions; NaN where a window has no transition."""
        names = ("parallel_fifths", "parallel_octaves", "crossings", "spacings")
        return {name: safe_ratio(100 * getattr(self, name), self.transitions) for name in names}

    def total(self) -> VoiceLeading:
        """The counts summed over all windows (rates of a whole corpus weight each transition alike)."""
        return VoiceLeading(*(np.asarray(field.sum(), dtype=np.int64) for field in self))


_PAIRS = [(upper, lower) for upper in range(4) for lower in range(upper + 1, 4)]
_SPACED_PAIRS = [(0, 1), (1, 2)]  # soprano-alto and alto-tenor; the bass may lie further below the tenor
_OCTAVE = 12
_FIFTH = 7


def voice_leading(roll: AnyRoll, spec: RollSpec) -> VoiceLeading:
    """Count parallel fifths and octaves, voice crossings and wide spacings in a four-part roll.

    The roll has four tracks, soprano, alto, tenor and bass, in this order; each voice is the highest
    pitch it sounds at each step (`highest_pitches`), so a voice that holds a chord counts its top note.

    - A *note transition* is a step s >= 1 at which at least one voice that sounds at both s - 1 and s
      has a different pitch at s than at s - 1. Only transitions are examined; the counts below are
      summed over transitions and over pairs of voices.
    - *Parallel fifths* (*octaves*): two voices that both sound at s - 1 and s, both change pitch at s,
      in the same direction, and whose interval (absolute difference of their pitches) is a perfect
      fifth modulo the octave (7, 19, 31...) at both s - 1 and s (for octaves: 0, 12, 24..., so unison to
      unison counts). Any of the six pairs of voices.
    - *Crossing*: at the step s of a transition, a lower voice (later in S A T B) sounds strictly above a
      higher one; every crossed pair counts.
    - *Spacing*: at the step s of a transition, more than an octave between soprano and alto, or between
      alto and tenor (each pair counts once).

    Returns counts of shape () for one window or (windows,) for a batch; use
    `VoiceLeading.per_100_transitions` for the rates.
    """
    if roll.shape[-3] != 4:
        raise ValueError(f"Voice leading needs four voices (S, A, T, B), got a roll with {roll.shape[-3]} tracks.")
    voices = highest_pitches(roll, spec)  # (..., 4, steps), -1 when silent
    before, after = voices[..., :-1], voices[..., 1:]
    held_over = (before >= 0) & (after >= 0)
    motion = np.where(held_over, np.sign(after - before), 0)  # (..., 4, steps - 1)
    is_transition = any_along(motion != 0, -2)  # (..., steps - 1)

    fifths = np.zeros(is_transition.shape, dtype=np.int64)
    octaves = np.zeros(is_transition.shape, dtype=np.int64)
    crossings = np.zeros(is_transition.shape, dtype=np.int64)
    for upper, lower in _PAIRS:
        same_direction = (motion[..., upper, :] != 0) & (motion[..., upper, :] == motion[..., lower, :])
        interval_before = np.abs(before[..., upper, :] - before[..., lower, :]) % _OCTAVE
        interval_after = np.abs(after[..., upper, :] - after[..., lower, :]) % _OCTAVE
        fifths += same_direction & (interval_before == _FIFTH) & (interval_after == _FIFTH)
        octaves += same_direction & (interval_before == 0) & (interval_after == 0)
        both_sound = (after[..., upper, :] >= 0) & (after[..., lower, :] >= 0)
        crossings += both_sound & (after[..., lower, :] > after[..., upper, :])
    spacings = np.zeros(is_transition.shape, dtype=np.int64)
    for upper, lower in _SPACED_PAIRS:
        both_sound = (after[..., upper, :] >= 0) & (after[..., lower, :] >= 0)
        spacings += both_sound & (after[..., upper, :] - after[..., lower, :] > _OCTAVE)

    def at_transitions(counts: IntArray) -> IntArray:
        return np.asarray(np.where(is_transition, counts, 0).sum(axis=-1), dtype=np.int64)

    return VoiceLeading(
        transitions=np.count_nonzero(is_transition, axis=-1).astype(np.int64),
        parallel_fifths=at_transitions(fifths),
        parallel_octaves=at_transitions(octaves),
        crossings=at_transitions(crossings),
        spacings=at_transitions(spacings),
    )
