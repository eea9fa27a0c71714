"""The studio's state: version, whether audio works, how many jobs run and wait."""

from __future__ import annotations

from fastapi import APIRouter

from opencomposer import __version__
from opencomposer.studio.jobs import ACTIVE, QUEUED
from opencomposer.studio.models import JobRow
from opencomposer.studio.server.dependencies import ERRORS, StudioDep
from opencomposer.studio.server.schemas import StatusPublic

router = APIRouter(prefix="/api/status", tags=["status"], responses=ERRORS)


@router.get("")
def get_status(studio: StudioDep) -> StatusPublic:
    """Version, audio (and what to install when it is missing), running and queued jobs."""
    missing = studio.synthesizer.missing()
    return StatusPublic(
        version=__version__,
        audio=missing is None,
        audio_missing=missing,
        jobs_running=sum(studio.store.count(JobRow, {"status": status}) for status in ACTIVE),
        jobs_queued=studio.store.count(JobRow, {"status": QUEUED}),
        max_jobs=studio.settings.max_jobs,
    )
