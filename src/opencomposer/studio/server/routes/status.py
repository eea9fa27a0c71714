"""The studio's state: version, whether audio works, how many jobs run and wait."""

from __future__ import annotations

from fastapi import APIRouter

from opencomposer import __version__
from opencomposer.studio.jobs import ACTIVE, QUEUED
from opencomposer.studio.rows import JobRow
from opencomposer.studio.server.dependencies import ERRORS, StudioDep
from opencomposer.studio.server.schemas import LimitsPublic, StatusPublic

router = APIRouter(prefix="/api/status", tags=["status"], responses=ERRORS)


@router.get("")
def get_status(studio: StudioDep) -> StatusPublic:
    """Version, audio (and what to install when it is missing), running and queued jobs, and the budgets."""
    missing = studio.synthesizer.missing()
    settings = studio.settings
    return StatusPublic(
        version=__version__,
        audio=missing is None,
        audio_missing=missing,
        jobs_running=sum(studio.store.count(JobRow, {"status": status}) for status in ACTIVE),
        jobs_queued=studio.store.count(JobRow, {"status": QUEUED}),
        max_jobs=studio.settings.max_jobs,
        limits=LimitsPublic(
            max_generation_seconds=settings.max_generation_seconds,
            max_composition_seconds=settings.max_composition_seconds,
            max_melody_bars=settings.max_melody_bars,
            max_melody_notes=settings.max_melody_notes,
            max_melody_bytes=settings.max_melody_bytes,
            max_parse_seconds=settings.max_parse_seconds,
        ),
    )
