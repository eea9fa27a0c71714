"""Where the studio's files live: under one home directory, each named by an id the studio made.

```
home/
  studio.db                          the database (SQLite, unless another URL is configured)
  melodies/<id>.mid                  uploaded, recorded and transformed melodies
  compositions/<id>.mid              every generation, and its renders: <id>.wav/.ogg/.mp3, <id>.png
  jobs/<id>/                         a training job: spec.json, result.json, worker.log, run/ (checkpoints,
                                     events.jsonl, eval/step-NNNNNNNN.mid/.png)
  datasets/<id>/NNNN.<suffix>        the files of a dataset uploaded through the studio
  models/                            the user's models (where `opencomposer.registry` looks)
  data/                              the dataset registry's folder (window caches, folders.json)
  tmp/                               files being received or rendered
```

Scratch files and folders are named after the process writing them (``tmp/<pid>-...``,
``compositions/.render-<pid>-...``), so `Home.clean` can remove at start-up what a process that died
(killed, crashed, the machine switched off) left behind, and leave alone what a live one is writing.

No path is ever made from a name a user gave: ids are checked against `ID_PATTERN` before they are
joined to the home, and every path is checked to stay inside it.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import Literal

ID_PATTERN = r"^[0-9a-f]{32}$"
_ID = re.compile(ID_PATTERN)
AudioFormat = Literal["wav", "ogg", "mp3"]
RENDER_SCRATCH_PREFIX = ".render-"
PARTIAL_MAX_AGE_SECONDS = 600.0
"""A ``.*.tmp`` file (a write in progress, renamed when whole) older than this was left by a dead process."""
_SCRATCH_PID = re.compile(r"^(?:\.render-)?(?P<pid>\d+)-")


def new_id() -> str:
    """A fresh random id: 32 lower-case hex digits."""
    return secrets.token_hex(16)


class Home:
    """The studio's home directory and the path of everything in it."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def create(self) -> None:
        """Make the home and its folders (nothing is changed when they exist)."""
        for folder in ("melodies", "compositions", "jobs", "datasets", "models", "tmp"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    def clean(self) -> list[Path]:
        """Remove what dead processes left behind; returns what was removed.

        Render folders (``compositions/.render-*``) and files in ``tmp/`` go when the process named in them
        is gone (or no process is named, as in older homes); partial writes (``.*.tmp`` beside melodies and
        compositions) when older than `PARTIAL_MAX_AGE_SECONDS`.
        """
        leftovers = [
            *(self.root / "compositions").glob(f"{RENDER_SCRATCH_PREFIX}*"),
            *(self.root / "tmp").iterdir(),
        ]
        removed = [path for path in leftovers if not _writer_alive(path.name)]
        now = time.time()
        for folder in ("melodies", "compositions"):
            for path in (self.root / folder).glob(".*.tmp"):
                with contextlib.suppress(FileNotFoundError):
                    if now - path.stat().st_mtime > PARTIAL_MAX_AGE_SECONDS:
                        removed.append(path)
        for path in removed:
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return removed

    def _inside(self, *parts: str) -> Path:
        path = self.root.joinpath(*parts).resolve()
        if not path.is_relative_to(self.root):
            raise ValueError(f"{path} is outside the studio's home {self.root}.")
        return path

    @staticmethod
    def _checked(identifier: str) -> str:
        if not _ID.match(identifier):
            raise ValueError(f"{identifier!r} is not a studio id.")
        return identifier

    @property
    def tmp(self) -> Path:
        """Files being received or rendered."""
        return self._inside("tmp")

    def melody_midi(self, melody_id: str) -> Path:
        """The MIDI file of a stored melody."""
        return self._inside("melodies", f"{self._checked(melody_id)}.mid")

    def composition_midi(self, composition_id: str) -> Path:
        """The MIDI file of a composition."""
        return self._inside("compositions", f"{self._checked(composition_id)}.mid")

    def composition_audio(self, composition_id: str, audio_format: AudioFormat) -> Path:
        """A composition's rendered audio in one format."""
        return self._inside("compositions", f"{self._checked(composition_id)}.{audio_format}")

    def composition_picture(self, composition_id: str) -> Path:
        """A composition's piano-roll picture."""
        return self._inside("compositions", f"{self._checked(composition_id)}.png")

    def composition_files(self, composition_id: str) -> list[Path]:
        """Every file a composition may have."""
        audio = [self.composition_audio(composition_id, fmt) for fmt in ("wav", "ogg", "mp3")]
        return [self.composition_midi(composition_id), self.composition_picture(composition_id), *audio]

    def job_dir(self, job_id: str) -> Path:
        """A training job's folder."""
        return self._inside("jobs", self._checked(job_id))

    def job_run_dir(self, job_id: str) -> Path:
        """The trainer's folder of a job: checkpoints, events.jsonl and evaluation samples."""
        return self.job_dir(job_id) / "run"

    def job_sample(self, job_id: str, step: int, suffix: Literal["mid", "png"]) -> Path:
        """The evaluation sample a job wrote at `step`."""
        return self.job_run_dir(job_id) / "eval" / f"step-{step:08d}.{suffix}"

    def dataset_dir(self, dataset_id: str) -> Path:
        """The folder of a dataset's uploaded files."""
        return self._inside("datasets", self._checked(dataset_id))


def _writer_alive(name: str) -> bool:
    """Whether the process whose id a scratch name starts with (``123-...``, ``.render-123-...``) still runs."""
    match = _SCRATCH_PID.match(name)
    if match is None:
        return False
    try:
        os.kill(int(match["pid"]), 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:  # another user's process
        return True
    return True
