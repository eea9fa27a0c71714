"""The Bach chorales bundled with music21, as four-voice SATB scores.

`music21.corpus.chorales.Iterator()` walks Riemenschneider's collection of 371 chorales, but music21
maps 21 of those numbers to a file that an earlier number already gave (Riemenschneider printed some
chorales twice), so there are 350 distinct chorales: each is read once, in Riemenschneider order, and
its id is its file name (`bach-chorales/bwv269`, `bach-chorales/bwv18.5-lz`). Reading them twice would
put the same music into two windows and, as the dataset has no published split, possibly into both the
training and the test set.

Some chorales carry instrumental parts besides the choir (horns, trumpets, continuo, ...). The four
voices are picked by part name ("Soprano", "Soprano 1", "Soprano Oboe 1 Violin1", ... for the soprano);
a file with exactly four unnamed parts is read top to bottom. A voice that cannot be found, or a file
music21 cannot read, makes the chorale skipped with a warning. MusicXML parsing takes about 0.3 s per
chorale, so the files are read in worker processes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from opencomposer.data.cache import cached_reader
from opencomposer.data.registry import Dataset, DatasetInfo, Piece, read_in_workers, refuse_split, register, skip_item
from opencomposer.data.sources.jsb import SATB_TRACKS
from opencomposer.errors import DatasetError, OpenComposerError
from opencomposer.music.io import read_score
from opencomposer.music.score import Score, Track

# The kinds of file music21's corpus holds a chorale in that `read_score` reads, most preferred first.
_READABLE_SUFFIXES = (".mxl", ".musicxml", ".xml")


@register("bach-chorales")
class BachChorales(Dataset):
    """The 350 distinct four-voice Bach chorales of music21's corpus (Riemenschneider's 371, less repeats).

    Parameters
    ----------
    workers
        Processes parsing the MusicXML files; default `default_workers()`, 1 parses in this process.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers
        self.info = DatasetInfo(
            name="bach-chorales",
            title="Bach chorales (music21 corpus)",
            description=(
                "Bach's four-part chorales from the corpus bundled with music21: Riemenschneider's 371, of "
                "which 350 are distinct; soprano, alto, tenor and bass, instrumental doublings left out."
            ),
            genres=("classical", "baroque", "chorale"),
            licence="Public domain (Bach); music21's encodings BSD",
            upstream="the music21 package's bundled corpus (installed with OpenComposer, nothing to download)",
            tracks=SATB_TRACKS,
            folder="",
            expected_pieces=350,
        )

    def is_present(self) -> bool:
        """Always true: the chorales ship inside the music21 package."""
        return True

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        """Yield every chorale in Riemenschneider order (there is no published split: `split` must be None)."""
        refuse_split(self.info, split)
        paths = chorale_paths()
        for path, result in read_in_workers(cached_reader(read_chorale, self.info), paths, self.workers):
            if isinstance(result, OpenComposerError):
                skip_item(str(path), str(result))
                continue
            yield Piece(id=f"{self.info.name}/{path.stem}", score=result)


def chorale_paths() -> list[Path]:
    """The MusicXML file of each distinct chorale in Riemenschneider order, without repeats."""
    paths: list[Path] = []
    from music21.corpus import chorales  # slow to import, and only this source needs it

    for name in chorales.Iterator(returnType="filename"):
        path = _readable_file(str(name))
        if path not in paths:
            paths.append(path)
    if not paths:
        raise DatasetError("music21's corpus holds no Bach chorales; reinstall music21 (`pip install music21`).")
    return paths


def _readable_file(name: str) -> Path:
    # getWork matches names by prefix: "bach/bwv244.3" also finds bwv244.32, and "bach/bwv18.5-l" is
    # only known as bwv18.5-lz. Prefer the exact stem, else take the first match, as music21 itself does.
    from music21 import corpus

    found = corpus.getWork(name)
    candidates = [Path(found)] if not isinstance(found, list) else [Path(path) for path in found]
    readable = [path for path in candidates if path.suffix in _READABLE_SUFFIXES]
    if not readable:
        raise DatasetError(f"music21's corpus has no MusicXML file for the chorale {name}; reinstall music21.")
    stem = name.rsplit("/", 1)[-1]
    exact = sorted(
        (path for path in readable if path.stem == stem), key=lambda path: _READABLE_SUFFIXES.index(path.suffix)
    )
    return exact[0] if exact else readable[0]


def read_chorale(path: Path) -> Score:
    """Read one chorale file into an SATB score (the dataset's layout, in order).

    Raises
    ------
    ScoreFileError
        When the file cannot be read.
    DatasetError
        When one of the four voices cannot be told apart from the parts.
    """
    score = read_score(path)
    voices = pick_voices(score.tracks, str(path))
    tracks = tuple(slot.to_track().with_notes(track.notes) for slot, track in zip(SATB_TRACKS, voices, strict=True))
    return score.with_tracks(tracks)


def pick_voices(tracks: Sequence[Track], label: str) -> list[Track]:
    """The soprano, alto, tenor and bass tracks among a chorale's parts.

    A voice is the first track whose name starts with the voice's name ("Soprano 1", "Bass Continuo");
    when no track is named after any voice and there are exactly four, they are the voices top to bottom.

    Raises
    ------
    DatasetError
        When some voice has no track.
    """
    first_words = [track.name.split()[0].lower() if track.name.split() else "" for track in tracks]
    voices: list[Track] = []
    for slot in SATB_TRACKS:
        matching = [track for track, word in zip(tracks, first_words, strict=True) if word == slot.name.lower()]
        if matching:
            voices.append(matching[0])
    if len(voices) == len(SATB_TRACKS):
        return voices
    if not voices and len(tracks) == len(SATB_TRACKS):
        return list(tracks)
    names = ", ".join(repr(track.name) for track in tracks) or "none"
    raise DatasetError(f"{label} does not have the four voices soprano, alto, tenor and bass (its parts: {names}).")
