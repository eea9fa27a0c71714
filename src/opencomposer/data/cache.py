"""The window cache: content-keyed `.npz` files under `data_dir()/cache/`, written atomically.

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
import json
import logging
import os
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from opencomposer.data.registry import data_dir

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
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)  # type: ignore[arg-type]
            file.flush()
            os.fsync(file.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
