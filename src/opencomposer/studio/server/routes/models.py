"""Models: the ones shipped with OpenComposer and your own, with their cards and metrics; delete your own."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status

from opencomposer.errors import StateConflictError
from opencomposer.music.melodies import get_melody
from opencomposer.music.score import Score
from opencomposer.registry import ModelEntry, list_models, models_dir
from opencomposer.studio.compose import find_model
from opencomposer.studio.server.dependencies import ERRORS, Studio, StudioDep
from opencomposer.studio.server.routes.melodies import score_notes
from opencomposer.studio.server.schemas import (
    MODEL_NAME_PATTERN,
    NAME_PATTERN,
    ModelPublic,
    QualityBarPublic,
    ScoreNotes,
)
from opencomposer.studio.words import genre_line, genre_title, metric_sentence, quality_bar_sentence
from opencomposer.techniques.base import time_budget

router = APIRouter(prefix="/api/models", tags=["models"], responses=ERRORS)

ModelName = Annotated[str, Path(pattern=MODEL_NAME_PATTERN, description="The model's name.")]


def _public(entry: ModelEntry) -> ModelPublic:
    card = entry.card
    held_out = card.metrics.get("held_out") or {}
    return ModelPublic(
        name=card.name,
        title=card.title,
        description=card.description,
        technique=card.technique,
        architecture=card.architecture,
        dataset=card.dataset,
        shipped=entry.shipped,
        size_bytes=entry.size_bytes,
        bars=card.bars,
        tracks=card.tracks,
        metrics=card.metrics,
        training=card.training,
        licence=card.licence,
        genre=card.genre,
        genre_title=genre_title(card.genre),
        genre_line=genre_line(card.genre),
        quality_bars=[
            QualityBarPublic(name=str(name), met=bool(met), sentence=quality_bar_sentence(str(name)))
            for name, met in (held_out.get("quality_bars") or {}).items()
        ],
        metric_words={name: metric_sentence(name) for name in _metric_names(card.metrics)},
    )


def _metric_names(metrics: dict[str, Any]) -> list[str]:
    """The metric names a card shows: those of its held-out figures and of its last evaluation."""
    held_out = metrics.get("held_out") or {}
    names = {*(held_out.get("model") or {}), *(metrics.get("final_eval") or {}), "similarity_index"}
    return sorted(name for name in names if isinstance(name, str))


@router.get("")
def list_all(technique: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None) -> list[ModelPublic]:
    """Every usable model (of one technique when asked): the shipped ones first, then yours."""
    return [_public(entry) for entry in list_models(technique)]


@router.get("/{name}")
def get_one(name: ModelName) -> ModelPublic:
    """One model's card."""
    return _public(find_model(name))


EXAMPLE_MELODY = "twinkle"
EXAMPLE_SEED = 0


@router.get("/{name}/example")
async def example(studio: StudioDep, name: ModelName) -> ScoreNotes:
    """What the model makes of the sample melody "twinkle" with its technique's defaults and seed 0, to listen to
    before using it (made once per model file, then kept; not saved as a composition)."""
    entry = find_model(name)
    key = f"example:{name}:{entry.card_path.stat().st_mtime_ns}:{entry.weights_path.stat().st_mtime_ns}"
    return score_notes(await studio.composer.run(partial(studio.examples.get, key, partial(_example, studio, entry))))


def _example(studio: Studio, entry: ModelEntry) -> Score:
    melody = get_melody(EXAMPLE_MELODY).to_score()
    with time_budget(studio.settings.max_generation_seconds):
        generation, _ = studio.composer.generate(entry.card.technique, entry.card.name, melody, {}, EXAMPLE_SEED)
    return generation.score


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete(name: ModelName) -> None:
    """Delete one of your models (its weights and card); shipped models cannot be deleted."""
    entry = find_model(name)
    if entry.shipped:
        raise StateConflictError(f"{name!r} ships with OpenComposer and cannot be deleted; only your models can.")
    folder = models_dir().resolve()
    for path in (entry.weights_path, entry.card_path):
        if path.resolve().parent == folder:
            path.unlink(missing_ok=True)
