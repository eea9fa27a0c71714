"""OpenScore Lieder: 1,460 nineteenth-century art songs, a voice and a piano, read from MusicXML.

The scores are `scores/<Composer>/<Set>/<Song>/*.mxl` (one per song folder); a song's piece id is its
folder, `lieder/Schubert,_Franz/Winterreise,_D.911/01_Gute_Nacht`. Each part of a song goes to one of the
two tracks by its name (the MusicXML instruments cannot be trusted: MuseScore gives many voice parts an
oboe or a flute sound):

- keyboard parts (named piano, pianoforte, Klavier, cembalo, harpsichord, organ, ...) go to Piano, both
  staves of a piano being one part; an "ossia" or "facilité" part, an easier alternative to the piano
  part, is left out rather than played on top of it;
- parts named after another instrument (violin, viola, cello, flute, oboe, clarinet, horn, guitar, harp,
  ...) are obbligato or accompanying instruments: they go to Piano, the accompaniment, unless the song
  has no sung part at all (a few files name the singer's staff "Oboe" or "Flute"), in which case they
  are the tune and go to Voice;
- every other part is sung ("Voice", "Gesang", "Singstimme", "Chant", "Soprano", a character's name...)
  and goes to Voice. Duets and the choral songs (about a hundred of the 1,460) put several sung parts on
  that one track, so their Voice track holds chords.

Voice plays on program 53 (Voice Oohs, a solo voice; 52 would be a choir) and Piano on program 0. The
score keeps the file's first tempo mark and time signature, at 480 ticks per quarter note; repeats are
not unfolded. music21 reads a song in 0.2 to 3 seconds, so whole-dataset reads parse in worker
processes, and a file that does not parse is skipped with a warning.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

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

VOICE_PROGRAM = 53  # General MIDI "Voice Oohs"
TRACKS = (
    TrackSlot("Voice", "melody", program=VOICE_PROGRAM),
    TrackSlot("Piano", "accompaniment", program=0),
)

PartKind = Literal["voice", "keyboard", "instrument", "alternative"]

KEYBOARD_WORDS = frozenset(
    {"piano", "pianoforte", "klavier", "clavier", "cembalo", "harpsichord", "clavecin", "harmonium"}
    | {"organ", "orgue", "orgel"}
)
INSTRUMENT_WORDS = frozenset(
    {"violin", "violine", "violino", "violon", "viola", "bratsche", "cello", "violoncello", "violoncelle"}
    | {"flute", "flöte", "flauto", "traverso", "piccolo", "recorder", "oboe", "hautbois", "clarinet", "klarinette"}
    | {"clarinette", "bassoon", "fagott", "horn", "trumpet", "trombone", "timpani"}
    | {"guitar", "guitare", "guitarre", "gitarre", "harp", "harfe", "harpe", "mandolin"}
)
ALTERNATIVE_WORDS = frozenset({"ossia", "facilité"})
_WORD = re.compile(r"[^\W\d_]+")


@register("lieder")
class Lieder(Dataset):
    """OpenScore Lieder: art songs for voice and piano, from MusicXML files converted from MuseScore.

    Parameters
    ----------
    workers
        Processes parsing the MusicXML files; default `default_workers()`, 1 parses in this process.
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers
        self.info = DatasetInfo(
            name="lieder",
            title="OpenScore Lieder",
            description=(
                "1,460 nineteenth-century art songs (Lieder, mélodies, English songs) by over a hundred "
                "composers, transcribed by OpenScore volunteers: the sung line and its piano accompaniment."
            ),
            genres=("classical", "romantic", "art song"),
            licence="CC0-1.0",
            upstream="https://github.com/OpenScore/Lieder",
            tracks=TRACKS,
            folder="lieder",
            version="2",
            expected_pieces=1460,
        )

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        """Yield every song, ordered by composer, set and song folder (`split` must be None: no published split).

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
        ids = song_ids(scores_root, paths, self.info.name)
        for path, result in read_in_workers(cached_reader(read_song, self.info), paths, self.workers):
            if isinstance(result, OpenComposerError):
                skip_item(str(path), str(result))
                continue
            yield Piece(id=ids[path], score=result)


def song_ids(scores_root: Path, paths: list[Path], dataset_name: str) -> dict[Path, str]:
    """The piece id of each song file: `<dataset>/<its folder under scores/>`.

    A folder holding more than one score (never so in the published corpus) adds each file's stem.
    """
    files_per_folder = Counter(path.parent for path in paths)
    ids: dict[Path, str] = {}
    for path in paths:
        relative = path.parent.relative_to(scores_root).as_posix()
        if files_per_folder[path.parent] > 1:
            relative = f"{relative}/{path.stem}"
        ids[path] = f"{dataset_name}/{relative}"
    return ids


def read_song(path: Path) -> Score:
    """Read one song's MusicXML file into the dataset's layout (Voice, Piano): `read_musicxml`, then `to_layout`.

    Raises
    ------
    ScoreFileError
        When the file cannot be read.
    DatasetError
        When it has no notes.
    """
    return to_layout(read_musicxml(path), str(path))


def to_layout(parsed: Score, label: str) -> Score:
    """A song's score, one track per part named after it, gathered into Voice and Piano by `part_kind`.

    Sung parts go to Voice, keyboards to Piano, alternatives (ossia) nowhere, and other instruments to
    Piano, or to Voice when no part is sung. `label` names the song in errors.

    Raises
    ------
    DatasetError
        When the song has no notes.
    """
    kinds = [part_kind(track.name) for track in parsed.tracks]
    has_voice = "voice" in kinds
    voice: list[Note] = []
    piano: list[Note] = []
    for track, kind in zip(parsed.tracks, kinds, strict=True):
        if kind == "voice" or (kind == "instrument" and not has_voice):
            voice.extend(track.notes)
        elif kind != "alternative":
            piano.extend(track.notes)
    score = parsed.with_tracks(
        [slot.to_track().with_notes(notes) for slot, notes in zip(TRACKS, (voice, piano), strict=True)]
    )
    if not score.n_notes:
        raise DatasetError(f"{label} has no notes to read; it is left out of the dataset.")
    return score


def part_kind(name: str) -> PartKind:
    """What a song's part is, from its name: "keyboard", "instrument", "alternative" (an ossia) or "voice".

    A name is read word by word, ignoring case: keyboard words win over instrument words ("Piano (or
    Harp)" is a keyboard), and a part named after neither is sung.
    """
    words = set(_WORD.findall(name.casefold()))
    if words & ALTERNATIVE_WORDS:
        return "alternative"
    if words & KEYBOARD_WORDS:
        return "keyboard"
    if words & INSTRUMENT_WORDS:
        return "instrument"
    return "voice"
