"""The user's own folders of MIDI and MusicXML files, as datasets with a Melody + Accompaniment layout.

`opencomposer data add NAME FOLDER --genre TAG [--melody TRACK]` records a folder in
`data_dir()/folders.json`; from then on it is a dataset called NAME, listed and prepared like the
built-in ones. Every file under the folder (sub-folders included, hidden ones left out) whose suffix
`read_score` knows becomes one piece, with the id `NAME/<path inside the folder>`.

Each piece has two tracks: the melody, and every other pitched track merged into one accompaniment
(drum tracks are left out). The melody is the track called `--melody` when one was given (a file
without such a track is skipped), else the first rule of `melody_track` that finds one: a track marked
as the melody, a track named like one ("Melody", "Lead", "Voice", ...), or the most melody-like track.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from opencomposer.data.registry import (
    Dataset,
    DatasetInfo,
    Piece,
    TrackSlot,
    builtin_dataset_names,
    data_dir,
    read_in_workers,
    refuse_split,
    register_provider,
    skip_item,
)
from opencomposer.errors import DatasetError, OpenComposerError, TransformError, UnknownNameError
from opencomposer.files import write_atomically
from opencomposer.music.io import SCORE_SUFFIXES, read_score
from opencomposer.music.midi import MIDI_SUFFIXES
from opencomposer.music.score import Score
from opencomposer.music.transform import melody_track

logger = logging.getLogger(__name__)

FOLDER_TRACKS = (TrackSlot("Melody", "melody"), TrackSlot("Accompaniment", "accompaniment"))
"""The layout of every folder dataset."""

FOLDERS_FILE = "folders.json"
_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@dataclass(frozen=True, slots=True)
class FolderEntry:
    """A registered folder: the dataset's name, where its files are, its genre and its melody track name."""

    name: str
    path: Path
    genre: str
    melody: str | None = None


