"""Alembic's entry point for the studio's migrations.

The studio runs them itself at start (`Store.migrate`, which passes its open connection in
``config.attributes["connection"]``). To write a new revision after changing `opencomposer.studio.rows`:

    alembic -c src/opencomposer/studio/migrations/alembic.ini revision --autogenerate -m "what changed"

with ``OPENCOMPOSER_DATABASE_URL`` pointing at a database migrated to the previous revision.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection, create_engine

from opencomposer.studio.rows import Base

config = context.config


def _url() -> str:
    return os.environ.get("OPENCOMPOSER_DATABASE_URL") or config.get_main_option("sqlalchemy.url") or ""


def _run(connection: Connection) -> None:
    # Batch mode lets SQLite, which cannot alter most of a table in place, follow later revisions.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
elif (given := config.attributes.get("connection")) is not None:
    _run(given)
else:
    with create_engine(_url()).connect() as opened:
        _run(opened)
        opened.commit()
