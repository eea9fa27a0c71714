"""Mutopia orchestral works: 157 movements of symphonies, concertos and string-ensemble music, by family.

The files are LilyPond's MIDI output of Mutopia Project scores: one track per staff, each on the General
MIDI program its typesetter chose, at 384 ticks per quarter note (kept: the scores' own grid). Reading
a movement:

1. Sort its tracks into families by program (`family_of_program`): strings (Violin to Contrabass,
   string ensembles), woodwinds, brass, and Other (harp, timpani, keyboards, guitars and anything else;
   the typesetters' programs are sometimes not the instrument, as the dataset's README warns).
2. Skip the movement when its tracks fall into fewer than two families (the Art of Fugue files, all on
   piano, or a string ensemble alone): they have no orchestral texture to learn from.
3. Take out the one track that carries the tune (`melody_track_index`) as the Melody track, and merge
   the rest of each family into the Strings, Winds, Brass and Other tracks.

Piece ids are the `id` column of `pieces.csv` (`mutopia-orchestral/BachJS/BWV1042/concerto-in-e-major#1`).
Every piece has its own licence (Public Domain, CC BY 3.0, CC BY-SA 3.0 or 4.0): `mutopia_index()` gives
it per piece, with its typesetter, to credit. There is no published split, but the movements of one
work must not be in two splits, so `Piece.split` is the work's (the `piece` column): 80/10/10 of the
works, ranked by a hash of their paths (`work_splits`).
"""

from __future__ import annotations

import csv
import functools
import hashlib
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from opencomposer.data.download import require_data_file, require_data_folder
from opencomposer.data.registry import SPLITS, Dataset, DatasetInfo, Piece, TrackSlot, register, skip_item
from opencomposer.errors import DatasetError, OpenComposerError, UnknownNameError
from opencomposer.music.midi import read_midi
from opencomposer.music.score import Score, Track

TRACKS = (
    TrackSlot("Melody", "melody", program=40),
    TrackSlot("Strings", "accompaniment", program=48),
    TrackSlot("Winds", "accompaniment", program=73),
    TrackSlot("Brass", "accompaniment", program=61),
    TrackSlot("Other", "accompaniment", program=0),
)
FAMILIES = ("strings", "winds", "brass", "other")
"""The families, in the order of their tracks after the Melody track."""

_HARP, _TIMPANI = 46, 47
# Families whose tracks may carry the tune: a solo or first violin, a flute, an oboe, a clarinet.
_MELODY_FAMILIES = ("strings", "winds")
_ENSEMBLES = range(48, 52)
"""String Ensemble 1 and 2, Synth Strings 1 and 2: a whole section written on one staff (the Eroica's strings, in
chords from the basses up), which is never the tune."""


def family_of_program(program: int) -> str:
    """The orchestral family of a General MIDI program: "strings", "winds", "brass" or "other".

    Strings are programs 40-51 (Violin to Synth Strings 2) except Orchestral Harp (46) and Timpani (47);
    winds are 64-79 (Soprano Sax to Ocarina); brass 56-63 (Trumpet to Synth Brass 2); the rest is other.
    """
    if 40 <= program <= 51 and program not in (_HARP, _TIMPANI):
        return "strings"
    if 64 <= program <= 79:
        return "winds"
    if 56 <= program <= 63:
        return "brass"
    return "other"


def melody_track_index(tracks: Sequence[Track]) -> int | None:
    """The position of the track that carries the tune, among string and woodwind tracks; None when none has notes.

    Each candidate scores its mean pitch times the square root of its share of notes (its note count over
    the busiest candidate's): the highest, busiest part wins. Weighting by note count keeps a flute that
    doubles the violins in a few loud bars (high, but sparse) from taking the tune from the first violin
    or the soloist, who play throughout; the square root keeps a busy second violin or viola (lower, as
    many notes) from beating them. A section on one staff (a String Ensemble program) is passed over while
    any other candidate plays.
    """
    candidates = [
        (index, track)
        for index, track in enumerate(tracks)
        if track.notes and family_of_program(track.program) in _MELODY_FAMILIES
    ]
    soloists = [(index, track) for index, track in candidates if track.program not in _ENSEMBLES]
    candidates = soloists or candidates
    if not candidates:
        return None
    most_notes = max(len(track.notes) for _, track in candidates)

    def score(track: Track) -> float:
        mean_pitch = sum(note.pitch for note in track.notes) / len(track.notes)
        return mean_pitch * math.sqrt(len(track.notes) / most_notes)

    return max(candidates, key=lambda candidate: score(candidate[1]))[0]


@dataclass(frozen=True, slots=True)
class MutopiaInfo:
    """One movement of `pieces.csv`: its id, composer (as the score's header writes it), title and licence.

    `licence` is the header's text ("Public Domain", "Creative Commons Attribution-ShareAlike 3.0", ...);
    credit `typesetter` and the Mutopia Project for the CC pieces. `work` is the `piece` column, shared by
    the movements of one work, and `split` is its split (`work_splits`).
    """

    piece_id: str
    composer: str
    title: str
    licence: str
    licence_url: str
    typesetter: str
    work: str
    movement: int
    midi_file: str
    split: str


HELD_OUT_SHARE = 0.1
"""The share of the works in each of the valid and test splits."""


