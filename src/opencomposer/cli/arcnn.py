"""The AR-CNN's command `opencomposer train arcnn`, and the table of an edit model's held-out evaluation.

The command is added to the `train` group by `opencomposer.cli._register`; its flags are made from the
parameter declarations of `opencomposer.training.arcnn`; torch is imported when it runs. Its models serve the
`edit` technique, whose `generate edit|harmonize|inpaint` commands `opencomposer.cli.generate` makes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from opencomposer.cli.params import command_line, given_values, param_options, run_options
from opencomposer.training.params import TRAINING_PARAMS


@click.command("arcnn")
@click.option("--dataset", default=None, help="The dataset to learn from (see `opencomposer data list`).")
@click.option(
    "--preset",
    default=None,
    help="Sizes and data settings by name (bach-arcnn: the shipped model's); its recommended hyperparameters "
    "replace the defaults shown below. Without one, a small model for --dataset is made.",
)
@run_options("generate harmonize")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes preparing the dataset's windows the first time (default: one per CPU core).",
)
@param_options(TRAINING_PARAMS)
def train_arcnn_command(
    dataset: str | None,
    preset: str | None,
    out: Path,
    name: str | None,
    device: str,
    install: bool,
    workers: int | None,
    **hyperparameters: Any,
) -> None:
    """Train an AR-CNN (Coconet): it learns to fill in hidden notes, then edits, harmonizes and inpaints.

    Give --preset, or --dataset for a small model of that dataset. Every --eval-every steps the held-out
    windows' top voices are harmonized and written to OUT/eval as MIDI and a piano-roll picture.
    """
    from opencomposer.training.arcnn import ARCNN_PARAMS, chosen_preset, train_arcnn
    from opencomposer.training.evaluation import HEADLINE_METRICS
    from opencomposer.training.events import ProgressSink

    if preset is None and dataset is None:
        raise click.UsageError("Give --preset, or --dataset to train on.")
    chosen = chosen_preset(dataset, preset)
    model_name = name or out.resolve().name
    console = Console(stderr=True)
    console.print(f"Training {model_name!r} (arcnn, preset {chosen.name}) into {out}.")
    trained = train_arcnn(
        chosen,
        out,
        name=model_name,
        hyperparameters=given_values(ARCNN_PARAMS, hyperparameters),
        dataset=dataset,
        sinks=[ProgressSink(console, headline=HEADLINE_METRICS)],
        device=device,
        command=command_line(click.get_current_context()),
        install=install,
        workers=workers,
    )
    console.print(f"Model written to {trained.model.card_path.with_suffix('')}.{{json,safetensors}}.")
    if trained.installed is not None:
        console.print(f"Installed as {model_name!r}: try `opencomposer generate harmonize --model {model_name} ...`.")


def edit_evaluation_table(report: dict[str, Any]) -> Table:
    """The quality bars of an edit model's held-out evaluation: the model, Bach, and the GAN when compared."""
    table = Table(title=f"{report['pieces']} held-out pieces of {report['dataset']} ({report['split']}), harmonized")
    comparison = report.get("comparison")
    table.add_column("metric", no_wrap=True)
    table.add_column("model", justify="right")
    table.add_column("dataset", justify="right")
    if comparison:
        table.add_column(comparison["model"], justify="right")
    for key, value in report["model"].items():
        gan = [_number(comparison["metrics"].get(key))] if comparison else []
        table.add_row(key, _number(value), _number(report["dataset_values"].get(key)), *gan)
    gan_similarity = [_number(comparison["similarity_index"])] if comparison else []
    table.add_row("similarity_index", _number(report["similarity_index"]), "", *gan_similarity)
    blank = [""] if comparison else []
    likelihood = report.get("likelihood")
    if likelihood:
        table.add_row("NLL per 16th-note frame, exact", _number(likelihood["nll_per_frame"]), "", *blank)
    as_coconet = report.get("likelihood_coconet")
    if as_coconet:
        table.add_row("NLL per frame, as Coconet measures", _number(as_coconet["nll_per_frame"]), "", *blank)
    measured = likelihood or as_coconet
    if measured:
        table.add_row("NLL of Coconet (published)", _number(measured["coconet_published"]), "", *blank)
    alone = report.get("network_alone")
    if alone:
        for key in ("parallel_fifths", "parallel_octaves"):
            table.add_row(f"{key}, parallels allowed", _number(alone["model"][key]), "", *blank)
        table.add_row("similarity_index, parallels allowed", _number(alone["similarity_index"]), "", *blank)
    for bar, met in report["quality_bars"].items():
        table.add_row(bar, "met" if met else "not met", "", *blank)
    return table


def _number(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "-"
