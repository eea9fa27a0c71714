"""The studio's FastAPI app, built by `create_app(settings)`: one fresh, independent app per call.

`create_app` makes the home's folders, migrates the database and wires the routers; starting the app
(its lifespan) starts the training job watcher, and stopping it stops the running workers (their jobs
become interrupted, resumable). The API is described at ``/docs`` and ``/openapi.json``, by a Swagger UI
served from the ``fastapi-offline`` package (no CDN: the studio works offline, and no third-party script runs
in its origin); the built web UI, when there is one, is served at ``/``.

Errors a user can cause become a 4xx answer whose JSON body is ``{"detail": "<one sentence>"}``:
an unknown id or name is 404, a conflict with the present state 409, an oversized upload 413,
anything else wrong with what was sent 422; missing audio software is 503.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException

from opencomposer import __version__
from opencomposer.errors import (
    AudioUnavailableError,
    OpenComposerError,
    StateConflictError,
    UnknownNameError,
    UploadTooLargeError,
)
from opencomposer.studio.audio import Synthesizer
from opencomposer.studio.compose import Composer
from opencomposer.studio.home import Home
from opencomposer.studio.jobs import JobManager
from opencomposer.studio.server.dependencies import Studio
from opencomposer.studio.server.routes import challenges as challenges_routes
from opencomposer.studio.server.routes import (
    compositions,
    datasets,
    jobs,
    lessons,
    melodies,
    models,
    share,
    status,
    techniques,
    training,
)
from opencomposer.studio.server.security import Guard
from opencomposer.studio.settings import Settings
from opencomposer.studio.store import Store

ERROR_STATUS: tuple[tuple[type[OpenComposerError], int], ...] = (
    (UnknownNameError, 404),
    (StateConflictError, 409),
    (UploadTooLargeError, 413),
    (AudioUnavailableError, 503),
)
"""The status of each kind of user error; any other `OpenComposerError` is a 422."""
SHOWN_VALIDATION_ERRORS = 3

DESCRIPTION = """\
OpenComposer's studio: upload or record a melody, run a generative technique on it with a model, listen
to and download the composition; train your own models and watch them learn.

Every error answers with a JSON body `{"detail": "<one sentence saying what was wrong>"}`.
"""

NO_UI_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenComposer studio</title></head>
<body><h1>OpenComposer studio</h1>
<p>The studio is running, but its web page has not been built on this machine (build the <code>web/</code>
folder to get it). The HTTP API works: see <a href="/docs">its documentation</a>.</p></body></html>
"""


def create_app(settings: Settings) -> FastAPI:
    """A studio app on `settings.home`: folders made, database migrated, routes wired.

    The model and dataset registries of this process are pointed at the home (`Settings.apply_environment`),
    so run one studio per process.
    """
    settings.apply_environment()
    home = Home(settings.home)
    home.create()
    home.clean()
    store = Store(settings.url)
    store.migrate()
    studio = Studio(
        settings=settings,
        home=home,
        store=store,
        jobs=JobManager(store, home, settings),
        composer=Composer(settings.max_generations, settings.inference_threads),
        synthesizer=Synthesizer(settings.fluidsynth, settings.soundfont, settings.sample_rate_hz),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        settings.apply_environment()
        if settings.run_jobs:
            studio.jobs.start()
        try:
            yield
        finally:
            if settings.run_jobs:
                await run_in_threadpool(studio.jobs.close)
            await run_in_threadpool(studio.composer.close)
            store.close()

    app = FastAPIOffline(
        title="OpenComposer studio",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.studio = studio
    for module in (melodies, compositions, share, techniques, models, datasets, jobs, training, status, lessons):
        app.include_router(module.router, max_body_size=settings.max_request_bytes)
    app.include_router(challenges_routes.router, max_body_size=settings.max_request_bytes)
    app.add_exception_handler(OpenComposerError, _user_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(Guard, settings=settings)
    if settings.web_dir is not None:
        app.frontend("/", directory=settings.web_dir)
    else:

        @app.get("/", include_in_schema=False)
        def no_ui() -> HTMLResponse:
            return HTMLResponse(NO_UI_PAGE)

    return app


async def _user_error(_request: Request, error: Exception) -> JSONResponse:
    status_code = next((code for kind, code in ERROR_STATUS if isinstance(error, kind)), 422)
    return JSONResponse({"detail": str(error)}, status_code=status_code)


async def _invalid_request(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    problems = []
    for item in error.errors()[:SHOWN_VALIDATION_ERRORS]:
        where = ".".join(str(part) for part in item.get("loc", ()))
        problems.append(f"{where}: {item.get('msg', 'not valid')}" if where else str(item.get("msg", "not valid")))
    more = len(error.errors()) - SHOWN_VALIDATION_ERRORS
    extra = f" (and {more} more)" if more > 0 else ""
    sentence = f"The request is not valid: {'; '.join(problems)}{extra}. Fix it and send it again."
    return JSONResponse({"detail": sentence}, status_code=422)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        sentence = f"There is nothing at {request.url.path}; the API is described at /docs."
    elif error.status_code == 405:
        sentence = f"{request.method} is not allowed on {request.url.path}; the API is described at /docs."
    elif error.status_code == 413:
        sentence = "The request is larger than the studio takes; send less at once."
    else:
        sentence = str(error.detail)
    return JSONResponse({"detail": sentence}, status_code=error.status_code, headers=error.headers)
