"""The store's suite, on SQLite and (with OPENCOMPOSER_TEST_POSTGRES=1) on a throwaway PostgreSQL server.

The PostgreSQL server comes from Debian's `postgresql` package (`make system-deps` installs it): a
cluster is made with initdb in a temporary folder, started on a unix socket only, and stopped and
deleted at the end. As root (in CI) it runs as the `postgres` user, which PostgreSQL requires.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from opencomposer.errors import UnknownNameError
from opencomposer.studio.home import new_id
from opencomposer.studio.rows import Base, CompositionRow, JobRow, MelodyRow
from opencomposer.studio.store import Store

_DATABASES = itertools.count()


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        pytest.fail("OPENCOMPOSER_TEST_POSTGRES=1 but PostgreSQL is not installed; run `make test-deps`.")
    return Path(initdb).parent


@pytest.fixture(scope="module")
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server of its own, on a unix socket; yields the SQLAlchemy URL of its maintenance database."""
    if os.environ.get("OPENCOMPOSER_TEST_POSTGRES") != "1":
        pytest.skip("set OPENCOMPOSER_TEST_POSTGRES=1 to run the store's suite on PostgreSQL too")
    binaries = _postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="opencomposer-postgres-"))
    sockets, data = root / "sockets", root / "data"
    sockets.mkdir()
    as_owner: list[str] = []
    if os.geteuid() == 0:
        # PostgreSQL refuses to run as root: the cluster belongs to Debian's `postgres` user.
        for path in (root, sockets):
            shutil.chown(path, "postgres", "postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]

    def run(*command: str | Path) -> None:
        subprocess.run([*as_owner, *map(str, command)], cwd=root, check=True, capture_output=True)

    run(binaries / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-sync")
    options = f"-c listen_addresses='' -c unix_socket_directories='{sockets}' -c fsync=off"
    run(binaries / "pg_ctl", "-D", data, "-o", options, "-l", root / "server.log", "-w", "start")
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={sockets}"
    finally:
        run(binaries / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A migrated, empty store on each engine."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'studio.db'}"
    else:
        server: str = request.getfixturevalue("postgres_server")
        name = f"studio_{os.getpid()}_{next(_DATABASES)}"
        admin = create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = server.replace("/postgres?", f"/{name}?")
    opened = Store(url)
    opened.migrate()
    yield opened
    opened.close()


def melody(title: str = "A tune", **values: object) -> MelodyRow:
    defaults: dict[str, object] = dict(id=new_id(), title=title, source="recorded", parent_id=None, summary={"bars": 4})
    return MelodyRow(**{**defaults, **values})


def job(**values: object) -> JobRow:
    defaults: dict[str, object] = dict(
        id=new_id(),
        architecture="unet",
        dataset="tiny",
        preset=None,
        model_name="m",
        hyperparameters={"steps": 10},
        status="queued",
        total_steps=10,
        losses={},
        metrics={},
        runs=1,
        events_read_bytes=0,
    )
    return JobRow(**{**defaults, **values})


def test_migrating_makes_the_schema_the_tables_describe_and_can_run_again(store: Store) -> None:
    store.migrate()
    with store.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []


def test_a_row_reads_back_as_it_was_written(store: Store) -> None:
    written = store.add(melody("Ode", summary={"bars": 8, "tracks": [{"name": "Melody", "notes": 15}]}))
    read = store.get(MelodyRow, written.id)
    assert (read.title, read.source, read.summary) == (
        "Ode",
        "recorded",
        {"bars": 8, "tracks": [{"name": "Melody", "notes": 15}]},
    )
    created = read.created_at if read.created_at.tzinfo else read.created_at.replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - created) < timedelta(minutes=1)


def test_an_unknown_id_is_a_sentence_not_a_crash(store: Store) -> None:
    missing = new_id()
    actions: list[Callable[[], object]] = [
        lambda: store.get(CompositionRow, missing),
        lambda: store.update(CompositionRow, missing, title="x"),
        lambda: store.delete(CompositionRow, missing),
    ]
    for action in actions:
        with pytest.raises(UnknownNameError, match=f"no composition with the id '{missing}'"):
            action()
    assert store.find(CompositionRow, missing) is None


def test_rows_are_updated_deleted_ordered_paged_and_filtered(store: Store) -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [store.add(melody(f"tune {i}", created_at=base + timedelta(minutes=i))) for i in range(5)]
    store.update(MelodyRow, rows[1].id, title="renamed")
    store.delete(MelodyRow, rows[0].id)
    newest_first = store.rows(MelodyRow, MelodyRow.created_at, descending=True)
    assert [row.title for row in newest_first] == ["tune 4", "tune 3", "tune 2", "renamed"]
    page = store.rows(MelodyRow, MelodyRow.created_at, limit=2, offset=1)
    assert [row.title for row in page] == ["tune 2", "tune 3"]
    assert [row.title for row in store.rows(MelodyRow, MelodyRow.created_at, where={"title": "renamed"})] == ["renamed"]
    assert store.count(MelodyRow) == 4


def test_events_keep_their_order_and_move_their_job(store: Store) -> None:
    row = store.add(job(status="running"))
    other = store.add(job(model_name="n"))
    first = [{"kind": "start", "step": 0, "total_steps": 10, "elapsed_seconds": 0.0, "data": {}}]
    steps = [
        {"kind": "step", "step": step, "total_steps": 10, "elapsed_seconds": step / 10, "data": {"losses": {"g": step}}}
        for step in range(1, 4)
    ]
    store.record_events(row.id, 1, first, {"step": 0})
    store.record_events(other.id, 1, first, {})
    store.record_events(row.id, 1, steps, {"step": 3, "losses": {"g": 3}, "events_read_bytes": 120})
    events = store.events(row.id)
    assert [(event.kind, event.step) for event in events] == [("start", 0), ("step", 1), ("step", 2), ("step", 3)]
    assert [event.step for event in store.events(row.id, after_seq=events[1].seq)] == [2, 3]
    assert [event.step for event in store.events(row.id, limit=2)] == [0, 1]
    moved = store.get(JobRow, row.id)
    assert (moved.step, moved.losses, moved.events_read_bytes) == (3, {"g": 3}, 120)
    assert [job.id for job in store.jobs_with_status(["running"])] == [row.id]


def test_many_threads_writing_at_once_lose_nothing(store: Store) -> None:
    errors: list[BaseException] = []

    def write(thread: int) -> None:
        try:
            for index in range(20):
                store.add(melody(f"{thread}-{index}"))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert store.count(MelodyRow) == 160


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'nested' / 'studio.db'}")
    store.migrate()
    with store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    store.close()
