"""A set of generated pieces against a reference set: what `opencomposer evaluate` computes and writes.

Both sets are read into scores (`read_piece_files` for files and folders, `read_dataset` for a dataset
of the registry), then `evaluate_sets` measures them the same way:

- *Track layout.* Metrics address tracks by position, so both sets are brought to one layout: the
  reference dataset's own when every generated piece has as many tracks; else, when every piece of both
  sets has the same number of tracks, the tracks of the first reference piece (the one that
  `opencomposer.music.transform.melody_track` picks is the melody); else two tracks, Melody (the track
  `melody_track` picks) and Accompaniment (every other pitched track merged), with drums left out.
- *Window metrics.* Each piece is rendered at `EVALUATION_SPEC` (4 steps per beat, all 128 pitches) and
  cut into windows of `bars_per_window` bars from bar 0 (a trailing part shorter than a window is left
  out, unless the piece is shorter than one window: then it is one window, padded with silence). The
  metrics of `opencomposer.metrics.window_metrics` are averaged over all windows of a set.
- *Feature distributions.* The `piece_features` of whole pieces (pitched tracks) are compared by
  `compare_feature_sets` (Yang and Lerch 2018), which also gives the similarity index.

`Evaluation` holds the result; `write_json` and `write_figure` save it.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from opencomposer.data.registry import Piece, TrackSlot, get_dataset, recording_skips, skip_item
from opencomposer.errors import EvaluationError, OpenComposerError, UnknownNameError
from opencomposer.metrics import nan_mean, track_names, window_metric_values
from opencomposer.metrics.distribution import (
    MAX_PAIRS,
    FeatureComparison,
    compare_feature_sets,
    piece_features,
    similarity_index,
)
from opencomposer.metrics.rolls import FloatArray
from opencomposer.music.io import SCORE_SUFFIXES, read_score
from opencomposer.music.pianoroll import RollArray, RollSpec, to_roll
from opencomposer.music.score import Role, Score, Track
from opencomposer.music.transform import melody_track

EVALUATION_SPEC = RollSpec(steps_per_beat=4, low_pitch=0, high_pitch=127)
BARS_PER_WINDOW = 4
MELODY_ACCOMPANIMENT = (TrackSlot("Melody", "melody"), TrackSlot("Accompaniment", "accompaniment"))


@dataclass(frozen=True, slots=True)
class PieceSet:
    """Pieces read for an evaluation: where they came from, the pieces, and what could not be read.

    `layout` is the track layout every piece has, when the set is a dataset (None for files).
    """

    source: str
    pieces: tuple[Piece, ...]
    skipped: tuple[str, ...] = ()
    layout: tuple[TrackSlot, ...] | None = None


def find_score_files(paths: Iterable[Path]) -> list[Path]:
    """The score files among `paths`: files as given, and every MIDI/MusicXML file under each folder, sorted."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SCORE_SUFFIXES)
        else:
            found.append(path)
    return found


def read_piece_files(paths: Sequence[Path], *, limit: int | None = None) -> PieceSet:
    """Read MIDI and MusicXML files, and those under folders, into a `PieceSet` (at most `limit` pieces).

    A file that cannot be read is skipped with a warning and listed in `PieceSet.skipped`.

    Raises
    ------
    EvaluationError
        When no score file is found, or none can be read.
    """
    files = find_score_files(paths)
    source = _describe_paths(paths)
    if not files:
        raise EvaluationError(
            f"No MIDI or MusicXML file was found in {source}; give files or folders holding "
            f"{', '.join(SCORE_SUFFIXES)} files."
        )
    pieces: list[Piece] = []
    with recording_skips() as skipped:
        for path in files:
            if limit is not None and len(pieces) >= limit:
                break
            try:
                pieces.append(Piece(id=str(path), score=read_score(path)))
            except OpenComposerError as error:
                skip_item(str(path), str(error))
    if not pieces:
        raise EvaluationError(f"None of the {len(files)} files in {source} could be read; see the warnings above.")
    return PieceSet(source=source, pieces=tuple(pieces), skipped=tuple(f"{s.item}: {s.reason}" for s in skipped))


def _describe_paths(paths: Sequence[Path]) -> str:
    """The paths for a title: all of them when there are few, else the first two and a count."""
    if len(paths) <= 3:
        return ", ".join(str(path) for path in paths)
    return f"{paths[0]}, {paths[1]} and {len(paths) - 2} more"