def work_splits(works: Iterable[str]) -> dict[str, str]:
    """ "train", "valid" or "test" for each work: 80/10/10 of the works, in the order of the sha256 of their paths.

    A work's movements stay together. The works are ranked by a hash bucket of their path (as
    `opencomposer.data.windows.split_of` draws a piece's split) and the last tenth is the test split, the tenth
    before it the valid one: a draw from the hash alone left 5 of the 76 works to test, 3 of whose movements
    the bands can play, too few to measure on.
    """

    def rank(work: str) -> tuple[int, int]:
        value = int.from_bytes(hashlib.sha256(work.encode("utf-8")).digest()[:8], "big")
        return value % 100, value

    ordered = sorted(set(works), key=rank)
    held_out = round(HELD_OUT_SHARE * len(ordered))
    first_valid, first_test = len(ordered) - 2 * held_out, len(ordered) - held_out
    return {
        work: "test" if index >= first_test else "valid" if index >= first_valid else "train"
        for index, work in enumerate(ordered)
    }


@register("mutopia-orchestral")
class MutopiaOrchestral(Dataset):
    """Orchestral and string-ensemble movements from the Mutopia Project, their staves grouped by family."""

    def __init__(self) -> None:
        self.info = DatasetInfo(
            name="mutopia-orchestral",
            title="Mutopia orchestral works",
            description=(
                "157 movements of 76 orchestral and string-ensemble works (Bach, Mozart, Beethoven, Vivaldi, ...; "
                "Baroque to Romantic) typeset by Mutopia Project volunteers and compiled to MIDI with LilyPond: "
                "the tune (first or solo violin, flute, ...) over the strings, winds, brass and other parts; the 97 "
                "movements with two instrument families or more are read. "
                "Each piece has its own licence (Public Domain, CC BY 3.0, CC BY-SA 3.0 or 4.0; see "
                "mutopia_index()): credit the typesetters and the Mutopia Project."
            ),
            genres=("classical", "baroque", "orchestral"),
            licence="Public Domain / CC BY / CC BY-SA (per piece)",
            upstream="https://github.com/MutopiaProject/MutopiaProject",
            tracks=TRACKS,
            folder="mutopia-orchestral",
            version="2",  # 2: a String Ensemble staff is never the tune; 80/10/10 of the works exactly
            expected_pieces=97,  # of the 157 movements, those with two families or more
        )

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        """Yield the movements with at least two families, in `pieces.csv` order, of one split (by work) or all.

        Raises
        ------
        UnknownNameError
            When the split is not "train", "valid" or "test".
        DatasetError
            When the dataset's files are not on this machine.
        """
        if split is not None and split not in SPLITS:
            raise UnknownNameError(
                f"The {self.info.name} dataset has no split {split!r}; use one of {', '.join(SPLITS)}."
            )
        root = require_data_folder(self.info)
        for row in mutopia_index():
            if split is not None and row.split != split:
                continue
            path = root / row.midi_file
            try:
                score = read_movement(path)
            except OpenComposerError as error:
                skip_item(str(path), str(error))
                continue
            if score is not None:
                yield Piece(id=row.piece_id, score=score, split=row.split)


def mutopia_index() -> list[MutopiaInfo]:
    """Every movement of `pieces.csv`, in file order (each `pieces.csv` is read once per process).

    Raises
    ------
    DatasetError
        When the dataset is not on this machine or `pieces.csv` is damaged.
    """
    return list(read_index(require_data_file(MutopiaOrchestral().info, "pieces.csv")))


@functools.cache
def read_index(path: Path) -> tuple[MutopiaInfo, ...]:
    """The rows of a Mutopia `pieces.csv`.

    Raises
    ------
    DatasetError
        When a row lacks a column.
    """
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    try:
        splits = work_splits(row["piece"] for row in rows)
        return tuple(
            MutopiaInfo(
                piece_id=f"mutopia-orchestral/{row['id']}",
                composer=row["composer"],
                title=row["title"],
                licence=row["licence"],
                licence_url=row["licence_url"],
                typesetter=row["typesetter"],
                work=row["piece"],
                movement=int(row["movement"]),
                midi_file=row["midi_file"],
                split=splits[row["piece"]],
            )
            for row in rows
        )
    except (KeyError, ValueError) as error:
        raise DatasetError(f"{path} is damaged ({error!r}); get the dataset folder again.") from None


def read_movement(path: Path) -> Score | None:
    """Read one movement into the Melody / Strings / Winds / Brass / Other layout (see the module docstring).

    Returns None for a movement whose tracks fall into fewer than two families: it is left out of the
    dataset on purpose, which is not a file that failed to read.

    Raises
    ------
    MidiError
        When the file cannot be read.
    """
    parsed = read_midi(path)
    if len({family_of_program(track.program) for track in parsed.tracks if track.notes}) < 2:
        return None
    melody_index = melody_track_index(parsed.tracks)
    tracks = [TRACKS[0].to_track()]
    if melody_index is not None:
        chosen = parsed.tracks[melody_index]
        tracks[0] = Track(TRACKS[0].name, chosen.program, False, chosen.notes, "melody")
    for slot, family in zip(TRACKS[1:], FAMILIES, strict=True):
        notes = [
            note
            for index, track in enumerate(parsed.tracks)
            if index != melody_index and family_of_program(track.program) == family
            for note in track.notes
        ]
        tracks.append(slot.to_track().with_notes(notes))
    return parsed.with_tracks(tracks)
