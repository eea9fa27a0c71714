"""Melodies: the built-in samples, uploaded MIDI or MusicXML files, melodies recorded in the browser,
and the operations that make a new melody from one (rhythm assist, transpose)."""

from __future__ import annotations

import re
from pathlib import PurePath
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Path, Response, UploadFile, status

from opencomposer.errors import StateConflictError, UploadTooLargeError
from opencomposer.files import write_atomically
from opencomposer.music.melodies import get_melody, list_melodies
from opencomposer.music.midi import midi_to_bytes, read_midi
from opencomposer.music.score import Note, Score, Track
from opencomposer.music.transform import quantize, transpose
from opencomposer.studio.compose import check_melody, read_upload, summarize
from opencomposer.studio.home import ID_PATTERN, new_id
from opencomposer.studio.rows import MelodyRow
from opencomposer.studio.server.dependencies import ERRORS, Studio, StudioDep
from opencomposer.studio.server.schemas import (
    MELODY_ID_PATTERN,
    MelodyCreate,
    MelodyPublic,
    MelodyUpdate,
    NoteSchema,
    QuantizeRequest,
    ScoreNotes,
    ScoreSummary,
    TrackNotes,
    TransposeRequest,
)

router = APIRouter(prefix="/api/melodies", tags=["melodies"], responses=ERRORS)

MelodyId = Annotated[str, Path(pattern=MELODY_ID_PATTERN, description="A stored melody's id or a sample's name.")]
MIDI_MEDIA_TYPE = "audio/midi"
_STORED_ID = re.compile(ID_PATTERN)


def load_melody(studio: Studio, melody_id: str) -> tuple[Score, MelodyPublic]:
    """The score and description of a stored melody or a built-in sample; raises `UnknownNameError`."""
    if _STORED_ID.match(melody_id):
        row = studio.store.get(MelodyRow, melody_id)
        score = studio.melodies.get(row.id, lambda: read_midi(studio.home.melody_midi(row.id).read_bytes()))
        return score, _public(row)
    sample = get_melody(melody_id)
    score = sample.to_score()
    return score, _sample_public(sample.name, sample.title, score)


def save_melody(studio: Studio, score: Score, title: str, source: str, parent_id: str | None = None) -> MelodyPublic:
    """Check a melody's size, write its MIDI file and its row; returns its description."""
    settings = studio.settings
    check_melody(score, settings.max_melody_bars, settings.max_melody_notes)
    data = midi_to_bytes(score)
    melody_id = new_id()
    path = studio.home.melody_midi(melody_id)
    write_atomically(path, data)
    row = studio.store.add(
        MelodyRow(id=melody_id, title=title, source=source, parent_id=parent_id, summary=summarize(score))
    )
    return _public(row)


def _public(row: MelodyRow) -> MelodyPublic:
    return MelodyPublic(
        id=row.id,
        title=row.title,
        builtin=False,
        source=row.source,
        parent_id=row.parent_id,
        created_at=row.created_at,
        summary=ScoreSummary.model_validate(row.summary),
    )


def _sample_public(name: str, title: str, score: Score) -> MelodyPublic:
    summary = ScoreSummary.model_validate(summarize(score))
    return MelodyPublic(
        id=name, title=title, builtin=True, source="builtin", parent_id=None, created_at=None, summary=summary
    )


def _stored(studio: Studio, melody_id: str) -> MelodyRow:
    if not _STORED_ID.match(melody_id):
        get_melody(melody_id)  # an unknown name is a 404, a sample a conflict
        raise StateConflictError(f"{melody_id!r} is a built-in sample melody and cannot be changed or deleted.")
    return studio.store.get(MelodyRow, melody_id)


def score_notes(score: Score) -> ScoreNotes:
    """A score with all its notes, as the API shows it."""
    return ScoreNotes(
        resolution=score.resolution,
        tempo_qpm=score.tempo,
        time_signature=score.time_signature,
        tracks=[
            TrackNotes(
                name=track.name,
                program=track.program,
                is_drum=track.is_drum,
                role=track.role,
                notes=[
                    NoteSchema(
                        pitch=note.pitch,
                        start_ticks=note.start,
                        duration_ticks=note.duration,
                        velocity=max(1, min(127, note.velocity)),
                    )
                    for note in track.notes
                ],
            )
            for track in score.tracks
        ],
    )


@router.get("")
def list_all(studio: StudioDep) -> list[MelodyPublic]:
    """Every melody: the built-in samples first, then yours, newest first."""
    samples = [_sample_public(sample.name, sample.title, sample.to_score()) for sample in list_melodies()]
    rows = studio.store.rows(MelodyRow, MelodyRow.created_at, descending=True)
    return samples + [_public(row) for row in rows]


