"""A MuseGAN-style track-conditional generator: the melody given, the other tracks made bar by bar.

After Dong et al. (2018), "MuseGAN: Multi-track Sequential Generative Adversarial Networks for Symbolic
Music Generation and Accompaniment", in its track-conditional form. Four kinds of randomness shape a
window of `bars` bars:

- a shared latent, time-independent: the style of the whole window, the same for every track;
- a shared temporal code per bar, grown from the shared latent by a temporal network: how the style moves
  from bar to bar;
- one latent per track, time-independent: each instrument's own manner;
- a temporal code per track and bar, grown from that track's latent.

Each bar of the melody is encoded by strided convolutions. A shared decoder grows every bar from the
melody's encoding and the shared codes (joining the encoder's features level by level, as a U-Net
does), and a private head per track (grouped convolutions, one group per track) turns the shared
features and that track's codes into the track's roll. The noise of a window is one tensor of shape
(1 + tracks, latent_dim): the shared latent, then one per track. The critic is `models.critic.Critic`,
the same as the U-Net generator's.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from opencomposer.models.features import pitch_classes


@dataclass(frozen=True, slots=True)
class MuseGanConfig:
    """Sizes of the MuseGAN-style generator.

    Parameters
    ----------
    bars
        Bars in a window.
    steps_per_bar, pitches
        Size of one bar; both must be divisible by ``2 ** depth``.
    out_tracks
        Tracks generated.
    latent_dim
        Size of each latent (the shared one and each track's).
    filters
        Channels of the first encoder level; each further level doubles them.
    depth
        Encoder levels per bar.
    track_channels
        Channels a track's codes add to the shared features in its private head.
    batch_norm_momentum
        Momentum of the running statistics of the batch norms.
    pitch_class_input
        Also give the encoder each bar of the melody folded onto every octave (`features.pitch_classes`).
    """

    bars: int = 4
    steps_per_bar: int = 16
    pitches: int = 64
    out_tracks: int = 2
    latent_dim: int = 32
    filters: int = 32
    depth: int = 3
    track_channels: int = 8
    batch_norm_momentum: float = 0.1
    pitch_class_input: bool = False

    def __post_init__(self) -> None:
        scale = 2**self.depth
        if self.steps_per_bar % scale or self.pitches % scale:
            raise ValueError(
                f"steps_per_bar ({self.steps_per_bar}) and pitches ({self.pitches}) must be divisible by {scale}."
            )
        if min(self.bars, self.out_tracks, self.latent_dim, self.filters, self.depth, self.track_channels) < 1:
            raise ValueError("bars, out_tracks, latent_dim, filters, depth and track_channels must be at least 1.")

    @property
    def steps(self) -> int:
        """Steps in a window."""
        return self.bars * self.steps_per_bar

    @property
    def noise_shape(self) -> tuple[int, int]:
        """Shape of one window's noise: the shared latent then one per track, (1 + out_tracks, latent_dim)."""
        return (1 + self.out_tracks, self.latent_dim)


def _batch_norm(channels: int, config: MuseGanConfig) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, momentum=config.batch_norm_momentum)


class _Temporal(nn.Sequential):
    """A latent of size Z grown into one code per bar: (..., Z) -> (..., bars * Z)."""

    def __init__(self, config: MuseGanConfig) -> None:
        size = config.latent_dim
        super().__init__(nn.Linear(size, 2 * size), nn.ReLU(), nn.Linear(2 * size, config.bars * size), nn.Tanh())


