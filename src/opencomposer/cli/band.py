"""`opencomposer train band`: train a genre band (jazz, rock, pop, symphony, or one of your own data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from opencomposer.cli.params import command_line, given_values, param_options, run_options
from opencomposer.training.params import BAND_PARAMS

BAND_PRESETS = ("jazz-band", "rock-band", "pop-band", "symphony-band")


@click.command("band")
@click.option(
    "--preset",
    type=click.Choice(BAND_PRESETS),
    default=None,
    help="A genre's data and parts; its recommended hyperparameters replace the defaults shown below.",
)
@click.option(
    "--dataset",
    default=None,
    help="Learn a band from this dataset instead (your folder: `opencomposer data add`); its accompaniment "
    "tracks become the band's parts.",
)
@run_options("generate band")
@click.option(
    "--evaluate/--no-evaluate",
    default=False,
    show_default=True,
    help="After training, play the band on held-out melodies and record how it measures in the model's card.",
)
@param_options(BAND_PARAMS)
def train_band_command(
    preset: str | None,
    dataset: str | None,
    out: Path,
    name: str | None,
    device: str,
    install: bool,
    evaluate: bool,
    **hyperparameters: Any,
) -> None:
    """Train a genre band: a chord network on the genre's melodies and chords, its players' bars and its drums.

    Give --preset (jazz-band, rock-band, pop-band, symphony-band), or --dataset for a band of your own data.
    """
    from opencomposer.data.registry import get_dataset
    from opencomposer.training.band import chosen_preset, train_band
    from opencomposer.training.evaluation import record_evaluation
    from opencomposer.training.events import ProgressSink

    if preset is None and dataset is None:
        raise click.UsageError("Give --preset, or --dataset to learn a band from.")
    source = get_dataset(dataset) if dataset is not None else None
    chosen = chosen_preset(source, preset)
    model_name = name or out.resolve().name
    console = Console(stderr=True)
    console.print(f"Training {model_name!r} (band, preset {chosen.name}) into {out}.")
    trained = train_band(
        chosen,
        out,
        name=model_name,
        hyperparameters=given_values(BAND_PARAMS, hyperparameters),
        dataset=source,
        sinks=[ProgressSink(console, headline=("chord_accuracy",))],
        device=device,
        command=command_line(click.get_current_context()),
        install=install,
    )
    entries = [trained.model] + ([trained.installed] if trained.installed is not None else [])
    if evaluate:
        from opencomposer.training.band_eval import evaluate_band

        console.print("Evaluating on the held-out (test) pieces ...")
        report = evaluate_band(entries[0])
        console.print(band_evaluation_table(report))
        entries = [record_evaluation(entry, report) for entry in entries]
    console.print(f"Model written to {trained.model.card_path.with_suffix('')}.{{json,safetensors}}.")
    if trained.installed is not None:
        console.print(
            f"Installed as {model_name!r}: try `opencomposer generate band --model {model_name} --melody twinkle`."
        )


def band_evaluation_table(report: dict[str, Any]) -> Table:
    """A band's quality bars: the model's value, the yardstick's, the bar in words, met or not."""
    table = Table(title=f"{report['pieces']} held-out pieces of {report['dataset']} ({report['split']})")
    for column in ("measure", "model", "yardstick", "bar", ""):
        table.add_column(column, overflow="fold")
    for key, bar in report["bars"].items():
        table.add_row(key, f"{bar['model']:.3f}", f"{bar['data']:.3f}", bar["bar"], "met" if bar["met"] else "NOT met")
    return table
