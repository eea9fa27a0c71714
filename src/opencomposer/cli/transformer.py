"""`opencomposer train transformer`: the continuation Transformer, whose models serve `generate extend`.

Flags are made from the parameter declarations (`opencomposer.training.transformer.TRANSFORMER_PARAMS`).
torch is imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console

from opencomposer.cli.params import command_line, given_values, param_options, run_options
from opencomposer.techniques.extend import TRANSFORMER_TRAINING_PARAMS
from opencomposer.training.params import TRAINING_PARAMS


@click.command("transformer")
@click.option(
    "--dataset",
    default=None,
    help="The dataset to learn from (see `opencomposer data list`); join several with '+', for example "
    "bach-chorales+string-quartets.",
)
@click.option(
    "--preset",
    default=None,
    help="Sizes and datasets by name (classical-transformer, pop-transformer); its recommended hyperparameters "
    "replace the defaults shown below. Without one, a small model for --dataset is made.",
)
@run_options("generate extend")
@param_options((*TRAINING_PARAMS, *TRANSFORMER_TRAINING_PARAMS))
def transformer(
    dataset: str | None,
    preset: str | None,
    out: Path,
    name: str | None,
    device: str,
    install: bool,
    **hyperparameters: Any,
) -> None:
    """Train a continuation Transformer on note-event tokens: a score in, the score continued.

    Give --preset, or --dataset for a small model of that data. Every --eval-every steps the validation
    loss per token is measured (beside a bigram baseline's) and a held-out opening continued into OUT/eval.
    """
    from opencomposer.training.events import ProgressSink
    from opencomposer.training.transformer import (
        TRANSFORMER_PARAMS,
        dataset_names,
        default_preset,
        get_preset,
        train_transformer,
    )

    if preset is None and dataset is None:
        raise click.UsageError("Give --preset, or --dataset to train on.")
    names = dataset_names(dataset) if dataset is not None else None
    chosen = get_preset(preset) if preset is not None else default_preset(names or ())
    model_name = name or out.resolve().name
    console = Console(stderr=True)
    console.print(f"Training {model_name!r} (transformer, preset {chosen.name}) into {out}.")
    trained = train_transformer(
        chosen,
        out,
        name=model_name,
        hyperparameters=given_values(TRANSFORMER_PARAMS, hyperparameters),
        datasets=names,
        sinks=[ProgressSink(console, headline=("valid_loss", "bigram_loss"))],
        device=device,
        command=command_line(click.get_current_context()),
        install=install,
    )
    metrics = trained.model.card.metrics
    console.print(
        f"Validation loss {metrics['valid_loss_per_token']:.3f} nats per token (bigram baseline "
        f"{metrics['bigram_loss_per_token']:.3f}); continuations: {metrics['held_out']}."
    )
    console.print(f"Model written to {trained.model.card_path.with_suffix('')}.{{json,safetensors,tokenizer.json}}.")
    if trained.installed is not None:
        console.print(f"Installed as {model_name!r}: try `opencomposer generate extend --model {model_name} ...`.")
