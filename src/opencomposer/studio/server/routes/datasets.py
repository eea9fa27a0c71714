"""Datasets: every dataset with its pieces and licence; add a folder of your own files by uploading them."""

from __future__ import annotations

import shutil
from pathlib import PurePath
from typing import Annotated

from fastapi import APIRouter, Form, Path, UploadFile, status

from opencomposer.data.registry import Dataset, get_dataset, list_datasets
from opencomposer.data.sources.folder import FolderDataset, new_folder_entry, remove_folder, save_folder
from opencomposer.errors import DatasetError, StateConflictError, UnknownNameError
from opencomposer.music.io import SCORE_SUFFIXES
from opencomposer.studio.home import new_id
from opencomposer.studio.rows import DatasetRow
from opencomposer.studio.sandbox import Limits, run_in_child
from opencomposer.studio.server.dependencies import ERRORS, StudioDep
from opencomposer.studio.server.schemas import DATASET_NAME_PATTERN, DatasetAdded, DatasetPublic, DatasetTrack

router = APIRouter(prefix="/api/datasets", tags=["datasets"], responses=ERRORS)

DatasetName = Annotated[str, Path(pattern=DATASET_NAME_PATTERN, description="The dataset's name.")]
MAX_FILES = 5000


def _public(dataset: Dataset) -> DatasetPublic:
    info = dataset.info
    return DatasetPublic(
        name=info.name,
        title=info.title,
        description=info.description,
        genres=list(info.genres),
        licence=info.licence,
        upstream=info.upstream,
        pieces=dataset.piece_count(),
        present=dataset.is_present(),
        yours=isinstance(dataset, FolderDataset),
        tracks=[DatasetTrack(name=s.name, role=s.role, program=s.program, is_drum=s.is_drum) for s in info.tracks],
    )


@router.get("")
def list_all() -> list[DatasetPublic]:
    """Every dataset: the built-in ones and yours, with pieces, licence and whether the files are here."""
    return [_public(dataset) for dataset in list_datasets()]


@router.get("/{name}")
def get_one(name: DatasetName) -> DatasetPublic:
    """One dataset."""
    return _public(get_dataset(name))


@router.post("", status_code=status.HTTP_201_CREATED)
def add(
    studio: StudioDep,
    name: Annotated[str, Form(pattern=DATASET_NAME_PATTERN)],
    genre: Annotated[str, Form(min_length=1, max_length=64)],
    files: list[UploadFile],
    melody: Annotated[str | None, Form(min_length=1, max_length=200)] = None,
) -> DatasetAdded:
    """Add a folder of your MIDI and MusicXML files (uploaded together) as a dataset to train on.

    Each piece's melody is the track called `melody` when given, else the most melody-like track; the
    other pitched tracks become its accompaniment. Files that cannot be read are listed and left out.
    """
    try:
        get_dataset(name)
    except UnknownNameError:
        pass
    else:
        raise StateConflictError(f"There is already a dataset called {name!r}; choose another name.")
    if len(files) > MAX_FILES:
        raise DatasetError(f"{len(files)} files were sent; a dataset takes at most {MAX_FILES} at a time.")
    folder_id = new_id()
    folder = studio.home.dataset_dir(folder_id)
    folder.mkdir(parents=True)
    skipped = []
    originals: dict[str, str] = {}
    try:
        for index, upload in enumerate(files):
            suffix = PurePath(upload.filename or "").suffix.lower()
            if suffix not in SCORE_SUFFIXES:
                skipped.append(f"{upload.filename}: not a MIDI or MusicXML file")
                continue
            # Named by position, never by the uploaded name: the original names stay out of the file system.
            stored = f"{index:05d}{suffix}"
            originals[stored] = upload.filename or stored
            with (folder / stored).open("wb") as target:
                shutil.copyfileobj(upload.file, target)
        entry = new_folder_entry(name, folder, genre, melody)
        dataset = FolderDataset(entry, workers=1)
        # Read in a child with limits: a hostile file among the uploaded ones fails this request, not the studio.
        report = run_in_child(
            "read-dataset",
            {"name": name, "folder": str(folder), "genre": genre, "melody": melody},
            Limits(seconds=studio.settings.max_dataset_read_seconds, memory_bytes=studio.settings.sandbox_memory_bytes),
            what="Reading the uploaded files",
            error=DatasetError,
            advice="send fewer or smaller files",
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    save_folder(entry)
    studio.store.add(DatasetRow(name=name, folder_id=folder_id, files=len(files) - len(skipped)))
    skipped += [f"{originals.get(PurePath(item).name, item)}: {reason}" for item, reason in report["skipped"]]
    pieces_read = sum(report["pieces_per_split"].values())
    return DatasetAdded(dataset=_public(dataset), pieces_read=pieces_read, files_skipped=skipped)


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete(studio: StudioDep, name: DatasetName) -> None:
    """Delete a dataset added through the studio, and its files."""
    get_dataset(name)
    row = studio.store.find(DatasetRow, name)
    if row is None:
        raise StateConflictError(
            f"{name!r} was not added through the studio; built-in datasets stay, and folders registered on the "
            "command line are removed with `opencomposer data remove`."
        )
    remove_folder(name)
    studio.store.delete(DatasetRow, name)
    shutil.rmtree(studio.home.dataset_dir(row.folder_id), ignore_errors=True)
