"""Music metrics over multi-track piano rolls, vectorized over windows.

Every function takes a roll from `opencomposer.music.pianoroll.to_roll` (`uint8`, `OFF`/`HOLD`/`ONSET`)
of shape (tracks, steps, pitches) or a batch of them, (windows, tracks, steps, pitches), and returns one
value per track: an array of shape (tracks,) or (windows, tracks). A plain 0/1 or boolean roll works
too; there every unbroken run of sounding steps is one note.

Words used in the formulas:

- a cell is *sounding* when it is not `OFF`;
- a *note* starts at a step that is `ONSET`, or sounding after a silent step (or at step 0); it lasts
  while the following steps are `HOLD`. A note still sounding at the end of the roll is cut there;
- a *bar* is `steps_per_bar` consecutive steps from step 0; a roll whose length is not a whole number
  of bars gets a last, shorter bar (its missing steps count as silent);
- pitch classes are taken from MIDI pitches, so `spec.low_pitch` is added to the roll's pitch rows.

Where a metric is undefined (no note, no step) its value is NaN, never 0, so that averaging over
windows with `numpy.nanmean` leaves the undefined ones out instead of pulling the mean down.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from opencomposer.music.pianoroll import ONSET, RollSpec

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
AnyRoll = npt.NDArray[np.generic]

N_PITCH_CLASSES = 12
C_MAJOR = 0
# Scale degrees, as pitch classes above the tonic: major and natural minor.
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
# Krumhansl and Kessler (1982) probe-tone ratings, tonic first: the profiles of Krumhansl's key-finding
# algorithm (Krumhansl 1990, "Cognitive Foundations of Musical Pitch").
KRUMHANSL_KESSLER_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KRUMHANSL_KESSLER_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
_NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def _rotations(template: tuple[float, ...]) -> FloatArray:
    """The 12 transpositions of a tonic-first pitch-class template, row k having its tonic on class k."""
    base = np.asarray(template, dtype=np.float64)
    return np.stack([np.roll(base, tonic) for tonic in range(N_PITCH_CLASSES)])


def _scale_template(degrees: tuple[int, ...]) -> tuple[float, ...]:
    return tuple(1.0 if pitch_class in degrees else 0.0 for pitch_class in range(N_PITCH_CLASSES))


# Keys 0-11 are the major keys on tonic C..B, keys 12-23 the minor keys on tonic C..B.
KEY_PROFILES = np.concatenate([_rotations(KRUMHANSL_KESSLER_MAJOR), _rotations(KRUMHANSL_KESSLER_MINOR)])
KEY_SCALES = np.concatenate(
    [_rotations(_scale_template(MAJOR_SCALE)), _rotations(_scale_template(MINOR_SCALE))]
).astype(bool)


def key_name(key: int) -> str:
    """The name of a key index from `detect_key`: 0 is "C major", 21 is "A minor", -1 is "no key"."""
    if key < 0:
        return "no key"
    return f"{_NOTE_NAMES[key % N_PITCH_CLASSES]} {'major' if key < N_PITCH_CLASSES else 'minor'}"


def _check_roll(roll: AnyRoll, spec: RollSpec | None = None) -> None:
    if roll.ndim not in (3, 4):
        raise ValueError(f"Expected a roll (tracks, steps, pitches) or a batch of them, got shape {roll.shape}.")
    if spec is not None and roll.shape[-1] != spec.n_pitches:
        raise ValueError(f"The roll has {roll.shape[-1]} pitch rows but the spec has {spec.n_pitches}.")


def safe_ratio(numerator: npt.ArrayLike, denominator: npt.ArrayLike) -> FloatArray:
    """numerator / denominator, elementwise and broadcast, NaN where the denominator is 0."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast_shapes(numerator.shape, denominator.shape), np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def any_along(flags: BoolArray, axis: int | tuple[int, ...]) -> BoolArray:
    """Whether any flag is set along `axis` (an array even when every axis is reduced)."""
    return np.asarray(np.any(flags, axis=axis), dtype=np.bool_)


