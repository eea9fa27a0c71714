"""`opencomposer evaluate`: how close generated pieces are to a dataset or a folder of real music."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from opencomposer.data.evaluate import Evaluation


@click.command()
@click.argument("generated", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--reference",
    "-r",
    required=True,
    help="A dataset name (such as bach-chorales or pop909) or a folder of MIDI/MusicXML files to compare with.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Read at most this many pieces of the generated files and of the reference (default: all).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Folder for evaluation.json and evaluation.png (created if missing).",
)
@click.option(
    "--bars", type=click.IntRange(min=1), default=4, show_default=True, help="Bars per window for the metrics."
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the distance subsampling.")
def evaluate(generated: tuple[Path, ...], reference: str, limit: int | None, out: Path, bars: int, seed: int) -> None:
    """Measure the pieces in GENERATED (files or folders) against a reference dataset or folder.

    Prints the music metrics of both sets and, per feature, how much the distance distributions overlap
    (Yang and Lerch 2018); writes evaluation.json and evaluation.png to --out.
    """
    from opencomposer.data.evaluate import (
        evaluate_sets,
        read_piece_files,
        read_reference,
        write_figure,
        write_json,
    )

    generated_set = read_piece_files(list(generated), limit=limit)
    reference_set = read_reference(reference, limit=limit)
    evaluation = evaluate_sets(generated_set, reference_set, bars_per_window=bars, seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    json_path, figure_path = out / "evaluation.json", out / "evaluation.png"
    write_json(evaluation, json_path)
    write_figure(evaluation, figure_path)
    console = Console()
    console.print(metrics_table(evaluation))
    console.print(features_table(evaluation))
    console.print(f"Similarity index: {_number(evaluation.similarity_index)} (0 to 1; 1 = like the reference)")
    console.print(f"Wrote {json_path} and {figure_path}.")


def metrics_table(evaluation: Evaluation) -> Table:
    """The window metrics of both sets, one row per metric."""
    generated, reference = evaluation.generated, evaluation.reference
    rows = evaluation.metric_rows()
    table = Table(title="Music metrics (mean over windows)")
    table.add_column("metric", no_wrap=True, min_width=max((len(row[0]) for row in rows), default=6))
    table.add_column(f"generated\n{generated.pieces} pieces, {generated.windows} windows", justify="right")
    table.add_column(f"reference\n{reference.pieces} pieces, {reference.windows} windows", justify="right")
    for key, generated_value, reference_value in rows:
        table.add_row(key, _number(generated_value), _number(reference_value))
    return table


def features_table(evaluation: Evaluation) -> Table:
    """Per feature, the overlapped area and KL divergence of the distance distributions."""
    table = Table(title="Feature distributions (Yang and Lerch 2018): intra-set against inter-set distances")
    table.add_column("feature", no_wrap=True, min_width=max((len(name) for name in evaluation.features), default=7))
    for column in ("overlap\nreference", "KL\nreference", "overlap\ngenerated", "KL\ngenerated"):
        table.add_column(column, justify="right")
    for name, comparison in evaluation.features.items():
        table.add_row(
            name,
            _number(comparison.overlap_area),
            _number(comparison.kl_divergence),
            _number(comparison.overlap_area_generated),
            _number(comparison.kl_divergence_generated),
        )
    return table


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3f}"
