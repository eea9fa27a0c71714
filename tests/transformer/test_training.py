"""Training: the architecture is registered, bar-aligned sequences, the bigram baseline, stuck-bar detection."""

from __future__ import annotations

import math

import numpy as np

from opencomposer.music.score import Note, Score, Track
from opencomposer.training.architectures import get_architecture, list_architectures
from opencomposer.training.transformer import bigram_loss, longest_stuck_bars, piece_sequences


def test_the_transformer_is_a_trainable_architecture_of_the_extend_technique() -> None:
    assert "transformer" in [architecture.name for architecture in list_architectures()]
    architecture = get_architecture("transformer")
    assert architecture.technique == "extend"
    assert {"steps", "epochs", "max_minutes", "eval_every", "checkpoint_every", "seed"} <= {
        param.name for param in architecture.params
    }
    assert {preset.name for preset in architecture.presets} == {"classical-transformer", "pop-transformer"}


def test_sequences_begin_on_a_bar_and_the_last_is_padded() -> None:
    bar, pad = 4, 0
    stream = [bar, 7, 8, 9, bar, 7, 7, bar, 9, 9, 9, 9, bar, 8]
    sequences = piece_sequences(stream, 6, bar, pad)
    assert all(row[0] == bar for row in sequences)
    assert sequences[-1][-1] == pad
    assert set(np.concatenate(sequences).tolist()) - {pad} == set(stream)


def test_bigram_baseline_is_exact_on_a_deterministic_stream() -> None:
    cycle = np.array([[1, 2, 3, 1, 2, 3, 1, 2, 3]] * 4, dtype=np.int16)
    assert bigram_loss(cycle, cycle, vocab_size=5, pad_id=0) < 0.01
    uniform = np.random.default_rng(0).integers(1, 5, size=(200, 50)).astype(np.int16)
    assert abs(bigram_loss(uniform, uniform, vocab_size=5, pad_id=0) - math.log(4)) < 0.05


def test_a_looped_bar_and_empty_bars_count_as_stuck() -> None:
    bar = 1920
    looped = [Note(60 + (i % 2), b * bar + i * 480, 480) for b in range(5) for i in range(4)]
    varied = [Note(60 + b, b * bar, 480) for b in range(3)]
    score = Score(tracks=(Track("Piano", notes=tuple(looped)),))
    assert longest_stuck_bars(score, 0) == 5
    gappy = Score(tracks=(Track("Piano", notes=(*varied, Note(70, 8 * bar, 480))),))
    assert longest_stuck_bars(gappy, 0) == 5  # bars 3 to 7 hold nothing
    assert longest_stuck_bars(Score(tracks=(Track("Piano", notes=tuple(varied)),)), 0) == 0
