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
"""

from __future__ import annotations

import _thread
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
from opencomposer.training.events import Event

EXIT_DONE, EXIT_FAILED, EXIT_USER_ERROR, EXIT_STOPPED = 0, 1, 2, 3
PARENT_CHECK_SECONDS = 1.0
_stop_asked = threading.Event()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # Only the first signal interrupts: a second one must not cut the checkpoint being written.
    if _stop_asked.is_set():
        return
    _stop_asked.set()
    raise KeyboardInterrupt


def stop_at_next_step(event: Event) -> None:
    """A sink of the run's events: once a stop was asked, interrupt at the next step (the first may have been lost).

    Only "step" events raise, so the checkpoint and "failed" events of the stop itself pass.
    """
    if _stop_asked.is_set() and event.kind == "step":
        raise KeyboardInterrupt


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent_pid:
            _stop_asked.set()
            _thread.interrupt_main()
            return


def _write_result(job_dir: Path, value: dict[str, Any]) -> None:
    partial = job_dir / ".result.json.tmp"
    partial.write_text(json.dumps(value), encoding="utf-8")
    partial.replace(job_dir / "result.json")


def run(job_dir: Path) -> int:
    """Train the job described in `job_dir`; returns the process's exit status."""
    signal.signal(signal.SIGTERM, _interrupt)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    spec = json.loads((job_dir / "spec.json").read_text(encoding="utf-8"))
    try:
        import torch

        from opencomposer.training.architectures import get_architecture

        torch.set_num_threads(int(spec["threads"]))
        get_architecture(spec["architecture"]).train(
            job_dir / "run",
            dataset=spec["dataset"],
            preset=spec["preset"],
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
    except OpenComposerError as error:
        _write_result(job_dir, {"status": "failed", "reason": str(error)})
        return EXIT_USER_ERROR
    except Exception as error:
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
