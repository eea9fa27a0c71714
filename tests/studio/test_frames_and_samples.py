"""What the web UI reads beside the API's core: a composition's frames (the AR-CNN's edits, replayed) and the
notes of a training job's evaluation sample."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from opencomposer.music.midi import write_midi
from opencomposer.music.score import Note, Score, Track
from opencomposer.studio.compose import Composer
from opencomposer.studio.home import Home
from opencomposer.studio.server.app import create_app
from opencomposer.studio.settings import Settings

from .conftest import LOOPBACK, TestClient, melody_score, save_tiny_model, upload_dataset
from .test_jobs import start_job


@pytest.fixture
def idle_client(settings: Settings, home: Path) -> TestClient:
    """A studio whose job watcher is not started (no lifespan): created jobs stay queued."""
    save_tiny_model(home / "models")
    return TestClient(create_app(settings), base_url=LOOPBACK)


def _frame(pitch: int) -> Score:
    return Score(resolution=480, tracks=(Track("Melody", notes=(Note(pitch, 0, 480, 90),), role="melody"),))


def test_the_frames_of_a_generation_are_kept_and_deleted_with_it(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    generate = Composer.generate

    def with_frames(self: Composer, *args: object, **kwargs: object) -> object:
        generation, params = generate(self, *args, **kwargs)  # type: ignore[arg-type]
        return replace(generation, frames=(_frame(60), _frame(62), _frame(64))), params

    monkeypatch.setattr(Composer, "generate", with_frames)
    body = {"technique": "accompany", "model": "tiny", "melody_id": "twinkle", "seed": 1}
    made = client.post("/api/compositions", json=body).json()
    assert made["info"]["frames"] == 3
    frames = client.get(f"/api/compositions/{made['id']}/frames").json()
    assert [frame["tracks"][0]["notes"][0]["pitch"] for frame in frames] == [60, 62, 64]
    assert client.delete(f"/api/compositions/{made['id']}").status_code == 204
    assert client.get(f"/api/compositions/{made['id']}/frames").status_code == 404


def test_a_one_shot_generation_has_no_frames(client: TestClient) -> None:
    body = {"technique": "accompany", "model": "tiny", "melody_id": "twinkle", "seed": 1}
    made = client.post("/api/compositions", json=body).json()
    assert made["info"]["frames"] == 0
    assert client.get(f"/api/compositions/{made['id']}/frames").json() == []


def test_an_evaluation_sample_is_served_as_notes(idle_client: TestClient, home: Path) -> None:
    upload_dataset(idle_client, "tiny-songs", pieces=2, bars=4)
    job = start_job(idle_client, "sampled", steps=4)
    score = melody_score(2)
    path = Home(home).job_sample(job["id"], 2, "mid")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_midi(score, path)
    notes = idle_client.get(f"/api/jobs/{job['id']}/samples/2/notes")
    assert notes.status_code == 200, notes.text
    pitches = [note["pitch"] for note in notes.json()["tracks"][0]["notes"]]
    assert pitches == [note.pitch for note in score.tracks[0].notes]
    missing = idle_client.get(f"/api/jobs/{job['id']}/samples/4/notes")
    assert missing.status_code == 404
    assert "no evaluation sample at step 4" in missing.json()["detail"]
