"""The AR-CNN network: shapes, what it may read, how far it sees, and the classes it works in."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch.nn import functional

from opencomposer.metrics.harmony import voice_leading
from opencomposer.models.arcnn import (
    Arcnn,
    ArcnnConfig,
    anneal_probability,
    classes_to_rolls,
    gibbs_sample,
    parallel_counts,
    rolls_to_classes,
)
from opencomposer.music.pianoroll import RollSpec

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


def _parallels(classes: torch.Tensor) -> int:
    """Parallel fifths plus octaves of a (4, steps) state, as the metrics count them."""
    roll = classes_to_rolls(classes, CONFIG.pitches).numpy()
    counts = voice_leading(roll, RollSpec(steps_per_beat=4, low_pitch=60, high_pitch=60 + CONFIG.pitches - 1))
    return int(counts.parallel_fifths + counts.parallel_octaves)


def test_parallel_counts_are_what_each_class_adds_to_the_metrics_count() -> None:
    generator = torch.Generator().manual_seed(3)
    checked = 0
    for _ in range(40):
        # Few classes and many rests make parallels, rests and held notes all common.
        state = torch.randint(0, CONFIG.classes, (4, 6), generator=generator)
        voice = torch.randint(0, 4, (1,), generator=generator)
        step = torch.randint(0, 6, (1,), generator=generator)
        counts = parallel_counts(state, voice, step, CONFIG.rest_class)[0]
        totals = []
        for candidate in range(CONFIG.classes):
            changed = state.clone()
            changed[voice, step] = candidate
            totals.append(_parallels(changed))
        # The events away from the cell do not depend on its class, so the differences must agree.
        assert np.array_equal(np.diff(totals), np.diff(counts.numpy())), (state, voice, step)
        assert counts[CONFIG.rest_class] == 0
        checked += int(counts.max() > 0)
    assert checked > 5


class _Doubler(Arcnn):
    """A stand-in network that wants every voice to double the soprano, in unison: parallels galore."""

    def forward(self, classes: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        soprano = functional.one_hot(classes[:, :1], CONFIG.classes).to(torch.float32)  # (B, 1, T, K)
        return 4.0 * soprano.expand(-1, classes.shape[1], -1, -1)


def test_a_parallel_penalty_steers_the_sampler_away_from_parallels() -> None:
    net = _Doubler(CONFIG).eval()
    start = torch.full((4, 32), CONFIG.rest_class)
    start[0] = torch.tensor([9, 9, 5, 5, 8, 8, 4, 4] * 4)  # a soprano moving by fourths and thirds
    changeable = torch.ones(4, 32, dtype=torch.bool)
    changeable[0] = False

    def parallels(penalty: float) -> int:
        state = gibbs_sample(
            net,
            start,
            changeable,
            iterations=20,
            temperature=1.0,
            generator=torch.Generator().manual_seed(0),
            parallel_penalty=penalty,
        )
        return _parallels(state)

    free, avoided = parallels(0.0), parallels(8.0)
    assert free >= 20 and avoided <= free / 10


def test_a_config_needs_an_odd_kernel() -> None:
    with pytest.raises(ValueError, match="odd"):
        ArcnnConfig(kernel_steps=2)
    with pytest.raises(ValueError, match="0 or odd"):
        ArcnnConfig(direct_steps=4)
    with pytest.raises(ValueError, match="may not see further"):
        ArcnnConfig(blocks=1, dilation_cycle=1, direct_steps=7)


def test_the_direct_path_reads_the_known_neighbours_and_keeps_hidden_cells_unread() -> None:
    torch.manual_seed(0)
    net = Arcnn(ArcnnConfig(voices=4, pitches=10, channels=8, blocks=2, dilation_cycle=2, direct_steps=3)).eval()
    assert net.direct is not None and net.direct.kernel_size == (3,)
    classes = torch.randint(0, CONFIG.classes, (1, 4, 16))
    known = torch.rand(1, 4, 16) < 0.5
    changed = torch.where(known, classes, (classes + 3) % CONFIG.classes)
    with torch.no_grad():
        assert torch.equal(net(classes, known), net(changed, known))
        with_direct = net(classes, known)
        net.direct = None
        assert not torch.allclose(net(classes, known), with_direct)
