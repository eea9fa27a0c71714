"""Input features both generators share."""

from __future__ import annotations

import torch
from torch import nn


def pitch_classes(roll: torch.Tensor) -> torch.Tensor:
    """Fold a roll onto one octave and repeat it on every octave: cell (t, p) is on where any p + 12k is.

    `roll` is (B, C, T, P) with values in {-1, 1}; the result has the same shape and values. Rows 12 apart
    share a pitch class whatever the roll's lowest pitch, so no absolute pitch is needed. Given beside the
    melody, it lets each pitch row see at once whether its pitch class sounds in the melody, which
    consonance depends on, instead of learning it through many layers.
    """
    batch, channels, steps, pitches = roll.shape
    octaves = -(-pitches // 12)
    padded = nn.functional.pad(roll, (0, octaves * 12 - pitches), value=-1.0)  # (B, C, T, 12 * octaves)
    folded = padded.reshape(batch, channels, steps, octaves, 12).amax(dim=3)  # (B, C, T, 12)
    return folded.repeat(1, 1, 1, octaves)[..., :pitches]  # (B, C, T, P)
