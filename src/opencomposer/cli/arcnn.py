"""The AR-CNN's commands: `opencomposer train arcnn` and `opencomposer generate edit|harmonize|inpaint`.

They are attached to the `train` and `generate` groups by `opencomposer.cli._register`. The flags are
made from the parameter declarations of `opencomposer.techniques.edit` and `opencomposer.training.arcnn`;
torch is imported when a command runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from opencomposer.cli.generate import read_melody
from opencomposer.cli.params import command_line, generation_options, given_values, param_options, run_options
from opencomposer.techniques.base import SEED, Param
from opencomposer.techniques.edit import (
    CREATIVE_RISK,
    INPAINT_BARS,
    ITERATIONS,
    MAX_ADD,
    MAX_REMOVE,
    PARALLELS,
    START_BAR,
    VOICES,
)
from opencomposer.training.params import TRAINING_PARAMS

DEFAULT_EDIT_MODEL = "bach-arcnn"


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


def _edit_command(mode: str, params: Sequence[Param], summary: str) -> click.Command:
    """A `generate` subcommand running the edit technique in one mode, with that mode's flags."""

    def run(model: str, melody: str, seed: int | None, out: Path, **values: Any) -> None:
        from opencomposer.music.io import write_score
        from opencomposer.techniques.edit import Edit

        score = read_melody(melody)
        technique = Edit.from_model(model)
        chosen = int(seed if seed is not None else SEED.default)
        generation = technique.generate(score, {**given_values(params, values), "mode": mode}, chosen)
        write_score(generation.score, out)
        info = generation.info
        Console().print(
            f"Wrote {out}: {', '.join(track.name for track in generation.score.tracks)}; "
            f"{info['notes_added']} notes added, {info['notes_removed']} removed, in {generation.score.n_bars} bars "
            f"(model {technique.card.name}, seed {chosen})."
        )

    decorators: list[Callable[[Any], Any]] = [
        generation_options(
            "edit",
            DEFAULT_EDIT_MODEL,
            "A sample melody's name (see `opencomposer melodies list`) or a MIDI or MusicXML file: a melody "
            "or a score of up to four voices.",
        ),
        param_options(params),
    ]
    function: Any = run
    for decorate in reversed(decorators):
        function = decorate(function)
    return click.command(mode, help=summary)(function)


edit = _edit_command(
    "edit",
    (MAX_REMOVE, MAX_ADD, ITERATIONS, CREATIVE_RISK, PARALLELS),
    "Rewrite a melody or score with an AR-CNN: notes that sound out of place are removed or changed and "
    "missing ones added, within the limits given.",
)
harmonize = _edit_command(
    "harmonize",
    (ITERATIONS, CREATIVE_RISK, PARALLELS),
    "Harmonize a melody in four voices with an AR-CNN; the melody is kept exactly as given.",
)
inpaint = _edit_command(
    "inpaint",
    (START_BAR, INPAINT_BARS, VOICES, ITERATIONS, CREATIVE_RISK, PARALLELS),
    "Rewrite only the chosen bars (and voices) of a score with an AR-CNN; the rest stays as it was.",
)


def attach_arcnn(train: click.Group, generate: click.Group) -> None:
    """Add `train arcnn` to the `train` group and `edit`, `harmonize`, `inpaint` to the `generate` group."""
    train.add_command(train_arcnn_command)
    for command in (edit, harmonize, inpaint):
        generate.add_command(command)


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
