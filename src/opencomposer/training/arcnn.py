"""Training an AR-CNN end to end, and measuring it: presets, the run, the model card, the quality bars.

`run_training(ArcnnRecipe(preset, dataset), out_dir, name=...)` (`opencomposer.training.road`) prepares the
preset's dataset into windows, trains an `Arcnn` with the orderless-NADE objective
(`opencomposer.training.objectives.masked`) under the shared `Trainer`, and writes the model
(``<name>.safetensors`` + ``<name>.json``, technique "edit") into `out_dir` and, unless told not to, into the
user's models folder. A run's folder holds ``events.jsonl``, ``checkpoints/`` (resume by running the same
command again) and ``eval/step-NNNNNNNN.{mid,png}``: the held-out windows' sopranos harmonized by Gibbs
sampling. A preset may draw its windows afresh from whole pieces at every step (`ArcnnPreset.draw_windows`: any
beat, any transposition in range, as Coconet trained) and keep the weights that measured best on the valid split
(`ArcnnPreset.keep_best`); the shipped `bach-arcnn` does both, on a GPU with ``--device cuda`` (see
``scripts/gpu_train.sh``).

`framewise_nll` measures a model's likelihood of a dataset split frame by frame, exactly or as Coconet's
released evaluation estimates it (`NLL_ESTIMATORS`), and `evaluate_harmonization` harmonizes the sopranos
of held-out chorales and compares the result with Bach's own parts (and, when asked, with an
accompaniment GAN on the same melodies).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from opencomposer.data.registry import Dataset, Piece, TrackSlot, get_dataset
from opencomposer.data.windows import WindowSpec
from opencomposer.errors import DatasetError, ParameterError, TrainingError, UnknownNameError
from opencomposer.files import write_atomically
from opencomposer.models import count_parameters
from opencomposer.models.arcnn import (
    DEFAULT_ORDERINGS,
    NLL_ESTIMATORS,
    Arcnn,
    ArcnnConfig,
    classes_to_rolls,
    estimate_piece_nll,
    rolls_to_classes,
)
from opencomposer.music.pianoroll import RollSpec, to_roll
from opencomposer.music.score import Score
from opencomposer.registry import ModelEntry, tensors_to_bytes
from opencomposer.techniques.base import ParamValue, validate_params
from opencomposer.training.architectures import Architecture, EvaluationRequest, PresetInfo
from opencomposer.training.evaluation import HEADLINE_METRICS, held_out_pieces
from opencomposer.training.objectives import Objective
from opencomposer.training.objectives.masked import MaskedCells
from opencomposer.training.params import TRAINING_PARAMS
from opencomposer.training.road import (
    CardParts,
    TrainingData,
    WindowRecipe,
    window_json,
)
from opencomposer.training.trainer import BatchSource, Evaluator, TrainResult

ARCNN_PARAMS = TRAINING_PARAMS
"""The hyperparameters of an AR-CNN run (the shared ones: the objective has no others)."""

EVAL_WINDOWS = 16
VOICE_PROGRAMS = (40, 40, 41, 42)
"""General MIDI programs of the voices, highest first: violin, violin, viola, cello (a string quartet)."""


@dataclass(frozen=True, slots=True)
class ArcnnPreset:
    """Everything an AR-CNN run needs besides its hyperparameters.

    Parameters
    ----------
    name, description
        For people.
    dataset
        The dataset it trains on by default; its non-drum tracks are the voices, highest first.
    window
        How the dataset is cut: roll spec, bars, transposition.
    model
        The network's sizes (`voices` and `pitches` must match the window).
    training
        Recommended hyperparameters, over the declared defaults (the user's values win).
    tempo
        Tempo of the sample MIDI files, in quarter notes per minute.
    draw_windows
        Draw every batch's windows afresh from the training pieces (`PieceWindows`): `window.bars` long,
        starting on any beat, each in one transposition within `window.transpose` that keeps its voices in
        range; an epoch is every such window once. Otherwise the windows cut every `window.hop_bars` bars are
        read (prepared and cached once).
    keep_best
        At every evaluation also measure the valid split's framewise NLL (exact, one ordering: `split_nll`), and
        save the weights that measured best: the model is those, not the last step's.
    """

    name: str
    description: str
    dataset: str
    window: WindowSpec
    model: ArcnnConfig
    training: Mapping[str, ParamValue] = field(default_factory=dict)
    tempo: float = 100.0
    draw_windows: bool = False
    keep_best: bool = False


COCONET_ROLL = RollSpec(steps_per_beat=4, low_pitch=36, high_pitch=81)
"""Coconet's grid: 16th-note steps, MIDI pitches 36-81 (every pitch of the JSB chorales)."""

PRESETS: dict[str, ArcnnPreset] = {
    preset.name: preset
    for preset in (
        ArcnnPreset(
            name="bach-arcnn",
            description="Edits, harmonizes and inpaints four-voice music like a Bach chorale (SATB, 16th notes).",
            dataset="jsb-satb",
            window=WindowSpec(roll=COCONET_ROLL, bars=8, hop_bars=2, transpose=(-5, 6)),
            model=ArcnnConfig(voices=4, pitches=COCONET_ROLL.n_pitches, channels=192, blocks=12, direct_steps=5),
            training={
                "batch_size": 128,
                "learning_rate": 1e-3,
                "steps": 11700,
                "eval_every": 2340,
                "checkpoint_every": 500,
            },
            draw_windows=True,
            keep_best=True,
        ),
    )
}
"""The named presets: that of the shipped `bach-arcnn` model (its network, objective, windows and
hyperparameters; 11,700 steps take about 8 minutes on one H200 with ``--device cuda``, see
``scripts/gpu_train.sh``, and about a day on a 2-core CPU, so pass fewer ``--steps`` there)."""


def get_preset(name: str) -> ArcnnPreset:
    """The preset called `name`; raises `UnknownNameError` listing the known ones."""
    if name not in PRESETS:
        raise UnknownNameError(f"There is no AR-CNN preset called {name!r}. Known presets: {', '.join(PRESETS)}.")
    return PRESETS[name]


_SMALL_TRAINING: dict[str, ParamValue] = {"batch_size": 32, "steps": 2000, "eval_every": 250, "checkpoint_every": 250}


def default_preset(dataset: str) -> ArcnnPreset:
    """A small AR-CNN for any dataset: its non-drum tracks as voices, 4-bar windows of 16th notes, pitches 36-81.

    Raises `UnknownNameError` for an unknown dataset and `TrainingError` for one with no pitched track.
    """
    info = get_dataset(dataset).info
    voices = tuple(slot.name for slot in info.tracks if not slot.is_drum)
    if not voices:
        raise TrainingError(f"The dataset {dataset!r} has no pitched track to learn voices from.")
    return ArcnnPreset(
        name=f"{dataset}-arcnn",
        description=f"An AR-CNN for {info.title}.",
        dataset=dataset,
        window=WindowSpec(roll=COCONET_ROLL, bars=4, hop_bars=1, tracks=voices, transpose=(-5, 6)),
        model=ArcnnConfig(voices=len(voices), pitches=COCONET_ROLL.n_pitches, channels=64, blocks=6, direct_steps=5),
        training=_SMALL_TRAINING,
    )


class ArcnnRecipe(WindowRecipe):
    """The AR-CNN's part of a run: windows of voices, one `Arcnn` under the orderless-NADE objective."""

    technique = "edit"
    architecture = "arcnn"
    params = ARCNN_PARAMS

    def __init__(self, preset: ArcnnPreset, dataset: Dataset | str | None) -> None:
        self.spec = preset
        self.dataset = dataset
        self.default_dataset = preset.dataset
        self.window = preset.window
        self.tempo = preset.tempo
        self.eval_windows = EVAL_WINDOWS
        self.preset = preset.name
        self.training = preset.training

    def prepare(self, values: Mapping[str, ParamValue], workers: int | None) -> TrainingData:
        """Cut the dataset into windows; checks that they hold the network's voices and pitches. A preset that
        draws its windows or keeps its best weights also reads the training or valid pieces as class grids."""
        preset = self.spec
        data = self.read_windows(workers)
        slots = self.prepared.tracks
        if len(slots) != preset.model.voices or preset.window.roll.n_pitches != preset.model.pitches:
            raise TrainingError(
                f"The preset {preset.name!r} learns {preset.model.voices} voices over {preset.model.pitches} pitches "
                f"but the windows of {self.prepared.name!r} hold {len(slots)} tracks over "
                f"{preset.window.roll.n_pitches}; choose another preset."
            )
        if preset.keep_best:
            self.valid_pieces = self._classes("valid")
            if not self.valid_pieces:
                raise TrainingError(
                    f"The preset {preset.name!r} keeps its best weights on the valid split, which "
                    f"{self.prepared.name!r} does not have; choose another preset."
                )
        if not preset.draw_windows:
            return data
        window = preset.window
        self.draws = PieceWindows(
            self._classes("train"),
            steps=window.bars * window.steps_per_bar,
            hop=window.roll.steps_per_beat,
            transpose=window.transpose,
            pitches=preset.model.pitches,
        )
        return TrainingData(self.prepared.name, len(self.draws), unit="windows drawn from its pieces")

    def _classes(self, split: str) -> list[torch.Tensor]:
        """The pieces of one split as (voices, steps) class grids on the preset's roll."""
        model = self.spec.model
        return [
            piece_classes(p.score, self.spec.window.roll, model.voices) for p in held_out_pieces(self.source, split)
        ]

    def batches(self, batch_size: int, seed: int) -> BatchSource:
        """Drawn windows (a new order each epoch), or the cut ones shuffled as every window recipe does."""
        if not self.spec.draw_windows:
            return super().batches(batch_size, seed)
        return self.draws.epochs(batch_size, seed)

    def evaluator(self, eval_dir: Path, seed: int) -> Evaluator:
        """The held-out windows harmonized and measured; with `keep_best`, the valid NLL and the best weights too."""
        evaluator = super().evaluator(eval_dir, seed)
        if not self.spec.keep_best:
            return evaluator
        self.best = KeepBest(evaluator, self.valid_pieces, eval_dir.parent / "best")
        return self.best

    def build(self, values: Mapping[str, ParamValue], steps_for: Callable[[int], int]) -> Objective:
        """The network and its masked-cells objective (whose learning rate decays over the run's steps)."""
        self.model = Arcnn(self.spec.model)
        total_steps = steps_for(MaskedCells.batches_per_step)
        return MaskedCells(self.model, learning_rate=float(values["learning_rate"]), total_steps=total_steps)

    def run_info(self) -> dict[str, Any]:
        """The network's sizes, the dataset and its windows (and how they are drawn, and the weights kept)."""
        info: dict[str, Any] = {
            "model": asdict(self.spec.model),
            "dataset": self.prepared.name,
            "window": window_json(self.spec.window),
        }
        if self.spec.draw_windows or self.spec.keep_best:
            info.update(draw_windows=self.spec.draw_windows, keep_best=self.spec.keep_best)
        return info

    def card(self, name: str, result: TrainResult) -> CardParts:
        """The voices (as string-quartet instruments), the last loss and the last evaluation's headline metrics."""
        preset, prepared = self.spec, self.prepared
        slots = prepared.tracks
        last = result.last_eval.get("metrics", {})
        return CardParts(
            config=asdict(preset.model),
            description=preset.description,
            dataset=prepared.name,
            roll=asdict(preset.window.roll),
            bars=preset.window.bars,
            tracks=[_track_json(slot, index) for index, slot in enumerate(slots)],
            melody_index=prepared.melody_index or 0,
            generated_tracks=list(range(len(slots))),
            training={
                "windows_per_second": round(result.windows_per_second, 1),
                "windows": {split: len(array) for split, array in prepared.windows.items()},
                "window": window_json(preset.window),
                "parameters": count_parameters(self.model),
                **({"windows_drawn_from_pieces": len(self.draws)} if preset.draw_windows else {}),
                **({"kept": self.best.kept} if preset.keep_best else {}),
            },
            metrics={
                "final_eval": {
                    "loss": result.last_losses.get("loss"),
                    **{key: last.get(key) for key in HEADLINE_METRICS if key in last},
                },
                "reference": {key: prepared.reference[key] for key in HEADLINE_METRICS if key in prepared.reference},
            },
            licence=f"Weights trained on {self.source.info.title}: {self.source.info.licence}",
        )

    def weights(self) -> dict[str, torch.Tensor]:
        """The network's: with `keep_best`, those that measured best on the valid split."""
        if self.spec.keep_best:
            return self.best.weights()
        return dict(self.model.state_dict())


class PieceWindows:
    """Windows drawn from whole pieces: every beat-aligned start of every piece whose top voice sounds in it, in
    every transposition within `transpose` that keeps the window's voices within the `pitches` classes.

    Only the (piece, start, shift) of each window is stored; a batch is cut, transposed and made into rolls when
    it is drawn, so a dataset of 229 chorales in 12 keys takes a few megabytes, not gigabytes.
    """

    def __init__(
        self, pieces: Sequence[torch.Tensor], *, steps: int, hop: int, transpose: tuple[int, int], pitches: int
    ) -> None:
        self.pieces, self.steps, self.pitches = list(pieces), steps, pitches
        draws: list[tuple[int, int, int]] = []
        for index, piece in enumerate(self.pieces):
            for start in range(0, piece.shape[1] - steps + 1, hop):
                window = piece[:, start : start + steps]
                sounding = window != pitches
                if not bool(sounding[0].any()):
                    continue
                low, high = int(window[sounding].min()), int(window[sounding].max())
                draws.extend(
                    (index, start, shift)
                    for shift in range(transpose[0], transpose[1] + 1)
                    if low + shift >= 0 and high + shift < pitches
                )
        self.draws = torch.tensor(draws, dtype=torch.int64).reshape(-1, 3)

    def __len__(self) -> int:
        return len(self.draws)

    def batch(self, picks: torch.Tensor) -> torch.Tensor:
        """The windows `picks` (indices of draws) as (B, voices, steps, pitches) 0/1 rolls."""
        chosen = self.draws[picks]
        windows = torch.stack([self.pieces[i][:, start : start + self.steps] for i, start in chosen[:, :2].tolist()])
        shifts = chosen[:, 2][:, None, None]
        return classes_to_rolls(torch.where(windows != self.pitches, windows + shifts, windows), self.pitches)

    def epochs(self, batch_size: int, seed: int) -> BatchSource:
        """Every window once per epoch in full batches, in an order of the seed and the epoch."""

        def epoch(number: int) -> Iterator[torch.Tensor]:
            order = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed * 100_003 + number))
            for start in range(0, len(order) - batch_size + 1, batch_size):
                yield self.batch(order[start : start + batch_size])

        return epoch


