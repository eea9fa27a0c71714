"""The MuseGAN-style generator: bar by bar, a shared latent for all tracks and one latent per track."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch import nn

from opencomposer.models import build_generator, config_to_dict, generator_config
from opencomposer.models.musegan import MuseGanConfig, MuseGanGenerator

CONFIG = MuseGanConfig(bars=3, steps_per_bar=8, pitches=16, out_tracks=2, latent_dim=4, filters=4, depth=2)


@pytest.fixture
def generator() -> MuseGanGenerator:
    torch.manual_seed(0)
    return MuseGanGenerator(CONFIG).eval()


def melody() -> torch.Tensor:
    roll = -torch.ones(1, 1, 24, 16)
    for bar in range(3):
        roll[0, 0, bar * 8 : bar * 8 + 4, 3 + 2 * bar] = 1
    return roll


def test_shapes_and_range(generator: MuseGanGenerator) -> None:
    assert generator.noise_shape == (3, 4)
    out = generator(melody(), torch.randn(1, 3, 4))
    assert out.shape == (1, 2, 24, 16)
    assert out.min() > -1 and out.max() < 1


def test_a_tracks_latent_changes_only_that_track(generator: MuseGanGenerator) -> None:
    noise = torch.randn(1, 3, 4)
    other = noise.clone()
    other[0, 2] = torch.randn(4)  # the second track's own latent
    with torch.no_grad():
        base, changed = generator(melody(), noise), generator(melody(), other)
    assert torch.equal(base[:, 0], changed[:, 0])
    assert not torch.allclose(base[:, 1], changed[:, 1])


def test_the_shared_latent_changes_every_track(generator: MuseGanGenerator) -> None:
    noise = torch.randn(1, 3, 4)
    other = noise.clone()
    other[0, 0] = torch.randn(4)
    with torch.no_grad():
        base, changed = generator(melody(), noise), generator(melody(), other)
    for track in range(2):
        assert not torch.allclose(base[:, track], changed[:, track])


def test_each_bar_is_made_from_its_own_bar_of_melody(generator: MuseGanGenerator) -> None:
    noise = torch.randn(1, 3, 4)
    changed_melody = melody()
    changed_melody[0, 0, 8:16] = -1
    changed_melody[0, 0, 8:16, 12] = 1  # bar 2 only
    with torch.no_grad():
        base, changed = generator(melody(), noise), generator(changed_melody, noise)
    assert torch.equal(base[:, :, :8], changed[:, :, :8])
    assert torch.equal(base[:, :, 16:], changed[:, :, 16:])
    assert not torch.allclose(base[:, :, 8:16], changed[:, :, 8:16])


def test_a_pitch_class_input_keeps_the_bars_apart() -> None:
    torch.manual_seed(0)
    config = MuseGanConfig(bars=3, steps_per_bar=8, pitches=16, out_tracks=2, latent_dim=4, filters=4, depth=2)
    generator = MuseGanGenerator(replace(config, pitch_class_input=True)).eval()
    first = next(module for module in generator.modules() if isinstance(module, nn.Conv2d))
    assert first.weight.shape[1] == 2
    noise = torch.randn(1, 3, 4)
    changed_melody = melody()
    changed_melody[0, 0, 8:16, 12] = 1
    with torch.no_grad():
        base, changed = generator(melody(), noise), generator(changed_melody, noise)
    assert torch.equal(base[:, :, :8], changed[:, :, :8])
    assert not torch.allclose(base[:, :, 8:16], changed[:, :, 8:16])


def test_config_round_trip_and_validation() -> None:
    assert generator_config("musegan", config_to_dict(CONFIG)) == CONFIG
    assert isinstance(build_generator(CONFIG), MuseGanGenerator)
    assert CONFIG.steps == 24
    with pytest.raises(ValueError):
        MuseGanConfig(steps_per_bar=12, depth=3)
