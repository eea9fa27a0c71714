"""Training an accompaniment GAN end to end: presets, the run, and the model it leaves behind.

`run_training(GanRecipe(preset, dataset), out_dir, name=...)` (`opencomposer.training.road`) prepares the
preset's dataset into windows, builds the generator and the critic, trains them with the WGAN-GP objective under
the shared `Trainer`, and writes the model (``<name>.safetensors`` + ``<name>.json``) into `out_dir` and, unless
told not to, into the user's models folder. `opencomposer.training.evaluation.evaluate_accompaniment` then
measures it on held-out pieces.

A run's folder holds ``events.jsonl``, ``checkpoints/`` (resume by running the same command again) and
``eval/step-NNNNNNNN.{mid,png}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from opencomposer.data.registry import Dataset, TrackSlot, get_dataset
from opencomposer.data.windows import WindowSpec
from opencomposer.errors import DatasetError, ParameterError, TrainingError, UnknownNameError
from opencomposer.models import (
    GENERATOR_ARCHITECTURES,
    GeneratorConfig,
    architecture_of,
    build_generator,
    config_to_dict,
    count_parameters,
)
from opencomposer.models.critic import Critic, CriticConfig
from opencomposer.models.musegan import MuseGanConfig
from opencomposer.models.unet_gan import PRESETS as UNET_PRESETS
from opencomposer.models.unet_gan import UNetConfig
from opencomposer.music.pianoroll import RollSpec
from opencomposer.registry import ModelEntry
from opencomposer.techniques.base import ParamValue, validate_params
from opencomposer.training.architectures import Architecture, EvaluationRequest, PresetInfo
from opencomposer.training.evaluation import HEADLINE_METRICS, evaluate_accompaniment
from opencomposer.training.objectives import Objective
from opencomposer.training.objectives.gan import LAB_BETAS, WganGp
from opencomposer.training.params import GAN_PARAMS
from opencomposer.training.road import (
    CardParts,
    TrainingData,
    WindowRecipe,
    window_json,
)
from opencomposer.training.trainer import TrainResult

EVAL_WINDOWS = 32
POLYPHONY_PERCENTILE = 99.0
POLYPHONY_SAMPLE = 4000


@dataclass(frozen=True, slots=True)
class GanPreset:
    """Everything a GAN run needs besides its hyperparameters.

    Parameters
    ----------
    name
        The preset's name.
    description
        One sentence for people.
    dataset
        The dataset it trains on by default.
    window
        How the dataset is cut: roll spec, bars, tracks (melody among them), transposition.
    generator
        The generator's config (its architecture follows from the config's type).
    critic
        The critic's config; its `tracks` is set from the generated tracks.
    generates_melody
        The generator remakes the melody's track too (the lab's does); the technique keeps the input's.
    programs
        General MIDI program of output tracks by name, overriding the dataset's.
    training
        Recommended hyperparameters, over the declared defaults (the user's values win).
    tempo
        Tempo of the sample MIDI files, in quarter notes per minute.
    """

    name: str
    description: str
    dataset: str
    window: WindowSpec
    generator: GeneratorConfig
    critic: CriticConfig
    generates_melody: bool = False
    programs: Mapping[str, int] = field(default_factory=dict)
    training: Mapping[str, ParamValue] = field(default_factory=dict)
    tempo: float = 120.0

    @property
    def architecture(self) -> str:
        """ "unet" or "musegan"."""
        return architecture_of(self.generator)


_CHORALE_ROLL = RollSpec(steps_per_beat=2, low_pitch=34, high_pitch=81)
_POP_ROLL = RollSpec(steps_per_beat=2, low_pitch=24, high_pitch=95)
_FOLK_ROLL = RollSpec(steps_per_beat=2, low_pitch=36, high_pitch=99)
_SMALL_TRAINING: dict[str, ParamValue] = {
    "batch_size": 32,
    "learning_rate": 1e-3,
    "update_ratio": 2,
    "reconstruction_weight": 10.0,
    "steps": 2000,
    "eval_every": 250,
    "checkpoint_every": 100,
}

PRESETS: dict[str, GanPreset] = {
    preset.name: preset
    for preset in (
        GanPreset(
            name="deepcomposer-lab",
            description="The AWS DeepComposer GAN lab: 2-bar, 4-track, 128-pitch U-Net WGAN-GP on its 229 snippets.",
            dataset="deepcomposer-jsb",
            window=WindowSpec(roll=RollSpec(4, 0, 127), bars=2),
            generator=UNET_PRESETS["deepcomposer-lab"],
            critic=CriticConfig(tracks=4, steps=32, pitches=128, filters=64, layers=4),
            generates_melody=True,
            training={"batch_size": 64, "learning_rate": 1e-3, "update_ratio": 5, "reconstruction_weight": 0.0},
            tempo=100.0,
        ),
        GanPreset(
            name="bach-chorale-unet",
            description="Harmonizes a melody in four parts like a Bach chorale: alto, tenor and bass under it.",
            dataset="bach-chorales",
            window=WindowSpec(roll=_CHORALE_ROLL, bars=4, hop_bars=1, transpose=(-5, 6)),
            generator=UNetConfig(
                steps=32,
                pitches=48,
                out_tracks=3,
                filters=16,
                depth=4,
                latent_channels=32,
                upsample="transposed",
                pitch_class_input=True,
            ),
            critic=CriticConfig(tracks=3, steps=32, pitches=48, filters=16, layers=4),
            programs={"Alto": 41, "Tenor": 42, "Bass": 43},
            training={**_SMALL_TRAINING, "reconstruction_weight": 30.0},
            tempo=100.0,
        ),
        GanPreset(
            name="pop909-musegan",
            description="Accompanies a pop melody with a second line (strings) and a piano part, bar by bar.",
            dataset="pop909",
            window=WindowSpec(roll=_POP_ROLL, bars=4, hop_bars=2, transpose=(-3, 3)),
            generator=MuseGanConfig(
                bars=4,
                steps_per_bar=8,
                pitches=72,
                out_tracks=2,
                latent_dim=32,
                filters=16,
                depth=3,
                pitch_class_input=True,
            ),
            critic=CriticConfig(tracks=2, steps=32, pitches=72, filters=16, layers=3),
            programs={"Bridge": 48, "Piano": 0},
            training={**_SMALL_TRAINING, "reconstruction_weight": 30.0},
        ),
        GanPreset(
            name="nottingham-unet",
            description="Accompanies a folk tune with guitar chords, as in the Nottingham collection.",
            dataset="nottingham",
            window=WindowSpec(roll=_FOLK_ROLL, bars=4, hop_bars=2, transpose=(-3, 3)),
            generator=UNetConfig(
                steps=32, pitches=64, out_tracks=1, filters=16, depth=4, latent_channels=32, upsample="transposed"
            ),
            critic=CriticConfig(tracks=1, steps=32, pitches=64, filters=16, layers=4),
            programs={"Chords": 24},
            training=_SMALL_TRAINING,
        ),
    )
}
"""The named presets: the lab's, and those of the shipped models."""


def get_preset(name: str) -> GanPreset:
    """The preset called `name`; raises `UnknownNameError` listing the known ones."""
    if name not in PRESETS:
        raise UnknownNameError(f"There is no GAN preset called {name!r}. Known presets: {', '.join(PRESETS)}.")
    return PRESETS[name]


def default_preset(architecture: str, dataset: str) -> GanPreset:
    """A small preset for any dataset: 4-bar windows, 8th-note steps, pitches 24-103, every track kept.

    Raises `UnknownNameError` for an unknown architecture or dataset.
    """
    info = get_dataset(dataset).info
    tracks = [slot for slot in info.tracks if not slot.is_drum]
    melody = [slot.name for slot in tracks if slot.role == "melody"]
    if not melody:
        raise TrainingError(f"The dataset {dataset!r} has no melody track, so there is nothing to accompany.")
    names = (melody[0], *(slot.name for slot in tracks if slot.name != melody[0]))
    roll = RollSpec(steps_per_beat=2, low_pitch=24, high_pitch=103)
    out_tracks = len(names) - 1
    generator: GeneratorConfig
    if architecture == "unet":
        generator = UNetConfig(32, 80, out_tracks, filters=16, depth=4, latent_channels=32, upsample="transposed")
    elif architecture == "musegan":
        generator = MuseGanConfig(bars=4, steps_per_bar=8, pitches=80, out_tracks=out_tracks, filters=16, depth=3)
    else:
        raise UnknownNameError(f"There is no GAN architecture called {architecture!r}; choose unet or musegan.")
    return GanPreset(
        name=f"{dataset}-{architecture}",
        description=f"A {architecture} accompaniment GAN for {info.title}.",
        dataset=dataset,
        window=WindowSpec(roll=roll, bars=4, hop_bars=2, tracks=names, transpose=(-3, 3)),
        generator=generator,
        critic=CriticConfig(tracks=out_tracks, steps=32, pitches=80, filters=16, layers=4),
        training=_SMALL_TRAINING,
    )


class GanRecipe(WindowRecipe):
    """The accompaniment GAN's part of a run: windows, a generator and a critic under WGAN-GP."""

    technique = "accompany"
    params = GAN_PARAMS

    def __init__(self, preset: GanPreset, dataset: Dataset | str | None) -> None:
        self.spec = preset
        self.dataset = dataset
        self.default_dataset = preset.dataset
        self.window = preset.window
        self.tempo = preset.tempo
        self.eval_windows = EVAL_WINDOWS
        self.architecture = preset.architecture
        self.preset = preset.name
        self.training = preset.training

    def prepare(self, values: Mapping[str, ParamValue], workers: int | None) -> TrainingData:
        """Cut the dataset into windows; checks that it has a melody and the tracks the generator makes."""
        preset = self.spec
        data = self.read_windows(workers)
        slots = self.prepared.tracks
        melody_index = self.prepared.melody_index
        if melody_index is None:
            raise TrainingError(f"The windows of {self.source.info.name!r} carry no melody track to accompany.")
        self.melody_index = melody_index
        self.generated = [index for index in range(len(slots)) if preset.generates_melody or index != melody_index]
        if preset.generator.out_tracks != len(self.generated):
            raise TrainingError(
                f"The preset {preset.name!r} generates {preset.generator.out_tracks} tracks but the dataset gives "
                f"{len(self.generated)} to generate ({', '.join(slots[i].name for i in self.generated)}); "
                "choose another preset."
            )
        return data

    def build(self, values: Mapping[str, ParamValue], steps_for: Callable[[int], int]) -> Objective:
        """The generator, the critic and their WGAN-GP objective."""
        self.generator = build_generator(self.spec.generator)
        self.critic = Critic(replace(self.spec.critic, tracks=len(self.generated)))
        return WganGp(
            self.generator,
            self.critic,
            melody_index=self.melody_index,
            generated_tracks=self.generated,
            learning_rate=float(values["learning_rate"]),
            betas=LAB_BETAS,
            update_ratio=int(values["update_ratio"]),
            gradient_penalty_weight=float(values["gradient_penalty"]),
            reconstruction_weight=float(values["reconstruction_weight"]),
        )

    def run_info(self) -> dict[str, Any]:
        """The networks' configs, the dataset and its windows."""
        return {
            "generator": config_to_dict(self.spec.generator),
            "critic": asdict(self.critic.config),
            "dataset": self.prepared.name,
            "window": window_json(self.spec.window),
        }

    def card(self, name: str, result: TrainResult) -> CardParts:
        """The window layout, the decoding's polyphony limits, and the last evaluation's headline metrics."""
        preset, prepared = self.spec, self.prepared
        return CardParts(
            config=config_to_dict(preset.generator),
            description=preset.description,
            dataset=prepared.name,
            roll=asdict(preset.window.roll),
            bars=preset.window.bars,
            tracks=[_track_json(slot, preset.programs) for slot in prepared.tracks],
            melody_index=self.melody_index,
            generated_tracks=self.generated,
            decoding={"max_polyphony": _max_polyphony(prepared.windows["train"], self.generated)},
            training={
                "windows_per_second": round(result.windows_per_second, 1),
                "windows": {split: len(array) for split, array in prepared.windows.items()},
                "window": window_json(preset.window),
                "generator_parameters": count_parameters(self.generator),
                "critic_parameters": count_parameters(self.critic),
            },
            metrics={
                "final_eval": {
                    key: result.last_eval.get("metrics", {}).get(key) for key in _card_metric_keys(result.last_eval)
                },
                "reference": {key: prepared.reference[key] for key in HEADLINE_METRICS if key in prepared.reference},
            },
            licence=f"Weights trained on {self.source.info.title}: {self.source.info.licence}",
        )

    def weights(self) -> dict[str, torch.Tensor]:
        """The generator's: the critic only serves training."""
        return dict(self.generator.state_dict())


def _track_json(slot: TrackSlot, programs: Mapping[str, int]) -> dict[str, Any]:
    return {
        "name": slot.name,
        "role": slot.role,
        "program": int(programs.get(slot.name, slot.program)),
        "is_drum": slot.is_drum,
    }


def _card_metric_keys(last_eval: Mapping[str, Any]) -> list[str]:
    metrics = last_eval.get("metrics", {})
    return [key for key in metrics if key in HEADLINE_METRICS or key.startswith("empty_bar_rate/")]


def _max_polyphony(windows: npt.NDArray[np.uint8], generated: Sequence[int]) -> list[int]:
    """Per generated track, the notes sounding at once that the training data rarely exceeds (99th percentile)."""
    rng = np.random.default_rng(0)
    sample = windows[rng.choice(len(windows), size=min(POLYPHONY_SAMPLE, len(windows)), replace=False)]
    limits = []
    for index in generated:
        counts = np.count_nonzero(sample[:, index] > 0, axis=2).ravel()  # notes sounding at each step
        counts = counts[counts > 0]
        limits.append(max(1, int(np.ceil(np.percentile(counts, POLYPHONY_PERCENTILE)))) if counts.size else 1)
    return limits


_ARCHITECTURE_TEXT = {
    "unet": (
        "U-Net GAN",
        "The AWS DeepComposer generator: a U-Net over the melody's piano roll with noise at its bottleneck, trained "
        "against a convolutional critic (WGAN-GP). Learns to accompany a melody in the dataset's style.",
    ),
    "musegan": (
        "MuseGAN",
        "A track-conditional generator with a latent shared by all tracks and one per track, bar by bar, trained "
        "against a convolutional critic (WGAN-GP). Each accompaniment track keeps a character of its own.",
    ),
}


def plan_gan(
    architecture: str, dataset: str, preset: str | None, hyperparameters: Mapping[str, object]
) -> dict[str, ParamValue]:
    """Check a GAN training request without training; returns its hyperparameters with defaults filled in.

    Raises `UnknownNameError` for an unknown architecture, dataset or preset, `DatasetError` for a dataset
    whose files are not on this machine, `TrainingError` for a dataset with no melody to accompany, and
    `ParameterError` for an unknown or out-of-range hyperparameter or a preset of another architecture.
    """
    source = get_dataset(dataset)
    if not source.is_present():
        raise DatasetError(
            f"The files of the dataset {dataset!r} are not on this machine; run `opencomposer data download "
            f"{dataset}` first, or pick another dataset."
        )
    chosen = _chosen_preset(architecture, dataset, preset)
    return validate_params(GAN_PARAMS, {**chosen.training, **hyperparameters})


def _chosen_preset(architecture: str, dataset: str | None, preset: str | None) -> GanPreset:
    if preset is None:
        if dataset is None:
            raise ParameterError("Give a preset, or a dataset to train a small GAN on.")
        return default_preset(architecture, dataset)
    chosen = get_preset(preset)
    if chosen.architecture != architecture:
        raise ParameterError(
            f"The preset {preset!r} trains a {chosen.architecture} generator, not {architecture}; "
            "choose a preset of this architecture or none."
        )
    return chosen


def architectures() -> list[Architecture]:
    """The GAN generators as trainable architectures (see `opencomposer.training.architectures`)."""

    def describe(architecture: str) -> Architecture:
        def plan(dataset: str, preset: str | None, hyperparameters: Mapping[str, object]) -> dict[str, ParamValue]:
            return plan_gan(architecture, dataset, preset, hyperparameters)

        def recipe(dataset: str | None, preset: str | None) -> GanRecipe:
            return GanRecipe(_chosen_preset(architecture, dataset, preset), dataset)

        title, description = _ARCHITECTURE_TEXT[architecture]
        return Architecture(
            name=architecture,
            technique="accompany",
            title=title,
            description=description,
            params=GAN_PARAMS,
            presets=tuple(
                PresetInfo(preset.name, preset.dataset, preset.description, preset.training)
                for preset in PRESETS.values()
                if preset.architecture == architecture
            ),
            default_training=_SMALL_TRAINING,
            plan=plan,
            recipe=recipe,
            evaluate=_evaluate,
            command="gan",
            command_help="Train an accompaniment GAN (WGAN-GP): a melody in, accompaniment tracks out. --arch picks "
            "the generator: unet (the AWS DeepComposer U-Net) or musegan (shared and per-track latents, bar by bar). "
            "Every --eval-every steps a sample MIDI file and piano-roll picture are written to OUT/eval.",
            headline=HEADLINE_METRICS,
            prepares_windows=True,
        )

    return [describe(architecture) for architecture in GENERATOR_ARCHITECTURES]


def _evaluate(entry: ModelEntry, request: EvaluationRequest) -> dict[str, Any]:
    """`evaluate_accompaniment` as the architecture registry calls it (`EvaluateFunction`)."""
    return evaluate_accompaniment(entry, request.dataset, split=request.split, seed=request.seed, limit=request.limit)