class KeepBest:
    """An evaluator that adds the valid split's framewise NLL (``valid_nll``) to another's metrics and keeps the
    weights that measured best in `folder`: one ``weights.safetensors``, written atomically, whose metadata
    holds their step and NLL, so that a resumed (or killed) run still knows them."""

    def __init__(self, inner: Evaluator, valid: Sequence[torch.Tensor], folder: Path) -> None:
        from safetensors import safe_open

        self.inner, self.valid, self.path = inner, list(valid), folder / "weights.safetensors"
        self.kept: dict[str, Any] = {}
        if self.path.is_file():
            with safe_open(str(self.path), framework="pt") as kept:
                metadata = kept.metadata()
            self.kept = {"step": int(metadata["step"]), "valid_nll": float(metadata["valid_nll"])}

    def __call__(self, objective: Objective, step: int) -> Mapping[str, Any]:
        results = dict(self.inner(objective, step))
        model = objective.modules()["arcnn"]
        assert isinstance(model, Arcnn)
        nll = split_nll(model, self.valid)
        results["metrics"] = {**results.get("metrics", {}), "valid_nll": nll}
        if not self.kept or nll < float(self.kept["valid_nll"]):
            write_atomically(
                self.path, tensors_to_bytes(model.state_dict(), {"step": str(step), "valid_nll": repr(nll)})
            )
            self.kept = {"step": step, "valid_nll": nll}
        results["kept"] = dict(self.kept)
        return results

    def weights(self) -> dict[str, torch.Tensor]:
        """The weights that measured best (an evaluation always runs at a run's last step, so there are some)."""
        from safetensors.torch import load_file

        return load_file(str(self.path))