def read_dataset(name: str, *, limit: int | None = None) -> PieceSet:
    """Read the pieces of a registered dataset (the first `limit` of them) into a `PieceSet`.

    Raises
    ------
    UnknownNameError
        When there is no dataset called `name`.
    EvaluationError
        When the dataset yields no piece.
    """
    dataset = get_dataset(name)
    with recording_skips() as skipped:
        pieces = tuple(itertools.islice(dataset.iter_pieces(), limit))
    if not pieces:
        raise EvaluationError(
            f"The dataset {name!r} gave no piece to compare with; check `opencomposer data info {name}`."
        )
    return PieceSet(
        source=f"dataset {name}",
        pieces=pieces,
        skipped=tuple(f"{s.item}: {s.reason}" for s in skipped),
        layout=dataset.info.tracks,
    )


def read_reference(reference: str, *, limit: int | None = None) -> PieceSet:
    """A reference given as a dataset name or as a folder (or file) of scores.

    Raises
    ------
    UnknownNameError
        When `reference` is neither an existing path nor a dataset name.
    EvaluationError
        When the reference holds no readable piece.
    """
    path = Path(reference)
    if path.exists():
        return read_piece_files([path], limit=limit)
    try:
        return read_dataset(reference, limit=limit)
    except UnknownNameError as error:
        raise UnknownNameError(f"The reference {reference!r} is not a file or folder. {error}") from None