class MuseGanGenerator(nn.Module):
    """``generator(melody, noise)`` gives `out_tracks` tracks with values in (-1, 1), bar by bar."""

    def __init__(self, config: MuseGanConfig) -> None:
        super().__init__()
        self.config = config
        widths = [config.filters * 2**level for level in range(config.depth)]
        self.encoder = nn.ModuleList()
        in_channels = 2 if config.pitch_class_input else 1
        for level, width in enumerate(widths):
            layers: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
            if level:
                layers.append(_batch_norm(width, config))
            self.encoder.append(nn.Sequential(*layers))
            in_channels = width
        self.shared_temporal = _Temporal(config)
        self.track_temporal = _Temporal(config)
        self.grid = (config.steps_per_bar >> config.depth, config.pitches >> config.depth)
        self.code = nn.Linear(2 * config.latent_dim, widths[-1] * self.grid[0] * self.grid[1])
        self.decoder = nn.ModuleList()
        in_channels = 2 * widths[-1]
        for level in range(config.depth - 1, 0, -1):
            self.decoder.append(
                nn.Sequential(
                    nn.ConvTranspose2d(in_channels, widths[level - 1], 4, 2, 1),
                    _batch_norm(widths[level - 1], config),
                    nn.ReLU(),
                )
            )
            in_channels = 2 * widths[level - 1]
        self.track_code = nn.Linear(2 * config.latent_dim, config.track_channels)
        tracks = config.out_tracks
        group_in, group_hidden = in_channels + config.track_channels, widths[0]
        self.private = nn.Sequential(
            nn.ConvTranspose2d(tracks * group_in, tracks * group_hidden, 4, 2, 1, groups=tracks),
            _batch_norm(tracks * group_hidden, config),
            nn.ReLU(),
            nn.Conv2d(tracks * group_hidden, tracks, 3, padding=1, groups=tracks),
            nn.Tanh(),
        )

    @property
    def noise_shape(self) -> tuple[int, ...]:
        """Shape of one window's noise (see `MuseGanConfig.noise_shape`)."""
        return self.config.noise_shape

    def forward(self, melody: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Generate tracks for a batch of melody windows.

        Parameters
        ----------
        melody
            (B, 1, bars * steps_per_bar, pitches), values in {-1, 1}.
        noise
            (B, 1 + out_tracks, latent_dim): the shared latent, then one per track.

        Returns
        -------
        torch.Tensor
            (B, out_tracks, bars * steps_per_bar, pitches), values in (-1, 1).
        """
        config = self.config
        batch, bars, tracks, size = melody.shape[0], config.bars, config.out_tracks, config.latent_dim
        steps, pitches = config.steps_per_bar, config.pitches
        if config.pitch_class_input:
            melody = torch.cat([melody, pitch_classes(melody)], dim=1)  # (B, 2, T, P)
        channels = melody.shape[1]
        x = melody.reshape(batch, channels, bars, steps, pitches).transpose(1, 2)  # (B, K, C, S, P)
        x = x.reshape(batch * bars, channels, steps, pitches)  # (B*K, C, S, P): one bar per row
        skips = []
        for down in self.encoder:
            x = down(x)  # (B*K, filters * 2 ** k, S / 2 ** (k + 1), P / 2 ** (k + 1))
            skips.append(x)

        shared, own = noise[:, 0], noise[:, 1:]  # (B, Z), (B, N, Z)
        shared_bars = self.shared_temporal(shared).reshape(batch, bars, size)  # (B, K, Z)
        bar_code = torch.cat([shared[:, None].expand(-1, bars, -1), shared_bars], dim=2)  # (B, K, 2Z)
        code = self.code(bar_code.reshape(batch * bars, 2 * size))  # (B*K, C * h * w)
        x = torch.cat([x, code.reshape(x.shape)], dim=1)  # (B*K, 2C, h, w)
        for up, skip in zip(self.decoder, reversed(skips[:-1]), strict=True):
            x = torch.cat([up(x), skip], dim=1)  # (B*K, 2 * widths[k], S / 2 ** (k + 1), P / 2 ** (k + 1))

        track_bars = self.track_temporal(own).reshape(batch, tracks, bars, size)  # (B, N, K, Z)
        track_code = torch.cat([own[:, :, None].expand(-1, -1, bars, -1), track_bars], dim=3)  # (B, N, K, 2Z)
        track_code = self.track_code(track_code.transpose(1, 2).reshape(batch * bars, tracks, 2 * size))
        height, width = x.shape[2], x.shape[3]
        private_in = torch.cat(
            [
                x[:, None].expand(-1, tracks, -1, -1, -1),  # (B*K, N, 2F, S/2, P/2): the shared features
                track_code[..., None, None].expand(-1, -1, -1, height, width),  # (B*K, N, Ct, S/2, P/2)
            ],
            dim=2,
        )
        out: torch.Tensor = self.private(private_in.flatten(1, 2))  # (B*K, N, S, P)
        out = out.reshape(batch, bars, tracks, steps, pitches).transpose(1, 2)  # (B, N, K, S, P)
        return out.reshape(batch, tracks, bars * steps, pitches)  # (B, N, T, P)
