"""Techniques: what each one does, its parameters as JSON Schema (read from its declarations), its models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path

from opencomposer.registry import list_models
from opencomposer.studio.server.dependencies import ERRORS
from opencomposer.studio.server.schemas import NAME_PATTERN, TechniquePublic
from opencomposer.techniques import list_techniques, technique_class
from opencomposer.techniques.base import Param

router = APIRouter(prefix="/api/techniques", tags=["techniques"], responses=ERRORS)


def params_schema(params: Sequence[Param]) -> dict[str, Any]:
    """The JSON Schema of an object holding some of `params` (those left out take their defaults)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {param.name: param.to_json_schema() for param in params},
    }


def _public(name: str) -> TechniquePublic:
    cls = technique_class(name)
    return TechniquePublic(
        name=name,
        title=cls.title,
        description=cls.description,
        params_schema=params_schema(cls.params),
        models=[entry.name for entry in list_models(name)],
    )


@router.get("")
def list_all() -> list[TechniquePublic]:
    """Every technique, with its parameters and the models installed for it."""
    return [_public(name) for name in list_techniques()]


@router.get("/{name}")
def get_one(name: Annotated[str, Path(pattern=NAME_PATTERN)]) -> TechniquePublic:
    """One technique."""
    return _public(name)
