"""Sharing: a composition exported as one bundle that anyone can hear and reproduce, and a bundle imported.

A bundle (`opencomposer.studio.share`) holds the MIDI, an MP3, the piano roll, a card saying what made it and
a page that plays it with no server. Importing one stores its melody and its composition, says whether this
studio has the model with the same weights and, when asked, makes the composition again here and says whether
the notes are the shared ones.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Response, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from opencomposer import __version__
from opencomposer.errors import (
    AudioUnavailableError,
    LimitExceededError,
    OpenComposerError,
    StateConflictError,
    UnknownNameError,
)
from opencomposer.files import write_atomically
from opencomposer.music.midi import midi_to_bytes, read_midi
from opencomposer.music.score import Score
from opencomposer.studio.compose import check_length, draw_piano_roll, find_model, read_upload, summarize
from opencomposer.studio.home import new_id
from opencomposer.studio.rows import CompositionRow, utc_now
from opencomposer.studio.server.dependencies import ERRORS, Studio, StudioDep
from opencomposer.studio.server.routes import compositions
from opencomposer.studio.server.routes.compositions import CompositionId
from opencomposer.studio.server.routes.melodies import attachment, load_melody, save_melody
from opencomposer.studio.server.schemas import CompositionCreate, CompositionPublic, MelodyPublic, ShareImported
from opencomposer.studio.share import (
    BUNDLE_SUFFIX,
    MAX_BUNDLE_BYTES,
    Bundle,
    ShareCard,
    SharedMelody,
    SharedModel,
    build_bundle,
    file_sha256,
    from_shared_score,
    read_bundle,
    same_notes,
    to_shared_score,
)

router = APIRouter(tags=["shares"], responses=ERRORS)

BUNDLE_MEDIA_TYPE = "application/zip"


@router.get(
    "/api/compositions/{composition_id}/share",
    response_class=Response,
    responses={200: {"content": {BUNDLE_MEDIA_TYPE: {}}}},
)
def export(studio: StudioDep, composition_id: CompositionId) -> Response:
    """A composition's share bundle (a .ocshare zip archive): its MIDI, an MP3 (when audio can be rendered here),
    the piano roll, a card with what made it (melody, technique, model and its weights' sha256, parameters, seed)
    and an index.html that plays it in any browser with no server."""
    row = studio.store.get(CompositionRow, composition_id)
    try:
        melody_score, melody = load_melody(studio, row.melody_id)
        entry = find_model(row.model)
    except UnknownNameError as missing:
        raise StateConflictError(
            f"This composition cannot be shared so that it can be made again: {missing} Download its MIDI instead."
        ) from None
    midi_path = studio.home.composition_midi(row.id)
    midi = midi_path.read_bytes()
    score = read_midi(midi)
    picture = studio.home.composition_picture(row.id)
    if not picture.is_file():
        draw_piano_roll(score, picture, title=row.title)
    mp3, audio_missing = _mp3(studio, row)
    card = ShareCard(
        title=row.title,
        created_at=utc_now(),
        studio_version=__version__,
        technique=row.technique,
        action=CompositionPublic.model_validate(row).action,
        model=SharedModel(
            name=entry.name, title=entry.card.title[:200], weights_sha256=file_sha256(entry.weights_path)
        ),
        params=row.params,
        seed=row.seed,
        melody=SharedMelody(title=melody.title, score=to_shared_score(melody_score)),
        summary=row.summary,
        audio_missing=audio_missing,
    )
    bundle = build_bundle(card, midi, score, picture.read_bytes(), mp3)
    return Response(bundle, media_type=BUNDLE_MEDIA_TYPE, headers=attachment(row.title, BUNDLE_SUFFIX))


def _mp3(studio: Studio, row: CompositionRow) -> tuple[bytes | None, str | None]:
    """The composition's MP3 (rendered once), or None and the sentence saying why there is none."""
    path = studio.home.composition_audio(row.id, "mp3")
    if not path.is_file():
        try:
            seconds = float(row.summary.get("duration_seconds", 0.0))
            check_length(seconds, studio.settings.max_composition_seconds, "This composition", "it has no MP3")
            with studio.renders:
                studio.synthesizer.render(studio.home.composition_midi(row.id), path, "mp3")
        except (AudioUnavailableError, LimitExceededError) as error:
            return None, str(error)
    return path.read_bytes(), None


@router.post("/api/shares", status_code=status.HTTP_201_CREATED)
async def import_bundle(
    studio: StudioDep,
    file: UploadFile,
    regenerate: Annotated[
        bool, Form(description="Make the composition again with the card's model, parameters and seed.")
    ] = False,
) -> ShareImported:
    """Import a share bundle: its melody (source "share") and its composition are stored; the answer says whether
    this studio has the model with the same weights and, with regenerate, whether making it again here gives the
    same notes."""
    data = await file.read(MAX_BUNDLE_BYTES + 1)
    bundle = await run_in_threadpool(read_bundle, data)
    melody, shared = await run_in_threadpool(_store, studio, bundle)
    card = bundle.card
    present, ours = await run_in_threadpool(_model_weights, card)
    same_weights = ours == card.model.weights_sha256
    if not present:
        sentence = (
            f"This studio has no {card.technique} model called {card.model.name!r}, so the composition was stored as "
            "it was shared and cannot be made again here; install or train that model to regenerate it."
        )
        return ShareImported(
            melody=melody, composition=shared, model_present=False, same_weights=False, sentence=sentence
        )
    differs = (
        ""
        if same_weights
        else f"This studio's model {card.model.name!r} has other weights than the bundle's (sha256 {ours[:12]}..., "
        f"the bundle's {card.model.weights_sha256[:12]}...), so it may make other notes. "
    )
    if not regenerate:
        sentence = f"{differs}The model is here: regenerate to check that it makes the same notes."
        return ShareImported(
            melody=melody, composition=shared, model_present=True, same_weights=same_weights, sentence=sentence
        )
    request = CompositionCreate(
        technique=card.technique,
        model=card.model.name,
        melody_id=melody.id,
        params=card.params,
        seed=card.seed,
        title=f"{card.title} (regenerated)"[:200],
    )
    try:
        regenerated = await compositions.create(studio, request)
    except OpenComposerError as error:
        sentence = f"{differs}The composition could not be made again here: {error}"
        return ShareImported(
            melody=melody, composition=shared, model_present=True, same_weights=same_weights, sentence=sentence
        )
    identical = same_notes(_stored_score(studio, regenerated.id), _stored_score(studio, shared.id))
    outcome = (
        "the notes are identical to the shared ones."
        if identical
        else "the notes differ from the shared ones (another model, or another version of the technique)."
    )
    return ShareImported(
        melody=melody,
        composition=shared,
        model_present=True,
        same_weights=same_weights,
        regenerated=regenerated,
        identical=identical,
        sentence=f"{differs}Made again here with the card's model, parameters and seed: {outcome}",
    )


def _store(studio: Studio, bundle: Bundle) -> tuple[MelodyPublic, CompositionPublic]:
    """Store a bundle's melody and its composition (its MIDI read in a limited child, as uploads are)."""
    card = bundle.card
    score = read_upload(bundle.midi, ".mid", studio.home.tmp, settings=studio.settings)
    check_length(
        score.get_duration_seconds(),
        studio.settings.max_composition_seconds,
        "The shared composition",
        "it was not imported",
    )
    melody = save_melody(studio, from_shared_score(card.melody.score), card.melody.title, "share")
    composition_id = new_id()
    write_atomically(studio.home.composition_midi(composition_id), midi_to_bytes(score))
    row = studio.store.add(
        CompositionRow(
            id=composition_id,
            title=card.title,
            technique=card.technique,
            model=card.model.name,
            params=dict(card.params),
            seed=card.seed,
            melody_id=melody.id,
            summary=summarize(score),
            info={
                "shared": {
                    "weights_sha256": card.model.weights_sha256,
                    "created_at": card.created_at.isoformat(),
                    "studio_version": card.studio_version,
                }
            },
        )
    )
    return melody, CompositionPublic.model_validate(row)


def _model_weights(card: ShareCard) -> tuple[bool, str]:
    """Whether this studio has the card's model for the card's technique, and the sha256 of its weights ("" if not)."""
    try:
        entry = find_model(card.model.name)
    except UnknownNameError:
        return False, ""
    if entry.card.technique != card.technique:
        return False, ""
    return True, file_sha256(entry.weights_path)


def _stored_score(studio: Studio, composition_id: str) -> Score:
    return read_midi(studio.home.composition_midi(composition_id).read_bytes())
