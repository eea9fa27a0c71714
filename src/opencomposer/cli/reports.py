"""The tables of held-out evaluations, one per technique whose report has a table of its own.

`opencomposer models evaluate` and `opencomposer train ... --evaluate` print a report with `print_report`: its
table (`report_table`), or JSON for a technique without a table here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table


def accompaniment_table(report: dict[str, Any]) -> Table:
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


def edit_table(report: dict[str, Any]) -> Table:
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


def band_table(report: dict[str, Any]) -> Table:
    """A band's quality bars: the model's value, the yardstick's, the bar in words, met or not."""
    table = Table(title=f"{report['pieces']} held-out pieces of {report['dataset']} ({report['split']})")
    for column in ("measure", "model", "yardstick", "bar", ""):
        table.add_column(column, overflow="fold")
    for key, bar in report["bars"].items():
        table.add_row(key, f"{bar['model']:.3f}", f"{bar['data']:.3f}", bar["bar"], "met" if bar["met"] else "NOT met")
    return table


_TABLES: dict[str, Callable[[dict[str, Any]], Table]] = {
    "accompany": accompaniment_table,
    "edit": edit_table,
    "band": band_table,
}


def report_table(technique: str, report: dict[str, Any]) -> Table | None:
    """The table of a held-out evaluation of a `technique` model, or None when the technique has none."""
    table = _TABLES.get(technique)
    return table(report) if table is not None else None


def print_report(console: Console, technique: str, report: dict[str, Any]) -> None:
    """A held-out evaluation's table (`opencomposer.cli.reports`), or the report as JSON when it has none."""
    from opencomposer.training.events import json_ready

    table = report_table(technique, report)
    if table is not None:
        console.print(table)
    else:
        console.print_json(json.dumps(json_ready(report)))


def _number(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else "-"
