"""`opencomposer midi`: look inside a score file, quantize it, transpose it."""

from __future__ import annotations

from pathlib import Path

import click
import pretty_midi

from opencomposer.music.instruments import program_to_name
from opencomposer.music.score import Score, Track

_FILE = click.Path(dir_okay=False, path_type=Path)


@click.group()
def midi() -> None:
    """Inspect and edit MIDI files (MusicXML files can be read too)."""


@midi.command()
@click.argument("file", type=_FILE)
def info(file: Path) -> None:
    """Show the tracks, tempo, time signature and length of FILE."""
    from opencomposer.music.io import read_score

    score = read_score(file)
    click.echo(describe_score(score, title=file.name))


@midi.command()
@click.argument("source", metavar="IN", type=_FILE)
@click.argument("target", metavar="OUT", type=_FILE)
@click.option(
    "--grid",
    default="1/16",
    show_default=True,
    help='Grid spacing as a fraction of a whole note: "1/8", "1/16", "1/12".',
)
@click.option(
    "--strength",
    type=float,
    default=1.0,
    show_default=True,
    help="How far (0 to 1) each note moves toward the grid: 1 snaps exactly, 0.5 goes half way.",
)
def quantize(source: Path, target: Path, grid: str, strength: float) -> None:
    """Snap the notes of IN to a rhythmic grid and write the result to OUT (a .mid or .midi file)."""
    from opencomposer.music.io import read_score, write_score
    from opencomposer.music.transform import quantize as quantize_score

    score = read_score(source)
    write_score(quantize_score(score, grid, strength), target)
    click.echo(f"Quantized {score.n_notes} notes to a {grid} grid (strength {strength:g}); wrote {target}.")


@midi.command()
@click.argument("source", metavar="IN", type=_FILE)
@click.argument("target", metavar="OUT", type=_FILE)
@click.option(
    "--semitones", type=int, required=True, help="The shift in semitones, up when positive (-12 = an octave down)."
)
def transpose(source: Path, target: Path, semitones: int) -> None:
    """Shift every pitch of IN (drum tracks excepted) and write the result to OUT (a .mid or .midi file)."""
    from opencomposer.music.io import read_score, write_score
    from opencomposer.music.transform import transpose as transpose_score

    score = read_score(source)
    write_score(transpose_score(score, semitones), target)
    click.echo(f"Transposed {score.n_notes} notes by {semitones:+d} semitones; wrote {target}.")


def describe_score(score: Score, title: str) -> str:
    """A plain-text summary of `score`: tempo, time signature, length, and one line per track.

    Parameters
    ----------
    score
        The score to describe.
    title
        The first line, usually the file name.

    Returns
    -------
    str
        Several lines, with no trailing newline.
    """
    numerator, denominator = score.time_signature
    lines = [
        title,
        f"  tempo           {score.tempo:.4g} quarter notes per minute",
        f"  time signature  {numerator}/{denominator}",
        f"  resolution      {score.resolution} ticks per quarter note",
        f"  length          {score.n_bars} bars, {score.get_duration_seconds():.1f} seconds",
        f"  tracks          {len(score.tracks)}",
    ]
    if score.tracks:
        header = ("#", "name", "program", "role", "notes", "range")
        rows = [header, *(_track_row(index, track) for index, track in enumerate(score.tracks, start=1))]
        widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
        lines.append("")
        lines.extend(
            "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in rows
        )
    return "\n".join(lines)


def _track_row(index: int, track: Track) -> tuple[str, str, str, str, str, str]:
    pitches = [note.pitch for note in track.notes]
    if track.is_drum:
        program = "Drums (channel 10)"
        pitch_range = f"{len(set(pitches))} drum sounds"
    else:
        program = f"{track.program} {program_to_name(track.program)}"
        pitch_range = f"{_pitch_name(min(pitches))}-{_pitch_name(max(pitches))}" if pitches else "-"
    return (str(index), track.name or "(no name)", program, track.role, str(len(track.notes)), pitch_range)


def _pitch_name(pitch: int) -> str:
    """Scientific pitch name, middle C (60) being C4."""
    return str(pretty_midi.note_number_to_name(pitch))
