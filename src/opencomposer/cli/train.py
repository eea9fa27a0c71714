"""`opencomposer train <command>`: train a model on a dataset, watch it learn, and get a model you can use.

The commands are made from the architecture registry (`opencomposer.training.architectures`), one per
`Architecture.command`: ``gan`` (with ``--arch unet|musegan``), ``arcnn``, ``transformer``, ``band``. Each
has the shared options (``--dataset``, ``--preset``, ``--out``, ``--name``, ``--device``, ``--install``,
``--evaluate``) and a flag per declared hyperparameter. The registry imports the training modules (and torch),
so it is read only when a `train` command is asked for: the rest of the command line starts quickly. A new
architecture needs no code here.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from opencomposer.cli.params import command_line, given_values, param_options, run_options

if TYPE_CHECKING:
    from opencomposer.training.architectures import Architecture

RESUMES = "A stopped run resumes when the same command is run again."


class _ArchitectureCommands(click.Group):
    """A group whose commands, besides its own, are made from the architecture registry when asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_by_command()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        architectures = _by_command().get(cmd_name)
        return train_command(cmd_name, architectures) if architectures else None


@click.group(cls=_ArchitectureCommands)
def train() -> None:
    """Train models on datasets; a stopped run resumes when the same command is run again."""


@functools.cache
def _by_command() -> dict[str, tuple[Architecture, ...]]:
    from opencomposer.training.architectures import list_architectures

    commands: dict[str, list[Architecture]] = {}
    for architecture in list_architectures():
        commands.setdefault(architecture.command_name, []).append(architecture)
    return {name: tuple(architectures) for name, architectures in commands.items()}


def train_command(command_name: str, architectures: Sequence[Architecture]) -> click.Command:
    """The `opencomposer train COMMAND_NAME` command of the architectures that share it (and its parameters)."""
    first = architectures[0]
    if any(architecture.params != first.params for architecture in architectures):
        raise ValueError(f"The architectures of `train {command_name}` must declare the same parameters.")
    verb = _generate_verb(first.technique)
    presets = [preset.name for architecture in architectures for preset in architecture.presets]

    def run(
        dataset: str | None,
        preset: str | None,
        out: Path,
        name: str | None,
        device: str,
        install: bool,
        evaluate: bool,
        arch: str | None = None,
        workers: int | None = None,
        **hyperparameters: Any,
    ) -> None:
        from opencomposer.cli.reports import print_report
        from opencomposer.training.architectures import EvaluationRequest
        from opencomposer.training.evaluation import record_evaluation
        from opencomposer.training.events import ProgressSink
        from opencomposer.training.road import run_training

        if preset is None and dataset is None:
            raise click.UsageError("Give --preset, or --dataset to train on.")
        architecture = _chosen_architecture(architectures, arch, preset)
        model_name = name or out.resolve().name
        console = Console(stderr=True)
        recipe = architecture.recipe(dataset, preset)  # an unknown preset or dataset is said before anything else
        made_of = f"preset {preset}" if preset is not None else f"a small model of {dataset}"
        console.print(f"Training {model_name!r} ({architecture.name}, {made_of}) into {out}.")
        trained = run_training(
            recipe,
            out,
            name=model_name,
            hyperparameters=given_values(architecture.params, hyperparameters),
            sinks=[ProgressSink(console, headline=architecture.headline)],
            device=device,
            command=command_line(click.get_current_context()),
            install=install,
            workers=workers,
        )
        entries = [trained.model] + ([trained.installed] if trained.installed is not None else [])
        if evaluate:
            console.print("Evaluating on the held-out (test) pieces ...")
            report = architecture.evaluate(entries[0], EvaluationRequest(likelihood_as_coconet=False))
            print_report(console, architecture.technique, report)
            entries = [record_evaluation(entry, report) for entry in entries]
        if architecture.summary is not None:
            console.print(architecture.summary(trained.model))
        files = sorted(path.name for path in trained.model.card_path.parent.glob(f"{model_name}.*"))
        console.print(f"Model written to {trained.model.card_path.parent}: {', '.join(files)}.")
        if trained.installed is not None:
            example = f"opencomposer generate {verb} --model {model_name} --melody twinkle"
            console.print(f"Installed as {model_name!r}: try `{example} --out {model_name}.mid`.")

    command: Any = param_options(first.params)(run)
    if first.prepares_windows:
        command = click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=None,
            help="Processes preparing the dataset's windows the first time (default: one per CPU core).",
        )(command)
    command = click.option(
        "--evaluate/--no-evaluate",
        default=False,
        show_default=True,
        help="After training, measure the model on its dataset's held-out (test) pieces and record the report in "
        "its card (`opencomposer models evaluate NAME` measures it later, and more).",
    )(command)
    command = run_options(f"generate {verb}")(command)
    command = click.option(
        "--preset",
        default=None,
        help=f"Sizes and data settings by name ({', '.join(presets)}; see `opencomposer train presets`); its "
        "recommended hyperparameters replace the defaults shown below. Without one, a small model for --dataset "
        "is made.",
    )(command)
    command = click.option("--dataset", default=None, help=first.dataset_help)(command)
    if len(architectures) > 1:
        names = [architecture.name for architecture in architectures]
        command = click.option(
            "--arch",
            type=click.Choice(names),
            default=None,
            help=" ".join(f"{architecture.name}: {architecture.title}." for architecture in architectures)
            + f" Default: the preset's, else {names[0]}.",
        )(command)
    description = first.command_help or first.description
    usage = f"Give --preset, or --dataset for a model of that dataset. {RESUMES}"
    return click.command(command_name, help=f"{description}\n\n{usage}")(command)


def _chosen_architecture(architectures: Sequence[Architecture], arch: str | None, preset: str | None) -> Architecture:
    """The architecture asked for with --arch, else the one whose preset is asked for, else the first (a preset of
    another architecture than --arch names is refused by that architecture's recipe)."""
    if arch is not None:
        return next(architecture for architecture in architectures if architecture.name == arch)
    of_preset = [architecture for architecture in architectures if preset in {p.name for p in architecture.presets}]
    return of_preset[0] if of_preset else architectures[0]


def _generate_verb(technique: str) -> str:
    """The `generate` command of a technique's models (its first verb)."""
    from opencomposer.techniques import technique_class

    return technique_class(technique).verbs[0].name


@train.command("presets")
def presets() -> None:
    """List every architecture's presets: the command that trains it, its data and what it recommends."""
    table = Table(title="Presets (`opencomposer train COMMAND --preset NAME`)")
    for column in ("name", "command", "arch", "dataset", "steps", "batch", "description"):
        table.add_column(column, overflow="fold")
    for architectures in _by_command().values():
        for architecture in architectures:
            for preset in architecture.presets:
                declared = {param.name: param.default for param in architecture.params}
                training = {**declared, **architecture.default_training, **preset.training}
                table.add_row(
                    preset.name,
                    f"train {architecture.command_name}",
                    architecture.name,
                    preset.dataset,
                    str(training.get("steps", "")),
                    str(training.get("batch_size", "")),
                    preset.description,
                )
    Console().print(table)
