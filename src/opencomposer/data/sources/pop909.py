"""POP909: 909 Chinese pop songs arranged for piano, with chord, beat and key annotations.

Each song folder `NNN/` holds `NNN.mid` (tracks MELODY, BRIDGE and PIANO, all on program 0) and the
annotations `chord_midi.txt`, `beat_midi.txt` and `key_audio.txt`, with times in seconds. Reading a song:

- MELODY becomes the Melody track (role melody), BRIDGE (a secondary melody) and PIANO the Bridge and
  Piano tracks (role accompaniment); every track keeps the file's program, 0 (Acoustic Grand Piano),
  since POP909 is a piano arrangement dataset. Tracks with other names are not part of the layout.
- The songs follow the tempo of the original recordings, so 365 of them change tempo; the score keeps
  the file's tempo map. The annotations' seconds are turned into ticks with that map, so they line up
  with the notes.
- 617 files declare a 1/4 time signature, a placeholder of the tool that made them. For those, the meter
  comes from `beat_midi.txt`, whose second column marks bars of two or three beats: songs counted in
  twos are read in 4/4 (as 258 of the 280 such songs that declare a meter do), songs in three in 3/4.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
from symusic.core import ScoreTick

from opencomposer.data.download import require_data_folder
from opencomposer.data.registry import Dataset, DatasetInfo, Piece, TrackSlot, refuse_split, register, skip_item
from opencomposer.errors import DatasetError, OpenComposerError, UnknownNameError
from opencomposer.music.midi import read_midi
from opencomposer.music.score import Score

TRACKS = (
    TrackSlot("Melody", "melody", program=0),
    TrackSlot("Bridge", "accompaniment", program=0),
    TrackSlot("Piano", "accompaniment", program=0),
)
# The name of each layout track in the MIDI files, in layout order.
_FILE_TRACK_NAMES = ("MELODY", "BRIDGE", "PIANO")
_SONG_FOLDER = re.compile(r"^\d{3}$")
_MICROSECONDS_PER_SECOND = 1_000_000
_DEFAULT_MICROSECONDS_PER_QUARTER = 500_000  # 120 quarter notes per minute, the MIDI default
_FIELDS_PER_LINE = 3  # every annotation file: chords and keys (start, end, label), beats (time, two flags)
_PITCH_CLASS_OF_LETTER = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# The chord qualities of POP909's labels (Harte's syntax), as intervals in semitones above the root.
CHORD_QUALITY_INTERVALS: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus2": (0, 2, 7),
    "sus4": (0, 5, 7),
    "maj6": (0, 4, 7, 9),
    "min6": (0, 3, 7, 9),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "minmaj7": (0, 3, 7, 11),
    "dim7": (0, 3, 6, 9),
    "hdim7": (0, 3, 6, 10),
    "sus4(b7)": (0, 5, 7, 10),
}
NO_CHORD = "N"


@dataclass(frozen=True, slots=True)
class Chord:
    """One chord of `chord_midi.txt`: a label such as "B:maj", "A:min7/b7" or "N" (no chord) over a span."""

    start_seconds: float
    end_seconds: float
    start_ticks: int
    end_ticks: int
    label: str

    @property
    def root_pitch_class(self) -> int | None:
        """The root as a pitch class (C = 0 ... B = 11); None for "N"."""
        if self.label == NO_CHORD:
            return None
        return note_name_to_pitch_class(self.label.partition(":")[0])

    @property
    def quality(self) -> str:
        """The quality between ":" and any "/bass" ("maj", "min7", "sus4(b7)"); "" for "N"."""
        if self.label == NO_CHORD:
            return ""
        return self.label.partition(":")[2].partition("/")[0]

    @property
    def pitch_classes(self) -> tuple[int, ...]:
        """The sorted pitch classes the chord holds; () for "N". An inversion ("/3") holds the same ones.

        Raises
        ------
        DatasetError
            When the quality is not one of `CHORD_QUALITY_INTERVALS`.
        """
        root = self.root_pitch_class
        if root is None:
            return ()
        intervals = CHORD_QUALITY_INTERVALS.get(self.quality)
        if intervals is None:
            raise DatasetError(
                f"The chord {self.label!r} has the quality {self.quality!r}, which is not one of POP909's "
                f"({', '.join(CHORD_QUALITY_INTERVALS)}); check that the annotation file is POP909's own."
            )
        return tuple(sorted((root + interval) % 12 for interval in intervals))


@dataclass(frozen=True, slots=True)
class Key:
    """One key of `key_audio.txt` ("Gb:maj", "E:min") over a span."""

    start_seconds: float
    end_seconds: float
    start_ticks: int
    end_ticks: int
    label: str

    @property
    def tonic_pitch_class(self) -> int:
        """The tonic as a pitch class (C = 0 ... B = 11)."""
        return note_name_to_pitch_class(self.label.partition(":")[0])

    @property
    def mode(self) -> str:
        """ "maj" or "min"."""
        return self.label.partition(":")[2]


@dataclass(frozen=True, slots=True)
class Beat:
    """One beat of `beat_midi.txt` (a quarter note of the MIDI file) and whether a bar starts on it."""

    seconds: float
    ticks: int
    is_downbeat: bool


@dataclass(frozen=True, slots=True)
class Pop909Annotations:
    """The chords, beats and keys of one POP909 song, with times in seconds and in the score's ticks.

    `beats_per_bar` is 4 for songs that `beat_midi.txt` counts in twos and 3 for songs it counts in
    threes; `Beat.is_downbeat` marks the first beat of such bars. The key times come from the analysis of
    the original audio, which the MIDI files follow.
    """

    piece_id: str
    beats_per_bar: int
    chords: tuple[Chord, ...]
    beats: tuple[Beat, ...]
    keys: tuple[Key, ...]


@register("pop909")
class Pop909(Dataset):
    """POP909: 909 pop songs, melody plus piano accompaniment, with chord, beat and key annotations."""

    def __init__(self) -> None:
        self.info = DatasetInfo(
            name="pop909",
            title="POP909",
            description=(
                "909 Chinese pop songs arranged for piano by professional musicians: the sung melody, a "
                "secondary melody (bridge) and the piano accompaniment, with chord, beat and key annotations."
            ),
            genres=("pop",),
            licence="MIT",
            upstream="https://github.com/music-x-lab/POP909-Dataset",
            tracks=TRACKS,
            folder="pop909",
            version="1",
            expected_pieces=909,
        )

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        """Yield every song in the order of its number (there is no published split: `split` must be None).

        Raises
        ------
        UnknownNameError
            When a split is asked for.
        DatasetError
            When the dataset's files are not on this machine.
        """
        refuse_split(self.info, split)
        for folder in song_folders(require_data_folder(self.info)):
            midi_path = folder / f"{folder.name}.mid"
            try:
                score = read_song(midi_path)
            except OpenComposerError as error:
                skip_item(str(midi_path), str(error))
                continue
            yield Piece(id=f"{self.info.name}/{folder.name}", score=score)

    def annotations(self, piece_id: str) -> Pop909Annotations:
        """The chords, beats and keys of one song, by piece id ("pop909/001") or song number ("001").

        Raises
        ------
        UnknownNameError
            When there is no such song.
        DatasetError
            When the dataset is not on this machine, or the song's annotation files are missing or damaged.
        """
        number = piece_id.removeprefix(f"{self.info.name}/")
        folder = require_data_folder(self.info) / number
        if not (_SONG_FOLDER.match(number) and folder.is_dir()):
            raise UnknownNameError(
                f"There is no POP909 song {piece_id!r}; give an id such as 'pop909/001' (songs 001 to 909)."
            )
        return read_annotations(folder, piece_id=f"{self.info.name}/{number}")


def song_folders(root: Path) -> list[Path]:
    """The song folders (`001` ... `909`) under a POP909 folder, in order."""
    return sorted(path for path in root.iterdir() if path.is_dir() and _SONG_FOLDER.match(path.name))


def read_song(midi_path: Path) -> Score:
    """Read one POP909 MIDI file into the dataset's layout (Melody, Bridge, Piano).

    Raises
    ------
    MidiError
        When the MIDI file cannot be read.
    DatasetError
        When it has no notes, or its meter must come from a missing or damaged `beat_midi.txt`.
    """
    parsed = read_midi(midi_path)
    if not parsed.n_notes:
        raise DatasetError(f"{midi_path} has no notes; download the dataset again.")
    tracks = []
    for slot, file_name in zip(TRACKS, _FILE_TRACK_NAMES, strict=True):
        notes = [note for track in parsed.tracks if track.name.strip().upper() == file_name for note in track.notes]
        tracks.append(slot.to_track().with_notes(notes))
    score = parsed.with_tracks(tracks)
    if score.time_signature[0] == 1:
        beats_per_bar = annotated_beats_per_bar(_read_beat_rows(midi_path.parent / "beat_midi.txt"))
        return replace(score, time_signature=(beats_per_bar, 4))
    return score


def read_annotations(folder: Path, piece_id: str) -> Pop909Annotations:
    """Read the chord, beat and key files of one song folder, with ticks from its MIDI file's tempo map.

    Raises
    ------
    DatasetError
        When a file is missing or damaged.
    """
    tempo_map = TempoMap.from_midi_file(folder / f"{folder.name}.mid")
    beat_rows = _read_beat_rows(folder / "beat_midi.txt")
    beats_per_bar = annotated_beats_per_bar(beat_rows)
    # The second column marks bars of 2 or 3 beats and the third pairs of them: a 4/4 bar is such a pair.
    is_downbeat = beat_rows[:, 2 if beats_per_bar == 4 else 1] == 1.0
    beat_ticks = tempo_map.seconds_to_ticks(beat_rows[:, 0])
    beats = tuple(map(Beat, beat_rows[:, 0].tolist(), beat_ticks.tolist(), is_downbeat.tolist()))
    return Pop909Annotations(
        piece_id=piece_id,
        beats_per_bar=beats_per_bar,
        chords=tuple(Chord(*span) for span in _read_spans(folder / "chord_midi.txt", tempo_map)),
        beats=beats,
        keys=tuple(Key(*span) for span in _read_spans(folder / "key_audio.txt", tempo_map)),
    )


def annotated_beats_per_bar(beat_rows: npt.NDArray[np.float64]) -> int:
    """The beats per bar (4 or 3) of the meter that the rows of a song's `beat_midi.txt` describe.

    The second column is 1 on the first beat of each bar of two or three beats; the most common gap
    between those says which (a few songs change meter for a bar or two). Songs counted in twos are in 4/4.
    """
    gaps = np.diff(np.flatnonzero(beat_rows[:, 1] == 1.0))
    counted_in_threes = gaps.size > 0 and int(np.bincount(gaps).argmax()) == 3
    return 3 if counted_in_threes else 4


@dataclass(frozen=True, slots=True)
class TempoMap:
    """A MIDI file's tempo changes, to turn seconds into ticks.

    `ticks[i]` and `seconds[i]` are when tempo `i` starts; it lasts `seconds_per_tick[i]` per tick.
    """

    ticks: npt.NDArray[np.float64]
    seconds: npt.NDArray[np.float64]
    seconds_per_tick: npt.NDArray[np.float64]

    @classmethod
    def from_midi_file(cls, path: Path) -> TempoMap:
        """The tempo map of a MIDI file (120 quarter notes per minute until its first tempo event).

        Raises
        ------
        DatasetError
            When the file cannot be read.
        """
        try:
            parsed = ScoreTick.from_midi(path.read_bytes())
        except OSError as error:
            raise DatasetError(
                f"Could not read {path} ({error.strerror or error}); download the dataset again."
            ) from None
        except RuntimeError as error:
            # symusic reports every malformed file as a RuntimeError.
            raise DatasetError(f"{path} is a damaged MIDI file ({error}); download the dataset again.") from None
        columns = parsed.tempos.numpy()
        order = np.argsort(columns["time"], kind="stable")
        change_ticks = np.concatenate([[0.0], columns["time"][order].astype(np.float64)])
        microseconds = np.concatenate([[_DEFAULT_MICROSECONDS_PER_QUARTER], columns["mspq"][order]]).astype(np.float64)
        seconds_per_tick = microseconds / _MICROSECONDS_PER_SECOND / int(parsed.ticks_per_quarter)
        change_seconds = np.concatenate([[0.0], np.cumsum(np.diff(change_ticks) * seconds_per_tick[:-1])])
        return cls(ticks=change_ticks, seconds=change_seconds, seconds_per_tick=seconds_per_tick)

    def seconds_to_ticks(self, seconds: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """The nearest tick to each time in seconds."""
        # side="right": of several tempo events on one tick, the last one is the tempo that plays.
        index = np.maximum(np.searchsorted(self.seconds, seconds, side="right") - 1, 0)
        ticks = self.ticks[index] + (seconds - self.seconds[index]) / self.seconds_per_tick[index]
        return np.rint(ticks).astype(np.int64)


def note_name_to_pitch_class(name: str) -> int:
    """The pitch class of a note name such as "C", "F#", "Bb" or "Ebb" (C = 0 ... B = 11).

    Raises
    ------
    DatasetError
        When `name` is not a note letter A-G followed by sharps (#) or flats (b).
    """
    letter, accidentals = name[:1], name[1:]
    if letter not in _PITCH_CLASS_OF_LETTER or accidentals.strip("#b") or ("#" in accidentals and "b" in accidentals):
        raise DatasetError(f"{name!r} is not a note name such as 'C', 'F#' or 'Bb'; check the annotation file.")
    return (_PITCH_CLASS_OF_LETTER[letter] + accidentals.count("#") - accidentals.count("b")) % 12


def _read_spans(path: Path, tempo_map: TempoMap) -> list[tuple[float, float, int, int, str]]:
    """The (start s, end s, start ticks, end ticks, label) rows of a chord or key file."""
    rows = _read_fields(path)
    try:
        seconds = np.array([[float(row[0]), float(row[1])] for row in rows], dtype=np.float64).reshape(-1, 2)
    except ValueError as error:
        raise DatasetError(f"{path} has a time that is not a number ({error}); download the dataset again.") from None
    ticks = tempo_map.seconds_to_ticks(seconds)
    return [
        (start, end, start_ticks, end_ticks, row[2])
        for (start, end), (start_ticks, end_ticks), row in zip(seconds.tolist(), ticks.tolist(), rows, strict=True)
    ]


def _read_beat_rows(path: Path) -> npt.NDArray[np.float64]:
    """The rows (time s, first beat of a 2- or 3-beat bar, first beat of a pair of such bars) of a beat file."""
    rows = _read_fields(path)
    try:
        return np.array(rows, dtype=np.float64).reshape(-1, _FIELDS_PER_LINE)
    except ValueError as error:
        raise DatasetError(f"{path} has a field that is not a number ({error}); download the dataset again.") from None


def _read_fields(path: Path) -> list[list[str]]:
    """The whitespace-separated fields of each non-blank line of an annotation file (three per line)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise DatasetError(f"Could not read {path} ({error.strerror or error}); download the dataset again.") from None
    rows = [line.split() for line in lines if line.strip()]
    for number, row in enumerate(rows, start=1):
        if len(row) != _FIELDS_PER_LINE:
            raise DatasetError(
                f"Line {number} of {path} has {len(row)} fields instead of {_FIELDS_PER_LINE}; "
                "download the dataset again."
            )
    return rows
