"""Challenges: each one's task and scoring rule, attempts scored by the server, and each one's local
leaderboard (best first). An attempt's compositions are saved like any other, so the studio opens them."""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from sqlalchemy import select

from opencomposer.music.midi import read_midi
from opencomposer.music.score import Score
from opencomposer.studio.challenges import (
    CHALLENGES,
    Attempt,
    Challenge,
    check_attempt,
    eligible_models,
    genre_references,
    get_challenge,
)
from opencomposer.studio.compose import find_model
from opencomposer.studio.home import new_id
from opencomposer.studio.rows import AttemptRow, MelodyRow
from opencomposer.studio.server.dependencies import ERRORS, Studio, StudioDep
from opencomposer.studio.server.routes.compositions import compose_and_save
from opencomposer.studio.server.routes.melodies import save_melody
from opencomposer.studio.server.schemas import (
    NAME_PATTERN,
    AttemptCreate,
    AttemptPublic,
    ChallengePublic,
    CompositionCreate,
)

router = APIRouter(prefix="/api/challenges", tags=["challenges"], responses=ERRORS)

ChallengeId = Annotated[str, Path(pattern=NAME_PATTERN, description="The challenge's id.")]
MELODY_SOURCE = "challenge"


def _public(challenge: Challenge) -> ChallengePublic:
    return ChallengePublic(
        id=challenge.id,
        title=challenge.title,
        task=challenge.task,
        inputs=challenge.inputs,
        techniques=list(challenge.techniques),
        scoring=challenge.scoring,
        models=[entry.name for entry in eligible_models(challenge)],
        genres=list(genre_references()) if challenge.takes_genre else [],
        fixed_params=dict(challenge.fixed_params),
    )


@router.get("")
def list_all() -> list[ChallengePublic]:
    """The challenges: each one's task, inputs, scoring rule and the models an attempt may name."""
    return [_public(challenge) for challenge in CHALLENGES]


@router.post("/{challenge_id}/attempts", status_code=status.HTTP_201_CREATED)
async def attempt(studio: StudioDep, challenge_id: ChallengeId, request: AttemptCreate) -> AttemptPublic:
    """Run an attempt: the server makes the compositions, computes the score and puts it on the leaderboard."""
    challenge = get_challenge(challenge_id)
    return await studio.composer.run(partial(_attempt, studio, challenge, request))


def _attempt(studio: Studio, challenge: Challenge, request: AttemptCreate) -> AttemptPublic:
    params = {**request.params, **challenge.fixed_params}
    chosen = Attempt(find_model(request.model), params, request.seed, request.genre)
    check_attempt(challenge, chosen)
    technique = chosen.model.card.technique

    def compose(melody: Score, title: str) -> tuple[str, Score]:
        made = compose_and_save(
            studio,
            CompositionCreate(
                technique=technique,
                model=request.model,
                melody_id=_challenge_melody(studio, melody, title),
                params=params,
                seed=request.seed,
                title=f"{title} ({request.model}, seed {request.seed})"[:200],
            ),
        )
        return made.id, read_midi(studio.home.composition_midi(made.id).read_bytes())

    scored = challenge.run(chosen, compose, studio.settings.max_generation_seconds)
    row = studio.store.add(
        AttemptRow(
            id=new_id(),
            challenge_id=challenge.id,
            model=request.model,
            params=dict(params),
            seed=request.seed,
            genre=request.genre,
            score=round(scored.score, 3),
            breakdown=dict(scored.breakdown),
            composition_ids=list(scored.composition_ids),
        )
    )
    return AttemptPublic.model_validate(row)


def _challenge_melody(studio: Studio, melody: Score, title: str) -> str:
    """The stored melody of a challenge's input called `title` (saved the first time it is needed)."""
    found = studio.store.rows(MelodyRow, MelodyRow.created_at, limit=1, where={"source": MELODY_SOURCE, "title": title})
    if found:
        return found[0].id
    return save_melody(studio, melody, title, MELODY_SOURCE).id


@router.get("/{challenge_id}/attempts")
def leaderboard(
    studio: StudioDep, challenge_id: ChallengeId, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[AttemptPublic]:
    """A challenge's leaderboard: your attempts, best score first (the earlier of two equal scores first)."""
    challenge = get_challenge(challenge_id)
    with studio.store.reading() as session:
        query = (
            select(AttemptRow)
            .where(AttemptRow.challenge_id == challenge.id)
            .order_by(AttemptRow.score.desc(), AttemptRow.created_at)
            .limit(limit)
        )
        rows = list(session.scalars(query))
    return [AttemptPublic.model_validate(row) for row in rows]
