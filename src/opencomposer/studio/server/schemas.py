"""What the HTTP API reads and writes: a Create, an Update and a Public schema per resource.

Times carry their unit in their names (``start_ticks``, ``duration_seconds``, ``tempo_qpm``: quarter
notes per minute). Technique and training parameters are free-form objects here, checked against the
declarations of the technique or architecture (`GET /api/techniques`, `GET /api/architectures` give
their JSON Schemas), so that a technique that lands later needs no change to this file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, computed_field, model_validator

from opencomposer.studio.home import ID_PATTERN
from opencomposer.studio.jobs import JobStatus
from opencomposer.techniques.base import MAX_SEED as MAX_SEED  # the routes and share read it here
from opencomposer.training.events import EventKind

MODEL_NAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,63}$"
MELODY_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
DATASET_NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ParamValue = bool | int | float | Annotated[str, StringConstraints(max_length=200)]
Params = Annotated[dict[Annotated[str, StringConstraints(max_length=64)], ParamValue], Field(max_length=64)]


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every time the studio stores is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_utc)]


class Schema(BaseModel):
    """Base of the schemas: unknown fields are refused, so a misspelt field is a clear 422."""

    model_config = ConfigDict(extra="forbid")


class PublicSchema(BaseModel):
    """Base of the answers, read from database rows and plain objects."""

    model_config = ConfigDict(from_attributes=True)


class ErrorPublic(PublicSchema):
    """Every error: one sentence saying what was wrong and what to do."""

    detail: str


class LimitsPublic(PublicSchema):
    """The studio's budgets: a request past one gets a 4xx whose sentence names it."""

    max_generation_seconds: float | None = Field(description="Time one generation may take; None for no budget.")
    max_composition_seconds: float = Field(description="Longest piece a generation makes and audio is rendered of.")
    max_melody_bars: int
    max_melody_notes: int
    max_melody_bytes: int = Field(description="Largest melody file uploaded.")
    max_parse_seconds: float = Field(description="Time an uploaded file may take to read.")


class StatusPublic(PublicSchema):
    """The studio's state."""

    version: str
    audio: bool
    audio_missing: str | None
    jobs_running: int
    jobs_queued: int
    max_jobs: int
    limits: LimitsPublic


class TrackSummary(PublicSchema):
    """One track of a score, without its notes."""

    name: str
    program: int
    instrument: str
    is_drum: bool
    role: str
    notes: int


class ScoreSummary(PublicSchema):
    """Tempo, metre and length of a score, and its tracks."""

    tempo_qpm: float
    time_signature: tuple[int, int]
    resolution: int
    bars: int
    notes: int
    duration_seconds: float
    tracks: list[TrackSummary]


class NoteSchema(Schema):
    """One note, in ticks of the score's resolution."""

    pitch: int = Field(ge=0, le=127, description="MIDI pitch; 60 is middle C.")
    start_ticks: int = Field(ge=0, le=100_000_000)
    duration_ticks: int = Field(ge=1, le=10_000_000)
    velocity: int = Field(default=80, ge=1, le=127)


class TrackNotes(PublicSchema):
    """One track with its notes."""

    name: str
    program: int
    is_drum: bool
    role: str
    notes: list[NoteSchema]


class ScoreNotes(PublicSchema):
    """A whole score with its notes, for drawing and playing it in the browser."""

    resolution: int
    tempo_qpm: float
    time_signature: tuple[int, int]
    tracks: list[TrackNotes]


class TrackCreate(Schema):
    """A track sent with a melody: the other parts of an input (a composition's accompaniment, say)."""

    name: Annotated[str, StringConstraints(max_length=100)] = ""
    program: int = Field(default=0, ge=0, le=127)
    is_drum: bool = False
    notes: list[NoteSchema] = Field(max_length=10_000)


class MelodyCreate(Schema):
    """A melody recorded or written in the browser, with the other tracks of its input when it has some."""

    title: Title
    notes: list[NoteSchema] = Field(min_length=1, max_length=10_000)
    resolution: int = Field(default=480, ge=24, le=3840, description="Ticks per quarter note of the notes.")
    tempo_qpm: float = Field(default=120.0, ge=20.0, le=400.0)
    time_signature: tuple[Annotated[int, Field(ge=1, le=32)], Literal[1, 2, 4, 8, 16, 32]] = (4, 4)
    program: int = Field(default=0, ge=0, le=127, description="General MIDI program of the melody's instrument.")
    other_tracks: list[TrackCreate] = Field(
        default_factory=list, max_length=16, description="Tracks kept beside the melody, at the same resolution."
    )


class MelodyFromComposition(Schema):
    """Make a composition (or some of its tracks) the input of the next generation."""

    tracks: list[Annotated[int, Field(ge=0, le=255)]] | None = Field(
        default=None, min_length=1, max_length=64, description="Indices of the tracks to keep; default: all."
    )
    title: Title | None = None


