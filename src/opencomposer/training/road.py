"""One road for every training run: the steps each model family takes the same way, around a small recipe.

`run_training(recipe, out_dir, name=...)` takes these steps, in this order:

1. check the model's name, and the hyperparameters (`Recipe.params`) over the preset's (`Recipe.training`);
2. prepare the data (`Recipe.prepare`) and check that its training split holds one batch;
3. seed torch and build the networks and their objective (`Recipe.build`), told how many steps the
   hyperparameters ask for (``steps``, or ``epochs`` passes over the training data);
4. train under the shared `Trainer`: batches from `Recipe.batches`, evaluations by `Recipe.evaluator`,
   ``events.jsonl`` in the run's folder, a run found there with the same settings resumed;
5. write the model card: what every family records (command, preset, hyperparameters, steps, wall time,
   hardware) around the family's own fields (`Recipe.card`);
6. save the weights (`Recipe.weights`) into the run's folder and, unless told not to, among the user's
   models; `Recipe.saved` adds files beside each copy (a tokenizer).

A recipe serves one run: what `prepare` and `build` make, later steps read from the recipe itself.
"""

from __future__ import annotations

import datetime
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from opencomposer.data.loader import make_loader
from opencomposer.data.registry import Dataset, get_dataset
from opencomposer.data.windows import PreparedDataset, WindowSpec, prepare
from opencomposer.errors import TrainingError
from opencomposer.registry import ModelCard, ModelEntry, check_model_name, genre_of_dataset, save_model
from opencomposer.techniques.base import Param, ParamValue, validate_params
from opencomposer.training.evaluation import WindowEvaluation
from opencomposer.training.events import JsonLinesSink, Sink
from opencomposer.training.hardware import hardware_description
from opencomposer.training.objectives import Objective
from opencomposer.training.params import SCHEDULE_PARAMS
from opencomposer.training.trainer import (
    BatchSource,
    Evaluator,
    Trainer,
    TrainerConfig,
    TrainResult,
    steps_for_epochs,
)


@dataclass(frozen=True, slots=True)
class TrainingData:
    """What the road needs to know of a family's prepared data.

    Parameters
    ----------
    name
        The data's name, for the card and the messages ("pop909", "bach-chorales+lieder").
    examples
        Items in the training split (windows, sequences): a batch draws `batch_size` of them.
    unit
        What an item is called in a message ("windows").
    too_small
        What to do when the split holds less than one batch ("lower --batch-size").
    """

    name: str
    examples: int
    unit: str = "windows"
    too_small: str = "lower --batch-size"


@dataclass(frozen=True, slots=True)
class CardParts:
    """The fields of a model card that a family fills in (see `opencomposer.registry.ModelCard`).

    `training` holds the family's own entries of the card's ``training`` block (data sizes, throughput,
    parameter counts); the road adds the entries every family shares around them.
    """

    config: dict[str, Any]
    description: str
    dataset: str
    roll: dict[str, int]
    bars: int
    tracks: list[dict[str, Any]]
    melody_index: int
    generated_tracks: list[int]
    training: dict[str, Any]
    metrics: dict[str, Any]
    licence: str
    decoding: dict[str, Any] = field(default_factory=dict)
    genre: str | None = None


