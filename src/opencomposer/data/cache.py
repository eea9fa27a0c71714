"""The caches: windows and parsed scores in content-keyed `.npz` files under `data_dir()/cache/`, written atomically.

A cache file is named after a hash of everything that decides its content (see `cache_key`), so a
changed spec or a new dataset version never reads a stale file: it simply looks for another name.
Files are written to a temporary name and renamed into place, so a run killed half-way leaves either
the old file or none, never a torn one; a file that is damaged anyway (a full disk, a copy gone wrong)
reads as missing, with a warning, and is rebuilt by the caller.

Piano-roll windows are stored sparsely (the flat index and value of every non-zero cell): training
rolls are about 99 % silence, so this is about fifty times smaller than the dense array and faster to
load than a compressed one.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path

import numpy as np
import numpy.typing as npt

from opencomposer.data.registry import DatasetInfo, data_dir
from opencomposer.errors import ScoreFileError
from opencomposer.files import write_atomically
from opencomposer.music.score import Note, Score, Track

logger = logging.getLogger(__name__)

# A uint32 index addresses every cell of a roll array up to 4 GiB; larger arrays fall back to int64.
_UINT32_CELLS = 2**32


def cache_dir() -> Path:
    """The folder holding the window caches: `data_dir()/cache`."""
    return data_dir() / "cache"


def cache_key(parts: Mapping[str, object]) -> str:
    """A hex SHA-256 of `parts` (JSON-serialisable values), independent of the order of the keys."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_arrays(path: Path, arrays: Mapping[str, npt.NDArray[np.generic]]) -> None:
    """Write `arrays` to the `.npz` file `path` atomically: a temporary file, synced, then renamed.

    Arrays must not hold Python objects: the cache is read back with `allow_pickle=False`.
    """
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    write_atomically(path, buffer.getvalue())


def read_arrays(path: Path) -> dict[str, npt.NDArray[np.generic]] | None:
    """Every array of the `.npz` file `path`, or None when it is missing or damaged (logged as a warning).

    Reading every member through to its end makes `zipfile` check each one's CRC, so a damaged file
    is caught here rather than as wrong numbers later.
    """
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        logger.warning("The window cache %s is damaged (%s); rebuilding it.", path, error)
        return None


def pack_rolls(rolls: npt.NDArray[np.uint8], prefix: str) -> dict[str, npt.NDArray[np.generic]]:
    """Sparse arrays `<prefix>_shape`, `<prefix>_index` and `<prefix>_value` holding `rolls`."""
    flat = rolls.reshape(-1)
    index = np.flatnonzero(flat)
    return {
        f"{prefix}_shape": np.asarray(rolls.shape, dtype=np.int64),
        f"{prefix}_index": index.astype(np.uint32 if flat.size <= _UINT32_CELLS else np.int64),
        f"{prefix}_value": flat[index],
    }


def unpack_rolls(arrays: Mapping[str, npt.NDArray[np.generic]], prefix: str) -> npt.NDArray[np.uint8]:
    """The dense uint8 rolls that `pack_rolls(rolls, prefix)` stored.

    Raises `KeyError` when an array is missing and `ValueError` when they do not fit together.
    """
    shape = tuple(int(n) for n in arrays[f"{prefix}_shape"])
    index, value = arrays[f"{prefix}_index"], arrays[f"{prefix}_value"]
    size = int(np.prod(shape, dtype=np.int64))
    if index.shape != value.shape or value.dtype != np.uint8 or (index.size and int(index.max()) >= size):
        raise ValueError(f"the stored {prefix} rolls do not fit their shape {shape}")
    flat = np.zeros(size, dtype=np.uint8)
    flat[index] = value
    return flat.reshape(shape)


# Bump when the layout written by `score_to_arrays` changes.
SCORE_CACHE_FORMAT = "1"


def score_to_arrays(score: Score) -> dict[str, npt.NDArray[np.generic]]:
    """A score as plain arrays: `notes` (track, pitch, start, duration, velocity) and `meta` (UTF-8 JSON)."""
    rows = [(index, *note) for index, track in enumerate(score.tracks) for note in track.notes]
    meta = {
        "resolution": score.resolution,
        "tempo": score.tempo,
        "time_signature": list(score.time_signature),
        "tracks": [{"name": t.name, "program": t.program, "is_drum": t.is_drum, "role": t.role} for t in score.tracks],
    }
    return {
        "notes": np.asarray(rows, dtype=np.int64).reshape(len(rows), 5),
        "meta": np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8),
    }


def score_from_arrays(arrays: Mapping[str, npt.NDArray[np.generic]]) -> Score:
    """The score that `score_to_arrays` stored; `KeyError` or `ValueError` when the arrays do not fit."""
    meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
    notes = arrays["notes"]
    if notes.ndim != 2 or notes.shape[1] != 5:
        raise ValueError(f"notes of shape {notes.shape} are not (n, 5)")
    by_track: list[list[Note]] = [[] for _ in meta["tracks"]]
    for track, pitch, start, duration, velocity in notes.tolist():
        by_track[track].append(Note(pitch, start, duration, velocity))
    tracks = tuple(Track(**fields, notes=tuple(found)) for fields, found in zip(meta["tracks"], by_track, strict=True))
    return Score(
        resolution=meta["resolution"],
        tempo=meta["tempo"],
        time_signature=(meta["time_signature"][0], meta["time_signature"][1]),
        tracks=tracks,
    )


def cached_read(path: Path, *, read: Callable[[Path], Score], reader: str, folder: Path) -> Score:
    """`read(path)`, remembered in `folder` until the file (size, modification time) or `reader` changes.

    For slow parsers: music21 takes from a tenth of a second to a minute per MusicXML file, and every
    evaluation, preparation and test would otherwise parse the same files again. `reader` names the
    reading code and its version (a dataset's name and `info.version`). A damaged cache entry is read
    again from the source. A file that `read` refuses (`ScoreFileError`) is remembered too, its entry
    holding the message, and refused again at once: two OpenScore quartet movements take a minute each to fail. `folder`
    is passed in, not looked up, because this runs in worker processes whose environment may be older
    than the caller's.
    """
    stat = path.stat()
    key = cache_key(
        {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "reader": reader}
        | {"format": SCORE_CACHE_FORMAT}
    )
    entry = folder / f"{key}.npz"
    arrays = read_arrays(entry)
    if arrays is not None and "refusal" in arrays:
        raise ScoreFileError(arrays["refusal"].tobytes().decode("utf-8", errors="replace"))
    if arrays is not None:
        try:
            return score_from_arrays(arrays)
        except (KeyError, ValueError, TypeError, UnicodeDecodeError, json.JSONDecodeError) as error:
            logger.warning("The score cache entry %s is damaged (%s); reading %s again.", entry, error, path)
    try:
        score = read(path)
    except ScoreFileError as error:
        write_arrays(entry, {"refusal": np.frombuffer(str(error).encode("utf-8"), dtype=np.uint8)})
        raise
    write_arrays(entry, score_to_arrays(score))
    return score


def score_cache_dir() -> Path:
    """The folder of `cached_read`'s entries: `cache_dir()/scores`."""
    return cache_dir() / "scores"


def cached_reader(read: Callable[[Path], Score], info: DatasetInfo) -> Callable[[Path], Score]:
    """`read`, remembered by `cached_read` under the dataset's name and version (picklable for workers)."""
    return partial(cached_read, read=read, reader=f"{info.name}:{info.version}", folder=score_cache_dir())