class MelodyUpdate(Schema):
    """What can change about a stored melody."""

    title: Title


class MelodyPublic(PublicSchema):
    """A melody: a built-in sample (its id is its name) or one stored by the studio."""

    id: str
    title: str
    builtin: bool
    source: str
    parent_id: str | None
    created_at: UtcDatetime | None
    summary: ScoreSummary


class QuantizeRequest(Schema):
    """Rhythm assist: move notes towards a grid."""

    grid: Literal["1/4", "1/8", "1/12", "1/16", "1/24", "1/32"] = "1/16"
    strength: float = Field(default=1.0, ge=0.0, le=1.0, description="1 snaps fully, 0.5 goes half way.")


class TransposeRequest(Schema):
    """Move every note up or down."""

    semitones: int = Field(ge=-48, le=48)


class TechniquePublic(PublicSchema):
    """A technique, its parameters as JSON Schema, and the models it can use."""

    name: str
    title: str
    description: str
    params_schema: dict[str, Any]
    models: list[str]


class CompositionCreate(Schema):
    """Run a technique on a melody, or on a composition (some of its tracks); the result is saved."""

    technique: Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
    model: Annotated[str, StringConstraints(pattern=MODEL_NAME_PATTERN)]
    melody_id: Annotated[str, StringConstraints(pattern=MELODY_ID_PATTERN)] | None = Field(
        default=None, description="The input: a stored melody's id or a sample's name (or give composition_id)."
    )
    composition_id: Id | None = Field(
        default=None, description="The input: an earlier composition, saved as a melody first (its melody_id)."
    )
    tracks: list[Annotated[int, Field(ge=0, le=255)]] | None = Field(
        default=None, min_length=1, max_length=64, description="With composition_id: the tracks to use; default all."
    )
    params: Params = Field(default_factory=dict, description="The technique's parameters (see GET /api/techniques).")
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED, description="Default: a random seed, saved with it.")
    title: Title | None = None

    @model_validator(mode="after")
    def _one_input(self) -> CompositionCreate:
        if (self.melody_id is None) == (self.composition_id is None):
            raise ValueError("give the input as exactly one of melody_id and composition_id")
        if self.tracks is not None and self.composition_id is None:
            raise ValueError("tracks picks tracks of a composition: give composition_id with it")
        return self


class CompositionUpdate(Schema):
    """What can change about a composition."""

    title: Title


class CompositionPublic(PublicSchema):
    """A composition and everything needed to make it again."""

    id: str
    title: str
    technique: str
    model: str
    params: dict[str, Any]
    seed: int
    melody_id: str
    created_at: UtcDatetime
    summary: ScoreSummary
    info: dict[str, Any]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def action(self) -> str:
        """What was done, in one word: the technique, or the edit's mode (harmonize, inpaint)."""
        mode = self.params.get("mode")
        return mode if isinstance(mode, str) and mode else self.technique


class MetricsPublic(PublicSchema):
    """Music metrics of a composition (None where a metric is undefined, such as a silent track's range)."""

    metrics: dict[str, float | None]


class QualityBarPublic(PublicSchema):
    """One quality bar of a model's held-out evaluation."""

    name: str
    met: bool
    sentence: str


class ModelPublic(PublicSchema):
    """A model: its card, and whether it ships with OpenComposer (shipped ones cannot be deleted)."""

    name: str
    title: str
    description: str
    technique: str
    architecture: str
    dataset: str
    shipped: bool
    size_bytes: int
    bars: int
    tracks: list[dict[str, Any]]
    metrics: dict[str, Any]
    training: dict[str, Any]
    licence: str
    genre: str | None = Field(
        description='The kind of music it makes, as a slug ("chorale"); null when its card names none.'
    )
    genre_title: str = Field(description='The genre\'s title for a heading ("Bach chorales"; "Other" for no genre).')
    genre_line: str | None = Field(
        description="One sentence saying what the genre's music sounds like; null when unknown."
    )
    quality_bars: list[QualityBarPublic] = Field(
        default_factory=list, description="The held-out quality bars, each in plain words, met or not."
    )
    metric_words: dict[str, str] = Field(
        default_factory=dict, description="What each metric in `metrics` measures, in plain words."
    )


class DatasetTrack(PublicSchema):
    """One track of a dataset's layout."""

    name: str
    role: str
    program: int
    is_drum: bool


class DatasetPublic(PublicSchema):
    """A dataset: what it is, how many pieces, its licence, and whether its files are here."""

    name: str
    title: str
    description: str
    genres: list[str]
    licence: str
    upstream: str
    pieces: int | None
    present: bool
    yours: bool
    tracks: list[DatasetTrack]


