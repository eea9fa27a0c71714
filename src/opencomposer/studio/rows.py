"""The studio's database tables (SQLAlchemy ORM). Their history is in `migrations/`: change both together.

Ids are the 32-hex-digit ids of `opencomposer.studio.home`, so a row's files are found from its id.
JSON columns hold what the studio only reads back whole (parameters, summaries, losses, metrics).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utc_now() -> datetime:
    """The time now, in UTC."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base of the studio's tables; `label` names a row in messages ("melody", "composition")."""

    label: ClassVar[str] = "row"
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        datetime: DateTime(timezone=True),
    }


class MelodyRow(Base):
    """A melody stored by the studio (the built-in samples are not rows)."""

    __tablename__ = "melodies"
    label: ClassVar[str] = "melody"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
    summary: Mapped[dict[str, Any]]


class CompositionRow(Base):
    """One generation: what made it (technique, model, parameters, seed, input melody) and what it holds."""

    __tablename__ = "compositions"
    label: ClassVar[str] = "composition"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    technique: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]]
    seed: Mapped[int] = mapped_column(BigInteger)
    melody_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    summary: Mapped[dict[str, Any]]
    info: Mapped[dict[str, Any]]
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class JobRow(Base):
    """A training job and where it stands."""

    __tablename__ = "jobs"
    label: ClassVar[str] = "training job"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    architecture: Mapped[str] = mapped_column(String(64))
    dataset: Mapped[str] = mapped_column(String(64))
    preset: Mapped[str | None] = mapped_column(String(64))
    model_name: Mapped[str] = mapped_column(String(64))
    hyperparameters: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    step: Mapped[int] = mapped_column(Integer, default=0)
    total_steps: Mapped[int] = mapped_column(Integer, default=0)
    elapsed_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    checkpoint_step: Mapped[int | None] = mapped_column(Integer)
    losses: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    runs: Mapped[int] = mapped_column(Integer, default=0)
    pid: Mapped[int | None] = mapped_column(Integer)
    events_read_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utc_now, index=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class JobEventRow(Base):
    """One event of a training job, in the order the worker emitted it (`seq`)."""

    __tablename__ = "job_events"
    __table_args__ = (Index("ix_job_events_job_seq", "job_id", "seq"),)
    label: ClassVar[str] = "training event"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(32), ForeignKey("jobs.id", ondelete="CASCADE"))
    run: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    step: Mapped[int] = mapped_column(Integer)
    total_steps: Mapped[int] = mapped_column(Integer)
    elapsed_seconds: Mapped[float] = mapped_column(Float)
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class DatasetRow(Base):
    """A dataset whose files were uploaded through the studio (registered as a folder dataset)."""

    __tablename__ = "datasets"
    label: ClassVar[str] = "dataset"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    folder_id: Mapped[str] = mapped_column(String(32))
    files: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)


class AttemptRow(Base):
    """One attempt at a challenge: what the user chose, the score the server computed and what it made."""

    __tablename__ = "attempts"
    __table_args__ = (Index("ix_attempts_challenge_score", "challenge_id", "score"),)
    label: ClassVar[str] = "challenge attempt"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    challenge_id: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]]
    seed: Mapped[int] = mapped_column(BigInteger)
    genre: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    breakdown: Mapped[dict[str, Any]]
    composition_ids: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utc_now)
