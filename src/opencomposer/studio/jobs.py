"""Training jobs: queued in the database, run in worker processes, watched by one thread of the server.

A job goes ``queued`` → ``running`` → ``done``, or ``failed`` (with the reason), or ``stopping`` →
``stopped`` when the user stops it, or ``interrupted`` when its worker ended without finishing (killed,
or the studio stopped). ``stopped``, ``interrupted`` and ``failed`` jobs can be resumed: they go back to
the queue and continue from their last checkpoint. At most `Settings.max_jobs` run at once.

Each job runs ``python -m opencomposer.studio.worker JOB_DIR`` (see `worker`). The worker writes its
events to ``run/events.jsonl`` (one line per event, flushed at once) and its outcome to
``result.json``; it never touches the database. The server's watcher thread reads new complete lines
into the database (the single writer), reaps finished workers and sends SIGTERM to the worker of a job
marked ``stopping``: the trainer writes a checkpoint and the worker exits. Stopping goes through the
database, so with several studio processes on one database (only one of them running jobs, see
`Settings.run_jobs`) any of them can stop a job. A worker killed with SIGKILL loses the steps since its last
checkpoint and nothing else; a studio that restarts marks the jobs it finds running as interrupted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from opencomposer.errors import ParameterError, StateConflictError
from opencomposer.files import write_atomically
from opencomposer.registry import check_model_name, list_models
from opencomposer.studio.home import Home, new_id
from opencomposer.studio.rows import JobRow, utc_now
from opencomposer.studio.settings import Settings
from opencomposer.studio.store import Store
from opencomposer.techniques.base import ParamValue, validate_params

logger = logging.getLogger(__name__)

QUEUED, RUNNING, STOPPING = "queued", "running", "stopping"
DONE, FAILED, STOPPED, INTERRUPTED = "done", "failed", "stopped", "interrupted"
ACTIVE = (RUNNING, STOPPING)
RESUMABLE = (STOPPED, INTERRUPTED, FAILED)
FINAL = (DONE, FAILED, STOPPED, INTERRUPTED)
JobStatus = Literal["queued", "running", "stopping", "done", "failed", "stopped", "interrupted"]
WORKER_MODULE = "opencomposer.studio.worker"
STOP_WAIT_SECONDS = 60.0


def plan_training(
    architecture: str, dataset: str, preset: str | None, hyperparameters: Mapping[str, object]
) -> dict[str, ParamValue]:
    """Check what a job would train and return its hyperparameters (the preset's and the defaults filled in).

    The architecture's own `plan` checks the dataset, the preset and the hyperparameters (see
    `opencomposer.training.architectures.PlanFunction`). Raises `UnknownNameError` for an unknown
    architecture as well.
    """
    from opencomposer.training.architectures import get_architecture

    return get_architecture(architecture).plan(dataset, preset, hyperparameters)


class JobManager:
    """Starts, watches, stops and resumes the training jobs of one studio.

    Parameters
    ----------
    store
        The studio's database.
    home
        The studio's home (jobs live in ``home/jobs/<id>``).
    settings
        How many jobs run at once, worker threads, device, how often to look.
    """

    def __init__(self, store: Store, home: Home, settings: Settings) -> None:
        self.store = store
        self.home = home
        self.settings = settings
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self._signalled: set[str] = set()
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Mark the jobs a previous studio left running as interrupted, then start watching."""
        self.recover()
        self._thread = threading.Thread(target=self._watch, name="opencomposer-jobs", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop watching; running workers are asked to checkpoint and stop, and their jobs marked interrupted."""
        self._closing.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        with self._lock:
            for process in self._processes.values():
                _signal(process.pid, signal.SIGTERM)
            for job_id, process in list(self._processes.items()):
                try:
                    code = process.wait(STOP_WAIT_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    code = process.wait()
                self._finish(job_id, code, studio_stopping=True)

    def create(
        self,
        architecture: str,
        dataset: str,
        model_name: str,
        hyperparameters: Mapping[str, object],
        preset: str | None = None,
    ) -> JobRow:
        """Queue a new job after checking everything it was given (see `plan_training`).

        Raises `ModelFileError` for a model name that is not valid, `StateConflictError` for one that a
        model or another job already has.
        """
        check_model_name(model_name)
        values = plan_training(architecture, dataset, preset, hyperparameters)
        with self._lock:
            if any(entry.name == model_name for entry in list_models()):
                raise StateConflictError(
                    f"There is already a model called {model_name!r}; choose another name or delete that model."
                )
            if self.store.count(JobRow, {"model_name": model_name}):
                raise StateConflictError(
                    f"Another training job already makes a model called {model_name!r}; choose another name."
                )
            job = self.store.add(
                JobRow(
                    id=new_id(),
                    architecture=architecture,
                    dataset=dataset,
                    preset=preset,
                    model_name=model_name,
                    hyperparameters=dict(values),
                    status=QUEUED,
                    total_steps=int(values["steps"]),
                    losses={},
                    metrics={},
                    runs=0,
                    events_read_bytes=0,
                )
            )
        self._wake.set()
        return job

    def stop(self, job_id: str) -> JobRow:
        """Stop a job: a queued one at once, a running one after it has written a checkpoint.

        Raises `StateConflictError` for a job that is not queued or running.
        """
        with self._lock:
            job = self.store.get(JobRow, job_id)
            if job.status == QUEUED:
                return self.store.update(JobRow, job_id, status=STOPPED, reason="Stopped before it started.")
            if job.status == STOPPING:
                return job
            if job.status != RUNNING:
                raise StateConflictError(f"The job {job_id} is {job.status}, not running; there is nothing to stop.")
            job = self.store.update(JobRow, job_id, status=STOPPING)
        self._wake.set()  # the watcher of the studio process running it signals its worker
        return job

    def resume(self, job_id: str, schedule: Mapping[str, object] | None = None) -> JobRow:
        """Queue a stopped, interrupted or failed job again; it continues from its last checkpoint.

        `schedule` may change how long it trains and how often it evaluates and checkpoints (the
        hyperparameters in `SCHEDULE_PARAMS`); the others are fixed by the checkpoints already written.
        Raises `StateConflictError` for a job that is queued, running or done, `ParameterError` for
        another hyperparameter or an out-of-range value.
        """
        from opencomposer.training.params import SCHEDULE_PARAMS

        changes = dict(schedule or {})
        fixed = sorted(set(changes) - SCHEDULE_PARAMS)
        if fixed:
            raise ParameterError(
                f"{fixed[0]} cannot change when a job resumes; only {', '.join(sorted(SCHEDULE_PARAMS))} can."
            )
        with self._lock:
            job = self.store.get(JobRow, job_id)
            if job.status not in RESUMABLE:
                raise StateConflictError(
                    f"The job {job_id} is {job.status}; only a stopped, interrupted or failed job can be resumed."
                )
            from opencomposer.training.architectures import get_architecture

            declared = get_architecture(job.architecture).params
            values = validate_params(declared, {**job.hyperparameters, **changes})
            job = self.store.update(
                JobRow,
                job_id,
                status=QUEUED,
                reason=None,
                hyperparameters=dict(values),
                total_steps=int(values["steps"]),
            )
        self._wake.set()
        return job

    def recover(self) -> None:
        """Deal with jobs a previous studio left running: stop their workers if alive, then mark them."""
        for job in self.store.jobs_with_status(ACTIVE):
            if job.pid is not None and _is_worker_of(job.pid, self.home.job_dir(job.id)):
                _stop_orphan(job.pid)
            self._ingest(job.id)
            self._conclude(job.id, _read_result(self.home.job_dir(job.id)), None, studio_stopping=True)

    def tick(self) -> None:
        """Read new events, ask the workers of stopping jobs to stop, reap finished workers, start queued jobs."""
        with self._lock:
            for job_id, process in list(self._processes.items()):
                self._ingest(job_id)
                if job_id not in self._signalled and self.store.get(JobRow, job_id).status == STOPPING:
                    _signal(process.pid, signal.SIGTERM)
                    self._signalled.add(job_id)
                code = process.poll()
                if code is not None:
                    self._finish(job_id, code)
            if self._closing.is_set():
                return
            for job in self.store.jobs_with_status([QUEUED]):
                if len(self._processes) >= self.settings.max_jobs:
                    break
                self._launch(job)

    def _watch(self) -> None:
        while not self._closing.is_set():
            try:
                self.tick()
            except Exception:
                # The watcher must outlive a bad moment (a full disk, a database hiccup): log it and look again.
                logger.exception("The training job watcher failed; it will try again.")
            self._wake.wait(self.settings.poll_seconds)
            self._wake.clear()

    def _launch(self, job: JobRow) -> None:
        job_dir = self.home.job_dir(job.id)
        job_dir.mkdir(parents=True, exist_ok=True)
        spec = {
            "job_id": job.id,
            "architecture": job.architecture,
            "dataset": job.dataset,
            "preset": job.preset,
            "model_name": job.model_name,
            "hyperparameters": job.hyperparameters,
            "device": self.settings.training_device,
            "threads": self.settings.worker_threads,
        }
        write_atomically(job_dir / "spec.json", json.dumps(spec, indent=2).encode("utf-8"))
        (job_dir / "result.json").unlink(missing_ok=True)
        environment = {**os.environ, **self.settings.environment()}
        with (job_dir / "worker.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", WORKER_MODULE, str(job_dir)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                # Its own session: a Ctrl-C meant for the server does not reach the worker before the server asks.
                start_new_session=True,
            )
        self._processes[job.id] = process
        self.store.update(
            JobRow, job.id, status=RUNNING, pid=process.pid, runs=job.runs + 1, started_at=utc_now(), reason=None
        )

    def _finish(self, job_id: str, code: int, *, studio_stopping: bool = False) -> None:
        self._processes.pop(job_id, None)
        self._signalled.discard(job_id)
        self._ingest(job_id)
        self._conclude(job_id, _read_result(self.home.job_dir(job_id)), code, studio_stopping=studio_stopping)

    def _conclude(self, job_id: str, result: dict[str, Any], code: int | None, *, studio_stopping: bool) -> None:
        job = self.store.get(JobRow, job_id)
        outcome = result.get("status")
        checkpoint = f"the checkpoint of step {job.checkpoint_step}" if job.checkpoint_step else "the start"
        values: dict[str, Any] = {"pid": None, "finished_at": utc_now()}
        if outcome == DONE:
            values.update(status=DONE, reason=None)
        elif outcome == FAILED:
            values.update(status=FAILED, reason=str(result.get("reason", "The training failed.")))
        elif job.status == STOPPING:
            values.update(
                status=STOPPED, reason=f"Stopped at step {job.step}; resume it to continue from {checkpoint}."
            )
        elif studio_stopping:
            values.update(
                status=INTERRUPTED,
                reason=f"The studio stopped while this job ran; resume it to continue from {checkpoint}.",
            )
        else:
            how = f"signal {-code}" if code is not None and code < 0 else f"exit status {code}"
            values.update(
                status=INTERRUPTED,
                reason=f"The training worker ended unexpectedly ({how}); resume it to continue from {checkpoint}.",
            )
        self.store.update(JobRow, job_id, **values)

    def _ingest(self, job_id: str) -> None:
        """Move the complete lines the worker appended to its events file into the database."""
        job = self.store.get(JobRow, job_id)
        path = self.home.job_run_dir(job_id) / "events.jsonl"
        if not path.is_file():
            return
        with path.open("rb") as stream:
            stream.seek(job.events_read_bytes)
            data = stream.read()
        complete = data[: data.rfind(b"\n") + 1]
        if not complete:
            return
        events = []
        for line in complete.splitlines():
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                logger.warning("Skipped a damaged line in %s.", path)
                continue
            event["data"] = public_event_data(job_id, event["kind"], int(event["step"]), event.get("data") or {})
            events.append(event)
        values: dict[str, Any] = {"events_read_bytes": job.events_read_bytes + len(complete)}
        if events:
            last = events[-1]
            values.update(
                step=int(last["step"]), total_steps=int(last["total_steps"]), elapsed_seconds=last["elapsed_seconds"]
            )
        for event in events:
            if event["kind"] == "step":
                values["losses"] = event["data"].get("losses", {})
            elif event["kind"] == "eval":
                values["metrics"] = event["data"].get("metrics", {})
            elif event["kind"] == "checkpoint":
                values["checkpoint_step"] = int(event["step"])
        self.store.record_events(job_id, job.runs, events, values)


def public_event_data(job_id: str, kind: str, step: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """An event's data as the API shows it: file paths on the server become the URLs that serve them."""
    public = dict(data)
    if kind == "eval":
        # Only the samples an evaluation wrote get a URL (a Transformer's evaluation writes no picture).
        if public.pop("midi", None):
            public["sample_midi_url"] = f"/api/jobs/{job_id}/samples/{step}/midi"
        if public.pop("png", None):
            public["sample_png_url"] = f"/api/jobs/{job_id}/samples/{step}/png"
    elif kind == "checkpoint":
        public.pop("path", None)
    return public


def _read_result(job_dir: Path) -> dict[str, Any]:
    try:
        value = json.loads((job_dir / "result.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _is_worker_of(pid: int, job_dir: Path) -> bool:
    """Whether process `pid` is a studio worker running the job in `job_dir` (read from /proc where there is one)."""
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return WORKER_MODULE.encode() in arguments and str(job_dir).encode() in arguments


def _stop_orphan(pid: int) -> None:
    """SIGTERM a worker that is not our child, wait for it to checkpoint and exit, and SIGKILL it if it does not."""
    _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT_SECONDS
    while time.monotonic() < deadline:
        if not Path(f"/proc/{pid}").exists():
            return
        time.sleep(0.1)
    _signal(pid, signal.SIGKILL)
