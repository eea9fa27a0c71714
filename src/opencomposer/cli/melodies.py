"""`opencomposer melodies`: list the built-in sample melodies and export them as MIDI files."""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from opencomposer.music.melodies import get_melody, list_melodies


@click.group()
def melodies() -> None:
    """Built-in sample melodies: short public-domain tunes to try the techniques on."""


@melodies.command("list")
def list_command() -> None:
    """Show every sample melody with its key, time signature, tempo and length."""
    table = Table(title="Sample melodies")
    table.add_column("name", no_wrap=True)
    table.add_column("title")
    table.add_column("key", no_wrap=True)
    table.add_column("time", no_wrap=True)
    table.add_column("tempo (qpm)", justify="right", no_wrap=True)
    table.add_column("bars", justify="right", no_wrap=True)
    for melody in list_melodies():
        numerator, denominator = melody.time_signature
        table.add_row(
            melody.name,
            melody.title,
            melody.key,
            f"{numerator}/{denominator}",
            f"{melody.tempo:g}",
            str(melody.to_score().n_bars),
        )
    Console().print(table)


@melodies.command()
@click.argument("name")
@click.argument("target", metavar="OUT", type=click.Path(dir_okay=False, path_type=Path))
def export(name: str, target: Path) -> None:
    """Write the sample melody NAME to OUT, a .mid or .midi file (names: `opencomposer melodies list`)."""
    from opencomposer.music.io import write_score

    melody = get_melody(name)
    score = melody.to_score()
    write_score(score, target)
    click.echo(f"Wrote {melody.title} ({melody.key}, {score.n_bars} bars, {score.n_notes} notes) to {target}.")
