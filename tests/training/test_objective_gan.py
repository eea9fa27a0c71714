"""The WGAN-GP objective: what a step updates, the gradient penalty's formula, and evaluation samples."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from opencomposer.models.critic import Critic, CriticConfig
from opencomposer.models.unet_gan import UNetConfig, UNetGenerator
from opencomposer.training.objectives.gan import WganGp

from .conftest import PITCHES, STEPS, make_objective


def parameters(module: nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def test_a_step_updates_both_networks_and_reports_the_losses(objective: WganGp, windows: torch.Tensor) -> None:
    generator_before, critic_before = parameters(objective.generator), parameters(objective.critic)
    losses = objective.train_step([windows[:4], windows[4:8], windows[8:12]], 0)
    assert set(losses) == {
        "critic_loss",
        "wasserstein_distance",
        "gradient_penalty",
        "generator_loss",
        "reconstruction",
    }
    assert all(torch.isfinite(torch.tensor(value)) for value in losses.values())
    assert any(not torch.equal(a, b) for a, b in zip(generator_before, parameters(objective.generator), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(critic_before, parameters(objective.critic), strict=True))


def test_a_step_takes_update_ratio_plus_one_batches(objective: WganGp, windows: torch.Tensor) -> None:
    assert objective.batches_per_step == 3
    with pytest.raises(ValueError, match="takes 3 batches"):
        objective.train_step([windows[:4]], 0)


class LinearCritic(nn.Module):
    """D(x, c) = <w, x>: its gradient with respect to x is w everywhere, so the penalty is (|w| - 1)^2."""

    def __init__(self, norm: float) -> None:
        super().__init__()
        weight = torch.ones(2, STEPS, PITCHES)
        self.weight = nn.Parameter(weight * norm / weight.norm())

    def forward(self, tracks: torch.Tensor, melody: torch.Tensor) -> torch.Tensor:
        return (tracks * self.weight).flatten(1).sum(dim=1)


@pytest.mark.parametrize("norm", [0.5, 1.0, 3.0])
def test_the_gradient_penalty_is_the_squared_distance_of_the_gradient_norm_from_one(
    windows: torch.Tensor, norm: float
) -> None:
    objective = make_objective()
    objective = WganGp(objective.generator, LinearCritic(norm), melody_index=0, generated_tracks=[1, 2])
    losses = objective._critic_update(objective.generator, objective.critic, windows[:4])
    assert losses["gradient_penalty"] == pytest.approx((norm - 1.0) ** 2, rel=1e-4, abs=1e-6)


def test_samples_keep_the_melody_and_are_reproducible(objective: WganGp, windows: torch.Tensor) -> None:
    batch = windows[:5]
    first = objective.sample(batch, torch.Generator().manual_seed(3))
    again = objective.sample(batch, torch.Generator().manual_seed(3))
    other = objective.sample(batch, torch.Generator().manual_seed(4))
    assert first.shape == batch.shape
    assert torch.equal(first[:, 0], batch[:, 0])
    assert torch.equal(first, again)
    assert not torch.equal(first, other)
    assert first.min() >= 0 and first.max() <= 1
    assert objective.generator.training  # sampling leaves the network as it found it


def test_a_generator_that_remakes_the_melody_still_returns_the_given_melody(windows: torch.Tensor) -> None:
    # The lab's generator outputs all four tracks, the melody's included; evaluation keeps the given melody.
    generator = UNetGenerator(UNetConfig(STEPS, PITCHES, 3, filters=2, depth=2, latent_channels=2))
    critic = Critic(CriticConfig(3, STEPS, PITCHES, filters=2, layers=2))
    lab_like = WganGp(generator, critic, melody_index=0, generated_tracks=[0, 1, 2])
    lab_like.train_step([windows[:4]] * lab_like.batches_per_step, 0)
    sample = lab_like.sample(windows[:4], torch.Generator().manual_seed(0))
    assert torch.equal(sample[:, 0], windows[:4, 0])
    assert not torch.equal(sample[:, 1:], windows[:4, 1:])


def test_reconstruction_pulls_the_generator_towards_the_real_tracks(windows: torch.Tensor) -> None:
    def reconstruction_after(weight: float) -> float:
        objective = make_objective(seed=0, update_ratio=1, reconstruction_weight=weight)
        batch = windows[:8]
        for step in range(15):
            losses = objective.train_step([batch, batch], step)
        return losses["reconstruction"]

    assert reconstruction_after(50.0) < reconstruction_after(0.0)
