"""Compositions: made by running a technique with a model on a melody, saved automatically; downloaded as
MIDI, WAV, OGG or MP3; drawn as a piano roll; measured. A technique that refines its result step by step
(the AR-CNN) leaves its intermediate scores, the frames, which the web UI replays."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from functools import partial
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import FileResponse

from opencomposer.errors import ParameterError
from opencomposer.files import write_atomically
from opencomposer.music.midi import midi_to_bytes, read_midi
from opencomposer.music.score import Score
from opencomposer.studio.audio import AUDIO_MEDIA_TYPES
from opencomposer.studio.compose import check_length, composition_metrics, draw_piano_roll, summarize
from opencomposer.studio.home import ID_PATTERN, AudioFormat, new_id
from opencomposer.studio.rows import CompositionRow
from opencomposer.studio.server.dependencies import ERRORS, UNAVAILABLE, Studio, StudioDep
from opencomposer.studio.server.routes.melodies import (
    MIDI_MEDIA_TYPE,
    attachment,
    load_melody,
    save_melody,
    score_notes,
)
from opencomposer.studio.server.schemas import (
    MAX_SEED,
    CompositionCreate,
    CompositionPublic,
    CompositionUpdate,
    MelodyFromComposition,
    MelodyPublic,
    MetricsPublic,
    ScoreNotes,
)
from opencomposer.techniques.base import ParamValue, time_budget

router = APIRouter(prefix="/api/compositions", tags=["compositions"], responses=ERRORS)

CompositionId = Annotated[str, Path(pattern=ID_PATTERN, description="The composition's id.")]


def _frames_path(studio: Studio, composition_id: str) -> FilePath:
    """Where a composition's frames are kept: beside its MIDI file, named by its id."""
    midi_path = studio.home.composition_midi(composition_id)
    return midi_path.with_name(f"{composition_id}.frames.json")


def _score(studio: Studio, composition_id: str) -> tuple[CompositionRow, Score]:
    row = studio.store.get(CompositionRow, composition_id)
    return row, read_midi(studio.home.composition_midi(row.id).read_bytes())


@router.post("", status_code=status.HTTP_201_CREATED)
async def create(studio: StudioDep, request: CompositionCreate) -> CompositionPublic:
    """Run a technique with a model on a melody and save the result (without a seed, a random one is saved)."""
    return await studio.composer.run(partial(compose_and_save, studio, request))


def compose_and_save(studio: Studio, request: CompositionCreate) -> CompositionPublic:
    """Run a technique as `request` asks and save the composition (in the calling thread: run it in the
    composer's pool)."""
    if request.composition_id is not None:
        derived = melody_from_composition(studio, request.composition_id, request.tracks)
        score, melody = load_melody(studio, derived.id)
    else:
        assert request.melody_id is not None  # the schema asks for exactly one input
        score, melody = load_melody(studio, request.melody_id)
    seed = request.seed if request.seed is not None else secrets.randbelow(MAX_SEED + 1)
    with time_budget(studio.settings.max_generation_seconds):
        generation, params = studio.composer.generate(request.technique, request.model, score, request.params, seed)
    check_length(
        generation.score.get_duration_seconds(),
        studio.settings.max_composition_seconds,
        "The composition asked for",
        "it was not saved: ask for fewer bars, a shorter extension or a shorter melody",
    )
    composition_id = new_id()
    if generation.frames:
        frames = [score_notes(frame).model_dump() for frame in generation.frames]
        write_atomically(_frames_path(studio, composition_id), json.dumps(frames).encode())
    write_atomically(studio.home.composition_midi(composition_id), midi_to_bytes(generation.score))
    row = studio.store.add(
        CompositionRow(
            id=composition_id,
            title=request.title or f"{melody.title} ({_action(request.technique, params)}, {request.model})"[:200],
            technique=request.technique,
            model=request.model,
            params=dict(params),
            seed=seed,
            melody_id=melody.id,
            summary=summarize(generation.score),
            info={
                **generation.info,
                "frames": len(generation.frames),
                **({"input_composition_id": request.composition_id} if request.composition_id else {}),
            },
        )
    )
    return CompositionPublic.model_validate(row)


def _action(technique: str, params: dict[str, ParamValue]) -> str:
    mode = params.get("mode")
    return mode if isinstance(mode, str) else technique


def melody_from_composition(
    studio: Studio, composition_id: str, tracks: list[int] | None, title: str | None = None
) -> MelodyPublic:
    """Save a composition (the tracks at `tracks`, default all) as a stored melody, the input of a next generation.

    Raises `UnknownNameError` for an unknown composition, `ParameterError` for a track it does not have.
    """
    row, score = _score(studio, composition_id)
    chosen = list(range(len(score.tracks))) if tracks is None else list(dict.fromkeys(tracks))
    missing = [index for index in chosen if index >= len(score.tracks)]
    if missing:
        raise ParameterError(
            f"The composition has tracks 0 to {len(score.tracks) - 1}; there is no track {missing[0]}."
        )
    kept = replace(score, tracks=tuple(score.tracks[index] for index in chosen))
    names = ", ".join(track.name or f"track {index}" for index, track in zip(chosen, kept.tracks, strict=True))
    title = title or (row.title if tracks is None else f"{row.title} [{names}]")
    return save_melody(studio, kept, title[:200], "composition", parent_id=row.id)


