"""The AR-CNN network: shapes, what it may read, how far it sees, and the classes it works in."""

from __future__ import annotations

import itertools

import pytest
import torch

from opencomposer.models.arcnn import (
    Arcnn,
    ArcnnConfig,
    anneal_probability,
    classes_to_rolls,
    gibbs_sample,
    rolls_to_classes,
)

CONFIG = ArcnnConfig(voices=4, pitches=10, channels=8, blocks=2, dilation_cycle=2)


def model() -> Arcnn:
    torch.manual_seed(0)
    return Arcnn(CONFIG).eval()


def test_logits_cover_every_cell_and_class() -> None:
    classes = torch.randint(0, CONFIG.classes, (3, 4, 20))
    logits = model()(classes, torch.ones(3, 4, 20, dtype=torch.bool))
    assert logits.shape == (3, 4, 20, CONFIG.classes)


def test_unknown_cells_are_not_read() -> None:
    net = model()
    classes = torch.randint(0, CONFIG.classes, (1, 4, 16))
    known = torch.rand(1, 4, 16) < 0.5
    changed = torch.where(known, classes, (classes + 3) % CONFIG.classes)
    with torch.no_grad():
        assert torch.equal(net(classes, known), net(changed, known))


def test_a_cell_sees_only_its_receptive_field() -> None:
    net = model()
    field = CONFIG.receptive_field_steps
    steps = 3 * field
    classes = torch.randint(0, CONFIG.classes, (1, 4, steps))
    far = classes.clone()
    far[:, :, field:] = (far[:, :, field:] + 1) % CONFIG.classes
    known = torch.ones(1, 4, steps, dtype=torch.bool)
    with torch.no_grad():
        before, after = net(classes, known), net(far, known)
    reach = field // 2
    assert torch.equal(before[:, :, : field - reach], after[:, :, : field - reach])
    assert not torch.equal(before[:, :, field - reach], after[:, :, field - reach])


def test_classes_and_rolls_round_trip_with_rests() -> None:
    classes = torch.tensor([[[0, 9, 10, 3]]])  # 10 is the rest of 10 pitches
    rolls = classes_to_rolls(classes, 10)
    assert rolls.shape == (1, 1, 4, 10) and rolls[0, 0, 2].sum() == 0
    assert torch.equal(rolls_to_classes(rolls), classes)


def test_a_chord_in_one_voice_reads_as_its_top_pitch() -> None:
    roll = torch.zeros(1, 1, 1, 10)
    roll[0, 0, 0, [2, 7]] = 1
    assert rolls_to_classes(roll).item() == 7


def test_the_annealing_masks_fewer_cells_as_it_goes() -> None:
    shares = [anneal_probability(i, 100) for i in range(100)]
    assert shares[0] == 1.0 and shares[-1] == pytest.approx(0.05)
    assert all(a >= b for a, b in itertools.pairwise(shares))


def test_gibbs_sampling_keeps_what_may_not_change_and_follows_the_seed() -> None:
    net = model()
    start = torch.full((4, 12), CONFIG.rest_class)
    start[0] = torch.arange(12) % CONFIG.pitches
    changeable = torch.ones(4, 12, dtype=torch.bool)
    changeable[0] = False

    def sample(seed: int) -> torch.Tensor:
        return gibbs_sample(
            net, start, changeable, iterations=5, temperature=1.0, generator=torch.Generator().manual_seed(seed)
        )

    first = sample(1)
    assert torch.equal(first[0], start[0])
    assert torch.equal(first, sample(1)) and not torch.equal(first, sample(2))


def test_a_config_needs_an_odd_kernel() -> None:
    with pytest.raises(ValueError, match="odd"):
        ArcnnConfig(kernel_steps=2)
