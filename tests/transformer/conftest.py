"""Fixtures of the Transformer tests: a tiny random model saved as a real model folder, and small scores."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from opencomposer.models.transformer import Transformer, TransformerConfig
from opencomposer.music.score import Note, Score, Track
from opencomposer.registry import ModelCard, ModelEntry, get_model, save_model
from opencomposer.techniques.extend import encode_score, make_tokenizer
from opencomposer.training.objectives.lm import LanguageModel


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> ModelEntry:
    """A seeded 2-layer model with the real vocabulary, briefly trained, saved as card + weights + vocabulary."""
    folder = tmp_path_factory.mktemp("tiny-model")
    tokenizer = make_tokenizer()
    torch.manual_seed(0)
    config = TransformerConfig(vocab_size=len(tokenizer), context_tokens=32, d_model=32, layers=2, heads=2)
    model = Transformer(config)
    # A few dozen updates on a quartet's tokens teach it the grammar of note events, so that it plays.
    ids = torch.tensor(encode_score(tokenizer, quartet(bars=8)))
    windows = torch.stack([ids[start : start + 33] for start in range(0, len(ids) - 33, 4)])
    objective = LanguageModel(model, learning_rate=1e-2, total_steps=60)
    for step in range(60):
        objective.train_step([windows], step)
    card = ModelCard(
        name="tiny-extend",
        technique="extend",
        architecture="transformer",
        config=asdict(config),
        title="tiny",
        description="A tiny random model for tests.",
        dataset="none",
        roll={"steps_per_beat": 4, "low_pitch": 21, "high_pitch": 108},
        bars=0,
        tracks=[],
        melody_index=0,
        generated_tracks=[],
    )
    save_model(card, dict(model.state_dict()), folder)
    tokenizer.save(folder, filename="tiny-extend.tokenizer.json")
    return get_model(str(folder / "tiny-extend.json"))


def quartet(bars: int = 4, resolution: int = 480) -> Score:
    """Two violins (program 40), one an octave below the other, and a cello (42): quarter notes on a scale."""
    scale = [60, 62, 64, 65, 67, 69, 71, 72]
    notes = [Note(scale[i % 8], i * resolution, resolution, 80) for i in range(bars * 4)]
    return Score(
        resolution=resolution,
        tempo=120.0,
        tracks=(
            Track("Violin 1", 40, notes=tuple(notes), role="melody"),
            Track("Violin 2", 40, notes=tuple(n._replace(pitch=n.pitch - 12) for n in notes), role="accompaniment"),
            Track("Cello", 42, notes=tuple(Note(36, i * 4 * resolution, 2 * resolution, 70) for i in range(bars))),
        ),
    )


@pytest.fixture
def quartet_score() -> Score:
    """See `quartet`."""
    return quartet()


def write_path(folder: Path, name: str) -> Path:
    """`folder / name`, the folder created."""
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name
