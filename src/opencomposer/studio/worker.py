"""A training job's worker process: ``python -m opencomposer.studio.worker JOB_DIR``.

It reads ``JOB_DIR/spec.json`` (written by `opencomposer.studio.jobs.JobManager`), trains with the
architecture's `train` (`opencomposer.training.architectures`) into ``JOB_DIR/run`` (a run found there is
resumed from its last checkpoint), installs the model into the user's models and writes its outcome to
``JOB_DIR/result.json``:
``{"status": "done" | "stopped" | "failed", "reason": ...}``. It never opens the studio's database.

SIGTERM (the studio's stop) makes the trainer write a checkpoint and the worker exit with status
`EXIT_STOPPED`. So does the death of the studio that started it, noticed within a second.

Python raises the stop's KeyboardInterrupt wherever the main thread happens to be. When that is a weakref
callback or a finaliser run by the garbage collector, Python prints "Exception ignored" and drops it, and
the job would train on, ``stopping`` for ever. So the stop is also remembered, and `stop_at_next_step`, a
sink of the run's events, raises it again at the next step the trainer reports.

Nor is the stop raised inside the import system: a KeyboardInterrupt in the middle of an import (torch's
takes seconds, and a stop in a job's first second lands there) leaves modules half made, and the job
then failed with a RecursionError instead of stopping. The handler sees the import in the interrupted
frames, and the stop is sent again `RESEND_SECONDS` later, until it lands outside one.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from types import FrameType
from typing import Any

from opencomposer.errors import OpenComposerError
from opencomposer.files import write_atomically
from opencomposer.training.events import Event

EXIT_DONE, EXIT_FAILED, EXIT_USER_ERROR, EXIT_STOPPED = 0, 1, 2, 3
PARENT_CHECK_SECONDS = 1.0
RESEND_SECONDS = 0.05
_stop_asked = threading.Event()
_stop_raised = threading.Event()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # Only the first stop that lands interrupts: another must not cut the checkpoint being written.
    if _stop_raised.is_set():
        return
    _stop_asked.set()
    if _in_import(frame):
        threading.Timer(RESEND_SECONDS, os.kill, args=(os.getpid(), signal.SIGTERM)).start()
        return
    _stop_raised.set()
    raise KeyboardInterrupt


def _in_import(frame: FrameType | None) -> bool:
    """Whether `frame` runs inside an import (a module's body, or the import system's own code)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def stop_at_next_step(event: Event) -> None:
    """A sink of the run's events: once a stop was asked, interrupt at the next step (the first may have been lost).

    Only "step" events raise, so the checkpoint and "failed" events of the stop itself pass.
    """
    if _stop_asked.is_set() and event.kind == "step":
        _stop_raised.set()
        raise KeyboardInterrupt


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)  # through `_interrupt`, like the studio's own stop
            return


def _write_result(job_dir: Path, value: dict[str, Any]) -> None:
    write_atomically(job_dir / "result.json", json.dumps(value).encode("utf-8"))


def run(job_dir: Path) -> int:
    """Train the job described in `job_dir`; returns the process's exit status.

    A stop raises at most one KeyboardInterrupt (`_interrupt` marks it raised first). When it lands while an
    outcome is being handled (a failure a moment before the stop), it is caught here: the outcome already
    written stands, else the job is stopped.
    """
    try:
        return _run(job_dir)
    except KeyboardInterrupt:
        status = _read_status(job_dir)
        if status is None:
            _write_result(job_dir, {"status": "stopped"})
            return EXIT_STOPPED
        return {"done": EXIT_DONE, "stopped": EXIT_STOPPED}.get(status, EXIT_USER_ERROR)


def _read_status(job_dir: Path) -> str | None:
    try:
        status = json.loads((job_dir / "result.json").read_text(encoding="utf-8")).get("status")
    except (OSError, ValueError):
        return None
    return status if isinstance(status, str) else None


def _run(job_dir: Path) -> int:
    try:
        # Inside the try: a stop that lands the moment the handler is set is caught below, not a traceback.
        signal.signal(signal.SIGTERM, _interrupt)
        threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
        spec = json.loads((job_dir / "spec.json").read_text(encoding="utf-8"))
        import torch

        from opencomposer.training.architectures import get_architecture
        from opencomposer.training.road import run_training

        torch.set_num_threads(int(spec["threads"]))
        run_training(
            get_architecture(spec["architecture"]).recipe(spec["dataset"], spec["preset"]),
            job_dir / "run",
            name=spec["model_name"],
            hyperparameters=spec["hyperparameters"],
            sinks=[stop_at_next_step],
            device=spec["device"],
            command=f"opencomposer studio (training job {spec['job_id']})",
            install=True,
            workers=1,
        )
    except KeyboardInterrupt:
        _write_result(job_dir, {"status": "stopped"})
        return EXIT_STOPPED
    except Exception as error:
        if _stop_asked.is_set():
            # Stopped before the stop could land (it waits out imports): what was asked for is what happened.
            _write_result(job_dir, {"status": "stopped"})
            return EXIT_STOPPED
        if isinstance(error, OpenComposerError):
            _write_result(job_dir, {"status": "failed", "reason": str(error)})
            return EXIT_USER_ERROR
        traceback.print_exc()
        reason = (
            f"The training stopped on an internal error ({type(error).__name__}: {error}); see {job_dir}/worker.log."
        )
        _write_result(job_dir, {"status": "failed", "reason": reason})
        return EXIT_FAILED
    _write_result(job_dir, {"status": "done"})
    return EXIT_DONE


if __name__ == "__main__":
    sys.exit(run(Path(sys.argv[1])))
