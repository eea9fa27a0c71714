"""The trainable architectures, one registry for the CLI and the studio.

Each training module (GAN, AR-CNN, Transformer) describes what it can train as `Architecture`s: the
technique its models serve, the hyperparameters it declares, its named presets, and two functions, one
that checks a request without training (`plan`) and one that trains (`train`). The studio lists, checks
and runs training jobs only through this registry, so a new architecture appears in the studio, its API
and its web UI as soon as its module is named in `_PROVIDERS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from opencomposer.errors import UnknownNameError
from opencomposer.techniques.base import Param, ParamValue

if TYPE_CHECKING:
    from opencomposer.registry import ModelEntry
    from opencomposer.training.events import Sink

_PROVIDERS: tuple[str, ...] = (
    "opencomposer.training.gan:architectures",
    "opencomposer.training.arcnn:architectures",
    "opencomposer.training.transformer:architectures",
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


class TrainFunction(Protocol):
    """Train (resuming a run found in `out_dir`), save the model into `out_dir` and return it.

    With `install`, the model is also saved among the user's models (`opencomposer.registry.models_dir`)
    and the installed entry is returned. `sinks` receive every training event; `device` is "auto",
    "cpu", "cuda" or "cuda:N"; `command` is recorded in the model's card; `workers` is the number of
    data-loading worker processes (None: the trainer's choice). A SIGTERM or KeyboardInterrupt during
    training writes a checkpoint and raises KeyboardInterrupt.
    """

    def __call__(
        self,
        out_dir: Path,
        *,
        dataset: str,
        preset: str | None,
        name: str,
        hyperparameters: Mapping[str, object],
        sinks: Sequence[Sink] = (),
        device: str = "auto",
        command: str = "",
        install: bool = True,
        workers: int | None = None,
    ) -> ModelEntry: ...


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
    plan, train
        See `PlanFunction` and `TrainFunction`.
    """

    name: str
    technique: str
    title: str
    description: str
    params: tuple[Param, ...]
    presets: tuple[PresetInfo, ...]
    default_training: Mapping[str, ParamValue]
    plan: PlanFunction
    train: TrainFunction


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
