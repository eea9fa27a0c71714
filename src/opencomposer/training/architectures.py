"""The trainable architectures, one registry for the CLI and the studio.

Each training module (GAN, AR-CNN, Transformer, band) describes what it can train as `Architecture`s: the
technique its models serve, the hyperparameters it declares, its named presets, and three functions: one that
checks a request without training (`plan`), one that makes the family's recipe for a run (`recipe`, which the
caller runs down the one road, `opencomposer.training.road.run_training`) and one that measures a trained model
on held-out pieces (`evaluate`). The studio's training jobs, `opencomposer train <command>` (one command per
`Architecture.command`, made by `opencomposer.cli.train`) and `opencomposer models evaluate` go only through
this registry, so a new architecture appears in all of them as soon as its module is named in `_PROVIDERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any, Protocol

from opencomposer.errors import UnknownNameError
from opencomposer.techniques.base import Param, ParamValue

if TYPE_CHECKING:
    from opencomposer.registry import ModelEntry
    from opencomposer.training.road import Recipe

_PROVIDERS: tuple[str, ...] = (
    "opencomposer.training.gan:architectures",
    "opencomposer.training.arcnn:architectures",
    "opencomposer.training.transformer:architectures",
    "opencomposer.training.band:architectures",
)
"""``module:function`` of each training module's `architectures()`; the function returns its `Architecture`s."""


@dataclass(frozen=True, slots=True)
class PresetInfo:
    """A named preset of an architecture: sizes and data settings that a shipped model was trained with.

    `training` holds the hyperparameters it recommends over the declared defaults (the user's values win).
    """

    name: str
    dataset: str
    description: str
    training: Mapping[str, ParamValue]


class PlanFunction(Protocol):
    """Check a training request without training; returns the hyperparameters with defaults filled in.

    Raises `UnknownNameError` (dataset, preset), `DatasetError` (files missing), `ParameterError`
    (unknown or out-of-range hyperparameter, preset of another architecture) or `TrainingError` (the
    dataset cannot train this architecture).
    """

    def __call__(
        self, dataset: str, preset: str | None, hyperparameters: Mapping[str, object]
    ) -> dict[str, ParamValue]: ...


class RecipeFunction(Protocol):
    """The family's recipe for one run: of `preset` (by name), else a small one for `dataset`; `dataset` (a
    name) replaces the preset's. Raises `UnknownNameError`, `ParameterError` (neither given, a preset of
    another architecture) or `DatasetError`, as `PlanFunction` does."""

    def __call__(self, dataset: str | None, preset: str | None) -> Recipe: ...


@dataclass(frozen=True, slots=True)
class EvaluationRequest:
    """What a held-out evaluation is asked for; each family reads the fields that apply to it.

    Parameters
    ----------
    dataset
        The dataset whose held-out pieces to use; None for the model's own.
    split
        The held-out split ("test" or "valid"), for families that evaluate on one split.
    seed
        Seed of the generation (and of any random re-pairing or ordering).
    limit
        Evaluate at most this many pieces; None for the family's default.
    likelihood_as_coconet
        Edit models: also measure the NLL as Coconet's released evaluation does (5 orderings).
    """

    dataset: str | None = None
    split: str = "test"
    seed: int = 0
    limit: int | None = None
    likelihood_as_coconet: bool = True


class EvaluateFunction(Protocol):
    """Measure a trained model on held-out pieces; returns the report (JSON-ready after `json_ready`).

    The report holds ``quality_bars``, a mapping of each bar's name to whether the model meets it, and is
    what `opencomposer.training.evaluation.record_evaluation` writes into the model's card.
    """

    def __call__(self, entry: ModelEntry, request: EvaluationRequest) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Architecture:
    """A trainable architecture.

    Parameters
    ----------
    name
        Lower-case name ("unet", "musegan", "arcnn", "transformer"); unique across the registry.
    technique
        The technique its models serve (the ``technique`` of their cards).
    title, description
        For people: a few words, and a sentence on what it learns and what it is good for.
    params
        The hyperparameters a user may set, declared once (ranges, defaults and help). They must include
        the shared schedule and seed declarations of `opencomposer.training.params` (``steps``, ``epochs``,
        ``max_minutes``, ``eval_every``, ``checkpoint_every``, ``seed``): the studio reads ``steps`` for a
        job's progress and lets only the schedule change when a job resumes.
    presets
        Its named presets.
    default_training
        The hyperparameters a run without a preset recommends over the declared defaults (the user's values win).
    plan, recipe, evaluate
        See `PlanFunction`, `RecipeFunction` and `EvaluateFunction`; every architecture serving a technique
        evaluates its models the same way.
    command
        The `opencomposer train` command that trains it (default: its name); architectures sharing a command
        ("gan": unet and musegan) share its parameters and are told apart by the command's ``--arch``.
    command_help
        What that command trains, for its help (default: `description`).
    dataset_help
        What the command's ``--dataset`` may name.
    headline
        The evaluation metrics the command's progress line shows.
    prepares_windows
        Whether its data is cut into windows by worker processes the first time (the command's ``--workers``).
    summary
        A line on the trained model that the command prints when the run ends (its headline figures), if any.
    """

    name: str
    technique: str
    title: str
    description: str
    params: tuple[Param, ...]
    presets: tuple[PresetInfo, ...]
    default_training: Mapping[str, ParamValue]
    plan: PlanFunction
    recipe: RecipeFunction
    evaluate: EvaluateFunction
    command: str = ""
    command_help: str = ""
    dataset_help: str = "The dataset to learn from (see `opencomposer data list`)."
    headline: tuple[str, ...] = ()
    prepares_windows: bool = False
    summary: Callable[[ModelEntry], str] | None = None

    @property
    def command_name(self) -> str:
        """The `opencomposer train` command that trains it."""
        return self.command or self.name


def list_architectures() -> list[Architecture]:
    """Every trainable architecture, in the order the providers declare them (imports torch)."""
    architectures: list[Architecture] = []
    for provider in _PROVIDERS:
        module_name, function_name = provider.split(":")
        describe: Callable[[], Sequence[Architecture]] = getattr(import_module(module_name), function_name)
        architectures.extend(describe())
    return architectures


def get_architecture(name: str) -> Architecture:
    """The architecture called `name`; raises `UnknownNameError` listing the known ones."""
    architectures = list_architectures()
    for architecture in architectures:
        if architecture.name == name:
            return architecture
    known = ", ".join(architecture.name for architecture in architectures)
    raise UnknownNameError(f"There is no trainable architecture called {name!r}; choose one of {known}.")


def evaluate_model(entry: ModelEntry, request: EvaluationRequest) -> dict[str, Any]:
    """Measure `entry` on held-out pieces the way the architectures serving its technique do (imports torch).

    Raises `UnknownNameError` when no trainable architecture serves the model's technique.
    """
    technique = entry.card.technique
    for architecture in list_architectures():
        if architecture.technique == technique:
            return architecture.evaluate(entry, request)
    raise UnknownNameError(
        f"{entry.name!r} serves the {technique!r} technique, which no trainable architecture serves, so it has no "
        "held-out evaluation; evaluate its generated files with `opencomposer evaluate` instead."
    )
