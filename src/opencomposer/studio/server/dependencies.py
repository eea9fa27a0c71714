"""What every route can ask for: the `Studio` (settings, files, database, jobs, composer, synthesizer)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from opencomposer.studio.audio import Synthesizer
from opencomposer.studio.compose import Composer, ScoreCache
from opencomposer.studio.home import Home
from opencomposer.studio.jobs import JobManager
from opencomposer.studio.server.schemas import ErrorPublic
from opencomposer.studio.settings import Settings
from opencomposer.studio.store import Store

MAX_RENDERS = 2

ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorPublic, "description": "What was wrong with the request, in one sentence."}
}
"""The error answers every route documents (the body of each is an `ErrorPublic`)."""

UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorPublic, "description": "Audio cannot be rendered here; the sentence says what to install."}
}


@dataclass
class Studio:
    """One running studio: everything its routes use."""

    settings: Settings
    home: Home
    store: Store
    jobs: JobManager
    composer: Composer
    synthesizer: Synthesizer
    melodies: ScoreCache = field(default_factory=ScoreCache)
    examples: ScoreCache = field(default_factory=lambda: ScoreCache(size=16))
    renders: threading.BoundedSemaphore = field(default_factory=lambda: threading.BoundedSemaphore(MAX_RENDERS))


def get_studio(request: Request) -> Studio:
    """The studio serving this request."""
    studio: Studio = request.app.state.studio
    return studio


StudioDep = Annotated[Studio, Depends(get_studio)]
