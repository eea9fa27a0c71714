"""Music metrics: pure functions of piano rolls, and the distance between sets of pieces.

- `opencomposer.metrics.rolls`: per-track metrics of rolls (AWS DeepComposer's, MuseGAN's and muspy's).
- `opencomposer.metrics.harmony`: tonal distance between parts, voice leading in four-part writing.
- `opencomposer.metrics.distribution`: Yang and Lerch (2018) feature distributions of two sets of pieces.

`opencomposer.data.evaluate` measures a set of generated pieces against a reference with these (for
`opencomposer evaluate`); it reads datasets, so it sits in the data layer, above the metrics.

`window_metrics` is what the dataset pipeline stores as a dataset's reference statistics and what the
trainer charts over training. Its keys are ``"<metric>"`` for a metric of the whole window and
``"<metric>/<track name>"`` for a metric of one track:

Per pitched (non-drum) track
    ``empty_bar_rate``, ``pitches_per_bar``, ``pitch_classes_per_bar``, ``pitch_range``, ``polyphony``,
    ``polyphonic_rate`` (more than 2 pitches), ``qualified_note_rate`` (at least 3 steps),
    ``pitch_class_entropy``, ``in_scale_ratio`` (in the window's detected key), ``in_c_major_ratio``,
    ``groove_consistency``.
Per drum track
    ``empty_bar_rate``, ``groove_consistency``, ``drum_in_8th_pattern_rate``,
    ``drum_in_16th_pattern_rate``.
Whole window (all pitched tracks together)
    ``polyphony``, ``pitch_class_entropy``, ``in_scale_ratio``, ``in_c_major_ratio``;
    ``tonal_distance`` between the melody and the other pitched tracks merged, when `melody_index` is
    given and another pitched track exists; ``parallel_fifths``, ``parallel_octaves``,
    ``voice_crossing``, ``voice_spacing`` (per 100 note transitions) when the window has exactly four
    tracks, none of them drums, read as soprano, alto, tenor and bass.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from opencomposer.metrics import rolls as roll_metrics
from opencomposer.metrics.harmony import tonal_distance, voice_leading
from opencomposer.metrics.rolls import FloatArray, safe_ratio
from opencomposer.music.pianoroll import RollSpec
from opencomposer.music.score import Score

PITCHED_TRACK_METRICS = (
    "empty_bar_rate",
    "pitches_per_bar",
    "pitch_classes_per_bar",
    "pitch_range",
    "polyphony",
    "polyphonic_rate",
    "qualified_note_rate",
    "pitch_class_entropy",
    "in_scale_ratio",
    "in_c_major_ratio",
    "groove_consistency",
)
DRUM_TRACK_METRICS = ("empty_bar_rate", "groove_consistency", "drum_in_8th_pattern_rate", "drum_in_16th_pattern_rate")
WINDOW_METRICS = ("polyphony", "pitch_class_entropy", "in_scale_ratio", "in_c_major_ratio", "tonal_distance")
VOICE_LEADING_METRICS = ("parallel_fifths", "parallel_octaves", "voice_crossing", "voice_spacing")
POLYPHONIC_THRESHOLD = 2
QUALIFIED_NOTE_STEPS = 3


def track_names(score: Score) -> list[str]:
    """The names of the score's tracks in metric keys, kept distinct.

    An unnamed track is "Track <number>" (counted from 1); a repeated name gets its count added
    ("Piano", "Piano 2").
    """
    seen: dict[str, int] = {}
    names = []
    for index, track in enumerate(score.tracks):
        name = track.name or f"Track {index + 1}"
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} {seen[name]}")
    return names


def window_metric_values(
    rolls: npt.NDArray[np.generic],
    spec: RollSpec,
    *,
    steps_per_bar: int,
    track_names: Sequence[str],
    drum_tracks: Sequence[bool] | None = None,
    melody_index: int | None = 0,
) -> dict[str, FloatArray]:
    """Every metric of every window: the values that `window_metrics` averages, shape (windows,) each.

    Parameters are those of `window_metrics`.
    """
    batch = np.asarray(rolls)
    if batch.ndim == 3:
        batch = batch[None]
    if batch.ndim != 4 or batch.shape[-1] != spec.n_pitches:
        raise ValueError(f"Expected rolls of shape (windows, tracks, steps, {spec.n_pitches}), got {batch.shape}.")
    n_tracks = batch.shape[1]
    if len(track_names) != n_tracks:
        raise ValueError(f"The rolls have {n_tracks} tracks but {len(track_names)} track names were given.")
    is_drum = [False] * n_tracks if drum_tracks is None else list(drum_tracks)
    if len(is_drum) != n_tracks or not all(isinstance(flag, bool | np.bool_) for flag in is_drum):
        raise ValueError(f"drum_tracks must hold one True/False per track ({n_tracks}), got {drum_tracks!r}.")
    if melody_index is not None and not (0 <= melody_index < n_tracks and not is_drum[melody_index]):
        raise ValueError(f"melody_index {melody_index} is not a pitched track of the {n_tracks} tracks.")
    pitched = [index for index in range(n_tracks) if not is_drum[index]]
    drums = [index for index in range(n_tracks) if is_drum[index]]
    values: dict[str, FloatArray] = {}

    def add_per_track(name: str, per_track: FloatArray, indices: list[int]) -> None:
        for position, index in enumerate(indices):
            values[f"{name}/{track_names[index]}"] = per_track[:, position]

    if pitched:
        tonal = batch[:, pitched]
        # The binary roll, computed once, serves every metric that only looks at sounding cells.
        on = roll_metrics.sounding(tonal)
        histogram = roll_metrics.note_pitch_class_histogram(tonal, spec)  # (windows, tracks, 12)
        durations = roll_metrics.pitch_class_counts(roll_metrics.count_along(on, (-3, -2)), spec)
        in_key, notes = roll_metrics.scale_counts(histogram, roll_metrics.key_from_histogram(durations))
        in_c, notes_c = roll_metrics.scale_counts(histogram, roll_metrics.C_MAJOR)
        per_track = {
            "empty_bar_rate": roll_metrics.empty_bar_rate(on, steps_per_bar),
            "pitches_per_bar": roll_metrics.pitches_per_bar(on, steps_per_bar),
            "pitch_classes_per_bar": roll_metrics.pitch_classes_per_bar(on, spec, steps_per_bar),
            "pitch_range": roll_metrics.pitch_range(on),
            "polyphony": roll_metrics.polyphony(on),
            "polyphonic_rate": roll_metrics.polyphonic_rate(on, POLYPHONIC_THRESHOLD),
            "qualified_note_rate": roll_metrics.qualified_note_rate(tonal, QUALIFIED_NOTE_STEPS),
            "pitch_class_entropy": roll_metrics.entropy_bits(histogram),
            "in_scale_ratio": safe_ratio(in_key, notes),
            "in_c_major_ratio": safe_ratio(in_c, notes_c),
            "groove_consistency": roll_metrics.groove_consistency(tonal, steps_per_bar),
        }
        for name in PITCHED_TRACK_METRICS:
            add_per_track(name, per_track[name], pitched)
        values["polyphony"] = roll_metrics.polyphony(roll_metrics.any_along(on, 1)[:, None])[:, 0]
        values["pitch_class_entropy"] = roll_metrics.entropy_bits(histogram.sum(axis=1))
        values["in_scale_ratio"] = safe_ratio(in_key.sum(axis=1), notes.sum(axis=1))
        values["in_c_major_ratio"] = safe_ratio(in_c.sum(axis=1), notes_c.sum(axis=1))
        others = [index for index in pitched if index != melody_index]
        if melody_index is not None and others:
            melody = on[:, pitched.index(melody_index)]
            accompaniment = roll_metrics.any_along(on[:, [pitched.index(index) for index in others]], 1)
            values["tonal_distance"] = tonal_distance(melody, accompaniment, spec)
        if n_tracks == 4 and not drums:
            rates = voice_leading(on, spec).per_100_transitions()
            values["parallel_fifths"] = rates["parallel_fifths"]
            values["parallel_octaves"] = rates["parallel_octaves"]
            values["voice_crossing"] = rates["crossings"]
            values["voice_spacing"] = rates["spacings"]
    if drums:
        percussion = batch[:, drums]
        add_per_track("empty_bar_rate", roll_metrics.empty_bar_rate(percussion, steps_per_bar), drums)
        add_per_track("groove_consistency", roll_metrics.groove_consistency(percussion, steps_per_bar), drums)
        add_per_track("drum_in_8th_pattern_rate", roll_metrics.drum_in_pattern_rate(percussion, spec, 2), drums)
        add_per_track("drum_in_16th_pattern_rate", roll_metrics.drum_in_pattern_rate(percussion, spec, 4), drums)
    return values


def window_metrics(
    rolls: npt.NDArray[np.generic],
    spec: RollSpec,
    *,
    steps_per_bar: int,
    track_names: Sequence[str],
    drum_tracks: Sequence[bool] | None = None,
    melody_index: int | None = 0,
) -> dict[str, float]:
    """The mean over a batch of windows of every music metric (the key list is in the module docstring).

    Parameters
    ----------
    rolls
        `uint8` rolls from `to_roll`, shape (windows, tracks, steps, pitches), or one window.
    spec
        The rolls' spec (steps per beat, pitch of the lowest row).
    steps_per_bar
        Steps in one bar; bars are counted from step 0 of each window.
    track_names
        One name per track, used in the per-track keys.
    drum_tracks
        One flag per track, True for a drum track. Default: no drums.
    melody_index
        The melody track, for the tonal distance between the melody and the rest; None for no melody.

    Returns
    -------
    dict
        Metric key to its mean over the windows where it is defined (NaN-safe: a window where a metric
        is NaN, such as the pitch range of a silent track, is left out of that metric's mean). A metric
        undefined in every window is NaN.
    """
    values = window_metric_values(
        rolls,
        spec,
        steps_per_bar=steps_per_bar,
        track_names=track_names,
        drum_tracks=drum_tracks,
        melody_index=melody_index,
    )
    return {key: nan_mean(value) for key, value in values.items()}


def nan_mean(values: npt.NDArray[np.generic]) -> float:
    """The mean of the values that are not NaN; NaN when there are none."""
    array = np.asarray(values, dtype=np.float64)
    defined = array[~np.isnan(array)]
    return float(defined.mean()) if defined.size else float("nan")