def split_nll(
    model: Arcnn,
    pieces: Sequence[torch.Tensor],
    *,
    seed: int = 0,
    estimator: str = "exact",
    orderings: int | None = None,
) -> float:
    """The framewise NLL of `pieces` (class grids) in nats per frame: the sum of each piece's (`estimate_piece_nll`,
    `orderings` or the estimator's default, one generator of `seed` for all) over the number of frames."""
    generator = torch.Generator().manual_seed(seed)
    was_training = model.training
    model.eval()
    orderings = orderings or DEFAULT_ORDERINGS[estimator]
    total = sum(
        estimate_piece_nll(model, piece, generator, estimator=estimator, orderings=orderings) for piece in pieces
    )
    model.train(was_training)
    return total / sum(piece.shape[1] for piece in pieces)


def _track_json(slot: TrackSlot, index: int) -> dict[str, Any]:
    program = VOICE_PROGRAMS[index] if index < len(VOICE_PROGRAMS) else slot.program
    return {"name": slot.name, "role": slot.role, "program": program, "is_drum": slot.is_drum}


COCONET_NLL_16TH = 0.57
"""Coconet's framewise NLL of the JSB test split at 16th-note resolution, nats per frame (Huang et al. 2017,
"Counterpoint by Convolution", Table 1), as its released evaluation estimates it (the ``coconet`` one of
`opencomposer.models.arcnn.NLL_ESTIMATORS`)."""


