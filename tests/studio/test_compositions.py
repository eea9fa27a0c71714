"""Compositions through the API: generate, reproduce, list, rename, delete, download, draw, measure."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from opencomposer.music.melodies import get_melody
from opencomposer.music.midi import read_midi

from .conftest import HAS_SYNTHESIZER, TestClient, melody_score, midi_bytes, save_tiny_model


def generate(client: TestClient, **fields: Any) -> Any:
    body = {"technique": "accompany", "model": "tiny", "melody_id": "twinkle", **fields}
    return client.post("/api/compositions", json=body)


def notes_of(client: TestClient, composition_id: str) -> list[list[tuple[int, int, int]]]:
    tracks = client.get(f"/api/compositions/{composition_id}/notes").json()["tracks"]
    return [[(n["pitch"], n["start_ticks"], n["duration_ticks"]) for n in track["notes"]] for track in tracks]


def test_a_generation_is_saved_with_everything_that_made_it(client: TestClient) -> None:
    response = generate(client, seed=7, params={"threshold": 0.3})
    assert response.status_code == 201, response.text
    made = response.json()
    assert (made["technique"], made["model"], made["melody_id"], made["seed"]) == ("accompany", "tiny", "twinkle", 7)
    assert made["params"] == {"bars": 0, "instruments": "model", "threshold": 0.3, "shortest_note": "8th"}
    assert [track["name"] for track in made["summary"]["tracks"]] == ["Melody", "Alto", "Bass"]
    assert made["title"].startswith(get_melody("twinkle").title)
    melody = [(n.pitch, n.start, n.duration) for n in get_melody("twinkle").notes]
    assert notes_of(client, made["id"])[0] == melody
    assert client.get(f"/api/compositions/{made['id']}").json() == made


def test_the_same_seed_makes_the_same_music_and_a_missing_seed_is_saved(client: TestClient) -> None:
    first, second = generate(client, seed=11).json(), generate(client, seed=11).json()
    assert notes_of(client, first["id"]) == notes_of(client, second["id"])
    unseeded = generate(client).json()
    again = generate(client, seed=unseeded["seed"]).json()
    assert notes_of(client, unseeded["id"]) == notes_of(client, again["id"])


def test_an_uploaded_melody_can_be_accompanied(client: TestClient) -> None:
    upload = {"file": ("tune.mid", io.BytesIO(midi_bytes(melody_score(6))), "audio/midi")}
    melody = client.post("/api/melodies/upload", files=upload).json()
    made = generate(client, melody_id=melody["id"], params={"instruments": "strings"}).json()
    assert made["melody_id"] == melody["id"]
    assert [track["program"] for track in made["summary"]["tracks"][1:]] == [41, 42]


@pytest.mark.parametrize(
    ("fields", "status_code", "words"),
    [
        ({"model": "no-such-model"}, 404, "tiny"),
        ({"technique": "levitate"}, 404, "accompany"),
        ({"melody_id": "no-such-tune"}, 404, "twinkle"),
        ({"melody_id": "0123456789abcdef0123456789abcdef"}, 404, "no melody"),
        ({"params": {"threshold": 2}}, 422, "threshold must be between 0.05 and 0.95"),
        ({"params": {"loudness": 1}}, 422, "Unknown parameter 'loudness'"),
        ({"params": {"instruments": "kazoo"}}, 422, "instruments must be one of"),
        ({"seed": -1}, 422, "seed"),
        ({"model": "other-kind"}, 422, "is a harmonize model"),
    ],
)
def test_bad_requests_say_what_was_wrong(
    client: TestClient, home: Path, fields: dict[str, Any], status_code: int, words: str
) -> None:
    save_tiny_model(home / "models", name="other-kind", technique="harmonize")
    response = generate(client, **fields)
    assert response.status_code == status_code, response.text
    assert words in response.json()["detail"]


def test_compositions_list_rename_and_delete_with_their_files(client: TestClient, home: Path) -> None:
    made = [generate(client, seed=seed).json() for seed in range(3)]
    listed = client.get("/api/compositions").json()
    assert [item["id"] for item in listed] == [item["id"] for item in reversed(made)]
    assert [item["id"] for item in client.get("/api/compositions?limit=1&offset=1").json()] == [made[1]["id"]]
    assert client.patch(f"/api/compositions/{made[0]['id']}", json={"title": "Mine"}).json()["title"] == "Mine"
    client.get(f"/api/compositions/{made[0]['id']}/pianoroll.png")
    assert len(list((home / "compositions").glob(f"{made[0]['id']}.*"))) == 2
    assert client.delete(f"/api/compositions/{made[0]['id']}").status_code == 204
    assert list((home / "compositions").glob(f"{made[0]['id']}.*")) == []
    assert client.get(f"/api/compositions/{made[0]['id']}").status_code == 404
    assert client.delete(f"/api/compositions/{made[0]['id']}").status_code == 404


def test_midi_picture_and_metrics_downloads(client: TestClient) -> None:
    made = generate(client, seed=1).json()
    midi = client.get(f"/api/compositions/{made['id']}/midi")
    assert midi.headers["content-type"] == "audio/midi"
    assert [track.name for track in read_midi(midi.content).tracks] == ["Melody", "Alto", "Bass"]
    picture = client.get(f"/api/compositions/{made['id']}/pianoroll.png")
    assert picture.headers["content-type"] == "image/png"
    assert picture.content.startswith(b"\x89PNG")
    metrics = client.get(f"/api/compositions/{made['id']}/metrics").json()["metrics"]
    assert {"in_scale_ratio", "polyphony", "tonal_distance", "empty_bar_rate/Alto"} <= set(metrics)
    assert metrics["empty_bar_rate/Melody"] == 0.0
    assert all(value is None or value >= 0.0 for value in metrics.values())


@pytest.mark.skipif(not HAS_SYNTHESIZER, reason="FluidSynth or its General MIDI soundfont is not installed")
@pytest.mark.parametrize(
    ("audio_format", "media_type"), [("wav", "audio/wav"), ("ogg", "audio/ogg"), ("mp3", "audio/mpeg")]
)
def test_audio_in_each_format_lasts_as_long_as_the_music(
    client: TestClient, audio_format: str, media_type: str
) -> None:
    import soundfile

    made = generate(client, seed=2).json()
    response = client.get(f"/api/compositions/{made['id']}/audio/{audio_format}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == media_type
    samples, rate = soundfile.read(io.BytesIO(response.content))
    assert samples.ndim == 2 and abs(samples).max() > 0.01
    assert len(samples) / rate >= made["summary"]["duration_seconds"] * 0.95


def test_without_a_synthesizer_audio_is_503_and_everything_else_works(
    make_client: Callable[..., TestClient], home: Path
) -> None:
    save_tiny_model(home / "models")
    client = make_client(fluidsynth="no-such-fluidsynth-program")
    made = generate(client).json()
    for audio_format in ("wav", "ogg", "mp3"):
        response = client.get(f"/api/compositions/{made['id']}/audio/{audio_format}")
        assert response.status_code == 503
        assert "apt-get install fluidsynth fluid-soundfont-gm" in response.json()["detail"]
    assert client.get(f"/api/compositions/{made['id']}/midi").status_code == 200
    status = client.get("/api/status").json()
    assert status["audio"] is False and "fluidsynth" in status["audio_missing"]
    missing_font = make_client(soundfont=home / "nothing.sf2")
    assert "soundfont" in missing_font.get("/api/status").json()["audio_missing"]
