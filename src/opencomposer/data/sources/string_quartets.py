"""OpenScore String Quartets: 122 quartet movements, read from MusicXML.

The scores are `scores/<Composer>/<Work>/<file>.mxl`, one file per movement; a movement's piece id is
`string-quartets/<Composer>/<Work>/<file stem>` (the stem is OpenScore's score number, since the file
names do not say which movement they hold). Parts go to the four tracks by name: "Violin 1" / "Violin I"
to Violin 1 (the melody), "Violin 2" / "Violin II" to Violin 2, "Viola" to Viola, "Violoncello" /
"Cello" to Cello; a violin part with no number is the first violin if it comes first, else the second.
A part whose name says nothing goes by its General MIDI program (40 violin, 41 viola, 42 cello); one
movement (Janáček's first quartet) writes the cello on two parts, which are merged.

The tracks play on programs 40 (violins), 41 (viola) and 42 (cello). The score keeps the file's first
tempo mark and time signature, at 480 ticks per quarter note; repeats are not unfolded. Quartet
movements are long, and music21 takes from about 1.5 seconds (a 22 kB file) to about 40 seconds (a
typical 180 kB movement) to read one, so whole-dataset reads parse in worker processes; a file that
does not parse is skipped with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from opencomposer.data.cache import cached_reader
from opencomposer.data.download import missing_data_message, require_data_folder
from opencomposer.data.registry import (
    Dataset,
    DatasetInfo,
    Piece,
    TrackSlot,
    read_in_workers,
    refuse_split,
    register,
    skip_item,
)
from opencomposer.errors import DatasetError, OpenComposerError
from opencomposer.music.musicxml import read_musicxml
from opencomposer.music.score import Note, Score

VIOLIN_PROGRAM, VIOLA_PROGRAM, CELLO_PROGRAM = 40, 41, 42
TRACKS = (
    TrackSlot("Violin 1", "melody", program=VIOLIN_PROGRAM),
    TrackSlot("Violin 2", "accompaniment", program=VIOLIN_PROGRAM),
    TrackSlot("Viola", "accompaniment", program=VIOLA_PROGRAM),
    TrackSlot("Cello", "accompaniment", program=CELLO_PROGRAM),
)
VIOLIN_1, VIOLIN_2, VIOLA, CELLO = range(len(TRACKS))

# Checked in this order; a name naming none of them falls back on the part's General MIDI program.
_INSTRUMENT_WORDS = {
    "viola": frozenset({"viola", "bratsche", "alto"}),
    "cello": frozenset({"cello", "violoncello", "violoncelle", "basso"}),
    "violin": frozenset({"violin", "violino", "violine", "violon", "geige"}),
}
_INSTRUMENT_OF_PROGRAM = {VIOLIN_PROGRAM: "violin", VIOLA_PROGRAM: "viola", CELLO_PROGRAM: "cello"}
_FIRST_WORDS = frozenset({"1", "i", "primo"})
_SECOND_WORDS = frozenset({"2", "ii", "secondo"})
_WORD = re.compile(r"\w+")


@register("string-quartets")
class StringQuartets(Dataset):
    """OpenScore String Quartets: movements for two violins, viola and cello, from MusicXML files.

    Parameters
    ----------
    workers
        Processes parsing the MusicXML files; default `default_workers()`, 1 parses in this process.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers
        self.info = DatasetInfo(
            name="string-quartets",
            title="OpenScore String Quartets",
            description=(
                "122 string quartet movements, from Haydn, Mozart and Beethoven to the nineteenth-century "
                "composers that OpenScore volunteers transcribed: two violins, viola and cello."
            ),
            genres=("classical", "chamber music"),
            licence="CC0-1.0",
            upstream="https://github.com/OpenScore/StringQuartets",
            tracks=TRACKS,
            folder="string-quartets",
            version="2",
            expected_pieces=122,
        )

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        """Yield every movement, ordered by composer, work and file (`split` must be None: no published split).

        Raises
        ------
        UnknownNameError
            When a split is asked for.
        DatasetError
            When the dataset's files are not on this machine.
        """
        refuse_split(self.info, split)
        scores_root = require_data_folder(self.info) / "scores"
        paths = sorted(scores_root.rglob("*.mxl"))
        if not paths:
            raise DatasetError(missing_data_message(self.info, what="The MusicXML scores (scores/**/*.mxl)"))
        for path, result in read_in_workers(cached_reader(read_movement, self.info), paths, self.workers):
            if isinstance(result, OpenComposerError):
                skip_item(str(path), str(result))
                continue
            piece_id = f"{self.info.name}/{path.relative_to(scores_root).with_suffix('').as_posix()}"
            yield Piece(id=piece_id, score=result)


def read_movement(path: Path) -> Score:
    """Read one movement's MusicXML file into the dataset's layout: `read_musicxml`, then `to_layout`.

    Raises
    ------
    ScoreFileError
        When the file cannot be read.
    DatasetError
        When it has no notes, or a part is not recognisably a violin, viola or cello.
    """
    return to_layout(read_musicxml(path), str(path))


def to_layout(parsed: Score, label: str) -> Score:
    """A movement's score, one track per part named after it, gathered into Violin 1, Violin 2, Viola, Cello.

    Each part goes where `part_slot` says; two parts for one slot are merged. `label` names the movement
    in errors.

    Raises
    ------
    DatasetError
        When the movement has no notes, or a part is not recognisably a violin, viola or cello.
    """
    notes: list[list[Note]] = [[] for _ in TRACKS]
    seen_violin = False
    for track in parsed.tracks:
        slot = part_slot(track.name, track.program, seen_violin)
        if slot is None:
            raise DatasetError(
                f"{label} has a part called {track.name!r} (program {track.program}) that is not a violin, viola "
                "or cello; it is left out of the dataset."
            )
        seen_violin = seen_violin or slot in (VIOLIN_1, VIOLIN_2)
        notes[slot].extend(track.notes)
    score = parsed.with_tracks([slot.to_track().with_notes(part) for slot, part in zip(TRACKS, notes, strict=True)])
    if not score.n_notes:
        raise DatasetError(f"{label} has no notes to read; it is left out of the dataset.")
    return score


def part_slot(name: str, program: int, after_a_violin: bool) -> int | None:
    """The layout position (VIOLIN_1, VIOLIN_2, VIOLA, CELLO) of a part, or None when it is no quartet part.

    The name decides, word by word and ignoring case; a name that names no instrument falls back on the
    program. A violin is the first or second by the number in its name ("Violin 2", "Violin II"), else
    the second when a violin part came before it (`after_a_violin`).
    """
    words = set(_WORD.findall(name.casefold()))
    named = (instrument for instrument, instrument_words in _INSTRUMENT_WORDS.items() if words & instrument_words)
    instrument = next(named, None) or _INSTRUMENT_OF_PROGRAM.get(program)
    if instrument == "viola":
        return VIOLA
    if instrument == "cello":
        return CELLO
    if instrument != "violin":
        return None
    if words & _SECOND_WORDS:
        return VIOLIN_2
    if words & _FIRST_WORDS:
        return VIOLIN_1
    return VIOLIN_2 if after_a_violin else VIOLIN_1