@dataclass(frozen=True, slots=True)
class SetSummary:
    """What an evaluation measured on one set: its size and the mean of each window metric."""

    source: str
    pieces: int
    windows: int
    skipped: tuple[str, ...]
    metrics: dict[str, float]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The result of `evaluate_sets`."""

    generated: SetSummary
    reference: SetSummary
    tracks: tuple[TrackSlot, ...]
    features: dict[str, FeatureComparison]
    similarity_index: float
    settings: dict[str, Any] = field(default_factory=dict)

    def metric_rows(self) -> list[tuple[str, float, float]]:
        """(metric key, generated mean, reference mean) for every metric either set has, in a stable order."""
        keys = list(self.reference.metrics) + [k for k in self.generated.metrics if k not in self.reference.metrics]
        nan = math.nan
        return [(key, self.generated.metrics.get(key, nan), self.reference.metrics.get(key, nan)) for key in keys]

    def to_dict(self) -> dict[str, Any]:
        """The evaluation as JSON-ready data (NaN becomes None)."""

        def summary(part: SetSummary) -> dict[str, Any]:
            return {
                "source": part.source,
                "pieces": part.pieces,
                "windows": part.windows,
                "skipped": list(part.skipped),
                "metrics": {key: _finite_or_none(value) for key, value in part.metrics.items()},
            }

        return {
            "similarity_index": _finite_or_none(self.similarity_index),
            "settings": self.settings,
            "tracks": [{"name": slot.name, "role": slot.role, "is_drum": slot.is_drum} for slot in self.tracks],
            "generated": summary(self.generated),
            "reference": summary(self.reference),
            "features": {
                name: {key: _finite_or_none(value) for key, value in comparison.to_dict().items()}
                for name, comparison in self.features.items()
            },
        }


def _finite_or_none(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def evaluate_sets(
    generated: PieceSet,
    reference: PieceSet,
    *,
    bars_per_window: int = BARS_PER_WINDOW,
    seed: int = 0,
    max_pairs: int = MAX_PAIRS,
) -> Evaluation:
    """Measure a generated set against a reference set (see the module docstring for how).

    Parameters
    ----------
    generated, reference
        The two sets, from `read_piece_files`, `read_dataset` or `read_reference`.
    bars_per_window
        Bars per window for the window metrics.
    seed
        Seeds the subsampling of the feature distances.
    max_pairs
        Pairs of pieces per distance distribution (see `compare_feature_sets`).

    Raises
    ------
    EvaluationError
        When a set has no note at all.
    """
    layout, conform = _common_layout(generated, reference)
    summaries = []
    features = []
    for part in (generated, reference):
        scores = [conform(piece.score) for piece in part.pieces]
        piece_rolls = [to_roll(score, EVALUATION_SPEC) for score in scores]
        bar_lengths = [_steps_per_bar(score) for score in scores]
        values, n_windows = _window_values(piece_rolls, bar_lengths, layout, bars_per_window)
        if n_windows == 0:
            raise EvaluationError(f"The pieces of {part.source} hold no notes, so there is nothing to measure.")
        summaries.append(
            SetSummary(
                source=part.source,
                pieces=len(part.pieces),
                windows=n_windows,
                skipped=part.skipped,
                metrics={key: nan_mean(value) for key, value in values.items()},
            )
        )
        pitched = [index for index, slot in enumerate(layout) if not slot.is_drum]
        features.append(
            [
                piece_features(roll[pitched], EVALUATION_SPEC, steps_per_bar)
                for roll, steps_per_bar in zip(piece_rolls, bar_lengths, strict=True)
            ]
        )
    comparisons = compare_feature_sets(features[0], features[1], seed=seed, max_pairs=max_pairs)
    return Evaluation(
        generated=summaries[0],
        reference=summaries[1],
        tracks=layout,
        features=comparisons,
        similarity_index=similarity_index(comparisons),
        settings={
            "steps_per_beat": EVALUATION_SPEC.steps_per_beat,
            "bars_per_window": bars_per_window,
            "seed": seed,
            "max_pairs": max_pairs,
        },
    )


def _common_layout(generated: PieceSet, reference: PieceSet) -> tuple[tuple[TrackSlot, ...], Callable[[Score], Score]]:
    """The layout both sets are measured in, and the function bringing a score to it."""
    generated_counts = {len(piece.score.tracks) for piece in generated.pieces}
    if reference.layout is not None and generated_counts == {len(reference.layout)}:
        return reference.layout, _keep
    counts = generated_counts | {len(piece.score.tracks) for piece in reference.pieces}
    if len(counts) == 1 and counts != {0}:
        first = reference.pieces[0].score
        names = track_names(first)
        has_pitches = any(track.notes and not track.is_drum for track in first.tracks)
        melody_index = melody_track(first) if has_pitches else None
        slots = [
            TrackSlot(name, _role(index, track, melody_index), track.program, track.is_drum)
            for index, (name, track) in enumerate(zip(names, first.tracks, strict=True))
        ]
        return tuple(slots), _keep
    return MELODY_ACCOMPANIMENT, _to_melody_and_accompaniment


def _role(index: int, track: Track, melody_index: int | None) -> Role:
    if track.is_drum:
        return "other"
    return "melody" if index == melody_index else "accompaniment"


def _keep(score: Score) -> Score:
    return score


def _to_melody_and_accompaniment(score: Score) -> Score:
    """The score as two tracks: its melody, and every other pitched track merged; drums are left out."""
    pitched = [index for index, track in enumerate(score.tracks) if not track.is_drum and track.notes]
    melody_index = melody_track(score) if pitched else None
    melody = score.tracks[melody_index].notes if melody_index is not None else ()
    accompaniment = tuple(note for index in pitched if index != melody_index for note in score.tracks[index].notes)
    return score.with_tracks(
        [
            Track(name="Melody", role="melody", notes=melody),
            Track(name="Accompaniment", role="accompaniment", notes=accompaniment),
        ]
    )


def _steps_per_bar(score: Score) -> int:
    try:
        return EVALUATION_SPEC.steps_per_bar(score.time_signature)
    except ValueError:
        # A bar that is not a whole number of 16ths (such as 3/32) is measured in 4/4 bars instead.
        return EVALUATION_SPEC.steps_per_bar()


def _windows(roll: RollArray, steps_per_window: int) -> RollArray:
    """Consecutive windows (windows, tracks, steps, pitches) of a piece's roll; see the module docstring."""
    n_steps = roll.shape[1]
    if n_steps == 0:
        return np.zeros((0, roll.shape[0], steps_per_window, roll.shape[2]), dtype=roll.dtype)
    if n_steps < steps_per_window:
        roll = np.pad(roll, ((0, 0), (0, steps_per_window - n_steps), (0, 0)))
    n_windows = roll.shape[1] // steps_per_window
    cut = roll[:, : n_windows * steps_per_window].reshape(roll.shape[0], n_windows, steps_per_window, roll.shape[2])
    return np.ascontiguousarray(cut.swapaxes(0, 1))


