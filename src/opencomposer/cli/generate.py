"""`opencomposer generate`: run a generative technique on a melody and write the result as MIDI.

The technique's flags are made from its parameter declarations (`opencomposer.cli.params`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.console import Console

from opencomposer.cli.params import generation_options, given_values, param_options
from opencomposer.music.score import Score
from opencomposer.techniques.accompany import Accompany
from opencomposer.techniques.base import SEED

DEFAULT_ACCOMPANY_MODEL = "bach-chorale-unet"


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


@generate.command("accompany")
@generation_options(
    "accompany",
    DEFAULT_ACCOMPANY_MODEL,
    "A sample melody's name (see `opencomposer melodies list`, for example twinkle) or a MIDI or MusicXML file.",
)
@param_options(Accompany.params)
def accompany(model: str, melody: str, seed: int | None, out: Path, **params: Any) -> None:
    """Add accompaniment tracks to a melody with a GAN model; the melody is kept exactly as given."""
    from opencomposer.music.instruments import program_to_name
    from opencomposer.music.io import write_score

    score = read_melody(melody)
    technique = Accompany.from_model(model)
    generation = technique.generate(score, given_values(Accompany.params, params), int(seed or SEED.default))
    write_score(generation.score, out)
    result = generation.score
    parts = ", ".join(f"{track.name} ({program_to_name(track.program)})" for track in result.tracks[1:])
    Console().print(
        f"Wrote {out}: {result.tracks[0].name!r} and {parts}; {result.n_notes} notes in {result.n_bars} bars "
        f"(model {technique.card.name}, seed {int(seed or SEED.default)})."
    )
