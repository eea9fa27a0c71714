"""Networks, one architecture per file with its config dataclass at the top.

The accompaniment generators (`unet_gan.UNetGenerator`, `musegan.MuseGanGenerator`) share one
interface: ``generator(melody, noise)`` maps a (B, 1, steps, pitches) melody in {-1, 1} and a
(B, *generator.noise_shape) noise tensor to (B, out_tracks, steps, pitches) tracks in (-1, 1). Both
are judged by `critic.Critic`. `build_generator` makes one from an architecture name and its config,
as a model card stores them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any

from torch import nn

from opencomposer.models.musegan import MuseGanConfig, MuseGanGenerator
from opencomposer.models.unet_gan import UNetConfig, UNetGenerator

GeneratorConfig = UNetConfig | MuseGanConfig
GENERATOR_ARCHITECTURES: dict[str, type[UNetConfig] | type[MuseGanConfig]] = {
    "unet": UNetConfig,
    "musegan": MuseGanConfig,
}
"""Accompaniment generator architectures by name, with their config class."""


def generator_config(architecture: str, values: Mapping[str, Any]) -> GeneratorConfig:
    """The config of `architecture` from a mapping (a model card's "config"); unknown keys raise."""
    if architecture not in GENERATOR_ARCHITECTURES:
        raise ValueError(
            f"Unknown generator architecture {architecture!r}; known: {', '.join(GENERATOR_ARCHITECTURES)}."
        )
    config_class = GENERATOR_ARCHITECTURES[architecture]
    known = {field.name for field in fields(config_class)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"{architecture} configs have no field {unknown[0]!r}.")
    return config_class(**values)


def config_to_dict(config: GeneratorConfig) -> dict[str, Any]:
    """A config as a JSON-ready mapping (the inverse of `generator_config`)."""
    return asdict(config)


def architecture_of(config: GeneratorConfig) -> str:
    """The architecture name of a config."""
    return "unet" if isinstance(config, UNetConfig) else "musegan"


def build_generator(config: GeneratorConfig) -> UNetGenerator | MuseGanGenerator:
    """A freshly initialised generator for `config`."""
    if isinstance(config, UNetConfig):
        return UNetGenerator(config)
    return MuseGanGenerator(config)


def count_parameters(module: nn.Module) -> int:
    """Number of trainable values in a module."""
    return sum(parameter.numel() for parameter in module.parameters() if parameter.requires_grad)