def count_along(flags: BoolArray, axis: int | tuple[int, ...]) -> npt.NDArray[np.int32]:
    """How many flags are set along `axis` (faster than `numpy.count_nonzero` with an axis)."""
    return np.asarray(np.add.reduce(flags, axis=axis, dtype=np.int32), dtype=np.int32)


def sounding(roll: AnyRoll) -> BoolArray:
    """The binary roll: True where a note sounds (`roll > 0`); a boolean roll is returned as it is.

    Metrics that only look at sounding cells accept this binary roll in place of the `uint8` one, which
    lets a caller computing several of them compare the roll with 0 once.
    """
    if roll.dtype == np.bool_:
        return np.asarray(roll, dtype=np.bool_)
    return np.greater(roll, 0)


def note_starts(roll: AnyRoll) -> BoolArray:
    """True at the first step of every note: an `ONSET` cell, or a sounding cell after a silent one."""
    on = sounding(roll)
    starts = on.copy()
    starts[..., 1:, :] &= ~on[..., :-1, :]
    if np.issubdtype(roll.dtype, np.integer):
        starts |= roll == ONSET
    return starts


def pitch_class_counts(values: npt.NDArray[np.generic], spec: RollSpec) -> IntArray:
    """Fold the last (pitch row) axis of `values` into 12 pitch classes by summing the octaves.

    Parameters
    ----------
    values
        Counts or flags per pitch row, shape (..., pitches); row 0 is MIDI pitch `spec.low_pitch`.
    spec
        The roll's spec, for the MIDI pitch of each row.

    Returns
    -------
    numpy.ndarray
        Integer array of shape (..., 12), index 0 being C.
    """
    offset = spec.low_pitch % N_PITCH_CLASSES
    n_rows = values.shape[-1]
    width = -(-(offset + n_rows) // N_PITCH_CLASSES) * N_PITCH_CLASSES
    padded = np.zeros((*values.shape[:-1], width), dtype=np.int64)
    padded[..., offset : offset + n_rows] = values
    folded = padded.reshape(*values.shape[:-1], width // N_PITCH_CLASSES, N_PITCH_CLASSES)
    return np.asarray(folded.sum(axis=-2), dtype=np.int64)


def split_segments(flags: BoolArray, steps_per_segment: int) -> BoolArray:
    """Cut the step axis (-2) of (..., steps, pitches) flags into (..., segments, steps_per_segment, pitches).

    A last, shorter segment is padded with silent steps.
    """
    if steps_per_segment <= 0:
        raise ValueError(f"A bar or beat must be at least one step long, not {steps_per_segment}.")
    n_steps = flags.shape[-2]
    n_segments = -(-n_steps // steps_per_segment)
    missing = n_segments * steps_per_segment - n_steps
    if missing:
        pad = [(0, 0)] * flags.ndim
        pad[-2] = (0, missing)
        flags = np.pad(flags, pad)
    return flags.reshape(*flags.shape[:-2], n_segments, steps_per_segment, flags.shape[-1])


def empty_bar_rate(roll: AnyRoll, steps_per_bar: int) -> FloatArray:
    """Fraction of bars in which a track is silent.

    ``empty_bar_rate = #(bars with no sounding cell) / #(bars)``; NaN for a roll with no steps.
    """
    _check_roll(roll)
    bars = split_segments(sounding(roll), steps_per_bar)
    n_bars = bars.shape[-3]
    return safe_ratio(count_along(~any_along(bars, (-2, -1)), axis=-1), np.full(bars.shape[:-3], n_bars))


def empty_beat_rate(roll: AnyRoll, spec: RollSpec) -> FloatArray:
    """Fraction of beats (quarter notes, `spec.steps_per_beat` steps) in which a track is silent.

    ``empty_beat_rate = #(beats with no sounding cell) / #(beats)``, as muspy's `empty_beat_rate` on a
    one-track piece; NaN for a roll with no steps.
    """
    return empty_bar_rate(roll, spec.steps_per_beat)


def n_pitches_used(roll: AnyRoll) -> FloatArray:
    """Number of distinct pitches that sound anywhere in the roll, per track; 0 for a silent track."""
    _check_roll(roll)
    return np.asarray(count_along(any_along(sounding(roll), -2), axis=-1), dtype=np.float64)


def n_pitch_classes_used(roll: AnyRoll, spec: RollSpec) -> FloatArray:
    """Number of distinct pitch classes (0-12) that sound anywhere in the roll, per track; 0 when silent."""
    _check_roll(roll, spec)
    used = pitch_class_counts(any_along(sounding(roll), -2), spec) > 0
    return np.asarray(count_along(used, axis=-1), dtype=np.float64)


def pitches_per_bar(roll: AnyRoll, steps_per_bar: int) -> FloatArray:
    """Mean number of distinct pitches sounding in a bar, over the bars where the track sounds.

    ``pitches_per_bar = sum over non-empty bars of #(pitches used in the bar) / #(non-empty bars)``
    (empty bars are measured by `empty_bar_rate`, so they are left out here); NaN for a silent track.
    """
    _check_roll(roll)
    used = any_along(split_segments(sounding(roll), steps_per_bar), -2)  # (..., tracks, bars, pitches)
    counts = count_along(used, axis=-1)
    return safe_ratio(counts.sum(axis=-1), count_along(counts > 0, axis=-1))


def pitch_classes_per_bar(roll: AnyRoll, spec: RollSpec, steps_per_bar: int) -> FloatArray:
    """Mean number of distinct pitch classes sounding in a bar, over the bars where the track sounds.

    ``pitch_classes_per_bar = sum over non-empty bars of #(pitch classes used) / #(non-empty bars)``;
    NaN for a silent track.
    """
    _check_roll(roll, spec)
    used = any_along(split_segments(sounding(roll), steps_per_bar), -2)
    counts = count_along(pitch_class_counts(used, spec) > 0, axis=-1)
    return safe_ratio(counts.sum(axis=-1), count_along(counts > 0, axis=-1))


def pitch_range(roll: AnyRoll) -> FloatArray:
    """Highest minus lowest sounding pitch, in semitones, per track; NaN for a silent track.

    (muspy's `pitch_range` returns 0 for a piece with no notes; NaN keeps silent tracks out of means.)
    """
    _check_roll(roll)
    used = any_along(sounding(roll), -2)
    n_rows = used.shape[-1]
    lowest = np.argmax(used, axis=-1)
    highest = n_rows - 1 - np.argmax(used[..., ::-1], axis=-1)
    return np.where(any_along(used, -1), (highest - lowest).astype(np.float64), np.nan)


def polyphony(roll: AnyRoll) -> FloatArray:
    """Mean number of pitches sounding together, over the steps where at least one sounds.

    ``polyphony = #(sounding cells) / #(steps with a sounding cell)``, as muspy; NaN for a silent track.
    """
    _check_roll(roll)
    per_step = count_along(sounding(roll), axis=-1)
    return safe_ratio(per_step.sum(axis=-1), count_along(per_step > 0, axis=-1))


def polyphonic_rate(roll: AnyRoll, threshold: int = 2) -> FloatArray:
    """Fraction of steps at which more than `threshold` pitches sound.

    ``polyphonic_rate = #(steps with more than threshold sounding pitches) / #(steps)``, as MuseGAN's
    "polyphonicity" and muspy's `polyphony_rate` (both with threshold 2 by default); NaN for a roll with
    no steps.
    """
    _check_roll(roll)
    per_step = count_along(sounding(roll), axis=-1)
    return safe_ratio(count_along(per_step > threshold, axis=-1), np.full(per_step.shape[:-1], per_step.shape[-1]))


def qualified_note_rate(roll: AnyRoll, min_steps: int = 3) -> FloatArray:
    """Fraction of notes that last at least `min_steps` steps (MuseGAN's "qualified notes").

    ``qualified_note_rate = #(notes at least min_steps long) / #(notes)``. MuseGAN counts a note as
    qualified from 3 steps on, at 24 steps per beat (a 32nd note); at 4 steps per beat the same 3 steps
    make a dotted 8th, so there the rate is the share of notes that long or longer. A note cut by the
    end of the roll counts with the length it has in the roll. NaN for a track with no notes.
    """
    _check_roll(roll)
    if min_steps < 1:
        raise ValueError(f"min_steps must be at least 1, not {min_steps}.")
    starts = note_starts(roll)
    held = sounding(roll) & ~starts
    qualified = starts.copy()
    n_steps = roll.shape[-2]
    for offset in range(1, min_steps):
        qualified[..., n_steps - offset :, :] = False
        qualified[..., : n_steps - offset, :] &= held[..., offset:, :]
    return safe_ratio(count_along(qualified, axis=(-2, -1)), count_along(starts, axis=(-2, -1)))


def note_pitch_class_histogram(roll: AnyRoll, spec: RollSpec) -> IntArray:
    """Number of notes (note starts) per pitch class, per track: shape (..., tracks, 12)."""
    _check_roll(roll, spec)
    return pitch_class_counts(count_along(note_starts(roll), axis=-2), spec)


def entropy_bits(histogram: npt.NDArray[np.generic]) -> FloatArray:
    """Shannon entropy, in bits, of histograms along the last axis; NaN for an all-zero histogram.

    ``H = -sum_i p_i log2 p_i`` with ``p_i = h_i / sum(h)`` (terms with ``p_i = 0`` count 0).
    """
    counts = np.asarray(histogram, dtype=np.float64)
    probabilities = safe_ratio(counts, counts.sum(axis=-1, keepdims=True))
    logs = np.log2(probabilities, out=np.zeros_like(probabilities), where=probabilities > 0)
    entropy = -(probabilities * logs).sum(axis=-1)
    return np.where(counts.sum(axis=-1) > 0, entropy, np.nan)


def pitch_class_entropy(roll: AnyRoll, spec: RollSpec) -> FloatArray:
    """Entropy, in bits (0 to log2 12 = 3.585), of the note pitch-class histogram, per track.

    ``pitch_class_entropy = -sum_{c=0}^{11} P(c) log2 P(c)`` where ``P(c)`` is the share of the track's
    notes whose pitch class is c, as muspy's `pitch_class_entropy`; NaN for a track with no notes.
    """
    return entropy_bits(note_pitch_class_histogram(roll, spec))


def detect_key(roll: AnyRoll, spec: RollSpec) -> IntArray:
    """The key of each window by the Krumhansl-Schmuckler algorithm, all tracks of the roll together.

    The pitch-class histogram weights each pitch class by its number of sounding cells (its duration in
    steps), summed over the tracks given (pass only the pitched tracks). The key is the one of the 24
    whose Krumhansl-Kessler profile, rotated to its tonic, has the highest Pearson correlation with the
    histogram; ties go to the lower index. Keys 0-11 are C major..B major, 12-23 C minor..B minor
    (`key_name` spells them). Returns shape () for one window, (windows,) for a batch; -1 for a silent
    window.
    """
    _check_roll(roll, spec)
    return key_from_histogram(pitch_class_counts(count_along(sounding(roll), (-3, -2)), spec))


def key_from_histogram(histogram: npt.NDArray[np.generic]) -> IntArray:
    """The Krumhansl-Schmuckler key (see `detect_key`) of pitch-class histograms, shape (..., 12) -> (...)."""
    histogram = np.asarray(histogram, dtype=np.float64)
    centred = histogram - histogram.mean(axis=-1, keepdims=True)
    profiles = KEY_PROFILES - KEY_PROFILES.mean(axis=-1, keepdims=True)
    norms = np.linalg.norm(centred, axis=-1, keepdims=True) * np.linalg.norm(profiles, axis=-1)
    # A histogram with every class equal correlates with no profile: all 24 scores are 0 and C major wins.
    correlation = safe_ratio(centred @ profiles.T, norms)
    key = np.argmax(np.nan_to_num(correlation, nan=0.0), axis=-1)
    return np.where(histogram.sum(axis=-1) > 0, key, -1).astype(np.int64)


def scale_counts(histogram: IntArray, key: int | IntArray) -> tuple[IntArray, IntArray]:
    """Per track, the number of notes whose pitch class is in the key's scale, and the number of notes.

    `histogram` is a `note_pitch_class_histogram`, shape (..., tracks, 12); `key` a key index (see
    `detect_key`), one per window for a batch. A key of -1 has no scale: both counts are 0 there.
    Returns two integer arrays of shape (..., tracks).
    """
    keys = np.asarray(key, dtype=np.int64)
    scale = np.where((keys >= 0)[..., None], KEY_SCALES[np.clip(keys, 0, None)], False)  # (..., 12)
    in_scale = (histogram * scale[..., None, :]).sum(axis=-1)
    notes = histogram.sum(axis=-1)
    return in_scale, np.where((keys >= 0)[..., None], notes, 0)


def in_scale_ratio(roll: AnyRoll, spec: RollSpec, key: int | IntArray) -> FloatArray:
    """Fraction of a track's notes whose pitch class belongs to the scale of `key`.

    ``in_scale_ratio = #(notes in the scale) / #(notes)``; minor keys use the natural minor scale. Pass
    `C_MAJOR` (0) to measure against C major as AWS DeepComposer did, or `detect_key(...)` for the
    piece's own key. NaN for a track with no notes or a key of -1.
    """
    in_scale, notes = scale_counts(note_pitch_class_histogram(roll, spec), key)
    return safe_ratio(in_scale, notes)


def groove_consistency(roll: AnyRoll, steps_per_bar: int) -> FloatArray:
    """One minus the mean Hamming distance between the onset patterns of neighbouring bars, per track.

    ``groove_consistency = 1 - 1 / (steps_per_bar (T - 1)) sum_{i=1}^{T-1} d(G_i, G_{i+1})`` where ``T``
    is the number of bars and ``G_i`` the binary vector of the steps of bar i where a note starts, as
    muspy's `groove_consistency` (Wu and Yang 2020). 1 means every bar has the same rhythm. NaN for a
    roll shorter than two bars.
    """
    _check_roll(roll)
    grooves = any_along(split_segments(note_starts(roll), steps_per_bar), -1)  # (..., tracks, bars, steps_per_bar)
    n_bars = grooves.shape[-2]
    distance = count_along(grooves[..., 1:, :] != grooves[..., :-1, :], axis=(-2, -1))
    return 1.0 - safe_ratio(distance, np.full(distance.shape, steps_per_bar * (n_bars - 1)))


def drum_in_pattern_rate(roll: AnyRoll, spec: RollSpec, subdivision: int = 2) -> FloatArray:
    """Fraction of notes that start on a grid of `subdivision` positions per beat (2: 8ths, 4: 16ths).

    ``drum_in_pattern_rate = #(notes starting on the grid) / #(notes)``, where a note starting at step s
    is on the grid when ``(s mod steps_per_beat) * subdivision`` is a multiple of ``steps_per_beat``;
    steps count from the start of the roll, which must fall on a beat. Meant for drum tracks (MuseGAN,
    muspy: `subdivision` 4 is muspy's "duple" pattern when steps_per_beat is a multiple of 4, 3 its
    "triple" one). At 4 steps per beat every note is on the 16th grid, so use 2 there. NaN for a track
    with no notes.
    """
    _check_roll(roll, spec)
    if subdivision < 1:
        raise ValueError(f"subdivision must be at least 1, not {subdivision}.")
    starts_per_step = count_along(note_starts(roll), axis=-1)  # (..., tracks, steps)
    position = np.arange(roll.shape[-2]) % spec.steps_per_beat
    on_grid = (position * subdivision) % spec.steps_per_beat == 0
    return safe_ratio((starts_per_step * on_grid).sum(axis=-1), starts_per_step.sum(axis=-1))


def highest_pitches(roll: AnyRoll, spec: RollSpec) -> IntArray:
    """The highest sounding MIDI pitch at each step, per track, -1 where the track is silent.

    Shape (..., tracks, steps): the line a monophonic voice sings, or the top line of a polyphonic track.
    """
    _check_roll(roll, spec)
    on = sounding(roll)
    top_row = on.shape[-1] - 1 - np.argmax(on[..., ::-1], axis=-1)
    return np.where(any_along(on, -1), top_row + spec.low_pitch, -1).astype(np.int64)
