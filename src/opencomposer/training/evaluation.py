"""Evaluation: of a model while it trains, and of a trained accompaniment model on held-out pieces.

During training (`WindowEvaluation`), every evaluation asks the objective for its version of the same
held-out windows with the same random numbers, so successive evaluations differ only by what the model
learnt. It measures the music metrics of the result (`opencomposer.metrics.window_metrics`, comparable
with the dataset's reference values) and its similarity index against the held-out windows themselves
(`opencomposer.data.evaluate.evaluate_sets`: 1 when the model's music is distributed like the data's),
writes the windows end to end as a MIDI file and draws them as a piano-roll PNG.

After training (`evaluate_accompaniment`), the `accompany` technique accompanies the melodies of a
dataset's held-out pieces and the result is compared with the pieces' own parts; the report says which
quality bars the model meets, and `record_evaluation` writes it into the model's card.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from opencomposer.data.evaluate import PieceSet, evaluate_sets
from opencomposer.data.registry import Dataset, Piece, TrackSlot, get_dataset
from opencomposer.data.windows import split_of
from opencomposer.errors import EvaluationError, ModelFileError, TrainingError
from opencomposer.files import write_json_atomically
from opencomposer.metrics import window_metrics
from opencomposer.music.midi import write_midi
from opencomposer.music.pianoroll import RollSpec, from_roll
from opencomposer.registry import ModelEntry
from opencomposer.training.events import json_ready
from opencomposer.training.objectives import Objective

HEADLINE_METRICS = ("in_scale_ratio", "tonal_distance", "polyphony", "pitch_class_entropy")
"""Whole-window metrics worth printing at every evaluation."""
PLOTTED_WINDOWS = 4
SAMPLE_THRESHOLD = 0.5


class WindowEvaluation:
    """Evaluate an objective on fixed windows with fixed noise; usable as the trainer's `evaluator`.

    Parameters
    ----------
    windows
        Held-out windows, uint8 (N, tracks, steps, pitches) from a prepared dataset.
    roll
        Their roll spec.
    tracks
        Their track layout (names, programs, roles).
    steps_per_bar
        Steps in one bar.
    out_dir
        Folder receiving ``step-NNNNNNNN.mid`` and ``.png``.
    seed
        Seed of the noise, the same at every evaluation.
    tempo
        Tempo of the sample MIDI files, in quarter notes per minute.
    reference
        The dataset's own values of the metrics (`PreparedDataset.reference`), reported beside the model's.
    """

    def __init__(
        self,
        windows: npt.NDArray[np.uint8],
        roll: RollSpec,
        tracks: Sequence[TrackSlot],
        steps_per_bar: int,
        out_dir: str | Path,
        *,
        seed: int = 0,
        tempo: float = 120.0,
        reference: Mapping[str, float] | None = None,
    ) -> None:
        if len(windows) == 0:
            raise ValueError("An evaluation needs at least one window.")
        self.batch = torch.from_numpy(np.greater(windows, 0)).float()  # (N, tracks, steps, pitches)
        self.roll = roll
        self.tracks = tuple(tracks)
        self.steps_per_bar = steps_per_bar
        self.out_dir = Path(out_dir)
        self.seed = seed
        self.tempo = tempo
        self.reference = dict(reference or {})
        self.melody_index = next((i for i, slot in enumerate(self.tracks) if slot.role == "melody"), None)
        self.held_out = self._piece_set("held-out windows", windows)

    def _piece_set(self, source: str, rolls: npt.NDArray[np.generic]) -> PieceSet:
        templates = [slot.to_track() for slot in self.tracks]
        pieces = tuple(
            Piece(f"window-{index}", from_roll(roll, self.roll, tracks=templates, tempo=self.tempo), "valid")
            for index, roll in enumerate(rolls)
        )
        return PieceSet(source, pieces, layout=self.tracks)

    def _similarity(self, rolls: npt.NDArray[np.uint8]) -> float | None:
        """The similarity index of the model's windows against the held-out ones; None when it cannot be had
        (fewer than two windows, or a model that plays no note yet)."""
        if len(rolls) < 2:
            return None
        try:
            return evaluate_sets(self._piece_set("model", rolls), self.held_out, seed=self.seed).similarity_index
        except EvaluationError:
            return None

    def __call__(self, objective: Objective, step: int) -> dict[str, Any]:
        """Sample, measure and save; returns {"metrics", "reference" (the same keys), "midi" and "png" paths}.

        The metrics include ``similarity_index`` where it can be measured (see `_similarity`).
        """
        generator = torch.Generator().manual_seed(self.seed)
        probabilities = objective.sample(self.batch.to(objective.device), generator).cpu().numpy()
        rolls = (probabilities >= SAMPLE_THRESHOLD).astype(np.uint8)  # (N, tracks, steps, pitches)
        metrics = window_metrics(
            rolls,
            self.roll,
            steps_per_bar=self.steps_per_bar,
            track_names=[slot.name for slot in self.tracks],
            drum_tracks=[slot.is_drum for slot in self.tracks],
            melody_index=self.melody_index,
        )
        similarity = self._similarity(rolls)
        if similarity is not None:
            metrics["similarity_index"] = similarity
        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = self.out_dir / f"step-{step:08d}"
        midi_path, png_path = stem.with_suffix(".mid"), stem.with_suffix(".png")
        joined = np.concatenate(list(rolls), axis=1)  # (tracks, N * steps, pitches): the windows end to end
        write_midi(
            from_roll(joined, self.roll, tracks=[slot.to_track() for slot in self.tracks], tempo=self.tempo), midi_path
        )
        plot_rolls(
            rolls[:PLOTTED_WINDOWS],
            self.roll,
            [slot.name for slot in self.tracks],
            png_path,
            title=f"step {step}",
            steps_per_bar=self.steps_per_bar,
        )
        reference = {key: self.reference[key] for key in metrics if key in self.reference}
        return {"metrics": metrics, "reference": reference, "midi": str(midi_path), "png": str(png_path)}


def plot_rolls(
    rolls: npt.NDArray[np.generic],
    roll: RollSpec,
    track_names: Sequence[str],
    path: str | Path,
    *,
    title: str = "",
    steps_per_bar: int | None = None,
) -> None:
    """Draw windows (N, tracks, steps, pitches) as a grid of piano rolls (a row per track) into a PNG file.

    Bar lines are drawn every `steps_per_bar` steps when given; pitch rows are labelled in MIDI numbers.
    """
    n_windows, n_tracks = rolls.shape[0], rolls.shape[1]
    figure = Figure(figsize=(3.2 * n_windows, 1.6 * n_tracks + 0.6), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.subplots(n_tracks, n_windows, squeeze=False, sharex=True, sharey=True)
    extent = (0.0, float(rolls.shape[2]), roll.low_pitch - 0.5, roll.high_pitch + 0.5)
    for window in range(n_windows):
        for track in range(n_tracks):
            ax = axes[track][window]
            ax.imshow(
                np.greater(rolls[window, track], 0).T,
                origin="lower",
                aspect="auto",
                cmap="Greys",
                interpolation="nearest",
                extent=extent,
                vmin=0,
                vmax=1,
            )
            if steps_per_bar:
                for bar_step in range(steps_per_bar, rolls.shape[2], steps_per_bar):
                    ax.axvline(bar_step, color="tab:blue", linewidth=0.5)
            if window == 0:
                ax.set_ylabel(track_names[track], fontsize=8)
            ax.tick_params(labelsize=6)
    if title:
        figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    figure.savefig(str(path))


def held_out_pieces(dataset: Dataset, split: str = "test", limit: int | None = None) -> list[Piece]:
    """The pieces of one split: the published one, else the deterministic split that training windows use."""
    pieces: Iterable[Piece] = dataset.iter_pieces()
    chosen = [piece for piece in pieces if split_of(piece) == split]
    return chosen[:limit] if limit is not None else chosen


QUALITY_TOLERANCE = 0.05
QUALITY_SIMILARITY = 0.7


def evaluate_accompaniment(
    entry: ModelEntry,
    dataset: Dataset | str | None = None,
    *,
    split: str = "test",
    seed: int = 0,
    limit: int | None = None,
    params: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """Accompany the melodies of a dataset's held-out pieces and measure the result against their own parts.

    Each held-out piece's melody goes through the `accompany` technique alone; the result (melody plus
    generated tracks) and the piece itself (melody plus its own tracks of the same names) are compared
    with `opencomposer.data.evaluate.evaluate_sets`. As a floor for harmony, every piece's melody is
    also re-paired with another piece's accompaniment (a random derangement): a model that follows the
    melody must have a lower melody-to-accompaniment tonal distance than those random pairs.

    Parameters
    ----------
    entry
        The model.
    dataset
        The dataset (or its name); default the model's own.
    split
        The held-out split.
    seed
        Seed of the generation and of the re-pairing.
    limit
        Evaluate at most this many pieces.
    params
        Parameters of the technique (its defaults otherwise).

    Returns
    -------
    dict
        JSON-ready: the model's and the dataset's headline metrics, the random pairs' tonal distance, the
        similarity index, and whether each quality bar is met.
    """
    from opencomposer.data.evaluate import PieceSet, evaluate_sets
    from opencomposer.techniques.accompany import Accompany

    card = entry.card
    source = get_dataset(dataset or card.dataset) if not isinstance(dataset, Dataset) else dataset
    technique = Accompany(entry)
    melody_name = card.tracks[card.melody_index]["name"]
    names = [melody_name] + [str(track["name"]) for track in technique.output_tracks]
    layout = tuple(TrackSlot(name, "melody" if i == 0 else "accompaniment", 0) for i, name in enumerate(names))
    real, generated = [], []
    for piece in held_out_pieces(source, split, limit):
        by_name = {track.name: track for track in piece.score.tracks}
        melody = by_name.get(melody_name)
        if melody is None or not melody.notes or any(name not in by_name for name in names):
            continue
        real.append(Piece(piece.id, piece.score.with_tracks([by_name[name] for name in names]), split))
        made = technique.generate(piece.score.with_tracks([melody]), params or {}, seed).score
        generated.append(Piece(piece.id, made, split))
    if len(real) < 2:
        raise TrainingError(f"The {split} split of {source.info.name!r} has fewer than two pieces to evaluate on.")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(real))
    partner = dict(zip(order.tolist(), np.roll(order, 1).tolist(), strict=True))  # nobody keeps its own
    repaired = [
        Piece(
            f"{piece.id}+{real[partner[i]].id}",
            piece.score.with_tracks([piece.score.tracks[0], *real[partner[i]].score.tracks[1:]]),
        )
        for i, piece in enumerate(real)
    ]
    reference = PieceSet(f"dataset {source.info.name} ({split})", tuple(real), layout=layout)
    model_eval = evaluate_sets(PieceSet(f"model {card.name}", tuple(generated)), reference, seed=seed)
    random_eval = evaluate_sets(PieceSet("random pairs", tuple(repaired)), reference, seed=seed)
    accompaniment = names[1:]
    model = _headline(model_eval.generated.metrics, accompaniment)
    data = _headline(model_eval.reference.metrics, accompaniment)
    random_distance = random_eval.generated.metrics.get("tonal_distance", float("nan"))
    similarity = model_eval.similarity_index
    return {
        "dataset": source.info.name,
        "split": split,
        "pieces": len(real),
        "seed": seed,
        "params": dict(params or {}),
        "model": model,
        "dataset_values": data,
        "random_pairs": {"tonal_distance": random_distance},
        "similarity_index": similarity,
        "quality_bars": {
            "in_scale_ratio_within_0.05": abs(model["in_scale_ratio"] - data["in_scale_ratio"]) <= QUALITY_TOLERANCE,
            "empty_bar_rate_within_0.05": abs(model["empty_bar_rate"] - data["empty_bar_rate"]) <= QUALITY_TOLERANCE,
            "tonal_distance_below_random_pairs": model["tonal_distance"] < random_distance,
            "similarity_index_at_least_0.7": similarity >= QUALITY_SIMILARITY,
        },
    }


def record_evaluation(entry: ModelEntry, report: Mapping[str, Any]) -> ModelEntry:
    """Write a held-out evaluation report into a model's card (as ``metrics["held_out"]``); returns the new entry.

    Raises `ModelFileError` for a shipped model, whose files are read-only.
    """
    if entry.shipped:
        raise ModelFileError(f"{entry.name!r} ships with OpenComposer and is read-only; evaluate a copy instead.")
    card = replace(entry.card, metrics={**entry.card.metrics, "held_out": json_ready(dict(report))})
    write_json_atomically(entry.card_path, card.to_json())
    return replace(entry, card=card)


def _headline(metrics: Mapping[str, float], accompaniment: Sequence[str]) -> dict[str, float]:
    """The quality-bar metrics of one set: whole-window ones, per-track ones averaged over the accompaniment,
    and each accompaniment track's empty-bar rate."""

    def mean_over_tracks(metric: str) -> float:
        values = [metrics.get(f"{metric}/{name}", float("nan")) for name in accompaniment]
        return float(np.nanmean(values)) if not np.all(np.isnan(values)) else float("nan")

    return {
        "in_scale_ratio": float(metrics.get("in_scale_ratio", float("nan"))),
        "tonal_distance": float(metrics.get("tonal_distance", float("nan"))),
        "polyphony": float(metrics.get("polyphony", float("nan"))),
        "empty_bar_rate": mean_over_tracks("empty_bar_rate"),
        "qualified_note_rate": mean_over_tracks("qualified_note_rate"),
        "pitch_classes_per_bar": mean_over_tracks("pitch_classes_per_bar"),
        # Each track's own, since one sparse track can hide behind the mean.
        **{
            f"empty_bar_rate/{name}": float(metrics.get(f"empty_bar_rate/{name}", float("nan")))
            for name in accompaniment
        },
    }