def _window_values(
    piece_rolls: Sequence[RollArray], bar_lengths: Sequence[int], layout: tuple[TrackSlot, ...], bars_per_window: int
) -> tuple[dict[str, FloatArray], int]:
    """Every window metric of every window of the pieces, concatenated, and the number of windows.

    `bar_lengths` holds each piece's bar in steps; windows with bars of one length are measured together.
    """
    by_bar_length: dict[int, list[RollArray]] = {}
    for roll, steps_per_bar in zip(piece_rolls, bar_lengths, strict=True):
        by_bar_length.setdefault(steps_per_bar, []).append(_windows(roll, bars_per_window * steps_per_bar))
    melody_index = next((index for index, slot in enumerate(layout) if slot.role == "melody"), None)
    collected: dict[str, list[FloatArray]] = {}
    n_windows = 0
    for steps_per_bar, groups in by_bar_length.items():
        batch = np.concatenate(groups)
        if len(batch) == 0:
            continue
        n_windows += len(batch)
        values = window_metric_values(
            batch,
            EVALUATION_SPEC,
            steps_per_bar=steps_per_bar,
            track_names=[slot.name for slot in layout],
            drum_tracks=[slot.is_drum for slot in layout],
            melody_index=melody_index if melody_index is not None and not layout[melody_index].is_drum else None,
        )
        for key, value in values.items():
            collected.setdefault(key, []).append(value)
    return {key: np.concatenate(parts) for key, parts in collected.items()}, n_windows


def write_json(evaluation: Evaluation, path: Path) -> None:
    """Save the evaluation as JSON (see `Evaluation.to_dict`)."""
    path.write_text(json.dumps(evaluation.to_dict(), indent=2) + "\n", encoding="utf-8")


def write_figure(evaluation: Evaluation, path: Path) -> None:
    """Save a PNG: one panel per metric (generated against reference bars, per track) and the overlaps.

    The last panel shows, per feature, the overlapped area of the reference's intra-set distances with
    the inter-set ones (and the generated set's), with the similarity index in its title.
    """
    # Imported here: matplotlib takes a while to load, and only this function needs it.
    from matplotlib.figure import Figure

    panels: dict[str, list[tuple[str, float, float]]] = {}
    for key, generated, reference in evaluation.metric_rows():
        metric, _, track = key.partition("/")
        panels.setdefault(metric, []).append((track or "all", generated, reference))
    n_panels = len(panels) + 1
    n_columns = 4
    n_rows = -(-n_panels // n_columns)
    figure = Figure(figsize=(4.2 * n_columns, 3.0 * n_rows), layout="constrained")
    axes = figure.subplots(n_rows, n_columns, squeeze=False).ravel()
    width = 0.4
    for axis, (metric, rows) in zip(axes, panels.items(), strict=False):
        positions = np.arange(len(rows))
        axis.bar(positions - width / 2, [row[1] for row in rows], width, label="generated", color="tab:orange")
        axis.bar(positions + width / 2, [row[2] for row in rows], width, label="reference", color="tab:blue")
        axis.set_xticks(positions, [row[0] for row in rows], fontsize=8)
        axis.set_title(metric.replace("_", " "), fontsize=10)
    overlap_axis = axes[len(panels)]
    names = list(evaluation.features)
    positions = np.arange(len(names))
    overlap_axis.bar(
        positions - width / 2,
        [evaluation.features[name].overlap_area for name in names],
        width,
        label="reference intra vs inter",
        color="tab:blue",
    )
    overlap_axis.bar(
        positions + width / 2,
        [evaluation.features[name].overlap_area_generated for name in names],
        width,
        label="generated intra vs inter",
        color="tab:orange",
    )
    overlap_axis.set_xticks(positions, [name.replace("_", " ") for name in names], rotation=60, ha="right", fontsize=7)
    overlap_axis.set_ylim(0, 1)
    overlap_axis.set_title(f"overlapped area (similarity index {evaluation.similarity_index:.2f})", fontsize=10)
    overlap_axis.legend(fontsize=7, loc="lower left")
    axes[0].legend(fontsize=7)
    for axis in axes[n_panels:]:
        axis.set_visible(False)
    figure.suptitle(f"{evaluation.generated.source}  vs  {evaluation.reference.source}", fontsize=11)
    figure.savefig(path, dpi=100)
