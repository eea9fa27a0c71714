"""The U-Net generator: the lab preset's exact shapes, and what a small one does with melody and noise."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from opencomposer.models import build_generator, config_to_dict, generator_config
from opencomposer.models.features import pitch_classes
from opencomposer.models.unet_gan import PRESETS, UNetConfig, UNetGenerator

SMALL = UNetConfig(steps=16, pitches=32, out_tracks=3, filters=4, depth=3, latent_channels=4, upsample="transposed")


def conv_weight_shapes(module: nn.Module) -> list[tuple[int, ...]]:
    return [tuple(m.weight.shape) for m in module.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]


def test_the_lab_preset_has_the_lab_shapes() -> None:
    generator = UNetGenerator(PRESETS["deepcomposer-lab"]).eval()
    assert generator.noise_shape == (512, 2, 8)
    # Keras' Conv2D(filters, 4) on (32, 128, 1): 64, 128, 256, 512 down; 256, 128, 64 up; 4 tracks out.
    assert conv_weight_shapes(generator) == [
        (64, 1, 4, 4),
        (128, 64, 4, 4),
        (256, 128, 4, 4),
        (512, 256, 4, 4),
        (256, 1024, 4, 4),
        (128, 512, 4, 4),
        (64, 256, 4, 4),
        (4, 128, 4, 4),
    ]
    sizes = []
    hooks = [down.register_forward_hook(lambda _m, _i, out: sizes.append(tuple(out.shape))) for down in generator.down]
    with torch.no_grad():
        out = generator(torch.ones(2, 1, 32, 128), torch.zeros(2, 512, 2, 8))
    for hook in hooks:
        hook.remove()
    assert sizes == [(2, 64, 16, 64), (2, 128, 8, 32), (2, 256, 4, 16), (2, 512, 2, 8)]
    assert out.shape == (2, 4, 32, 128)


def test_output_is_in_the_tanh_range_and_has_the_roll_shape() -> None:
    torch.manual_seed(0)
    generator = UNetGenerator(SMALL).eval()
    melody = (torch.rand(3, 1, 16, 32) > 0.9).float() * 2 - 1
    out = generator(melody, torch.randn(3, *generator.noise_shape))
    assert out.shape == (3, 3, 16, 32)
    assert out.min() > -1 and out.max() < 1


def test_the_noise_and_the_melody_both_change_the_output() -> None:
    torch.manual_seed(0)
    generator = UNetGenerator(SMALL).eval()
    melody = -torch.ones(1, 1, 16, 32)
    melody[0, 0, :8, 10] = 1
    noise = torch.randn(1, *generator.noise_shape)
    with torch.no_grad():
        base = generator(melody, noise)
        assert torch.equal(base, generator(melody, noise))
        assert not torch.allclose(base, generator(melody, torch.randn(1, *generator.noise_shape)))
        other = melody.clone()
        other[0, 0, :8, 20] = 1
        assert not torch.allclose(base, generator(other, noise))


def test_pitch_classes_fold_a_melody_onto_every_octave() -> None:
    roll = -torch.ones(1, 1, 2, 30)
    roll[0, 0, 0, 3] = 1  # step 0: row 3, so rows 3, 15 and 27 share its pitch class
    roll[0, 0, 1, 28] = 1  # step 1: row 28, so rows 4 and 16 too
    folded = pitch_classes(roll)
    assert folded.shape == roll.shape
    assert torch.nonzero(folded[0, 0, 0] > 0).flatten().tolist() == [3, 15, 27]
    assert torch.nonzero(folded[0, 0, 1] > 0).flatten().tolist() == [4, 16, 28]


def test_a_pitch_class_input_is_a_second_encoder_channel() -> None:
    config = UNetConfig(8, 24, 2, filters=2, depth=2, latent_channels=2, pitch_class_input=True)
    generator = UNetGenerator(config)
    assert conv_weight_shapes(generator)[0] == (2, 2, 4, 4)
    assert generator(torch.zeros(1, 1, 8, 24), torch.zeros(1, 2, 2, 6)).shape == (1, 2, 8, 24)
    assert not PRESETS["deepcomposer-lab"].pitch_class_input


@pytest.mark.parametrize("upsample", ["nearest", "transposed"])
def test_both_upsampling_kinds_give_the_same_shapes(upsample: str) -> None:
    config = UNetConfig(8, 16, 2, filters=2, depth=2, latent_channels=2, upsample=upsample)  # type: ignore[arg-type]
    generator = UNetGenerator(config)
    assert generator(torch.zeros(1, 1, 8, 16), torch.zeros(1, 2, 2, 4)).shape == (1, 2, 8, 16)


@pytest.mark.parametrize(
    "values",
    [
        {"steps": 30},  # not divisible by 2 ** depth
        {"kernel_size": 3},
        {"out_tracks": 0},
        {"upsample": "bilinear"},
    ],
)
def test_invalid_configs_are_refused(values: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        UNetConfig(**values)  # type: ignore[arg-type]


def test_a_config_survives_its_json_form() -> None:
    assert generator_config("unet", config_to_dict(SMALL)) == SMALL
    assert isinstance(build_generator(SMALL), UNetGenerator)
    with pytest.raises(ValueError, match="no field"):
        generator_config("unet", {"widht": 3})
    with pytest.raises(ValueError, match="Unknown generator architecture"):
        generator_config("transformer", {})