def piece_classes(score: Score, roll: RollSpec, voices: int) -> torch.Tensor:
    """A piece's first `voices` tracks as (voices, steps) classes on `roll` (highest pitch per voice, else rest)."""
    rolls = torch.from_numpy(to_roll(score.with_tracks(list(score.tracks[:voices])), roll) > 0)
    return rolls_to_classes(rolls[None])[0]


def framewise_nll(
    entry: ModelEntry,
    dataset: Dataset | str = "jsb-satb",
    *,
    split: str = "test",
    estimator: str = "exact",
    orderings: int | None = None,
    seed: int = 0,
    limit: int | None = None,
) -> dict[str, Any]:
    """The negative log-likelihood of a dataset split per frame, with one of the `NLL_ESTIMATORS`.

    ``exact`` draws `orderings` (default 1) random orderings of each piece (see
    `opencomposer.models.arcnn.ordering_log_likelihoods`) and averages the piece's likelihoods over them:
    the exact likelihood of a mixture of orderings, and with one ordering an unbiased estimate of the
    expectation over orderings, which bounds the ensemble's NLL from above. ``coconet`` does what Coconet's
    released evaluation does, so its published figure can be compared with ours like for like: the network's
    own most likely classes stand in for the voices of a frame already visited, silent cells count as
    certain (Coconet's network has no silence class), and each frame's probability, not each piece's, is
    averaged over `orderings` (default 5) orderings. The result is the sum over pieces divided by the number
    of frames (16th-note steps for a 16th-note model), in nats.

    Returns
    -------
    dict
        JSON-ready: ``nll_per_frame``, ``frames``, ``pieces``, ``orderings``, ``estimator`` and what it
        computes, the share of silent cells, ``seconds``, the resolution, and Coconet's published figure.
    """
    from opencomposer.techniques.edit import Edit

    if estimator not in NLL_ESTIMATORS:
        raise ParameterError(f"The estimator must be one of {', '.join(NLL_ESTIMATORS)}, not {estimator!r}.")
    if orderings is None:
        orderings = DEFAULT_ORDERINGS[estimator]
    if orderings < 1:
        raise ParameterError(f"orderings must be at least 1, not {orderings}.")
    technique = Edit(entry)
    model = technique.model
    source = get_dataset(dataset) if isinstance(dataset, str) else dataset
    pieces = held_out_pieces(source, split, limit)
    if not pieces:
        raise TrainingError(f"The {split} split of {source.info.name!r} holds no piece to measure.")
    began = time.perf_counter()
    grids = [piece_classes(piece.score, technique.roll, model.config.voices) for piece in pieces]
    nll = split_nll(model, grids, seed=seed, estimator=estimator, orderings=orderings)
    frames = sum(grid.shape[1] for grid in grids)
    silent = sum(int((grid == model.config.rest_class).sum()) for grid in grids)
    return {
        "dataset": source.info.name,
        "split": split,
        "pieces": len(pieces),
        "frames": frames,
        "orderings": orderings,
        "seed": seed,
        "nll_per_frame": nll,
        "resolution": f"{technique.roll.steps_per_beat} frames per quarter note",
        "estimator": estimator,
        "estimator_computes": NLL_ESTIMATORS[estimator],
        "silent_cell_share": silent / (frames * model.config.voices),
        "seconds": round(time.perf_counter() - began, 1),
        "coconet_published": COCONET_NLL_16TH,
    }


