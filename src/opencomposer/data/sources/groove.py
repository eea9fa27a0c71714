"""The Groove MIDI Dataset: 1,150 human drum performances on a Roland TD-11 kit, one Drums track each.

`info.csv` lists every file with its drummer, style, click tempo, beat or fill, time signature, length
and published split (train 897, validation 124, test 129). Reading a file:

- The TD-11 sends note numbers of its own (22 and 26 are hi-hat edge hits, 58 a tom rim, 52-59 cymbal
  zones), so every note is mapped onto the nine classes of the GMD paper (Magenta's
  `ROLAND_DRUM_PITCH_CLASSES`) and played as the General MIDI note of its class (`TD11_TO_GM`).
- Timing stays as played, in the file's ticks (480 per quarter note); the tempo is the click's `bpm`.
- A performance ends at `duration` (hi-hat pedal controllers run on after the last note in 182 files):
  a note is cut there.

Piece ids are the MIDI paths without `.mid`: `groove/drummer1/session1/102_funk_95_beat_4-4`.
`groove_index()` gives each file's metadata without reading any MIDI, so callers can filter by style,
drummer or beat/fill before reading.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from opencomposer.data.download import require_data_file, require_data_folder
from opencomposer.data.registry import SPLITS, Dataset, DatasetInfo, Piece, TrackSlot, register, skip_item
from opencomposer.errors import DatasetError, OpenComposerError, UnknownNameError
from opencomposer.music.midi import read_midi
from opencomposer.music.score import Note, Score

TRACKS = (TrackSlot("Drums", "other", program=0, is_drum=True),)

GM_DRUM_CLASSES: dict[str, int] = {
    "kick": 36,
    "snare": 38,
    "closed hi-hat": 42,
    "open hi-hat": 46,
    "low tom": 43,
    "mid tom": 47,
    "high tom": 50,
    "crash": 49,
    "ride": 51,
}
"""The nine drum classes of the GMD paper, each with the General MIDI note that plays it."""

# Magenta's ROLAND_DRUM_PITCH_CLASSES: the TD-11 notes of each class (groove/README.md).
_TD11_NOTES_OF_CLASS: dict[str, tuple[int, ...]] = {
    "kick": (36,),
    "snare": (38, 37, 40),
    "closed hi-hat": (42, 22, 44),
    "open hi-hat": (46, 26),
    "low tom": (43, 58),
    "mid tom": (47, 45),
    "high tom": (50, 48),
    "crash": (49, 52, 55, 57),
    "ride": (51, 53, 59),
}

TD11_TO_GM: dict[int, int] = {
    td11: GM_DRUM_CLASSES[name] for name, notes in _TD11_NOTES_OF_CLASS.items() for td11 in notes
}
"""Each TD-11 note number the dataset uses -> the General MIDI note of its class."""

_SPLIT_NAMES = {"train": "train", "validation": "valid", "test": "test"}


@dataclass(frozen=True, slots=True)
class GrooveInfo:
    """One row of `info.csv`: a performance's metadata.

    `style` is the drummer's full label (``funk/purdieshuffle``), `primary_style` its part before "/";
    `beat_type` is "beat" or "fill"; `time_signature` is written with a dash (``4-4``); `duration` is
    in seconds; `split` is "train", "valid" or "test".
    """

    piece_id: str
    drummer: str
    style: str
    primary_style: str
    bpm: float
    beat_type: str
    time_signature: str
    duration: float
    split: str

    @property
    def midi_filename(self) -> str:
        """The MIDI file's path inside the dataset folder."""
        return self.piece_id.removeprefix("groove/") + ".mid"


