"""Tiny seeded GANs and in-memory batches for the training tests."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
import torch

from opencomposer.models.critic import Critic, CriticConfig
from opencomposer.models.unet_gan import UNetConfig, UNetGenerator
from opencomposer.training.objectives.gan import WganGp

STEPS, PITCHES, TRACKS = 8, 16, 3


def make_objective(seed: int = 0, update_ratio: int = 2, reconstruction_weight: float = 0.0) -> WganGp:
    torch.manual_seed(seed)
    generator = UNetGenerator(
        UNetConfig(STEPS, PITCHES, TRACKS - 1, filters=2, depth=2, latent_channels=2, upsample="transposed")
    )
    critic = Critic(CriticConfig(TRACKS - 1, STEPS, PITCHES, filters=2, layers=2))
    return WganGp(
        generator,
        critic,
        melody_index=0,
        generated_tracks=[1, 2],
        update_ratio=update_ratio,
        reconstruction_weight=reconstruction_weight,
    )


def make_windows(count: int = 24, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (torch.rand(count, TRACKS, STEPS, PITCHES, generator=generator) > 0.85).float()


def make_batches(windows: torch.Tensor, batch_size: int = 4) -> Callable[[int], Iterable[torch.Tensor]]:
    """Each epoch a different, seeded order of whole batches."""

    def epoch_batches(epoch: int) -> Iterable[torch.Tensor]:
        order = torch.randperm(len(windows), generator=torch.Generator().manual_seed(epoch))
        for start in range(0, len(windows) - batch_size + 1, batch_size):
            yield windows[order[start : start + batch_size]]

    return epoch_batches


@pytest.fixture
def objective() -> WganGp:
    return make_objective()


@pytest.fixture
def windows() -> torch.Tensor:
    return make_windows()