def evaluate_harmonization(
    entry: ModelEntry,
    dataset: Dataset | str = "jsb-satb",
    *,
    split: str = "test",
    seed: int = 0,
    limit: int | None = None,
    params: Mapping[str, object] | None = None,
    compare_with: str | None = None,
) -> dict[str, Any]:
    """Harmonize the sopranos of a dataset's held-out chorales and measure the result against Bach's own parts.

    Each held-out piece's soprano goes alone through the `edit` technique in harmonize mode; the result and
    the piece itself are compared with `opencomposer.data.evaluate.evaluate_sets` (parallel fifths and
    octaves per 100 note transitions, in-scale ratio, similarity index). With `compare_with` (an
    accompany model's name, such as "bach-chorale-unet"), that GAN accompanies the same sopranos and is
    measured the same way.

    Returns
    -------
    dict
        JSON-ready: the model's and the dataset's metrics, the similarity index, the GAN's when asked,
        the quality bars of issue 6 and the wall time.
    """
    from opencomposer.data.evaluate import PieceSet, evaluate_sets
    from opencomposer.registry import get_model
    from opencomposer.techniques.accompany import Accompany
    from opencomposer.techniques.edit import Edit

    technique = Edit(entry)
    source = get_dataset(dataset) if isinstance(dataset, str) else dataset
    names = [str(slot["name"]) for slot in entry.card.tracks]
    layout = tuple(TrackSlot(name, "melody" if i == 0 else "accompaniment", 0) for i, name in enumerate(names))
    began = time.perf_counter()
    real, melodies = [], []
    for piece in held_out_pieces(source, split, limit):
        by_name = {track.name: track for track in piece.score.tracks}
        if any(name not in by_name for name in names) or not by_name[names[0]].notes:
            continue
        real.append(Piece(piece.id, piece.score.with_tracks([by_name[name] for name in names]), split))
        melodies.append(piece.score.with_tracks([by_name[names[0]]]))
    if len(real) < 2:
        raise TrainingError(f"The {split} split of {source.info.name!r} has fewer than two pieces to evaluate on.")
    settings = validate_params(technique.params, {**(params or {}), "mode": "harmonize"})
    made = [technique.generate(melody, settings, seed).score for melody in melodies]
    reference = PieceSet(f"dataset {source.info.name} ({split})", tuple(real), layout=layout)

    def measure(label: str, scores: Sequence[Score]) -> tuple[dict[str, float], dict[str, float], float]:
        pieces = tuple(Piece(piece.id, score, split) for piece, score in zip(real, scores, strict=True))
        evaluation = evaluate_sets(PieceSet(label, pieces), reference, seed=seed)
        return (
            _harmony_headline(evaluation.generated.metrics),
            _harmony_headline(evaluation.reference.metrics),
            evaluation.similarity_index,
        )

    model, data, similarity = measure(f"model {entry.name}", made)
    report: dict[str, Any] = {
        "dataset": source.info.name,
        "split": split,
        "pieces": len(real),
        "seed": seed,
        "params": settings,
        "model": model,
        "dataset_values": data,
        "similarity_index": similarity,
    }
    if compare_with is not None:
        gan = Accompany(get_model(compare_with))
        accompanied = [gan.generate(melody, {}, seed).score for melody in melodies]
        gan_model, _, gan_similarity = measure(f"model {compare_with}", accompanied)
        report["comparison"] = {"model": compare_with, "metrics": gan_model, "similarity_index": gan_similarity}
    bars = {
        "parallel_fifths_at_most_twice_bach": model["parallel_fifths"] <= 2 * data["parallel_fifths"],
        "parallel_octaves_at_most_twice_bach": model["parallel_octaves"] <= 2 * data["parallel_octaves"],
        "in_scale_ratio_within_0.05": abs(model["in_scale_ratio"] - data["in_scale_ratio"]) <= 0.05,
        "similarity_index_at_least_0.75": similarity >= 0.75,
    }
    if "comparison" in report:
        bars["similarity_index_above_the_gan"] = similarity > report["comparison"]["similarity_index"]
    report["quality_bars"] = bars
    report["seconds"] = round(time.perf_counter() - began, 1)
    return report


