"""Sampling modes keep exactly the tokens they promise."""

from __future__ import annotations

import math

import pytest
import torch

from opencomposer.errors import ParameterError
from opencomposer.techniques.extend import draw, filter_logits


def test_top_k_keeps_the_k_likeliest() -> None:
    logits = torch.tensor([0.1, 3.0, 2.0, -1.0, 5.0])
    kept = torch.isfinite(filter_logits(logits, "top-k", 2, 1.0))
    assert kept.tolist() == [False, True, False, False, True]


def test_nucleus_keeps_the_smallest_set_reaching_p() -> None:
    probabilities = torch.tensor([0.05, 0.5, 0.3, 0.15])
    logits = probabilities.log()
    assert torch.isfinite(filter_logits(logits, "nucleus", 0, 0.7)).tolist() == [False, True, True, False]
    assert torch.isfinite(filter_logits(logits, "nucleus", 0, 0.85)).tolist() == [
        False,
        True,
        True,
        True,
    ]
    only_best = filter_logits(logits, "nucleus", 0, 0.05)
    assert torch.isfinite(only_best).tolist() == [False, True, False, False]


def test_temperature_keeps_everything_and_unknown_modes_are_refused() -> None:
    logits = torch.randn(7)
    assert torch.equal(filter_logits(logits, "temperature", 1, 0.1), logits)
    with pytest.raises(ParameterError, match="sampling"):
        filter_logits(logits, "beam", 1, 0.1)


def test_filtered_tokens_are_never_drawn() -> None:
    logits = torch.randn(2, 30)
    filtered = filter_logits(logits, "top-k", 3, 1.0)
    draws = torch.multinomial(torch.softmax(filtered, dim=-1), 200, replacement=True)
    allowed = torch.topk(logits, 3, dim=-1).indices
    for row in range(2):
        assert set(draws[row].tolist()) <= set(allowed[row].tolist())
    assert not math.isnan(float(filtered[torch.isfinite(filtered)].sum()))


def test_a_draw_is_torch_multinomials_draw_and_follows_the_probabilities() -> None:
    probabilities = torch.softmax(torch.randn(329, generator=torch.Generator().manual_seed(1)), dim=-1)
    ours, torchs = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    drawn = [draw(probabilities, ours) for _ in range(4000)]
    assert drawn[:200] == [int(torch.multinomial(probabilities, 1, generator=torchs)) for _ in range(200)]
    counts = torch.bincount(torch.tensor(drawn), minlength=329).float() / len(drawn)
    likeliest = int(probabilities.argmax())
    assert abs(counts[likeliest] - probabilities[likeliest]) < 0.02
