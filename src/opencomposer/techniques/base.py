"""What every technique shares: parameters declared once, and the `Technique` interface.

A parameter is declared here once, with its type, range, default and a sentence of help. The CLI's
flags, the HTTP API's schema and the web UI's controls are all generated from these declarations, so
they cannot disagree about what a value may be.
"""

from __future__ import annotations

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from opencomposer.errors import LimitExceededError, ParameterError, UnknownNameError
from opencomposer.music.score import Score
from opencomposer.registry import ModelEntry, list_models

ParamKind = Literal["int", "float", "choice", "bool"]
ParamValue = int | float | str | bool
MAX_SEED = 2**31 - 1
"""The largest seed a generation or a training run takes (seeds are 0 to 2**31 - 1)."""


@dataclass(frozen=True, slots=True)
class Param:
    """One declared parameter.

    Parameters
    ----------
    name
        snake_case identifier (the CLI flag is the same with dashes).
    kind
        "int", "float", "choice" (one of `choices`) or "bool".
    default
        The value used when none is given; must itself be valid.
    help
        One sentence a musician understands: what the parameter changes in the music.
    minimum, maximum
        Inclusive bounds for "int" and "float".
    choices
        The allowed values for "choice".
    unit
        Shown beside the value ("%", "seconds", "bars"); empty when there is none.
    modes
        For a technique with modes (a ``mode`` parameter), the modes this parameter belongs to; empty when it
        belongs to every mode. The web form shows it only in those modes, and each mode's command has its flag.
    """

    name: str
    kind: ParamKind
    default: ParamValue
    help: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""
    modes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"Parameter {self.name!r} is a choice but declares no choices.")
        if self.kind in ("int", "float") and (self.minimum is None or self.maximum is None):
            raise ValueError(f"Parameter {self.name!r} is numeric and must declare a minimum and a maximum.")
        self.validate(self.default)

    def validate(self, value: object) -> ParamValue:
        """Return `value` converted to the parameter's type; raise `ParameterError` when it is not valid."""
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
                return value.lower() in ("true", "1", "yes")
            raise ParameterError(f"{self.name} must be true or false, not {value!r}.")
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise ParameterError(f"{self.name} must be one of {', '.join(self.choices)}, not {value!r}.")
        number = self._to_number(value)
        assert self.minimum is not None and self.maximum is not None
        if not self.minimum <= number <= self.maximum:
            unit = f" {self.unit}" if self.unit else ""
            raise ParameterError(
                f"{self.name} must be between {_fmt(self.minimum)} and {_fmt(self.maximum)}{unit}, not {_fmt(number)}."
            )
        return number

    def _to_number(self, value: object) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ParameterError(f"{self.name} must be a number, not {value!r}.")
        try:
            number = float(value)
        except (ValueError, OverflowError):
            # A whole number too large for a float (10**400) overflows; it is out of every range anyway.
            # (str() of a number past 4,300 digits raises, so the size is told from its bits.)
            digits = math.floor(abs(value).bit_length() * math.log10(2)) + 1 if isinstance(value, int) else 0
            shown = f"a number of about {digits} digits" if digits else repr(value)
            raise ParameterError(f"{self.name} must be a number within its range, not {shown}.") from None
        if not math.isfinite(number):
            raise ParameterError(f"{self.name} must be a finite number, not {value!r}.")
        if self.kind == "int":
            if number != int(number):
                raise ParameterError(f"{self.name} must be a whole number, not {value!r}.")
            return int(number)
        return number

    def to_json_schema(self) -> dict[str, Any]:
        """A JSON Schema fragment for this parameter (used by the HTTP API and the web UI)."""
        schema: dict[str, Any] = {"title": self.name, "description": self.help, "default": self.default}
        if self.kind == "bool":
            schema["type"] = "boolean"
        elif self.kind == "choice":
            schema.update(type="string", enum=list(self.choices))
        else:
            schema.update(
                type="integer" if self.kind == "int" else "number", minimum=self.minimum, maximum=self.maximum
            )
        if self.unit:
            schema["x-unit"] = self.unit
        if self.modes:
            schema["x-modes"] = list(self.modes)
        return schema


def _fmt(number: float) -> str:
    """A bound or a given value as a person reads it: whole numbers as integers, others in full (the shortest
    digits that are that number: 2.0000001 is not said as 2, 1e308 not in 309 digits)."""
    value = float(number)
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


def validate_params(declared: Sequence[Param], given: Mapping[str, object]) -> dict[str, ParamValue]:
    """Check `given` against the declarations and fill in defaults.

    Raises `ParameterError` for an unknown name (listing the known ones) or an invalid value.
    """
    by_name = {param.name: param for param in declared}
    unknown = sorted(set(given) - set(by_name))
    if unknown:
        raise ParameterError(f"Unknown parameter {unknown[0]!r}; the parameters are: {', '.join(by_name) or 'none'}.")
    return {name: param.validate(given[name]) if name in given else param.default for name, param in by_name.items()}


