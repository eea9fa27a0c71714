"""`opencomposer generate <verb>`: run a generative technique on a melody and write the result as MIDI.

The commands are made from the technique registry (`opencomposer.techniques`): one per `Verb` a technique
declares, with the shared options of `generation_options`, the technique's default model and input help, and
a flag for each parameter of the verb's mode (`Technique.verb_params`). A new technique needs no code here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console

from opencomposer.cli.params import generation_options, given_values, param_options
from opencomposer.music.score import Score
from opencomposer.techniques import list_techniques, technique_class
from opencomposer.techniques.base import SEED, Technique, Verb


@click.group()
def generate() -> None:
    """Make music from a melody with a technique and a trained model."""


def read_melody(melody: str) -> Score:
    """A melody given as a sample melody's name or as a MIDI / MusicXML file's path."""
    from opencomposer.music.io import read_score
    from opencomposer.music.melodies import get_melody

    path = Path(melody)
    if path.suffix and path.exists():
        return read_score(path)
    return get_melody(melody).to_score()


def verb_command(technique: type[Technique], verb: Verb) -> click.Command:
    """The `generate` subcommand of one verb of a technique: read the melody, generate, write, say what was made."""
    params = technique.verb_params(verb)

    def run(model: str, genre: str | None, melody: str, seed: int | None, out: Path, **values: Any) -> None:
        from opencomposer.music.io import write_score
        from opencomposer.registry import get_model

        score = read_melody(melody)
        loaded = technique(get_model(model_of_genre(technique.name, genre) if genre else model))
        chosen = int(seed if seed is not None else SEED.default)
        generation = loaded.generate(score, technique.verb_values(verb, given_values(params, values)), chosen)
        write_score(generation.score, out)
        Console().print(f"Wrote {out}: {loaded.describe(score, generation, chosen)}")

    command: Any = param_options(params)(run)
    command = generation_options(technique.name, technique.default_model, technique.input_help)(command)
    return click.command(verb.name, help=verb.help)(command)


def model_of_genre(technique: str, genre: str) -> str:
    """The name of the technique's model of `genre`: a shipped one first, else the user's; `UnknownNameError`
    listing the genres there are when none is."""
    from opencomposer.errors import UnknownNameError
    from opencomposer.registry import list_models
    from opencomposer.studio.words import with_article

    entries = [entry for entry in list_models() if entry.card.technique == technique]
    for entry in sorted(entries, key=lambda entry: not entry.shipped):
        if entry.card.genre == genre.lower():
            return entry.card.name
    known = sorted({entry.card.genre for entry in entries if entry.card.genre})
    raise UnknownNameError(
        f"No {technique} model plays {genre!r}. Genres with {with_article(technique)} model: "
        f"{', '.join(known) or 'none'}."
    )


def _add_verbs() -> None:
    for name in list_techniques():
        technique = technique_class(name)
        for verb in technique.verbs:
            generate.add_command(verb_command(technique, verb))


_add_verbs()
