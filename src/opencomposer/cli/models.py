"""`opencomposer models`: the models you can use, what each one is, and how it measures."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from opencomposer.registry import get_model, list_models, models_dir
from opencomposer.studio.words import genre_title


@click.group()
def models() -> None:
    """The trained models: shipped with OpenComposer, and your own."""


@models.command("list")
@click.option("--technique", default=None, help="Only the models of this technique (for example accompany).")
def list_command(technique: str | None) -> None:
    """Show every usable model with its genre, technique, architecture, dataset and size."""
    table = Table(title="Models")
    for column in ("name", "genre", "technique", "architecture", "dataset", "tracks", "size", "source"):
        table.add_column(column, no_wrap=column in ("name", "size"))
    for entry in list_models(technique):
        card = entry.card
        tracks = ", ".join(str(track["name"]) for track in card.tracks)
        table.add_row(
            entry.name,
            genre_title(card.genre),
            card.technique,
            card.architecture,
            card.dataset,
            tracks,
            f"{entry.size_bytes / 1e6:.1f} MB",
            "shipped" if entry.shipped else "yours",
        )
    console = Console()
    console.print(table)
    console.print(f"Your models live in {models_dir()}.")


@models.command("show")
@click.argument("name")
def show(name: str) -> None:
    """Print a model's card (NAME is a model's name or the path of its .json card)."""
    entry = get_model(name)
    Console().print_json(json.dumps(entry.card.to_json()))


@models.command("evaluate")
@click.argument("name")
@click.option("--dataset", default=None, help="The dataset whose held-out pieces to accompany (default: the model's).")
@click.option("--split", type=click.Choice(["valid", "test"]), default="test", show_default=True)
@click.option("--limit", type=click.IntRange(min=2), default=None, help="Evaluate at most this many pieces.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the generation.")
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the report."
)
@click.option(
    "--record/--no-record",
    default=False,
    show_default=True,
    help="Write the report into the model's card (not possible for shipped models).",
)
@click.option(
    "--coconet-nll/--no-coconet-nll",
    default=True,
    show_default=True,
    help="Edit models: also measure the NLL as Coconet's released evaluation does (5 orderings, 5 times as long).",
)
def evaluate(
    name: str,
    dataset: str | None,
    split: str,
    limit: int | None,
    seed: int,
    json_path: Path | None,
    record: bool,
    coconet_nll: bool,
) -> None:
    """Accompany the melodies of held-out pieces with model NAME and compare with the pieces' own parts.

    Reports the quality bars: in-scale ratio and empty-bar rate within 0.05 of the dataset's, tonal distance
    between melody and accompaniment below that of randomly re-paired pieces, similarity index at least 0.7.
    An edit (AR-CNN) model harmonizes the pieces' top voices instead, once with parallels avoided (the
    default) and once allowed (the network alone), and also reports its framewise NLL, exactly and as
    Coconet's released evaluation estimates it (see `opencomposer models nll`); an extend
    (Transformer) model continues the held-out pieces' first 8 bars by 30 seconds (test split, else valid)
    and is measured against their real next 30 seconds.
    """
    from opencomposer.cli.reports import print_report
    from opencomposer.training.architectures import EvaluationRequest, evaluate_model
    from opencomposer.training.evaluation import record_evaluation
    from opencomposer.training.events import json_ready

    entry = get_model(name)
    request = EvaluationRequest(dataset, split, seed, limit, likelihood_as_coconet=coconet_nll)
    report = evaluate_model(entry, request)
    print_report(Console(), entry.card.technique, report)
    if json_path is not None:
        json_path.write_text(json.dumps(json_ready(report), indent=2) + "\n", encoding="utf-8")
    if record:
        record_evaluation(entry, report)
        Console().print(f"Recorded in {entry.card_path}.")


@models.command("genres")
@click.option(
    "--save/--no-save",
    default=False,
    show_default=True,
    help="Write the fitted classifier and its report to the shipped genres.classifier.json.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
def genres(save: bool, seed: int) -> None:
    """Fit the genre classifier on the real held-out data of jazz, rock, pop and symphony, and say how often it
    names each genre model's own genre on 20 shared melodies (the bar: 80 %)."""
    from opencomposer.training.events import json_ready
    from opencomposer.training.genres import CLASSIFIER_PATH, evaluate_genres, fit_and_save

    if save:
        report = fit_and_save(seed=seed)
        Console().print(f"Saved to {CLASSIFIER_PATH}.")
    else:
        report = evaluate_genres(seed=seed)
    Console().print_json(json.dumps(json_ready(report)))


@models.command("nll")
@click.argument("name")
@click.option("--dataset", default=None, help="The dataset whose held-out pieces to measure (default: the model's).")
@click.option("--split", type=click.Choice(["valid", "test"]), default="test", show_default=True)
@click.option(
    "--estimator",
    type=click.Choice(["exact", "coconet"]),
    default="exact",
    show_default=True,
    help="exact: the chain rule under random orderings; coconet: as Coconet's released evaluation estimates it.",
)
@click.option(
    "--orderings", type=click.IntRange(min=1), default=None, help="Random orderings per piece (default 1 / 5)."
)
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Measure at most this many pieces.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the orderings.")
@click.option(
    "--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Also write the result."
)
def nll(
    name: str,
    dataset: str | None,
    split: str,
    estimator: str,
    orderings: int | None,
    limit: int | None,
    seed: int,
    json_path: Path | None,
) -> None:
    """The framewise negative log-likelihood of held-out pieces under edit (AR-CNN) model NAME, nats per frame.

    Every frame's voices are predicted in a random order of the frames and of the voices in each, from what
    the ordering has shown before them. `exact` scores them against the true cells visited before: the
    log-likelihood of a distribution. `coconet` measures as Coconet's released code does (the 0.57 quoted for
    Coconet is said to be such a figure; the README says why that is not settled): the network's own guesses
    stand in for the voices of the frame
    visited before, and each frame's probability is averaged over 5 orderings, which gives a lower figure.
    """
    from opencomposer.errors import ParameterError
    from opencomposer.models.arcnn import NLL_ESTIMATORS
    from opencomposer.training.arcnn import framewise_nll
    from opencomposer.training.events import json_ready

    entry = get_model(name)
    if entry.card.technique != "edit":
        raise ParameterError(f"{name!r} is an {entry.card.technique} model; the framewise NLL is for edit models.")
    result = framewise_nll(
        entry,
        dataset or entry.card.dataset,
        split=split,
        estimator=estimator,
        orderings=orderings,
        seed=seed,
        limit=limit,
    )
    console = Console()
    console.print(
        f"{result['nll_per_frame']:.3f} nats per frame ({result['resolution']}) on {result['pieces']} pieces, "
        f"{result['frames']} frames, of {result['dataset']} ({split}), {result['orderings']} ordering(s), "
        f"in {result['seconds']:.0f} s. Coconet published {result['coconet_published']}."
    )
    console.print(f"Estimator {estimator}: {NLL_ESTIMATORS[estimator]}.")
    if json_path is not None:
        json_path.write_text(json.dumps(json_ready(result), indent=2) + "\n", encoding="utf-8")
