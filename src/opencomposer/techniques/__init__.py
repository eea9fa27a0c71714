"""Inference pipelines: each generative technique turns a score into a new score, reproducibly from a seed.

The registry below names every technique and the class that runs it. Classes are imported on first use,
so that listing techniques does not load torch.
"""

from __future__ import annotations

from importlib import import_module

from opencomposer.errors import UnknownNameError
from opencomposer.techniques.base import Technique

_TECHNIQUES: dict[str, str] = {
    "accompany": "opencomposer.techniques.accompany:Accompany",
    "band": "opencomposer.techniques.band:Band",
    "edit": "opencomposer.techniques.edit:Edit",
    "extend": "opencomposer.techniques.extend:Extend",
}


def list_techniques() -> list[str]:
    """The names of the techniques, sorted."""
    return sorted(_TECHNIQUES)


def technique_class(name: str) -> type[Technique]:
    """The class of the technique called `name`; raises `UnknownNameError` listing the known ones."""
    if name not in _TECHNIQUES:
        raise UnknownNameError(
            f"There is no technique called {name!r}. Known techniques: {', '.join(sorted(_TECHNIQUES))}."
        )
    module_name, class_name = _TECHNIQUES[name].split(":")
    technique: type[Technique] = getattr(import_module(module_name), class_name)
    return technique
