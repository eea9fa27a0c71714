"""Models: the ones shipped with OpenComposer and your own, with their cards and metrics; delete your own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from opencomposer.errors import StateConflictError
from opencomposer.registry import ModelEntry, list_models, models_dir
from opencomposer.studio.compose import find_model
from opencomposer.studio.server.dependencies import ERRORS
from opencomposer.studio.server.schemas import MODEL_NAME_PATTERN, NAME_PATTERN, ModelPublic

router = APIRouter(prefix="/api/models", tags=["models"], responses=ERRORS)

ModelName = Annotated[str, Path(pattern=MODEL_NAME_PATTERN, description="The model's name.")]


def _public(entry: ModelEntry) -> ModelPublic:
    card = entry.card
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
    )


@router.get("")
def list_all(technique: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None) -> list[ModelPublic]:
    """Every usable model (of one technique when asked): the shipped ones first, then yours."""
    return [_public(entry) for entry in list_models(technique)]


@router.get("/{name}")
def get_one(name: ModelName) -> ModelPublic:
    """One model's card."""
    return _public(find_model(name))


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
