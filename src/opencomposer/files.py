"""Writing files so that a reader, or a process killed halfway, never sees a part of one.

Every layer may import this module: it depends on nothing of the project.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a reader sees the old file or the new one, never a part.

    The bytes go to a temporary file beside `path` (``.<name>.<random>.tmp``, which `Home.clean` removes
    when a dead process left it), are synced to the disk, and the file is then renamed over `path`.
    Missing parent folders are made.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json_atomically(path: Path, value: Any) -> None:
    """Write `value` as indented JSON with sorted keys (and a final newline) to `path`, atomically."""
    write_atomically(path, (json.dumps(value, indent=2, sort_keys=True) + "\n").encode("utf-8"))