class FolderDataset(Dataset):
    """A folder of the user's MIDI and MusicXML files.

    Parameters
    ----------
    entry
        The folder and what to call it.
    workers
        Processes parsing MusicXML files; default `default_workers()`. Folders of MIDI files only are
        read in this process: a MIDI file takes about a millisecond.
    """

    def __init__(self, entry: FolderEntry, workers: int | None = None) -> None:
        self.entry = entry
        self.workers = workers
        melody = f"the track called {entry.melody!r}" if entry.melody else "the most melody-like track"
        self.info = DatasetInfo(
            name=entry.name,
            title=f"{entry.name} (your folder)",
            description=(
                f"Your MIDI and MusicXML files in {entry.path}: {melody} as the melody, the other pitched "
                "tracks merged into the accompaniment."
            ),
            genres=(entry.genre,),
            licence="yours (your own files)",
            upstream=str(entry.path),
            tracks=FOLDER_TRACKS,
            folder=str(entry.path),
            version=self._fingerprint(),
        )

    def is_present(self) -> bool:
        """Whether the folder still exists."""
        return self.entry.path.is_dir()

    def piece_count(self) -> int:
        """How many files of the folder `read_score` can read (0 when the folder is gone or holds none)."""
        try:
            return len(self.music_files())
        except DatasetError:
            return 0

    def music_files(self) -> list[Path]:
        """The files of the folder that `read_score` can read, in sorted path order.

        Raises
        ------
        DatasetError
            When the folder is gone or holds no such file.
        """
        folder = self.entry.path
        if not folder.is_dir():
            raise DatasetError(
                f"The folder {folder} of the dataset {self.entry.name!r} does not exist any more: register it "
                f"again with `opencomposer data add {self.entry.name} FOLDER --genre {self.entry.genre}`, "
                f"or forget it with `opencomposer data remove {self.entry.name}`."
            )
        files = _score_files(folder)
        if not files:
            raise DatasetError(
                f"{folder} holds no MIDI or MusicXML file ({', '.join(SCORE_SUFFIXES)}), so there is nothing to "
                "train on: add some files to it, or choose another folder."
            )
        return files

    def iter_pieces(self, split: str | None = None) -> Iterator[Piece]:
        """Yield one piece per readable file, in sorted path order (a folder has no split: `split` is None).

        Raises
        ------
        DatasetError
            When the folder is gone or empty (before anything is read), or when no file gave a piece.
        """
        refuse_split(self.info, split)
        files = self.music_files()
        only_midi = all(path.suffix.lower() in MIDI_SUFFIXES for path in files)
        workers = 1 if only_midi else self.workers
        read = partial(read_as_layout, melody=self.entry.melody)
        yielded = 0
        for path, result in read_in_workers(read, files, workers):
            if isinstance(result, OpenComposerError):
                skip_item(str(path), str(result))
                continue
            yielded += 1
            yield Piece(id=f"{self.info.name}/{path.relative_to(self.entry.path).as_posix()}", score=result)
        if not yielded:
            wanted = f"a track called {self.entry.melody!r}" if self.entry.melody else "pitched notes"
            raise DatasetError(
                f"None of the {len(files)} music files in {self.entry.path} could be read with {wanted} for a "
                "melody (each is named in a warning above): fix or replace the files"
                + (", or give the melody track's real name with --melody." if self.entry.melody else ".")
            )

    def _fingerprint(self) -> str:
        # The version names the folder's content (paths, sizes, modification times) and the melody setting,
        # so a window cache built before a file was added or changed is never read again.
        digest = hashlib.sha256(f"melody={self.entry.melody}\n".encode())
        for path in _score_files(self.entry.path) if self.entry.path.is_dir() else []:
            stat = path.stat()
            relative = path.relative_to(self.entry.path).as_posix()
            digest.update(f"{relative}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()[:16]


def _score_files(folder: Path) -> list[Path]:
    """The files under `folder` with a suffix `read_score` knows, hidden files and folders left out, sorted."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.suffix.lower() in SCORE_SUFFIXES
        and path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def read_as_layout(path: Path, melody: str | None = None) -> Score:
    """Read a file and arrange it as Melody + Accompaniment (see the module's docstring).

    Raises
    ------
    MidiError, ScoreFileError
        When the file cannot be read.
    DatasetError
        When it has no track called `melody`, or no pitched notes at all.
    """
    return to_folder_layout(read_score(path), melody, label=str(path))


def to_folder_layout(score: Score, melody: str | None = None, *, label: str = "This score") -> Score:
    """The score as two tracks: the melody, and the other pitched tracks' notes merged.

    Raises
    ------
    DatasetError
        When `melody` is given and no pitched track has that name (case and outer spaces ignored), or
        when the score has no pitched notes at all.
    """
    pitched = [index for index, track in enumerate(score.tracks) if track.notes and not track.is_drum]
    if melody is not None:
        wanted = melody.strip().casefold()
        named = [index for index in pitched if score.tracks[index].name.strip().casefold() == wanted]
        if not named:
            names = ", ".join(repr(score.tracks[index].name) for index in pitched) or "none"
            raise DatasetError(f"{label} has no track called {melody!r} (its pitched tracks: {names}).")
        melody_index = named[0]
    else:
        try:
            melody_index = melody_track(score)
        except TransformError:
            raise DatasetError(f"{label} has no pitched notes (only drums or nothing), so it has no melody.") from None
    # A note doubled in two accompaniment tracks is played once.
    accompaniment = sorted({note for index in pitched if index != melody_index for note in score.tracks[index].notes})
    melody_slot, accompaniment_slot = FOLDER_TRACKS
    return score.with_tracks(
        (
            melody_slot.to_track().with_notes(score.tracks[melody_index].notes),
            accompaniment_slot.to_track().with_notes(accompaniment),
        )
    )


def folders_file() -> Path:
    """The JSON file listing the user's registered folders: `data_dir()/folders.json`."""
    return data_dir() / FOLDERS_FILE


def load_folders(*, strict: bool = False) -> dict[str, FolderEntry]:
    """The registered folders by name ({} when none was ever added).

    A damaged `folders.json` raises `DatasetError` with `strict`; otherwise it is reported as a warning
    and read as empty, so that a broken file never hides the built-in datasets.
    """
    path = folders_file()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {
            name: FolderEntry(
                name=name, path=Path(fields["path"]), genre=str(fields["genre"]), melody=fields.get("melody")
            )
            for name, fields in data["folders"].items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        message = (
            f"{path} is damaged ({type(error).__name__}: {error}): fix it, or delete it and add your folders again."
        )
        if strict:
            raise DatasetError(message) from None
        logger.warning(message)
        return {}


def new_folder_entry(name: str, folder: str | os.PathLike[str], genre: str, melody: str | None = None) -> FolderEntry:
    """Check what `data add` was given and make the entry it will save.

    Raises
    ------
    DatasetError
        When the name is malformed or taken by a built-in dataset, the folder does not exist, or the
        genre or melody name is empty.
    """
    if not _NAME_PATTERN.fullmatch(name):
        raise DatasetError(
            f"{name!r} cannot name a dataset: use lower-case letters, digits, '-' and '_' (at most 64), "
            "starting with a letter or digit, for example 'my-songs'."
        )
    if name in builtin_dataset_names():
        raise DatasetError(f"{name!r} is the name of a built-in dataset; choose another name for your folder.")
    path = Path(folder).expanduser().resolve()
    if not path.is_dir():
        raise DatasetError(f"{path} is not a folder; give the folder that holds your MIDI or MusicXML files.")
    if not genre.strip():
        raise DatasetError("The genre tag is empty; give one such as --genre pop.")
    if melody is not None and not melody.strip():
        raise DatasetError("The melody track name is empty; give the name of a track, or leave --melody out.")
    return FolderEntry(name=name, path=path, genre=genre.strip(), melody=melody.strip() if melody else None)


def save_folder(entry: FolderEntry) -> None:
    """Record (or replace) a folder in `folders.json`, written atomically."""
    folders = load_folders(strict=True)
    folders[entry.name] = entry
    _write_folders(folders)


def remove_folder(name: str) -> FolderEntry:
    """Forget a registered folder (its files are left alone) and return what it was.

    Raises
    ------
    UnknownNameError
        When no folder is registered under `name`.
    """
    folders = load_folders(strict=True)
    if name not in folders:
        known = ", ".join(sorted(folders)) or "none"
        raise UnknownNameError(f"No folder is registered as {name!r}; your folders: {known}.")
    entry = folders.pop(name)
    _write_folders(folders)
    return entry


def _write_folders(folders: Mapping[str, FolderEntry]) -> None:
    path = folders_file()
    data = {
        "folders": {
            name: {"path": str(entry.path), "genre": entry.genre, "melody": entry.melody}
            for name, entry in sorted(folders.items())
        }
    }
    write_atomically(path, json.dumps(data, indent=2).encode("utf-8"))


@register_provider
def _registered_folders() -> dict[str, partial[FolderDataset]]:
    return {name: partial(FolderDataset, entry) for name, entry in load_folders().items()}
