"""The studio's database: any SQLAlchemy URL, SQLite in WAL mode by default, migrated by Alembic at start.

Writes go through one lock (`Store.writing`), so that SQLite sees one writer at a time and never
answers "database is locked"; reads take no lock (WAL lets readers run beside the writer). The same
code runs on PostgreSQL, the way out when one machine is not enough. Rows come back detached, with
their columns loaded, so they can be read after their session has closed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from opencomposer.errors import UnknownNameError
from opencomposer.studio.rows import Base, JobEventRow, JobRow

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_MILLISECONDS = 30_000

RowT = TypeVar("RowT", bound=Base)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite files get WAL mode, foreign keys and a generous busy timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_MILLISECONDS / 1000})

    @event.listens_for(engine, "connect")
    def _configure(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MILLISECONDS}")
        cursor.close()

    return engine


def alembic_config(url: str) -> Config:
    """The Alembic configuration of the studio's migrations, for `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


class Store:
    """The database of one studio.

    Parameters
    ----------
    url
        A SQLAlchemy URL, such as ``sqlite:///home/studio.db`` or ``postgresql+psycopg://user@host/db``.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = threading.Lock()

    def migrate(self) -> None:
        """Bring the schema to the newest version (creating it in an empty database)."""
        config = alembic_config(self.url)
        with self._write_lock, self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session holding the write lock, committed at the end of the block (rolled back on an error)."""
        with self._write_lock, self._sessions() as session, session.begin():
            yield session

    def add(self, row: RowT) -> RowT:
        """Insert `row` and return it."""
        with self.writing() as session:
            session.add(row)
        return row

    def find(self, table: type[RowT], key: str) -> RowT | None:
        """The row of `table` with primary key `key`, or None."""
        with self.reading() as session:
            return session.get(table, key)

    def get(self, table: type[RowT], key: str) -> RowT:
        """The row of `table` with primary key `key`; raises `UnknownNameError` when there is none."""
        row = self.find(table, key)
        if row is None:
            raise UnknownNameError(f"There is no {table.label} with the id {key!r}; it was never made or was deleted.")
        return row

    def rows(
        self,
        table: type[RowT],
        order_by: InstrumentedAttribute[Any],
        *,
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
        where: Mapping[str, Any] | None = None,
    ) -> list[RowT]:
        """Rows of `table` whose columns equal `where`, ordered by `order_by`, a page of them."""
        query = select(table).filter_by(**(where or {}))
        query = query.order_by(order_by.desc() if descending else order_by).offset(offset).limit(limit)
        with self.reading() as session:
            return list(session.scalars(query))

    def count(self, table: type[RowT], where: Mapping[str, Any] | None = None) -> int:
        """The number of rows of `table` whose columns equal `where`."""
        with self.reading() as session:
            return int(session.scalar(select(func.count()).select_from(table).filter_by(**(where or {}))) or 0)

    def update(self, table: type[RowT], key: str, **values: Any) -> RowT:
        """Set columns of one row and return it; raises `UnknownNameError` when there is no such row."""
        with self.writing() as session:
            row = session.get(table, key)
            if row is None:
                raise UnknownNameError(
                    f"There is no {table.label} with the id {key!r}; it was never made or was deleted."
                )
            for name, value in values.items():
                setattr(row, name, value)
        return row

    def delete(self, table: type[RowT], key: str) -> RowT:
        """Delete one row and return what it was; raises `UnknownNameError` when there is no such row."""
        with self.writing() as session:
            row = session.get(table, key)
            if row is None:
                raise UnknownNameError(
                    f"There is no {table.label} with the id {key!r}; it was never made or was deleted."
                )
            session.delete(row)
        return row

    def jobs_with_status(self, statuses: Iterable[str]) -> list[JobRow]:
        """The jobs in one of `statuses`, oldest first."""
        with self.reading() as session:
            query = select(JobRow).where(JobRow.status.in_(list(statuses))).order_by(JobRow.created_at)
            return list(session.scalars(query))

    def record_events(
        self, job_id: str, run: int, events: Sequence[Mapping[str, Any]], job_values: Mapping[str, Any]
    ) -> list[JobEventRow]:
        """Append a job's events (as `Event.to_json` writes them) and update the job's columns, in one transaction."""
        rows = [
            JobEventRow(
                job_id=job_id,
                run=run,
                kind=str(event["kind"]),
                step=int(event["step"]),
                total_steps=int(event["total_steps"]),
                elapsed_seconds=float(event["elapsed_seconds"]),
                data=dict(event["data"]),
            )
            for event in events
        ]
        with self.writing() as session:
            session.add_all(rows)
            job = session.get(JobRow, job_id)
            if job is not None:
                for name, value in job_values.items():
                    setattr(job, name, value)
        return rows

    def events(self, job_id: str, after_seq: int = 0, limit: int = 1000) -> list[JobEventRow]:
        """A job's events after the one numbered `after_seq`, in order, at most `limit`."""
        query = (
            select(JobEventRow)
            .where(JobEventRow.job_id == job_id, JobEventRow.seq > after_seq)
            .order_by(JobEventRow.seq)
            .limit(limit)
        )
        with self.reading() as session:
            return list(session.scalars(query))
