"""The shared critic: the lab's shapes, one score per window, windows scored independently."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from opencomposer.models.critic import Critic, CriticConfig


def test_the_lab_critic_has_four_strided_convolutions_and_a_dense_layer() -> None:
    critic = Critic(CriticConfig())
    convs = [tuple(m.weight.shape) for m in critic.modules() if isinstance(m, nn.Conv2d)]
    assert convs == [(64, 5, 4, 4), (128, 64, 4, 4), (256, 128, 4, 4), (512, 256, 4, 4)]
    assert tuple(critic.head.weight.shape) == (1, 512 * 2 * 8)
    assert critic(torch.zeros(3, 4, 32, 128), torch.zeros(3, 1, 32, 128)).shape == (3,)


def test_each_window_is_scored_on_its_own() -> None:
    # No batch statistics: the gradient penalty is only right when windows do not mix.
    torch.manual_seed(0)
    critic = Critic(CriticConfig(tracks=2, steps=8, pitches=16, filters=4, layers=2))
    tracks, melody = torch.randn(4, 2, 8, 16), torch.randn(4, 1, 8, 16)
    together = critic(tracks, melody)
    alone = torch.cat([critic(tracks[i : i + 1], melody[i : i + 1]) for i in range(4)])
    assert torch.allclose(together, alone, atol=1e-6)


def test_the_melody_changes_the_score() -> None:
    torch.manual_seed(0)
    critic = Critic(CriticConfig(tracks=1, steps=8, pitches=16, filters=4, layers=2))
    tracks = torch.randn(1, 1, 8, 16)
    assert not torch.allclose(critic(tracks, torch.ones(1, 1, 8, 16)), critic(tracks, -torch.ones(1, 1, 8, 16)))


@pytest.mark.parametrize("values", [{"steps": 20}, {"kernel_size": 5}, {"layers": 0}])
def test_invalid_configs_are_refused(values: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        CriticConfig(**values)
