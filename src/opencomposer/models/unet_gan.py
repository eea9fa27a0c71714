"""The U-Net generator of the AWS DeepComposer GAN: a melody's piano roll in, accompaniment tracks out.

An encoder of strided convolutions shrinks the melody roll to a small grid of features; a noise tensor
of the same grid is joined to it at the bottleneck, so that one melody can get many accompaniments; a
decoder grows it back to the roll's size, joining at each level the encoder's features of that size
(the skip connections, which keep the melody's exact timing and pitches in reach of every layer).

The `deepcomposer-lab` preset reproduces the lab's shapes exactly: a (32 steps, 128 pitches) melody,
filters 64 to 512, a (512, 2, 8) noise tensor and four output tracks (the lab regenerates the melody's
track too; the accompany technique keeps the input melody instead of that one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from opencomposer.models.features import pitch_classes

Upsample = Literal["nearest", "transposed"]


@dataclass(frozen=True, slots=True)
class UNetConfig:
    """Sizes of the U-Net generator.

    Parameters
    ----------
    steps, pitches
        Size of a window; both must be divisible by ``2 ** depth``.
    out_tracks
        Tracks generated.
    filters
        Channels of the first encoder level; each further level doubles them.
    depth
        Encoder levels (strided convolutions); the bottleneck grid is ``(steps, pitches) / 2 ** depth``.
    latent_channels
        Channels of the noise tensor joined at the bottleneck.
    kernel_size
        Square kernel of every convolution (even).
    upsample
        "nearest": nearest-neighbour upsampling then a convolution (the lab's); "transposed": one
        transposed convolution, about four times cheaper for the same shapes.
    batch_norm_momentum
        PyTorch's momentum of the running statistics (Keras' momentum 0.8 is 0.2 here).
    pitch_class_input
        Also give the encoder the melody folded onto every octave (`features.pitch_classes`) as a second
        input channel. The lab has no such input.
    """

    steps: int = 32
    pitches: int = 128
    out_tracks: int = 4
    filters: int = 64
    depth: int = 4
    latent_channels: int = 512
    kernel_size: int = 4
    upsample: Upsample = "nearest"
    batch_norm_momentum: float = 0.2
    pitch_class_input: bool = False

    def __post_init__(self) -> None:
        scale = 2**self.depth
        if self.steps % scale or self.pitches % scale:
            raise ValueError(f"steps ({self.steps}) and pitches ({self.pitches}) must be divisible by {scale}.")
        if self.kernel_size % 2:
            raise ValueError(f"kernel_size must be even, not {self.kernel_size}.")
        if min(self.out_tracks, self.filters, self.depth, self.latent_channels) < 1:
            raise ValueError("out_tracks, filters, depth and latent_channels must be at least 1.")
        if self.upsample not in ("nearest", "transposed"):
            raise ValueError(f"upsample must be 'nearest' or 'transposed', not {self.upsample!r}.")

    @property
    def noise_shape(self) -> tuple[int, int, int]:
        """Shape of one window's noise: (latent_channels, steps / 2 ** depth, pitches / 2 ** depth)."""
        return (self.latent_channels, self.steps >> self.depth, self.pitches >> self.depth)


PRESETS: dict[str, UNetConfig] = {"deepcomposer-lab": UNetConfig()}
"""Named configurations; `deepcomposer-lab` is the generator of the AWS DeepComposer GAN lab."""


class _Down(nn.Sequential):
    """Halve time and pitch: strided convolution, leaky ReLU, then batch norm (not on the first level)."""

    def __init__(self, in_channels: int, out_channels: int, config: UNetConfig, *, norm: bool) -> None:
        padding = (config.kernel_size - 2) // 2
        layers: list[nn.Module] = [
            nn.Conv2d(in_channels, out_channels, config.kernel_size, 2, padding),
            nn.LeakyReLU(0.2),
        ]
        if norm:
            layers.append(nn.BatchNorm2d(out_channels, eps=1e-3, momentum=config.batch_norm_momentum))
        super().__init__(*layers)


def _grow(in_channels: int, out_channels: int, config: UNetConfig) -> list[nn.Module]:
    """Layers doubling time and pitch, in the configured way."""
    if config.upsample == "transposed":
        padding = (config.kernel_size - 2) // 2
        return [nn.ConvTranspose2d(in_channels, out_channels, config.kernel_size, 2, padding)]
    # "Same" padding of an even kernel puts the extra row after the input, as Keras does.
    low, high = (config.kernel_size - 1) // 2, config.kernel_size // 2
    return [
        nn.Upsample(scale_factor=2.0),
        nn.ZeroPad2d((low, high, low, high)),
        nn.Conv2d(in_channels, out_channels, config.kernel_size),
    ]


class _Up(nn.Sequential):
    """Double time and pitch, then batch norm and ReLU (the skip connection is joined by the caller)."""

    def __init__(self, in_channels: int, out_channels: int, config: UNetConfig) -> None:
        super().__init__(
            *_grow(in_channels, out_channels, config),
            nn.BatchNorm2d(out_channels, eps=1e-3, momentum=config.batch_norm_momentum),
            nn.ReLU(),
        )


class UNetGenerator(nn.Module):
    """``generator(melody, noise)`` gives `out_tracks` tracks with values in (-1, 1)."""

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        self.config = config
        widths = [config.filters * 2**level for level in range(config.depth)]  # 64, 128, 256, 512
        in_channels = 2 if config.pitch_class_input else 1
        self.down = nn.ModuleList(
            _Down(in_channels if level == 0 else widths[level - 1], widths[level], config, norm=level > 0)
            for level in range(config.depth)
        )
        # Level k of the decoder outputs widths[k - 1] channels, then the encoder's widths[k - 1] join.
        self.up = nn.ModuleList()
        in_channels = widths[-1] + config.latent_channels
        for level in range(config.depth - 1, 0, -1):
            self.up.append(_Up(in_channels, widths[level - 1], config))
            in_channels = 2 * widths[level - 1]
        self.out = nn.Sequential(*_grow(in_channels, config.out_tracks, config), nn.Tanh())

    @property
    def noise_shape(self) -> tuple[int, ...]:
        """Shape of one window's noise (see `UNetConfig.noise_shape`)."""
        return self.config.noise_shape

    def forward(self, melody: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Generate tracks for a batch of melody windows.

        Parameters
        ----------
        melody
            (B, 1, steps, pitches), values in {-1, 1}.
        noise
            (B, *noise_shape).

        Returns
        -------
        torch.Tensor
            (B, out_tracks, steps, pitches), values in (-1, 1).
        """
        skips = []
        x = torch.cat([melody, pitch_classes(melody)], dim=1) if self.config.pitch_class_input else melody
        for down in self.down:
            x = down(x)  # (B, filters * 2 ** k, T / 2 ** (k + 1), P / 2 ** (k + 1))
            skips.append(x)
        x = torch.cat([x, noise], dim=1)  # (B, widths[-1] + latent, T / 2 ** depth, P / 2 ** depth)
        for up, skip in zip(self.up, reversed(skips[:-1]), strict=True):
            x = torch.cat([up(x), skip], dim=1)  # (B, 2 * widths[k], T / 2 ** (k + 1), P / 2 ** (k + 1))
        out: torch.Tensor = self.out(x)  # (B, out_tracks, T, P)
        return out
