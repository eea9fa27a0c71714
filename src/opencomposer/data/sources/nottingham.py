"""The Nottingham folk tunes: 1,034 British and Irish dance tunes, a melody over chords.

The files (`MIDI/*.mid`, from Jukedeck's cleaned ABC) are type 1 with two unnamed tracks on channel 1,
at 1024 ticks per quarter note, with no tempo event (so 120 quarter notes per minute). Which track is
which was checked against the dataset's own `MIDI/melody/` and `MIDI/chords/` files: the first is the
melody (note for note the same as `MIDI/melody/` in 1,029 files, and in the other 5 only the order of
two simultaneous notes differs) and the second holds the chords (block chords below the tune; 13 tunes
have no chords, so their second track is empty and their Chords track stays empty).

Both tracks get program 0 (Acoustic Grand Piano), which is what the files play them on. Piece ids are
the file names: `nottingham/ashover1`, `nottingham/jigs10`, ... Some tunes change meter (a 3/4 tune
with a 2/4 bar); as everywhere, the score keeps the first time signature.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from opencomposer.data.download import require_data_folder
from opencomposer.data.registry import Dataset, DatasetInfo, Piece, TrackSlot, refuse_split, register, skip_item
from opencomposer.errors import DatasetError, OpenComposerError
from opencomposer.music.midi import read_midi
from opencomposer.music.score import Score

TRACKS = (
    TrackSlot("Melody", "melody", program=0),
    TrackSlot("Chords", "accompaniment", program=0),
)


@register("nottingham")
class Nottingham(Dataset):
    """The Nottingham Music Database of folk tunes, as cleaned and converted to MIDI by Jukedeck."""

    def __init__(self) -> None:
        self.info = DatasetInfo(
            name="nottingham",
            title="Nottingham folk tunes",
            description=(
                "1,034 British and Irish folk dance tunes (jigs, reels, hornpipes, waltzes, ...) from the "
                "Nottingham Music Database: a melody over block chords."
            ),
            genres=("folk",),
            licence="GPL-3.0",
            upstream="https://github.com/jukedeck/nottingham-dataset",
            tracks=TRACKS,
            folder="nottingham",
            version="1",
            expected_pieces=1034,
        )

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        """Yield every tune in file-name order (there is no published split: `split` must be None).

        Raises
        ------
        UnknownNameError
            When a split is asked for.
        DatasetError
            When the dataset's files are not on this machine.
        """
        refuse_split(self.info, split)
        for path in tune_files(require_data_folder(self.info)):
            try:
                score = read_tune(path)
            except OpenComposerError as error:
                skip_item(str(path), str(error))
                continue
            yield Piece(id=f"{self.info.name}/{path.stem}", score=score)


def tune_files(root: Path) -> list[Path]:
    """The tunes' MIDI files under a Nottingham folder (`MIDI/*.mid`, not the melody and chord copies), by name."""
    return sorted((root / "MIDI").glob("*.mid"))


def read_tune(path: Path) -> Score:
    """Read one tune into the dataset's layout: the file's first track is the melody, the second the chords.

    Raises
    ------
    MidiError
        When the file cannot be read.
    DatasetError
        When it has no notes, or more than the two tracks of a Nottingham tune.
    """
    parsed = read_midi(path)
    # read_midi drops empty tracks: a tune without chords comes back with its melody alone.
    if not 1 <= len(parsed.tracks) <= len(TRACKS):
        raise DatasetError(
            f"{path} has {len(parsed.tracks)} tracks with notes, not a melody and a chord track; "
            "download the dataset again."
        )
    tracks = [slot.to_track() for slot in TRACKS]
    for index, track in enumerate(parsed.tracks):
        tracks[index] = tracks[index].with_notes(track.notes)
    return parsed.with_tracks(tracks)