@router.post("", status_code=status.HTTP_201_CREATED)
def record(studio: StudioDep, melody: MelodyCreate) -> MelodyPublic:
    """Save a melody recorded or written in the browser (notes in ticks at `resolution`), with the other tracks of
    its input when it has some (they go to the technique as they are)."""
    track = Track(name="Melody", program=melody.program, notes=_notes(melody.notes), role="melody")
    others = [
        Track(name=other.name, program=other.program, is_drum=other.is_drum, notes=_notes(other.notes), role="other")
        for other in melody.other_tracks
        if other.notes
    ]
    score = Score(
        resolution=melody.resolution,
        tempo=melody.tempo_qpm,
        time_signature=(melody.time_signature[0], melody.time_signature[1]),
        tracks=(track, *others),
    )
    return save_melody(studio, score, melody.title, "recorded")


def _notes(notes: list[NoteSchema]) -> tuple[Note, ...]:
    return tuple(Note(note.pitch, note.start_ticks, note.duration_ticks, note.velocity) for note in notes)


@router.post("/upload", status_code=status.HTTP_201_CREATED)
def upload(
    studio: StudioDep,
    file: UploadFile,
    title: Annotated[str | None, Form(min_length=1, max_length=200)] = None,
) -> MelodyPublic:
    """Upload a MIDI (.mid, .midi) or MusicXML (.mxl, .musicxml, .xml) file as a new melody."""
    limit = studio.settings.max_melody_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise UploadTooLargeError(
            f"The file is larger than {limit // 1024} KiB, the most a melody may be; send a shorter piece."
        )
    name = PurePath(file.filename or "")
    score = read_upload(data, name.suffix, studio.home.tmp, settings=studio.settings)
    return save_melody(studio, score, title or name.stem[:200] or "Uploaded melody", "upload")


@router.get("/{melody_id}")
def get_one(studio: StudioDep, melody_id: MelodyId) -> MelodyPublic:
    """One melody."""
    return load_melody(studio, melody_id)[1]


@router.patch("/{melody_id}")
def rename(studio: StudioDep, melody_id: MelodyId, update: MelodyUpdate) -> MelodyPublic:
    """Rename a stored melody."""
    _stored(studio, melody_id)
    return _public(studio.store.update(MelodyRow, melody_id, title=update.title))


@router.delete("/{melody_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete(studio: StudioDep, melody_id: MelodyId) -> None:
    """Delete a stored melody (compositions made from it stay)."""
    _stored(studio, melody_id)
    studio.store.delete(MelodyRow, melody_id)
    studio.melodies.drop(melody_id)
    studio.home.melody_midi(melody_id).unlink(missing_ok=True)


@router.get("/{melody_id}/notes")
def notes(studio: StudioDep, melody_id: MelodyId) -> ScoreNotes:
    """A melody's notes, for drawing and playing it."""
    return score_notes(load_melody(studio, melody_id)[0])


@router.get("/{melody_id}/midi", response_class=Response, responses={200: {"content": {MIDI_MEDIA_TYPE: {}}}})
def midi(studio: StudioDep, melody_id: MelodyId) -> Response:
    """A melody as a MIDI file."""
    score, public = load_melody(studio, melody_id)
    return Response(midi_to_bytes(score), media_type=MIDI_MEDIA_TYPE, headers=attachment(public.title, "mid"))


@router.post("/{melody_id}/quantize", status_code=status.HTTP_201_CREATED)
def rhythm_assist(studio: StudioDep, melody_id: MelodyId, request: QuantizeRequest) -> MelodyPublic:
    """Rhythm assist: a new melody with the notes moved towards a grid."""
    score, public = load_melody(studio, melody_id)
    title = f"{public.title} (rhythm {request.grid})"[:200]
    return save_melody(studio, quantize(score, request.grid, request.strength), title, "quantize", public.id)


@router.post("/{melody_id}/transpose", status_code=status.HTTP_201_CREATED)
def transpose_melody(studio: StudioDep, melody_id: MelodyId, request: TransposeRequest) -> MelodyPublic:
    """A new melody moved up or down by a number of semitones."""
    score, public = load_melody(studio, melody_id)
    title = f"{public.title} ({request.semitones:+d} semitones)"[:200]
    return save_melody(studio, transpose(score, request.semitones), title, "transpose", public.id)


def download_name(title: str, suffix: str) -> str:
    """A file name made from a title: "Twinkle (harmonize, bach-arcnn)" gives "Twinkle - harmonize, bach-arcnn.mid".

    Letters (any script), digits, spaces and ``-_,.`` are kept; anything else (slashes, quotes, brackets)
    becomes a space or a dash, and the name is at most 120 characters before its suffix.
    """
    cleaned = re.sub(r"\s*\(\s*", " - ", title)
    cleaned = re.sub(r"[^\w\s,.-]", " ", cleaned)
    cleaned = re.sub(r"\s+", " ", cleaned).strip(" .-")[:120].strip(" .-")
    return f"{cleaned or 'composition'}.{suffix}"


def attachment(title: str, suffix: str) -> dict[str, str]:
    """A Content-Disposition header downloading as `download_name(title, suffix)` (RFC 6266, UTF-8 too)."""
    name = download_name(title, suffix)
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"}