class DatasetAdded(PublicSchema):
    """A dataset made of uploaded files, and what reading them found."""

    dataset: DatasetPublic
    pieces_read: int
    files_skipped: list[str]


class PresetPublic(PublicSchema):
    """A named preset of an architecture, with every hyperparameter a job started from it runs with."""

    name: str
    dataset: str
    description: str
    hyperparameters: dict[str, ParamValue]


class ArchitecturePublic(PublicSchema):
    """A trainable architecture: its hyperparameters as JSON Schema, the values a job without a preset runs with,
    and its presets."""

    name: str
    technique: str
    title: str
    description: str
    params_schema: dict[str, Any]
    hyperparameters: dict[str, ParamValue]
    presets: list[PresetPublic]


class JobCreate(Schema):
    """Start training a model."""

    architecture: Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
    dataset: Annotated[str, StringConstraints(pattern=DATASET_NAME_PATTERN)]
    model_name: Annotated[str, StringConstraints(pattern=MODEL_NAME_PATTERN)]
    preset: Annotated[str, StringConstraints(pattern=NAME_PATTERN)] | None = None
    hyperparameters: Params = Field(
        default_factory=dict, description="The architecture's hyperparameters (see GET /api/architectures)."
    )


class JobResume(Schema):
    """Resume a job, optionally training longer (or evaluating and checkpointing at another pace)."""

    hyperparameters: Params = Field(
        default_factory=dict,
        description="New values of the schedule only: how long to train, how often to evaluate and checkpoint.",
    )


class JobPublic(PublicSchema):
    """A training job and where it stands."""

    id: str
    architecture: str
    dataset: str
    preset: str | None
    model_name: str
    hyperparameters: dict[str, Any]
    status: JobStatus
    reason: str | None
    step: int
    total_steps: int
    elapsed_seconds: float
    checkpoint_step: int | None
    losses: dict[str, Any]
    metrics: dict[str, Any]
    runs: int
    created_at: UtcDatetime
    started_at: UtcDatetime | None
    finished_at: UtcDatetime | None


class JobEventPublic(PublicSchema):
    """One event of a training job: "start", "step" (losses), "eval" (metrics, sample URLs), "checkpoint",
    "done" or "failed". `seq` orders every job's events; give the last one seen as `after` to get newer ones."""

    seq: int
    job_id: str
    run: int
    kind: EventKind
    step: int
    total_steps: int
    elapsed_seconds: float
    data: dict[str, Any]
    created_at: UtcDatetime


class ShareImported(PublicSchema):
    """A share bundle imported: its melody and composition stored, and what regenerating it here gave."""

    melody: MelodyPublic = Field(description="The bundle's input melody, stored (source 'share').")
    composition: CompositionPublic = Field(description="The bundle's composition, stored as it was shared.")
    model_present: bool = Field(description="Whether this studio has a model of the card's name and technique.")
    same_weights: bool = Field(description="Whether that model's weights file has the card's sha256.")
    regenerated: CompositionPublic | None = Field(
        default=None, description="The composition made again here (asked for with regenerate, when the model is here)."
    )
    identical: bool | None = Field(
        default=None, description="Whether the regenerated notes are the shared ones; None when not regenerated."
    )
    sentence: str = Field(description="What was found, in one or two sentences.")


class ChallengePublic(PublicSchema):
    """A challenge: its task, inputs, the techniques it takes, its scoring rule and the models you may name."""

    id: str
    title: str
    task: str
    inputs: str
    techniques: list[str]
    scoring: str
    models: list[str] = Field(description="The models an attempt may name (empty: train one first).")
    genres: list[str] = Field(description="The genres an attempt may pick (empty: the challenge takes none).")
    fixed_params: dict[str, Any] = Field(description="Parameters the challenge sets itself.")


class AttemptCreate(Schema):
    """An attempt at a challenge: a model, its parameters and a seed. The server computes the score."""

    model: Annotated[str, StringConstraints(pattern=MODEL_NAME_PATTERN)]
    params: Params = Field(default_factory=dict, description="The technique's parameters (see GET /api/techniques).")
    seed: int = Field(default=0, ge=0, le=MAX_SEED, description="Every attempt is reproducible from its seed.")
    genre: Annotated[str, StringConstraints(pattern=DATASET_NAME_PATTERN)] | None = Field(
        default=None,
        description="For a challenge that takes a genre: the genre to sound like (jazz, rock, pop, symphony).",
    )


class AttemptPublic(PublicSchema):
    """An attempt on a challenge's leaderboard: what was chosen, its score and the compositions it made."""

    id: str
    challenge_id: str
    model: str
    params: dict[str, Any]
    seed: int
    genre: str | None
    score: float
    breakdown: dict[str, Any]
    composition_ids: list[str]
    created_at: UtcDatetime
