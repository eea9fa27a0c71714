"""Tiny seeded AR-CNN models and four-voice scores for the AR-CNN tests."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch

from opencomposer.models.arcnn import Arcnn, ArcnnConfig
from opencomposer.music.pianoroll import RollSpec
from opencomposer.music.score import Note, Score, Track
from opencomposer.registry import ModelCard, ModelEntry, save_model

RESOLUTION = 480
BAR_TICKS = 4 * RESOLUTION
ROLL = RollSpec(steps_per_beat=4, low_pitch=36, high_pitch=81)
VOICE_NAMES = ("Soprano", "Alto", "Tenor", "Bass")
TINY = ArcnnConfig(voices=4, pitches=ROLL.n_pitches, channels=8, blocks=2, dilation_cycle=2)


def make_entry(folder: Path, config: ArcnnConfig = TINY, seed: int = 0, name: str = "tiny-arcnn") -> ModelEntry:
    """A randomly initialised AR-CNN saved with its card (technique "edit") into `folder`."""
    torch.manual_seed(seed)
    model = Arcnn(config)
    card = ModelCard(
        name=name,
        technique="edit",
        architecture="arcnn",
        config=asdict(config),
        title=name,
        description="A tiny test model.",
        dataset="none",
        roll=asdict(ROLL),
        bars=2,
        tracks=[
            {"name": voice, "role": "melody" if i == 0 else "accompaniment", "program": 40 + i, "is_drum": False}
            for i, voice in enumerate(VOICE_NAMES)
        ],
        melody_index=0,
        generated_tracks=[0, 1, 2, 3],
    )
    return save_model(card, dict(model.state_dict()), folder)


def melody(n_bars: int = 4, seed: int = 0) -> Score:
    """A quarter-note melody in 60-72 with one repeated note (a repeat must survive harmonizing)."""
    rng = np.random.default_rng(seed)
    pitches = [int(rng.integers(60, 73)) for _ in range(4 * n_bars)]
    pitches[1] = pitches[0]
    notes = [Note(pitch, index * RESOLUTION, RESOLUTION, 90) for index, pitch in enumerate(pitches)]
    return Score(resolution=RESOLUTION, tracks=(Track("Flute", program=73, notes=tuple(notes), role="melody"),))


def chorale(n_bars: int = 4, seed: int = 0) -> Score:
    """Four voices of half notes, each in its own register, named Soprano to Bass."""
    rng = np.random.default_rng(seed)
    tracks = []
    for voice, (low, high) in enumerate(((62, 74), (55, 67), (48, 60), (38, 50))):
        notes = [
            Note(int(rng.integers(low, high)), step * 2 * RESOLUTION, 2 * RESOLUTION, 80) for step in range(2 * n_bars)
        ]
        tracks.append(Track(VOICE_NAMES[voice], notes=tuple(notes)))
    return Score(resolution=RESOLUTION, tracks=tuple(tracks))


@pytest.fixture
def entry(tmp_path: Path) -> ModelEntry:
    return make_entry(tmp_path)