_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("opencomposer_generation_deadline", default=None)
"""(monotonic deadline, budget in seconds) of the generation running in this context, or None for no budget."""


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Give the generations run inside the block at most `seconds` (None: no budget); see `check_time_budget`.

    The budget lives in a context variable, so each thread (each generation of the studio's pool) has its own.
    """
    token = _DEADLINE.set((time.monotonic() + seconds, seconds) if seconds is not None else None)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def check_time_budget() -> None:
    """Raise `LimitExceededError` once the time budget of this context has run out.

    Techniques call it between their steps (a Gibbs iteration, a token, a window): a thread cannot be stopped
    from outside, so a generation that runs past its budget stops itself at the next step.
    """
    deadline = _DEADLINE.get()
    if deadline is not None and time.monotonic() > deadline[0]:
        raise LimitExceededError(
            f"The generation ran past its time budget of {deadline[1]:g} s and was stopped; ask for less (fewer "
            "iterations, fewer bars, a shorter melody or extension) and try again."
        )


INFERENCE_THREADS = 1
"""Torch threads a generation runs on unless told otherwise (`Technique.threads`).

One, because generation is many small steps (a token, a Gibbs iteration), and OpenMP threads that meet at a
barrier after each step wait on each other: with another process busy on one of two cores, extending a
melody on two threads ran at 69 tokens per second against 1,367 on one. Results do not depend on it.
"""


@contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run the block with torch on `threads` threads, then give back the count it had.

    The count is the calling thread's own (OpenMP's), so generations running at once in other threads
    neither see nor undo it.
    """
    import torch

    previous = torch.get_num_threads()
    if previous == threads:
        yield
        return
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


SEED = Param(
    "seed",
    "int",
    0,
    "Seed of the random choices; the same seed, model, settings and input give the same result.",
    minimum=0,
    maximum=MAX_SEED,
)
"""The seed of a generation, declared once for every technique (a training run's is in `training.params`)."""


MODE_PARAM = "mode"
"""The name of the choice parameter by which a technique with modes is told which one to run."""


@dataclass(frozen=True, slots=True)
class Verb:
    """A command of a technique (``opencomposer generate <name>``): its name, its help, and the mode it runs.

    `mode` is a value of the technique's ``mode`` parameter, which the verb then sets; None for a technique
    without modes.
    """

    name: str
    help: str
    mode: str | None = None


@dataclass(frozen=True, slots=True)
class Generation:
    """What a technique returns.

    `score` is the result (the input melody kept exactly as given, plus what was generated).
    `frames` are intermediate scores for techniques that refine iteratively (the AR-CNN's Gibbs steps),
    oldest first, so a UI can animate the edit; empty for one-shot techniques. `info` holds small
    facts worth showing (for example the number of notes changed).
    """

    score: Score
    frames: tuple[Score, ...] = ()
    info: dict[str, float | int | str] = field(default_factory=dict)


class Technique(ABC):
    """A generative technique bound to a loaded model. Inference only: no training, no file writes."""

    name: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]
    params: ClassVar[tuple[Param, ...]]
    verbs: ClassVar[tuple[Verb, ...]]
    """Its commands: one, or one per mode."""
    default_model: ClassVar[str]
    """The shipped model a command uses when none is named."""
    input_help: ClassVar[str]
    """What a command's input (``--melody``) may be, in a sentence."""
    threads: int = INFERENCE_THREADS
    """Torch threads each generation runs on (the studio sets its `inference_threads` here)."""

    @abstractmethod
    def __init__(self, entry: ModelEntry) -> None:
        """Load the technique's network from a model's files (`entry`, from `opencomposer.registry`)."""

    def generate(self, score: Score, params: Mapping[str, object], seed: int) -> Generation:
        """Generate from `score`; the same (model, params, seed, score) always gives the same result.

        Every caller (the command line, the studio, a script) comes through here, so every generation runs
        on `threads` torch threads whatever the process's own setting.
        """
        with torch_threads(self.threads):
            return self._generate(score, params, seed)

    @abstractmethod
    def _generate(self, score: Score, params: Mapping[str, object], seed: int) -> Generation:
        """The technique's own generation (see `generate`)."""

    @abstractmethod
    def describe(self, given: Score, generation: Generation, seed: int) -> str:
        """One line on what `generation` made of `given`, ending with the model and the seed."""

    @classmethod
    def verb_params(cls, verb: Verb) -> tuple[Param, ...]:
        """The parameters a verb takes: those of its mode (all, for a technique without modes), not the mode."""
        return tuple(
            param for param in cls.params if param.name != MODE_PARAM and (not param.modes or verb.mode in param.modes)
        )

    @classmethod
    def verb_values(cls, verb: Verb, given: Mapping[str, object]) -> dict[str, object]:
        """The parameter values for a generation by `verb`: `given`, and its mode when it has one."""
        return {**given, MODE_PARAM: verb.mode} if verb.mode is not None else dict(given)


def model_param(technique: str, default: str | None = None) -> Param:
    """The `model` parameter of a technique: a choice among the models of that technique found now."""
    names = tuple(entry.name for entry in list_models(technique))
    if not names:
        raise UnknownNameError(f"No {technique} model is installed; train one with `opencomposer train`.")
    return Param(
        "model",
        "choice",
        default if default in names else names[0],
        f"The trained {technique} model to use; each learnt from one dataset and plays its instruments.",
        choices=names,
    )
