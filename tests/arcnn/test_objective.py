"""The orderless-NADE objective: its masks, and that it learns."""

from __future__ import annotations

import itertools

import pytest
import torch

from opencomposer.models.arcnn import Arcnn, ArcnnConfig, classes_to_rolls
from opencomposer.training.objectives.masked import MASK_KINDS, MaskedCells, random_masks

CONFIG = ArcnnConfig(voices=4, pitches=12, channels=16, blocks=2, dilation_cycle=2)


def test_every_mask_hides_at_least_one_cell_and_some_hide_whole_voices() -> None:
    masks = random_masks(300, 4, 16, torch.Generator().manual_seed(0))
    assert masks.shape == (300, 4, 16)
    assert bool(masks.flatten(1).any(dim=1).all())
    whole_voice = (masks.all(dim=2) | ~masks.any(dim=2)).all(dim=1)
    assert 50 < int(whole_voice.sum()) < 300


def test_frame_masks_hide_whole_steps_or_steps_with_some_voices_shown_again() -> None:
    masks = random_masks(400, 4, 16, torch.Generator().manual_seed(1), kinds=["frames"])
    assert bool(masks.flatten(1).any(dim=1).all())
    touched = masks.any(dim=1)  # (B, T): steps with at least one hidden cell
    whole = (masks.all(dim=1) == touched).all(dim=1)  # every touched step hidden in all its voices
    assert 150 < int(whole.sum()) < 350  # half the windows hide whole frames, some others too by chance
    partial = ~whole
    assert int(partial.sum()) > 50
    # The hidden steps are drawn in number uniformly: some windows hide one step, some nearly all.
    counts = touched.sum(dim=1)
    assert int(counts.min()) <= 2 and int(counts.max()) >= 15


def test_mask_kinds_can_be_chosen_and_an_unknown_kind_is_refused() -> None:
    masks = random_masks(200, 4, 16, torch.Generator().manual_seed(2), kinds=["voices"])
    assert bool((masks.all(dim=2) | ~masks.any(dim=2)).all())
    assert set(MASK_KINDS) == {"orderless", "voices", "span", "frames"}
    with pytest.raises(ValueError, match="not chords"):
        random_masks(2, 4, 16, kinds=["chords"])
    with pytest.raises(ValueError, match="not none"):
        random_masks(2, 4, 16, kinds=[])


def test_the_loss_falls_on_a_small_batch() -> None:
    torch.manual_seed(0)
    # A repeated cadence-like pattern the network can learn within a few dozen updates.
    classes = (torch.arange(16)[None, None, :] // 4 + torch.tensor([9, 6, 3, 0])[None, :, None]) % CONFIG.pitches
    batch = classes_to_rolls(classes.expand(8, -1, -1), CONFIG.pitches)
    objective = MaskedCells(Arcnn(CONFIG), learning_rate=3e-3)
    losses = [objective.train_step([batch], step)["loss"] for step in range(40)]
    assert sum(losses[-10:]) / 10 < 0.7 * sum(losses[:10]) / 10


def test_a_sample_keeps_the_soprano_and_gives_one_note_per_voice_and_step() -> None:
    torch.manual_seed(0)
    objective = MaskedCells(Arcnn(CONFIG))
    classes = torch.randint(0, CONFIG.pitches, (2, 4, 8))
    batch = classes_to_rolls(classes, CONFIG.pitches)
    sampled = objective.sample(batch, torch.Generator().manual_seed(0))
    assert torch.equal(sampled[:, 0], batch[:, 0])
    assert bool((sampled.sum(dim=-1) <= 1).all())


def test_each_piece_counts_the_same_whatever_the_number_of_its_hidden_cells() -> None:
    torch.manual_seed(0)
    objective = MaskedCells(Arcnn(CONFIG))
    objective.model.eval()
    classes = torch.randint(0, CONFIG.classes, (2, 4, 16))
    hidden = torch.zeros(2, 4, 16, dtype=torch.bool)
    hidden[0, 1, 5] = True  # one cell
    hidden[1, 1:] = True  # 48 cells
    with torch.no_grad():
        both = objective.loss(classes, hidden)
        alone = [objective.loss(classes[i : i + 1], hidden[i : i + 1]) for i in range(2)]
        pooled = torch.nn.functional.cross_entropy(objective.model(classes, ~hidden)[hidden], classes[hidden])
    assert torch.allclose(both, (alone[0] + alone[1]) / 2)
    assert not torch.allclose(both, pooled)


def test_the_learning_rate_warms_up_then_decays_to_a_tenth() -> None:
    objective = MaskedCells(Arcnn(CONFIG), learning_rate=1e-3, total_steps=100)
    rates = [objective.rate_at(step) for step in range(100)]
    assert rates[0] < rates[4] == max(rates)
    assert all(later <= earlier for earlier, later in itertools.pairwise(rates[4:]))
    assert abs(rates[-1] - 1e-4) < 2e-6
    assert MaskedCells(Arcnn(CONFIG), learning_rate=1e-3).rate_at(5000) == 1e-3
