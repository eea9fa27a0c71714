"""The critic both accompaniment GANs share: strided convolutions and one dense layer over (tracks + melody).

It scores how real a multi-track window looks given the melody it accompanies. As in the AWS
DeepComposer lab, the melody is stacked with the tracks as one more input channel, every convolution
halves both the time and the pitch axis, and there is no normalization layer (a WGAN-GP critic must
not mix the samples of a batch, or the gradient penalty is wrong).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True, slots=True)
class CriticConfig:
    """Sizes of the critic.

    Parameters
    ----------
    tracks
        Tracks it judges (those the generator produces); the melody is added as one more channel.
    steps, pitches
        Size of a window; both must be divisible by ``2 ** layers``.
    filters
        Channels of the first convolution; each further layer doubles them.
    layers
        Strided convolutions (the lab uses four: 64, 128, 256 and 512 filters).
    kernel_size
        Square kernel of every convolution (even, so that stride 2 halves a side exactly).
    """

    tracks: int = 4
    steps: int = 32
    pitches: int = 128
    filters: int = 64
    layers: int = 4
    kernel_size: int = 4

    def __post_init__(self) -> None:
        scale = 2**self.layers
        if self.steps % scale or self.pitches % scale:
            raise ValueError(f"steps ({self.steps}) and pitches ({self.pitches}) must be divisible by {scale}.")
        if self.kernel_size % 2:
            raise ValueError(f"kernel_size must be even, not {self.kernel_size}.")
        if min(self.tracks, self.filters, self.layers) < 1:
            raise ValueError("tracks, filters and layers must be at least 1.")


class Critic(nn.Module):
    """WGAN critic: ``critic(tracks, melody)`` is one unbounded realism score per window."""

    def __init__(self, config: CriticConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        channels = config.tracks + 1
        padding = (config.kernel_size - 2) // 2
        for index in range(config.layers):
            out_channels = config.filters * 2**index
            layers += [nn.Conv2d(channels, out_channels, config.kernel_size, 2, padding), nn.LeakyReLU(0.2)]
            channels = out_channels
        self.features = nn.Sequential(*layers)
        cells = (config.steps >> config.layers) * (config.pitches >> config.layers)
        self.head = nn.Linear(channels * cells, 1)

    def forward(self, tracks: torch.Tensor, melody: torch.Tensor) -> torch.Tensor:
        """Score windows.

        Parameters
        ----------
        tracks
            (B, tracks, steps, pitches), values in [-1, 1].
        melody
            (B, 1, steps, pitches), values in {-1, 1}.

        Returns
        -------
        torch.Tensor
            (B,) scores; higher means more real.
        """
        x = torch.cat([tracks, melody], dim=1)  # (B, tracks + 1, T, P)
        x = self.features(x)  # (B, filters * 2 ** (layers - 1), T / 2 ** layers, P / 2 ** layers)
        score: torch.Tensor = self.head(x.flatten(1)).squeeze(1)  # (B,)
        return score
