"""A fresh studio per test on a temporary home, tiny models and tiny music files."""

from __future__ import annotations

import io
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

with warnings.catch_warnings():
    # The tests drive the app through Starlette's TestClient over httpx, as the studio's issue asks.
    warnings.filterwarnings("ignore", "Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient as TestClient

from opencomposer.music.midi import midi_to_bytes
from opencomposer.music.score import Note, Score, Track
from opencomposer.studio.server.app import create_app
from opencomposer.studio.settings import DEFAULT_SOUNDFONT, Settings

RESOLUTION = 480
BAR = 4 * RESOLUTION
TINY_TRACKS = [
    {"name": "Melody", "role": "melody", "program": 0, "is_drum": False},
    {"name": "Alto", "role": "accompaniment", "program": 41, "is_drum": False},
    {"name": "Bass", "role": "accompaniment", "program": 42, "is_drum": False},
]
LOOPBACK = "http://127.0.0.1"
HAS_SYNTHESIZER = shutil.which("fluidsynth") is not None and DEFAULT_SOUNDFONT.is_file()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty studio home; the registries of this process look in it (restored after the test)."""
    folder = tmp_path / "home"
    monkeypatch.setenv("OPENCOMPOSER_HOME", str(folder))
    monkeypatch.setenv("OPENCOMPOSER_DATA", str(folder / "data"))
    monkeypatch.delenv("OPENCOMPOSER_TOKEN", raising=False)
    monkeypatch.delenv("OPENCOMPOSER_DATABASE_URL", raising=False)
    return folder


def save_tiny_model(folder: Path, name: str = "tiny", technique: str = "accompany") -> None:
    """An untrained, seeded two-bar U-Net accompaniment model (Alto and Bass under a melody)."""
    import torch

    from opencomposer.models import build_generator, config_to_dict
    from opencomposer.models.unet_gan import UNetConfig
    from opencomposer.registry import ModelCard, save_model

    config = UNetConfig(16, 48, 2, filters=2, depth=2, latent_channels=2, upsample="transposed")
    torch.manual_seed(0)
    card = ModelCard(
        name=name,
        technique=technique,
        architecture="unet",
        config=config_to_dict(config),
        title="Tiny",
        description="A tiny untrained model for tests.",
        dataset="tiny",
        roll={"steps_per_beat": 2, "low_pitch": 36, "high_pitch": 83},
        bars=2,
        tracks=TINY_TRACKS,
        melody_index=0,
        generated_tracks=[1, 2],
        decoding={"max_polyphony": [1, 2]},
    )
    save_model(card, build_generator(config).state_dict(), folder)


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings(home=home, web_dir=None, poll_seconds=0.05, worker_threads=1)


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """Start studios (the app with its lifespan) on the test's home; each is stopped at the end."""
    clients: list[TestClient] = []

    def start(**changes: Any) -> TestClient:
        client = TestClient(create_app(replace(settings, **changes)), base_url=LOOPBACK)
        client.__enter__()
        clients.append(client)
        return client

    yield start
    for client in reversed(clients):
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient], home: Path) -> TestClient:
    """A running studio with the tiny model installed."""
    save_tiny_model(home / "models")
    return make_client()


def melody_score(n_bars: int = 4, seed: int = 0, *, with_bass: bool = False) -> Score:
    """Quarter notes in 60-72 (and, with `with_bass`, a whole-note bass two octaves under each bar's first)."""
    rng = np.random.default_rng(seed)
    melody, bass = [], []
    for bar in range(n_bars):
        pitches = [int(rng.integers(60, 73)) for _ in range(4)]
        melody += [Note(pitch, bar * BAR + beat * RESOLUTION, RESOLUTION, 90) for beat, pitch in enumerate(pitches)]
        bass.append(Note(pitches[0] - 24, bar * BAR, BAR, 70))
    tracks = [Track("Melody", notes=tuple(melody), role="melody")]
    if with_bass:
        tracks.append(Track("Bass", 32, notes=tuple(bass), role="accompaniment"))
    return Score(resolution=RESOLUTION, tempo=110.0, tracks=tuple(tracks))


def midi_bytes(score: Score | None = None) -> bytes:
    return midi_to_bytes(score or melody_score())


def upload_dataset(client: TestClient, name: str, pieces: int = 6, bars: int = 8) -> dict[str, Any]:
    """Upload `pieces` two-track MIDI files as a dataset; returns the answer's JSON."""
    files = [
        (
            "files",
            (f"song {index}.mid", io.BytesIO(midi_bytes(melody_score(bars, index, with_bass=True))), "audio/midi"),
        )
        for index in range(pieces)
    ]
    response = client.post("/api/datasets", data={"name": name, "genre": "test"}, files=files)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def wait_for(predicate: Callable[[], Any], timeout_seconds: float = 120.0, what: str = "the condition") -> Any:
    """Poll `predicate` until it returns something truthy; fail after `timeout_seconds`."""
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"Timed out after {timeout_seconds} s waiting for {what}.")
