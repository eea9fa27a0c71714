"""The whole loop through HTTP, as the studio's issue asks: upload a melody, generate with each technique,
download MIDI and audio, train a tiny model while watching its events, stop and resume it, generate with
it, restart the studio and find everything still there."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from opencomposer.music.midi import read_midi

from .conftest import HAS_SYNTHESIZER, TestClient, melody_score, midi_bytes, upload_dataset, wait_for


def server_sent_events(client: TestClient, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, data) of each server-sent event of `path`, until the server ends the stream."""
    with client.stream("GET", path) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        kind, data = "message", ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line[len("event: ") :]
            elif line.startswith("data: "):
                data += line[len("data: ") :]
            elif not line and data:
                yield kind, json.loads(data)
                kind, data = "message", ""


@pytest.mark.slow
def test_the_whole_loop(client: TestClient, make_client: Callable[..., TestClient], home: Path) -> None:
    # A melody of one's own.
    upload = {"file": ("my tune.mid", io.BytesIO(midi_bytes(melody_score(4, seed=5))), "audio/midi")}
    melody = client.post("/api/melodies/upload", files=upload).json()

    # Each technique that has a model accompanies, edits or extends it; the tiny model serves accompany.
    made = []
    for technique in client.get("/api/techniques").json():
        for model in technique["models"][:1]:
            body = {"technique": technique["name"], "model": model, "melody_id": melody["id"], "seed": 1}
            response = client.post("/api/compositions", json=body)
            assert response.status_code == 201, response.text
            made.append(response.json())
    assert "accompany" in {composition["technique"] for composition in made}

    # Downloads: MIDI always, audio where a synthesizer is installed.
    first = made[0]
    midi = read_midi(client.get(f"/api/compositions/{first['id']}/midi").content)
    assert len(midi.tracks) == len(first["summary"]["tracks"])
    audio = client.get(f"/api/compositions/{first['id']}/audio/ogg")
    assert audio.status_code == (200 if HAS_SYNTHESIZER else 503)

    # A tiny training job, watched live until it is stopped at a checkpoint after its first losses.
    upload_dataset(client, "tiny-songs")
    body = {
        "architecture": "unet",
        "dataset": "tiny-songs",
        "model_name": "my-model",
        "hyperparameters": {"steps": 100_000, "batch_size": 4, "eval_every": 2, "checkpoint_every": 2},
    }
    job = client.post("/api/jobs", json=body).json()
    seen: list[str] = []
    final: dict[str, Any] = {}
    for kind, data in server_sent_events(client, f"/api/jobs/{job['id']}/events/stream"):
        seen.append(kind)
        if kind == "checkpoint" and "step" in seen and "stop" not in seen:
            seen.append("stop")
            assert client.post(f"/api/jobs/{job['id']}/stop").status_code == 200
        if kind == "status":
            final = data
    assert final["status"] == "stopped", final
    assert {"start", "step", "eval", "checkpoint"} <= set(seen)
    evaluation = next(event for event in client.get(f"/api/jobs/{job['id']}/events").json() if event["kind"] == "eval")
    assert evaluation["data"]["metrics"]
    sample = client.get(evaluation["data"]["sample_midi_url"])
    assert sample.status_code == 200 and read_midi(sample.content).n_notes > 0
    assert client.get(evaluation["data"]["sample_png_url"]).content.startswith(b"\x89PNG")

    # Resumed, it finishes from its checkpoint and its model is listed.
    steps = final["checkpoint_step"] + 2
    resumed = client.post(f"/api/jobs/{job['id']}/resume", json={"hyperparameters": {"steps": steps}})
    assert resumed.json()["status"] == "queued"
    done = wait_for(
        lambda: (state := client.get(f"/api/jobs/{job['id']}").json())["status"] in ("done", "failed") and state
    )
    assert done["status"] == "done", done
    assert done["step"] == steps
    assert "my-model" in [model["name"] for model in client.get("/api/models").json()]

    # The new model generates.
    body = {"technique": "accompany", "model": "my-model", "melody_id": melody["id"], "seed": 3}
    mine = client.post("/api/compositions", json=body)
    assert mine.status_code == 201, mine.text
    assert [track["name"] for track in mine.json()["summary"]["tracks"]] == ["Melody", "Accompaniment"]

    # A restarted studio finds everything.
    before = {
        path: client.get(path).json()
        for path in ("/api/melodies", "/api/compositions", "/api/jobs", "/api/models", f"/api/jobs/{job['id']}/events")
    }
    client.__exit__(None, None, None)
    restarted = make_client()
    for path, answer in before.items():
        assert restarted.get(path).json() == answer, path
    assert restarted.get(f"/api/compositions/{mine.json()['id']}/midi").status_code == 200
