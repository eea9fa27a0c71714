"""OpenEWLD: 502 lead sheets from the Wikifonia archive (songs and standards of c. 1855-1955), a melody over chords.

Each lead sheet is a compressed MusicXML file (`dataset/<Authors>/<Title>/<Title>.mxl`) with one staff of
melody and chord symbols; `OpenEWLD.db` (SQLite) holds the titles, first-performance dates and Discogs
genre and style tags. Reading a lead sheet with music21:

- Melody: the staff's notes (ties joined), at 480 ticks per quarter note, moved by the pick-up's missing
  beats so that bars start on bar lines. Repeats are not unfolded. Tempo: the first metronome mark, else
  120; metre: the first time signature, else 4/4 (the database's `metric` and `tonality` are unreliable).
- Chords: the chord symbols (music21 `ChordSymbol`: root and pitch classes, `from_pitch_classes`), one
  block chord from each change to the next, the last one to the end of the piece. When a chord changes
  under a held note the files give both symbols the same offset (678 times in 188 files): the later one,
  which sounds on to the next symbol, is kept.

Piece ids are the lead sheet's folder under `dataset/`: `openewld/Lorenz_Hart/Blue_Moon`. The database's
568 rows point to 502 files (some songs were entered 2-4 times); a file is one piece, with the genres and
styles of all its rows (`openewld_index`). There is no published split.

Licence: the upstream repository is MIT, its Discogs tags CC0 and its secondhandsongs metadata (titles,
authors, dates) CC BY-NC 3.0; the lead sheets are "intended" to be public domain, but that was checked
for one author per song only, and 172 were first performed in 1929 or later: some melodies may still be
under copyright in some countries. A model may be trained on them; no lead sheet is shipped.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from opencomposer.data.download import require_data_file, require_data_folder
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
from opencomposer.data.sources.chord_track import ChordSpan, chord_notes
from opencomposer.errors import DatasetError
from opencomposer.music.chords import Chord, from_pitch_classes
from opencomposer.music.score import Note, Score

if TYPE_CHECKING:
    from music21 import harmony

TRACKS = (
    TrackSlot("Melody", "melody", program=0),
    TrackSlot("Chords", "accompaniment", program=0),
)
RESOLUTION = 480
MELODY_VELOCITY = 80
_DEFAULT_TEMPO_QPM = 120.0


@dataclass(frozen=True, slots=True)
class OpenEWLDInfo:
    """One lead-sheet file and what the database says of it.

    `date` is the earliest first-performance date of its rows (``YYYY-MM-DD``, day or month may be
    ``00``), None when unknown; `genres` and `styles` are the Discogs tags of all its rows, sorted
    (usually one genre, "Pop", "Jazz", "Rock", "Stage & Screen", ...). `leadsheet` is the `.mxl` path
    inside the dataset folder.
    """

    piece_id: str
    title: str
    date: str | None
    genres: tuple[str, ...]
    styles: tuple[str, ...]
    leadsheet: str


@register("openewld")
class OpenEWLD(Dataset):
    """The OpenEWLD lead sheets (Wikifonia): melodies with chord symbols."""

    def __init__(self) -> None:
        self.info = DatasetInfo(
            name="openewld",
            title="OpenEWLD lead sheets",
            description=(
                "502 lead sheets from the Wikifonia archive (American popular songs, show tunes, jazz standards "
                "and traditional tunes of c. 1855-1955): a melody over its chord symbols, with Discogs genre "
                "tags. By Federico Simonetta et al. (Audio Mostly 2018). The lead sheets are meant to be public "
                "domain, but this was checked for one author per song only and 172 were first performed in 1929 "
                "or later, so some may still be under copyright in some countries: trained on, none shipped."
            ),
            genres=("pop", "jazz", "standards", "folk"),
            licence="MIT; metadata CC BY-NC 3.0 / CC0; scores not verified PD",
            upstream="https://github.com/00sapo/OpenEWLD",
            tracks=TRACKS,
            folder="openewld",
            version="1",
            expected_pieces=502,
        )

    def iter_pieces(self, split: str | None = None, *, genre: str | None = None) -> Iterator[Piece]:
        """Yield the lead sheets in path order (all of them, or those tagged with one Discogs genre).

        music21 is slow (about 0.3 s a file), so files are parsed in worker processes. There is no
        published split: `split` must be None.

        Parameters
        ----------
        split
            Must be None.
        genre
            A Discogs genre as the database writes it ("Jazz", "Pop", "Rock", "Stage & Screen", ...).

        Raises
        ------
        UnknownNameError
            When a split is asked for.
        DatasetError
            When the dataset's files are not on this machine.
        """
        refuse_split(self.info, split)
        root = require_data_folder(self.info)
        rows = [row for row in openewld_index() if genre is None or genre in row.genres]
        paths = [root / row.leadsheet for row in rows]
        by_path = {root / row.leadsheet: row for row in rows}
        for path, result in read_in_workers(read_leadsheet, paths):
            if isinstance(result, Score):
                yield Piece(id=by_path[path].piece_id, score=result)
            else:
                skip_item(str(path), str(result))


def openewld_index() -> list[OpenEWLDInfo]:
    """Every lead-sheet file that `OpenEWLD.db` lists, one entry per file, in path order (read once per process).

    Raises
    ------
    DatasetError
        When the dataset is not on this machine or the database cannot be read.
    """
    return list(read_index(require_data_file(OpenEWLD().info, "OpenEWLD.db")))


@functools.cache
def read_index(path: Path) -> tuple[OpenEWLDInfo, ...]:
    """The lead sheets of an `OpenEWLD.db`, one per file, with the tags of every row that points at it.

    Raises
    ------
    DatasetError
        When the database cannot be read.
    """
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            works = db.execute(
                "select id, title, first_performance_date, path_leadsheet from works order by id"
            ).fetchall()
            genres = db.execute("select id, genre from work_genres").fetchall()
            styles = db.execute("select id, style from work_style").fetchall()
    except sqlite3.Error as error:
        raise DatasetError(f"Could not read {path} ({error}); download the dataset again.") from None
    genres_of: dict[int, set[str]] = {}
    styles_of: dict[int, set[str]] = {}
    for work, tag in genres:
        genres_of.setdefault(work, set()).add(tag)
    for work, tag in styles:
        styles_of.setdefault(work, set()).add(tag)
    files: dict[str, list[tuple[int, str, str | None]]] = {}
    for work, title, date, leadsheet in works:
        files.setdefault(leadsheet, []).append((work, title, date or None))
    index = []
    for leadsheet in sorted(files):
        rows = files[leadsheet]
        dates = sorted(date for _, _, date in rows if date)
        folder = Path(leadsheet).parent.relative_to("dataset").as_posix()
        index.append(
            OpenEWLDInfo(
                piece_id=f"openewld/{folder}",
                title=rows[0][1],
                date=dates[0] if dates else None,
                genres=tuple(sorted(set().union(*(genres_of.get(work, set()) for work, _, _ in rows)))),
                styles=tuple(sorted(set().union(*(styles_of.get(work, set()) for work, _, _ in rows)))),
                leadsheet=leadsheet,
            )
        )
    return tuple(index)


def read_leadsheet(path: Path) -> Score:
    """Read one lead sheet into the Melody / Chords layout (see the module docstring).

    Raises
    ------
    DatasetError
        When music21 cannot read the file, or it has no notes.
    """
    from music21 import converter, harmony, meter, stream, tempo  # slow to import: only where used

    try:
        # forceSource: never read or leave behind music21's pickled copies of parsed files.
        parsed = converter.parse(path, forceSource=True)
        part = parsed.parts[0] if isinstance(parsed, stream.Score) else parsed
        measures = part.getElementsByClass(stream.Measure)
        # A pick-up bar starts at offset 0; moving by its missing beats puts bar lines on bar boundaries.
        shift = float(measures[0].paddingLeft) if measures else 0.0
        flat = part.stripTies().flatten()
        melody = [
            Note(pitch.midi, _ticks(element.offset, shift), _ticks(element.quarterLength), MELODY_VELOCITY)
            for element in flat.notes
            if not isinstance(element, harmony.ChordSymbol) and element.quarterLength > 0
            for pitch in element.pitches
        ]
        symbols: dict[int, Chord | None] = {}
        for symbol in flat.getElementsByClass(harmony.ChordSymbol):
            # Later symbols at the same offset overwrite earlier ones: the chord that sounds on is kept.
            symbols[_ticks(symbol.offset, shift)] = _chord_of(symbol)
        end = _ticks(flat.highestTime, shift)
        marks = list(flat.getElementsByClass(tempo.MetronomeMark))
        signatures = list(flat.getElementsByClass(meter.TimeSignature))
        qpm = marks[0].getQuarterBPM() if marks else None
        time_signature = (signatures[0].numerator, signatures[0].denominator) if signatures else (4, 4)
    except Exception as error:
        # music21 raises many exception types for a bad file (XML, zip, its own); all mean it cannot be read.
        raise DatasetError(f"music21 could not read {path} ({type(error).__name__}: {error}).") from None
    if not melody:
        raise DatasetError(f"{path} has no notes.")
    starts = sorted(symbols)
    spans = [
        ChordSpan(start, starts[index + 1] if index + 1 < len(starts) else max(end, start), symbols[start])
        for index, start in enumerate(starts)
    ]
    tracks = (TRACKS[0].to_track().with_notes(melody), TRACKS[1].to_track().with_notes(chord_notes(_merged(spans))))
    return Score(
        resolution=RESOLUTION,
        tempo=float(qpm) if qpm else _DEFAULT_TEMPO_QPM,
        time_signature=time_signature,
        tracks=tracks,
    )


def _ticks(quarters: float | Fraction, shift: float = 0.0) -> int:
    return round((float(quarters) + shift) * RESOLUTION)


def _chord_of(symbol: harmony.ChordSymbol) -> Chord | None:
    """The chord a music21 ChordSymbol names; None for "N.C." or a symbol without pitches."""
    from music21 import harmony

    if isinstance(symbol, harmony.NoChord) or not symbol.pitches:
        return None
    return from_pitch_classes(symbol.root().pitchClass, [pitch.pitchClass for pitch in symbol.pitches])


def _merged(spans: list[ChordSpan]) -> list[ChordSpan]:
    """Join neighbouring spans of the same chord into one block."""
    merged: list[ChordSpan] = []
    for span in spans:
        if merged and merged[-1].chord == span.chord and merged[-1].end == span.start:
            merged[-1] = merged[-1]._replace(end=span.end)
        else:
            merged.append(span)
    return merged