@register("groove")
class Groove(Dataset):
    """The Groove MIDI Dataset (Magenta): drum performances, mapped onto nine General MIDI drum classes."""

    def __init__(self) -> None:
        self.info = DatasetInfo(
            name="groove",
            title="Groove MIDI Dataset",
            description=(
                "1,150 human drum performances (13.6 hours: grooves and fills in 18 styles, by 10 drummers) "
                "recorded on a Roland TD-11 kit, with expressive timing and velocity; the kit's notes are "
                "mapped onto nine General MIDI drum classes. By Gillick, Roberts, Engel, Eck and Bamman "
                "(Google Magenta), 'Learning to Groove with Inverse Sequence Transformations', ICML 2019: "
                "credit them (CC BY 4.0)."
            ),
            genres=("rock", "funk", "jazz", "latin", "hiphop", "soul"),
            licence="CC BY 4.0",
            upstream="https://magenta.tensorflow.org/datasets/groove",
            tracks=TRACKS,
            folder="groove",
            version="1",
            expected_pieces=1150,
            has_published_split=True,
        )

    def iter_pieces(
        self, split: str | None = None, *, style: str | None = None, beat_type: str | None = None
    ) -> Iterator[Piece]:
        """Yield the performances in `info.csv` order: of one split, one primary style, beats or fills.

        Parameters
        ----------
        split
            "train", "valid" or "test"; None for all.
        style
            A primary style ("rock", "funk", "jazz", ...); None for all.
        beat_type
            "beat" or "fill"; None for both.

        Raises
        ------
        UnknownNameError
            When the split or beat type is not one the dataset has.
        DatasetError
            When the dataset's files are not on this machine.
        """
        if split is not None and split not in SPLITS:
            raise UnknownNameError(f"The groove dataset has no split {split!r}; use one of {', '.join(SPLITS)}.")
        if beat_type is not None and beat_type not in ("beat", "fill"):
            raise UnknownNameError(f"{beat_type!r} is not a Groove beat type; use 'beat' or 'fill'.")
        root = require_data_folder(self.info)
        for row in groove_index():
            if (split and row.split != split) or (style and row.primary_style != style):
                continue
            if beat_type and row.beat_type != beat_type:
                continue
            path = root / row.midi_filename
            try:
                score = read_performance(path, bpm=row.bpm, duration_seconds=row.duration)
            except OpenComposerError as error:
                skip_item(str(path), str(error))
                continue
            yield Piece(id=row.piece_id, score=score, split=row.split)


def groove_index() -> list[GrooveInfo]:
    """Every row of the Groove dataset's `info.csv`, in file order (each `info.csv` is read once per process).

    Raises
    ------
    DatasetError
        When the dataset is not on this machine or `info.csv` is damaged.
    """
    return list(read_index(require_data_file(Groove().info, "info.csv")))


@functools.cache
def read_index(path: Path) -> tuple[GrooveInfo, ...]:
    """The rows of a Groove `info.csv`.

    Raises
    ------
    DatasetError
        When a row lacks a column or holds a number that is not one.
    """
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    index = []
    for number, row in enumerate(rows, start=2):
        try:
            midi_filename = row["midi_filename"]
            index.append(
                GrooveInfo(
                    piece_id=f"groove/{midi_filename.removesuffix('.mid')}",
                    drummer=row["drummer"],
                    style=row["style"],
                    primary_style=row["style"].partition("/")[0],
                    bpm=float(row["bpm"]),
                    beat_type=row["beat_type"],
                    time_signature=row["time_signature"],
                    duration=float(row["duration"]),
                    split=_SPLIT_NAMES[row["split"]],
                )
            )
        except (KeyError, ValueError) as error:
            raise DatasetError(f"Line {number} of {path} is damaged ({error}); download the dataset again.") from None
    return tuple(index)


def read_performance(path: Path, *, bpm: float, duration_seconds: float) -> Score:
    """Read one Groove MIDI file: its notes mapped to the nine GM classes, at `bpm`, cut at `duration_seconds`.

    Raises
    ------
    MidiError
        When the file cannot be read.
    DatasetError
        When it holds a note number that is not one of the TD-11's (`TD11_TO_GM`).
    """
    parsed = read_midi(path)
    score = replace(parsed, tempo=bpm, tempo_changes=())
    end = score.seconds_to_ticks(duration_seconds)
    notes = []
    for track in parsed.tracks:
        for note in track.notes:
            if note.start >= end:
                continue
            pitch = TD11_TO_GM.get(note.pitch)
            if pitch is None:
                raise DatasetError(f"{path} has the drum note {note.pitch}, which a TD-11 does not send.")
            notes.append(Note(pitch, note.start, max(1, min(note.duration, end - note.start)), note.velocity))
    return score.with_tracks([TRACKS[0].to_track().with_notes(notes)])