class Recipe(ABC):
    """A model family's part of a training run; `run_training` calls its methods in the order listed.

    Attributes
    ----------
    technique, architecture
        What the card records: the technique its models serve and the network's architecture.
    preset
        The preset's name.
    params
        The hyperparameters declared for the family.
    training
        The preset's recommended hyperparameters, over the declared defaults (the user's values win).
    """

    technique: str
    architecture: str
    preset: str
    params: tuple[Param, ...]
    training: Mapping[str, ParamValue]

    @abstractmethod
    def prepare(self, values: Mapping[str, ParamValue], workers: int | None) -> TrainingData:
        """Load the data (windows, token sequences) and check that it fits the family's networks."""

    @abstractmethod
    def build(self, values: Mapping[str, ParamValue], steps_for: Callable[[int], int]) -> Objective:
        """The networks and their objective, torch already seeded.

        `steps_for(batches_per_step)` is the number of steps the run trains for when one step reads that
        many batches.
        """

    @abstractmethod
    def run_info(self) -> dict[str, Any]:
        """The family's settings of the run (networks, data), which a resumed run must share."""

    @abstractmethod
    def batches(self, batch_size: int, seed: int) -> BatchSource:
        """The training batches of each epoch."""

    @abstractmethod
    def evaluator(self, eval_dir: Path, seed: int) -> Evaluator:
        """What measures the model during training; samples go into `eval_dir`."""

    @abstractmethod
    def card(self, name: str, result: TrainResult) -> CardParts:
        """The family's fields of the card of the finished run."""

    @abstractmethod
    def weights(self) -> dict[str, torch.Tensor]:
        """The weights to save: those the family's technique loads."""

    def saved(self, entry: ModelEntry) -> None:
        """Write the files that go beside a saved copy of the model (nothing unless the family has some)."""
        return None


@dataclass(frozen=True, slots=True)
class Trained:
    """What a training run leaves: the model written into the run folder, the installed copy, and the run."""

    model: ModelEntry
    installed: ModelEntry | None
    result: TrainResult


