"""`opencomposer studio`: start the local studio (web UI and HTTP API) with uvicorn."""

from __future__ import annotations

from pathlib import Path

import click

from opencomposer.studio.settings import DEFAULT_HOST, DEFAULT_PORT, Settings

SHUTDOWN_GRACE_SECONDS = 5


@click.command()
@click.option(
    "--host",
    default=DEFAULT_HOST,
    show_default=True,
    help="Address to listen on; beyond 127.0.0.1 a token is required.",
)
@click.option(
    "--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True, help="Port to listen on."
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the studio's database and files (default: $OPENCOMPOSER_HOME, else your user data folder).",
)
@click.option(
    "--token",
    default=None,
    help="Secret every request must carry (also $OPENCOMPOSER_TOKEN); required with a --host other than 127.0.0.1. "
    "Prefer --token-file or the environment: an argument shows in the process list.",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="A file whose first line is the token (also $OPENCOMPOSER_TOKEN_FILE).",
)
@click.option("--database-url", default=None, help="A SQLAlchemy database URL (default: SQLite in the home folder).")
@click.option(
    "--max-jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Training jobs running at once."
)
@click.option(
    "--jobs/--no-jobs",
    "run_jobs",
    default=True,
    show_default=True,
    help="Run training jobs in this process; with several studio processes on one database, only one may.",
)
def studio(
    host: str,
    port: int,
    home: Path | None,
    token: str | None,
    token_file: Path | None,
    database_url: str | None,
    max_jobs: int,
    run_jobs: bool,
) -> None:
    """Start the studio: open the address it prints in a browser; the API is described at /docs."""
    import uvicorn

    from opencomposer.studio.server.app import create_app

    settings = Settings.from_environment(
        home=home,
        host=host,
        port=port,
        token=token,
        token_file=token_file,
        database_url=database_url,
        max_jobs=max_jobs,
        run_jobs=run_jobs,
    )
    app = create_app(settings)
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"OpenComposer studio on http://{shown}:{port}/ (API docs at /docs); files in {settings.home}.")
    # Open event streams would otherwise hold a stopping server until their jobs end.
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS)