def _harmony_headline(metrics: Mapping[str, float]) -> dict[str, float]:
    keys = ("parallel_fifths", "parallel_octaves", "in_scale_ratio", "tonal_distance", "voice_crossing")
    return {key: float(metrics.get(key, float("nan"))) for key in keys}


def plan_arcnn(dataset: str, preset: str | None, hyperparameters: Mapping[str, object]) -> dict[str, ParamValue]:
    """Check an AR-CNN training request without training; returns its hyperparameters with defaults filled in.

    Raises `UnknownNameError` for an unknown dataset or preset, `DatasetError` for a dataset whose files are
    not on this machine, `TrainingError` for a dataset with no pitched track, and `ParameterError` for an
    unknown or out-of-range hyperparameter.
    """
    source = get_dataset(dataset)
    if not source.is_present():
        raise DatasetError(
            f"The files of the dataset {dataset!r} are not on this machine; run `opencomposer data download "
            f"{dataset}` first, or pick another dataset."
        )
    chosen = chosen_preset(dataset, preset)
    return validate_params(ARCNN_PARAMS, {**chosen.training, **hyperparameters})


def chosen_preset(dataset: str | None, preset: str | None) -> ArcnnPreset:
    """The preset asked for, else a small one for `dataset`; raises `ParameterError` when neither is given."""
    if preset is not None:
        return get_preset(preset)
    if dataset is None:
        raise ParameterError("Give a preset, or a dataset to train a small AR-CNN on.")
    return default_preset(dataset)