def run_training(
    recipe: Recipe,
    out_dir: str | Path,
    *,
    name: str,
    hyperparameters: Mapping[str, object] | None = None,
    sinks: Sequence[Sink] = (),
    device: str = "auto",
    command: str = "",
    install: bool = True,
    workers: int | None = None,
) -> Trained:
    """Train a model by a family's recipe and save it.

    Parameters
    ----------
    recipe
        The family's part of the run.
    out_dir
        The run's folder; a run found there (same settings) is resumed.
    name
        The model's name.
    hyperparameters
        Values for `recipe.params`, over the preset's recommendations and the declared defaults.
    sinks
        Receivers of the training events, besides ``events.jsonl`` in `out_dir`.
    device
        "auto", "cpu", "cuda" or "cuda:N".
    command
        The command line that started the run, for the card.
    install
        Also save the model into the user's models folder (`opencomposer.registry.models_dir`).
    workers
        Processes preparing the data when it is not cached yet (default: one per CPU core).

    Raises
    ------
    ParameterError
        For an unknown or out-of-range hyperparameter.
    DatasetError, TrainingError
        When the data is missing, too small or does not fit the recipe, or the folder holds another run.
    """
    check_model_name(name, new_user_model=install)
    values = validate_params(recipe.params, {**recipe.training, **(hyperparameters or {})})
    batch_size, seed = int(values["batch_size"]), int(values["seed"])
    data = recipe.prepare(values, workers)
    if data.examples < batch_size:
        raise TrainingError(
            f"The training split of {data.name!r} holds {data.examples} {data.unit}, fewer than one batch of "
            f"{batch_size}; {data.too_small}."
        )
    world_size = torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1
    epochs = int(values["epochs"])

    def steps_for(batches_per_step: int) -> int:
        if not epochs:
            return int(values["steps"])
        return steps_for_epochs(epochs, data.examples // batch_size, batches_per_step, world_size)

    torch.manual_seed(seed)  # the networks' initial weights
    objective = recipe.build(values, steps_for)
    steps = steps_for(objective.batches_per_step)
    out = Path(out_dir)
    run_info = {
        "preset": recipe.preset,
        "architecture": recipe.architecture,
        **recipe.run_info(),
        "hyperparameters": {key: value for key, value in values.items() if key not in SCHEDULE_PARAMS},
    }
    trainer = Trainer(
        objective,
        recipe.batches(batch_size, seed),
        TrainerConfig(
            steps=steps,
            eval_every=int(values["eval_every"]),
            checkpoint_every=int(values["checkpoint_every"]),
            log_every=max(1, min(10, steps // 100)),
            seed=seed,
            device=device,
            max_seconds=60.0 * float(values["max_minutes"]),
        ),
        out,
        sinks=[JsonLinesSink(out / "events.jsonl"), *sinks],
        evaluator=recipe.evaluator(out / "eval", seed),
        run_info=run_info,
    )
    result = trainer.run()
    parts = recipe.card(name, result)
    card = ModelCard(
        name=name,
        technique=recipe.technique,
        architecture=recipe.architecture,
        config=parts.config,
        title=name,
        description=parts.description,
        dataset=parts.dataset,
        roll=parts.roll,
        bars=parts.bars,
        tracks=parts.tracks,
        melody_index=parts.melody_index,
        generated_tracks=parts.generated_tracks,
        decoding=parts.decoding,
        training={
            "command": command,
            "preset": recipe.preset,
            "hyperparameters": values,
            "steps": result.steps,
            "wall_seconds": round(result.elapsed_seconds, 1),
            **parts.training,
            "hardware": hardware_description(device),
            "world_size": world_size,
            "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        },
        metrics=parts.metrics,
        licence=parts.licence,
        genre=parts.genre or genre_of_dataset(parts.dataset),
    )
    weights = recipe.weights()
    model = save_model(card, weights, out)
    recipe.saved(model)
    installed = None
    if install:
        installed = save_model(card, weights)
        recipe.saved(installed)
    return Trained(model, installed, result)


class WindowRecipe(Recipe):
    """A recipe that trains on piano-roll windows (the GAN and the AR-CNN): it reads its dataset into windows,
    shuffles the training ones into batches, and evaluates on held-out windows.

    A subclass sets `dataset` (the one asked for, else None for its preset's), `default_dataset`, `window`,
    `tempo` and `eval_windows`, and checks the windows in its `prepare` after calling `read_windows`.
    """

    dataset: Dataset | str | None
    default_dataset: str
    window: WindowSpec
    tempo: float
    eval_windows: int
    source: Dataset
    prepared: PreparedDataset

    def read_windows(self, workers: int | None) -> TrainingData:
        """Cut the dataset into windows (`source`, `prepared`); what the road needs to know of them."""
        self.source = (
            self.dataset if isinstance(self.dataset, Dataset) else get_dataset(self.dataset or self.default_dataset)
        )
        self.prepared = prepare(self.source, self.window, workers=workers)
        return TrainingData(self.prepared.name, len(self.prepared.windows["train"]))

    def batches(self, batch_size: int, seed: int) -> BatchSource:
        """Shuffled training windows, a new order each epoch."""
        prepared = self.prepared
        return lambda epoch: make_loader(prepared, "train", batch_size, True, seed * 100_003 + epoch, drop_last=True)

    def evaluator(self, eval_dir: Path, seed: int) -> Evaluator:
        """Up to `eval_windows` held-out windows, measured against the data's own (`window_evaluation`)."""
        return window_evaluation(self.prepared, self.window, self.eval_windows, eval_dir, seed, self.tempo)


def window_json(window: WindowSpec) -> dict[str, Any]:
    """A window spec as JSON, for a run's settings and a card (recipes that train on piano-roll windows)."""
    data = asdict(window)
    data["tracks"] = list(window.tracks) if window.tracks is not None else None
    data["transpose"] = list(window.transpose)
    return data


def window_evaluation(
    prepared: PreparedDataset, window: WindowSpec, limit: int, eval_dir: Path, seed: int, tempo: float
) -> WindowEvaluation:
    """The evaluator of a recipe over piano-roll windows: up to `limit` held-out windows spread over the
    valid split (else test, else train), measured against the dataset's reference metrics."""
    for split in ("valid", "test", "train"):
        windows = prepared.windows[split]
        if len(windows):
            picks = np.unique(np.linspace(0, len(windows) - 1, min(limit, len(windows))).astype(np.int64))
            return WindowEvaluation(
                windows[picks],
                window.roll,
                prepared.tracks,
                window.steps_per_bar,
                eval_dir,
                seed=seed,
                tempo=tempo,
                reference=prepared.reference,
            )
    raise TrainingError(f"The dataset {prepared.name!r} gave no window to evaluate on.")
