"""`opencomposer train`: train a model on a dataset, watch it learn, and get a model you can use.

The hyperparameter flags are made from the declarations in `opencomposer.training.params`. Training
modules (and torch) are imported when a command runs, so the rest of the command line starts quickly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from opencomposer.cli.params import command_line, given_values, param_options, run_options
from opencomposer.errors import TrainingError
from opencomposer.training.params import GAN_PARAMS

DEFAULT_ARCHITECTURE = "unet"


@click.group()
def train() -> None:
    """Train models on datasets; a stopped run resumes when the same command is run again."""


@train.command("gan")
@click.option(
    "--arch",
    type=click.Choice(["unet", "musegan"]),
    default=None,
    help="The generator: unet (the AWS DeepComposer U-Net) or musegan (shared and per-track latents, bar by "
    "bar). Default: the preset's, else unet.",
)
@click.option("--dataset", default=None, help="The dataset to learn from (see `opencomposer data list`).")
@click.option(
    "--preset",
    default=None,
    help="Sizes and data settings by name (see `opencomposer train presets`); its recommended hyperparameters "
    "replace the defaults shown below. Without one, a small model for --dataset is made.",
)
@run_options("generate accompany")
@click.option(
    "--evaluate/--no-evaluate",
    default=False,
    show_default=True,
    help="After training, accompany the held-out pieces' melodies and record how the result measures in the "
    "model's card (takes a while on large datasets).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes preparing the dataset's windows the first time (default: one per CPU core).",
)
@param_options(GAN_PARAMS)
def gan(
    arch: str | None,
    dataset: str | None,
    preset: str | None,
    out: Path,
    name: str | None,
    device: str,
    install: bool,
    evaluate: bool,
    workers: int | None,
    **hyperparameters: Any,
) -> None:
    """Train an accompaniment GAN (WGAN-GP): a melody in, accompaniment tracks out.

    Give --preset, or --dataset (with --arch) for a small model of that dataset. Progress, losses and
    the time left are shown as it trains; every --eval-every steps a sample MIDI file and piano-roll
    picture are written to OUT/eval.
    """
    from opencomposer.training.evaluation import HEADLINE_METRICS
    from opencomposer.training.events import ProgressSink
    from opencomposer.training.gan import default_preset, get_preset, train_gan

    if preset is not None:
        chosen = get_preset(preset)
        if arch is not None and arch != chosen.architecture:
            raise TrainingError(
                f"The preset {preset!r} trains a {chosen.architecture} generator, not {arch}; drop --arch or "
                "choose another preset."
            )
    elif dataset is not None:
        chosen = default_preset(arch or DEFAULT_ARCHITECTURE, dataset)
    else:
        raise click.UsageError("Give --preset, or --dataset (and --arch) to train on.")
    model_name = name or out.resolve().name
    console = Console(stderr=True)
    console.print(f"Training {model_name!r} ({chosen.architecture}, preset {chosen.name}) into {out}.")
    trained = train_gan(
        chosen,
        out,
        name=model_name,
        hyperparameters=given_values(GAN_PARAMS, hyperparameters),
        dataset=dataset,
        sinks=[ProgressSink(console, headline=HEADLINE_METRICS)],
        device=device,
        command=command_line(click.get_current_context()),
        install=install,
        workers=workers,
    )
    entries = [trained.model] + ([trained.installed] if trained.installed is not None else [])
    if evaluate:
        entries = _evaluate_and_record(entries, console)
    console.print(f"Model written to {trained.model.card_path.with_suffix('')}.{{json,safetensors}}.")
    if trained.installed is not None:
        console.print(f"Installed as {model_name!r}: try `opencomposer generate accompany --model {model_name} ...`.")


def _evaluate_and_record(entries: list[Any], console: Console) -> list[Any]:
    """Measure the model on its dataset's test split and write the report into every copy of its card."""
    from opencomposer.training.evaluation import evaluate_accompaniment, record_evaluation

    console.print("Evaluating on the held-out (test) pieces ...")
    report = evaluate_accompaniment(entries[0])
    console.print(evaluation_table(report))
    return [record_evaluation(entry, report) for entry in entries]


def evaluation_table(report: dict[str, Any]) -> Table:
    """The quality-bar metrics of a held-out evaluation: the model, the dataset, random pairs."""
    table = Table(title=f"{report['pieces']} held-out pieces of {report['dataset']} ({report['split']})")
    table.add_column("metric", no_wrap=True)
    table.add_column("model", justify="right")
    table.add_column("dataset", justify="right")
    for key, value in report["model"].items():
        table.add_row(key, _number(value), _number(report["dataset_values"].get(key)))
    table.add_row("tonal_distance of random pairs", "", _number(report["random_pairs"]["tonal_distance"]))
    table.add_row("similarity_index", _number(report["similarity_index"]), "")
    for bar, met in report["quality_bars"].items():
        table.add_row(bar, "met" if met else "not met", "")
    return table


def _number(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "-"


@train.command("presets")
def presets() -> None:
    """List the GAN presets: architecture, dataset, window and sizes."""
    from opencomposer.models import build_generator, count_parameters
    from opencomposer.models.critic import Critic
    from opencomposer.training.gan import PRESETS

    table = Table(title="GAN presets")
    for column in ("name", "arch", "dataset", "window", "pitches", "generator", "description"):
        table.add_column(column, overflow="fold")
    for preset in PRESETS.values():
        roll = preset.window.roll
        table.add_row(
            preset.name,
            preset.architecture,
            preset.dataset,
            f"{preset.window.bars} bars x {roll.steps_per_beat}/beat",
            f"{roll.low_pitch}-{roll.high_pitch}",
            f"{count_parameters(build_generator(preset.generator)):,} + critic "
            f"{count_parameters(Critic(preset.critic)):,}",
            preset.description,
        )
    Console().print(table)