def architectures() -> list[Architecture]:
    """The AR-CNN as a trainable architecture (see `opencomposer.training.architectures`)."""

    def recipe(dataset: str | None, preset: str | None) -> ArcnnRecipe:
        return ArcnnRecipe(chosen_preset(dataset, preset), dataset)

    return [
        Architecture(
            name="arcnn",
            technique="edit",
            title="AR-CNN (Coconet)",
            description="A convolutional network that learns to fill in hidden notes of a multi-voice piece (orderless "
            "NADE, as Coconet); sampled by annealed Gibbs sampling it edits, harmonizes and inpaints music in the "
            "dataset's style.",
            params=ARCNN_PARAMS,
            presets=tuple(
                PresetInfo(preset.name, preset.dataset, preset.description, preset.training)
                for preset in PRESETS.values()
            ),
            default_training=_SMALL_TRAINING,
            plan=plan_arcnn,
            recipe=recipe,
            evaluate=_evaluate,
            command_help="Train an AR-CNN (Coconet): it learns to fill in hidden notes, then edits, harmonizes and "
            "inpaints. Every --eval-every steps the held-out windows' top voices are harmonized and written to "
            "OUT/eval as MIDI and a piano-roll picture.",
            headline=HEADLINE_METRICS,
            prepares_windows=True,
        )
    ]


GAN_FOR_COMPARISON = "bach-chorale-unet"


def evaluate_edit_model(
    entry: ModelEntry,
    dataset: Dataset | str | None = None,
    *,
    split: str = "test",
    seed: int = 0,
    limit: int | None = None,
    params: Mapping[str, object] | None = None,
    likelihood_as_coconet: bool = True,
) -> dict[str, Any]:
    """The quality bars of an edit model: `evaluate_harmonization` with the default settings or `params`
    (against the shipped chorale GAN when it is installed), the same with parallels allowed under
    ``network_alone`` (what the network writes without the sampler's counterpoint rule), its exact
    `framewise_nll` under ``likelihood`` and, unless `likelihood_as_coconet` is false, the same measured as
    Coconet's released evaluation measures it under ``likelihood_coconet``, with the bar of matching
    Coconet's published figure; the dataset defaults to the model's own."""
    from opencomposer.registry import list_models

    source = dataset or entry.card.dataset
    gans = {model.name for model in list_models("accompany")}
    compare_with = GAN_FOR_COMPARISON if GAN_FOR_COMPARISON in gans else None
    report = evaluate_harmonization(
        entry, source, split=split, seed=seed, limit=limit, params=params, compare_with=compare_with
    )
    allowed = {**(params or {}), "parallels": "allow"}
    alone = evaluate_harmonization(entry, source, split=split, seed=seed, limit=limit, params=allowed)
    report["network_alone"] = {key: alone[key] for key in ("params", "model", "similarity_index", "seconds")}
    report["likelihood"] = framewise_nll(entry, source, split=split, seed=seed, limit=limit)
    if likelihood_as_coconet:
        coconet = framewise_nll(entry, source, split=split, estimator="coconet", seed=seed, limit=limit)
        report["likelihood_coconet"] = coconet
        report["quality_bars"]["nll_as_low_as_coconet"] = coconet["nll_per_frame"] <= COCONET_NLL_16TH
    return report


def _evaluate(entry: ModelEntry, request: EvaluationRequest) -> dict[str, Any]:
    """`evaluate_edit_model` as the architecture registry calls it (`EvaluateFunction`)."""
    return evaluate_edit_model(
        entry,
        request.dataset,
        split=request.split,
        seed=request.seed,
        limit=request.limit,
        likelihood_as_coconet=request.likelihood_as_coconet,
    )
