"""One entry point for score files: the reader or writer is picked by the file's suffix."""

from __future__ import annotations

import os
from pathlib import Path

from opencomposer.errors import ScoreFileError
from opencomposer.music.midi import MIDI_SUFFIXES, read_midi, write_midi
from opencomposer.music.musicxml import MUSICXML_SUFFIXES, read_musicxml
from opencomposer.music.score import Score

SCORE_SUFFIXES: tuple[str, ...] = MIDI_SUFFIXES + MUSICXML_SUFFIXES
"""Suffixes `read_score` understands (matched without regard to case)."""

WRITABLE_SUFFIXES: tuple[str, ...] = MIDI_SUFFIXES
"""Suffixes `write_score` can write."""


def read_score(path: str | os.PathLike[str]) -> Score:
    """Read a MIDI (`.mid`, `.midi`) or MusicXML (`.mxl`, `.musicxml`, `.xml`) file into a `Score`.

    Raises
    ------
    ScoreFileError
        When the suffix is not one of `SCORE_SUFFIXES`, or a MusicXML file cannot be read.
    MidiError
        When a MIDI file cannot be read.
    """
    suffix = Path(path).suffix.lower()
    if suffix in MIDI_SUFFIXES:
        return read_midi(path)
    if suffix in MUSICXML_SUFFIXES:
        return read_musicxml(path)
    raise ScoreFileError(
        f"{path} has a suffix OpenComposer cannot read; give a file ending in {', '.join(SCORE_SUFFIXES)}."
    )


def write_score(score: Score, path: str | os.PathLike[str]) -> None:
    """Write `score` to `path`, which must end in `.mid` or `.midi` (MIDI is the only format written).

    Raises
    ------
    ScoreFileError
        When the suffix is not one of `WRITABLE_SUFFIXES`.
    MidiError
        When the score cannot be written as MIDI or the file cannot be created.
    """
    if Path(path).suffix.lower() not in WRITABLE_SUFFIXES:
        raise ScoreFileError(
            f"{path} has a suffix OpenComposer cannot write; scores are saved as MIDI, so give a file ending in "
            f"{' or '.join(WRITABLE_SUFFIXES)}."
        )
    write_midi(score, path)
