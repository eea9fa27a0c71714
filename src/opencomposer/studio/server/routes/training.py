"""Trainable architectures: their hyperparameters as JSON Schema (read from the declarations) and presets."""

from __future__ import annotations

from fastapi import APIRouter

from opencomposer.studio.server.dependencies import ERRORS
from opencomposer.studio.server.routes.techniques import params_schema
from opencomposer.studio.server.schemas import ArchitecturePublic, PresetPublic
from opencomposer.techniques.base import validate_params

router = APIRouter(prefix="/api/architectures", tags=["training jobs"], responses=ERRORS)


@router.get("")
def list_all() -> list[ArchitecturePublic]:
    """The architectures a training job can train, with their hyperparameters and presets.

    ``hyperparameters`` (of the architecture, and of each preset) are the values a job runs with when the user
    changes none: the declared defaults under the recommendations of the preset, or of a run without one.
    """
    from opencomposer.training.architectures import list_architectures

    return [
        ArchitecturePublic(
            name=architecture.name,
            technique=architecture.technique,
            title=architecture.title,
            description=architecture.description,
            params_schema=params_schema(architecture.params),
            hyperparameters=validate_params(architecture.params, architecture.default_training),
            presets=[
                PresetPublic(
                    name=preset.name,
                    dataset=preset.dataset,
                    description=preset.description,
                    hyperparameters=validate_params(architecture.params, preset.training),
                )
                for preset in architecture.presets
            ],
        )
        for architecture in list_architectures()
    ]
