"""Training jobs: start one (architecture, dataset, hyperparameters checked against their declared ranges),
list, stop and resume them, and watch their events live (server-sent events, or polling)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from opencomposer.errors import UnknownNameError
from opencomposer.music.midi import read_midi
from opencomposer.studio.home import ID_PATTERN
from opencomposer.studio.jobs import FINAL, JobStatus
from opencomposer.studio.rows import JobRow
from opencomposer.studio.server.dependencies import ERRORS, StudioDep
from opencomposer.studio.server.routes.melodies import score_notes
from opencomposer.studio.server.schemas import JobCreate, JobEventPublic, JobPublic, JobResume, ScoreNotes

router = APIRouter(prefix="/api/jobs", tags=["training jobs"], responses=ERRORS)

JobId = Annotated[str, Path(pattern=ID_PATTERN, description="The job's id.")]
STREAM_BATCH = 500
MAX_EVENT_SEQ = 2**62
_EVENT_ID = re.compile(r"[0-9]{1,19}")
# The stream's errors are JSON, not events: named here, or FastAPI would document them as text/event-stream.
STREAM_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": ERRORS["4XX"]["description"],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorPublic"}}},
    }
}


def existing_job(studio: StudioDep, job_id: JobId) -> JobRow:
    """The job named in the path; raises `UnknownNameError` (404) before a stream starts."""
    return studio.store.get(JobRow, job_id)


@router.post("", status_code=status.HTTP_201_CREATED)
def create(studio: StudioDep, request: JobCreate) -> JobPublic:
    """Queue a training job; it starts when fewer than the allowed number of jobs are running.

    When it is done its model is installed under `model_name`, ready to generate with.
    """
    job = studio.jobs.create(
        request.architecture, request.dataset, request.model_name, request.hyperparameters, request.preset
    )
    return JobPublic.model_validate(job)


@router.get("")
def list_all(
    studio: StudioDep,
    job_status: Annotated[JobStatus | None, Query(alias="status")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[JobPublic]:
    """Training jobs, newest first (of one status when asked)."""
    where = {"status": job_status} if job_status else None
    rows = studio.store.rows(JobRow, JobRow.created_at, descending=True, limit=limit, offset=offset, where=where)
    return [JobPublic.model_validate(row) for row in rows]


@router.get("/{job_id}")
def get_one(job: Annotated[JobRow, Depends(existing_job)]) -> JobPublic:
    """One job: status, step, latest losses and metrics, and why it stopped."""
    return JobPublic.model_validate(job)


@router.post("/{job_id}/stop")
def stop(studio: StudioDep, job_id: JobId) -> JobPublic:
    """Stop a job: a running one writes a checkpoint first (status "stopping", then "stopped")."""
    return JobPublic.model_validate(studio.jobs.stop(job_id))


@router.post("/{job_id}/resume")
def resume(studio: StudioDep, job_id: JobId, request: JobResume | None = None) -> JobPublic:
    """Queue a stopped, interrupted or failed job again; it continues from its last checkpoint.

    The body may change the schedule: more `steps` to train longer, or how often to evaluate and checkpoint.
    """
    schedule = request.hyperparameters if request is not None else {}
    return JobPublic.model_validate(studio.jobs.resume(job_id, schedule))


@router.get("/{job_id}/events")
def events(
    studio: StudioDep,
    job: Annotated[JobRow, Depends(existing_job)],
    after: Annotated[int, Query(ge=0, le=MAX_EVENT_SEQ, description="Only events after this `seq`.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[JobEventPublic]:
    """A job's events after `after`, oldest first: poll with the last `seq` seen (the stream's fallback)."""
    return [JobEventPublic.model_validate(row) for row in studio.store.events(job.id, after, limit)]


@router.get("/{job_id}/events/stream", response_class=EventSourceResponse, responses=STREAM_ERRORS)
async def stream(
    studio: StudioDep,
    job: Annotated[JobRow, Depends(existing_job)],
    after: Annotated[int, Query(ge=0, le=MAX_EVENT_SEQ, description="Only events after this `seq`.")] = 0,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> AsyncIterable[ServerSentEvent]:
    """A job's events as server-sent events (`event:` the kind, `id:` the seq), then a final `status` event
    with the job once it has stopped, failed or finished. A reconnecting browser resumes after its
    Last-Event-ID."""
    cursor = max(after, _event_id(last_event_id))
    last_status = None
    while True:
        rows = await run_in_threadpool(studio.store.events, job.id, cursor, STREAM_BATCH)
        for row in rows:
            cursor = row.seq
            yield ServerSentEvent(data=JobEventPublic.model_validate(row), event=row.kind, id=str(row.seq))
        if len(rows) == STREAM_BATCH:
            continue
        current = await run_in_threadpool(studio.store.get, JobRow, job.id)
        if current.status != last_status:
            last_status = current.status
            yield ServerSentEvent(data=JobPublic.model_validate(current), event="status")
        if current.status in FINAL:
            return
        await asyncio.sleep(studio.settings.poll_seconds)


def _event_id(header: str | None) -> int:
    """The seq a reconnecting browser last saw; 0 (from the start) for a header that is not one of ours.

    Only ASCII digits, and no more than a seq can be (2**62): `str.isdigit` also takes "²" and "٣", and
    a 20-digit number overflowed the database's integer.
    """
    if header is None or not _EVENT_ID.fullmatch(header.strip()):
        return 0
    return min(int(header.strip()), MAX_EVENT_SEQ)


# Declared before the `{kind}` route below, which would otherwise take "notes" for a kind and refuse it.
@router.get("/{job_id}/samples/{step}/notes")
def sample_notes(
    studio: StudioDep,
    job: Annotated[JobRow, Depends(existing_job)],
    step: Annotated[int, Path(ge=0, le=10_000_000)],
) -> ScoreNotes:
    """The notes of the sample an evaluation wrote at `step`, for drawing and playing it in the browser."""
    path = studio.home.job_sample(job.id, step, "mid")
    if not path.is_file():
        raise UnknownNameError(f"The job {job.id} has no evaluation sample at step {step}; see its eval events.")
    return score_notes(read_midi(path.read_bytes()))


@router.get(
    "/{job_id}/samples/{step}/{kind}",
    response_class=Response,
    responses={200: {"content": {"audio/midi": {}, "image/png": {}}}},
)
def sample(
    studio: StudioDep,
    job: Annotated[JobRow, Depends(existing_job)],
    step: Annotated[int, Path(ge=0, le=10_000_000)],
    kind: Literal["midi", "png"],
) -> FileResponse:
    """The sample an evaluation wrote at `step`: the held-out windows accompanied, as MIDI or a piano roll."""
    path = studio.home.job_sample(job.id, step, "mid" if kind == "midi" else "png")
    if not path.is_file():
        raise UnknownNameError(f"The job {job.id} has no evaluation sample at step {step}; see its eval events.")
    return FileResponse(path, media_type="audio/midi" if kind == "midi" else "image/png")
