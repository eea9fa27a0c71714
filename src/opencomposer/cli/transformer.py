"""`opencomposer train transformer` and `opencomposer generate extend`: the continuation Transformer.

Flags are made from the parameter declarations (`opencomposer.training.transformer.TRANSFORMER_PARAMS`
and `opencomposer.techniques.extend.Extend.params`). torch is imported when a command runs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console

from opencomposer.cli.generate import read_melody
from opencomposer.cli.params import command_line, generation_options, given_values, param_options, run_options
from opencomposer.techniques.base import SEED
from opencomposer.techniques.extend import TRANSFORMER_TRAINING_PARAMS, Extend
from opencomposer.training.params import TRAINING_PARAMS

DEFAULT_EXTEND_MODEL = "classical-transformer"


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


@click.command("extend")
@generation_options(
    "extend",
    DEFAULT_EXTEND_MODEL,
    "The score to continue: a sample melody's name (see `opencomposer melodies list`) or a MIDI or MusicXML file.",
)
@param_options(Extend.params)
def extend(model: str, melody: str, seed: int | None, out: Path, **params: Any) -> None:
    """Continue a score with a Transformer model; the input is kept exactly and every track plays on."""
    from opencomposer.music.io import write_score

    score = read_melody(melody)
    technique = Extend.from_model(model)
    chosen_seed = int(seed if seed is not None else SEED.default)
    generation = technique.generate(score, given_values(Extend.params, params), chosen_seed)
    write_score(generation.score, out)
    info = generation.info
    Console().print(
        f"Wrote {out}: {info['notes_added']} notes added after the input's {score.n_notes}, "
        f"{generation.score.get_duration_seconds():.1f} s in all ({info['tokens_generated']} tokens at "
        f"{info['tokens_per_second']} tokens/s; model {model}, seed {chosen_seed})."
    )