@router.post("/{composition_id}/melody", status_code=status.HTTP_201_CREATED)
def to_melody(studio: StudioDep, composition_id: CompositionId, request: MelodyFromComposition) -> MelodyPublic:
    """Make a composition, or the tracks of it you choose, a stored melody: the input of any technique next."""
    return melody_from_composition(studio, composition_id, request.tracks, request.title)


@router.get("")
def list_all(
    studio: StudioDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[CompositionPublic]:
    """Your compositions, newest first, a page at a time."""
    rows = studio.store.rows(CompositionRow, CompositionRow.created_at, descending=True, limit=limit, offset=offset)
    return [CompositionPublic.model_validate(row) for row in rows]


@router.get("/{composition_id}")
def get_one(studio: StudioDep, composition_id: CompositionId) -> CompositionPublic:
    """One composition."""
    return CompositionPublic.model_validate(studio.store.get(CompositionRow, composition_id))


@router.patch("/{composition_id}")
def rename(studio: StudioDep, composition_id: CompositionId, update: CompositionUpdate) -> CompositionPublic:
    """Rename a composition."""
    return CompositionPublic.model_validate(studio.store.update(CompositionRow, composition_id, title=update.title))


@router.delete("/{composition_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(studio: StudioDep, composition_id: CompositionId) -> None:
    """Delete a composition and its files."""
    studio.store.delete(CompositionRow, composition_id)
    for path in (*studio.home.composition_files(composition_id), _frames_path(studio, composition_id)):
        path.unlink(missing_ok=True)


@router.get("/{composition_id}/notes")
def notes(studio: StudioDep, composition_id: CompositionId) -> ScoreNotes:
    """A composition's notes, for drawing and playing it."""
    return score_notes(_score(studio, composition_id)[1])


@router.get("/{composition_id}/frames")
def frames(studio: StudioDep, composition_id: CompositionId) -> list[ScoreNotes]:
    """The scores a technique went through before its result, oldest first (the AR-CNN's edits); empty for
    a technique that makes its result in one go."""
    row = studio.store.get(CompositionRow, composition_id)
    path = _frames_path(studio, row.id)
    if not path.is_file():
        return []
    return [ScoreNotes.model_validate(frame) for frame in json.loads(path.read_bytes())]


@router.get("/{composition_id}/midi", response_class=Response, responses={200: {"content": {MIDI_MEDIA_TYPE: {}}}})
def midi(studio: StudioDep, composition_id: CompositionId) -> FileResponse:
    """A composition as a MIDI file."""
    row = studio.store.get(CompositionRow, composition_id)
    return FileResponse(
        studio.home.composition_midi(row.id), media_type=MIDI_MEDIA_TYPE, headers=attachment(row.title, "mid")
    )


@router.get(
    "/{composition_id}/audio/{audio_format}",
    response_class=Response,
    responses={200: {"content": {media: {} for media in AUDIO_MEDIA_TYPES.values()}}, **UNAVAILABLE},
)
def audio(studio: StudioDep, composition_id: CompositionId, audio_format: AudioFormat) -> FileResponse:
    """A composition played by FluidSynth with a General MIDI soundfont, as WAV, OGG or MP3 (rendered once)."""
    row = studio.store.get(CompositionRow, composition_id)
    path = studio.home.composition_audio(row.id, audio_format)
    if not path.is_file():
        seconds = float(row.summary.get("duration_seconds", 0.0))
        check_length(
            seconds, studio.settings.max_composition_seconds, "This composition", "download its MIDI file instead"
        )
        with studio.renders:
            studio.synthesizer.render(studio.home.composition_midi(row.id), path, audio_format)
    return FileResponse(path, media_type=AUDIO_MEDIA_TYPES[audio_format], headers=attachment(row.title, audio_format))


@router.get("/{composition_id}/pianoroll.png", response_class=Response, responses={200: {"content": {"image/png": {}}}})
def piano_roll(studio: StudioDep, composition_id: CompositionId) -> FileResponse:
    """A composition drawn as a piano roll (drawn once)."""
    row, score = _score(studio, composition_id)
    path = studio.home.composition_picture(row.id)
    if not path.is_file():
        draw_piano_roll(score, path, title=row.title)
    return FileResponse(path, media_type="image/png")


@router.get("/{composition_id}/metrics")
def metrics(studio: StudioDep, composition_id: CompositionId) -> MetricsPublic:
    """A composition's music metrics (measured once): scale, polyphony, tonal distance, empty bars, ..."""
    row, score = _score(studio, composition_id)
    if row.metrics is None:
        row = studio.store.update(CompositionRow, row.id, metrics=composition_metrics(score))
    return MetricsPublic(metrics=row.metrics or {})
