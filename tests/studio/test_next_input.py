"""A result can be the next input, results say what was done, and downloads are named after their titles."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import TestClient, melody_score, midi_bytes


def compose(client: TestClient, **body: Any) -> dict[str, Any]:
    answer = client.post("/api/compositions", json={"technique": "accompany", "model": "tiny", "seed": 0, **body})
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_a_composition_or_some_of_its_tracks_becomes_a_melody(client: TestClient) -> None:
    made = compose(client, melody_id="twinkle")
    score = client.get(f"/api/compositions/{made['id']}/notes").json()
    whole = client.post(f"/api/compositions/{made['id']}/melody", json={})
    assert whole.status_code == 201, whole.text
    assert whole.json()["source"] == "composition" and whole.json()["parent_id"] == made["id"]
    assert whole.json()["summary"]["notes"] == made["summary"]["notes"]  # every note of every track, not 8 of 28
    melody_only = client.post(f"/api/compositions/{made['id']}/melody", json={"tracks": [0], "title": "Just the tune"})
    assert melody_only.status_code == 201
    assert melody_only.json()["title"] == "Just the tune"
    kept = client.get(f"/api/melodies/{melody_only.json()['id']}/notes").json()
    assert [track["notes"] for track in kept["tracks"]] == [score["tracks"][0]["notes"]]
    wrong = client.post(f"/api/compositions/{made['id']}/melody", json={"tracks": [0, 9]})
    assert wrong.status_code == 422 and "no track 9" in wrong.json()["detail"]


def test_any_composition_is_the_input_of_any_technique(client: TestClient) -> None:
    first = compose(client, melody_id="twinkle")
    tune = client.get(f"/api/compositions/{first['id']}/notes").json()["tracks"][0]["notes"]
    again = compose(client, composition_id=first["id"], tracks=[0])
    assert again["info"]["input_composition_id"] == first["id"]
    stored = client.get(f"/api/melodies/{again['melody_id']}").json()
    assert stored["parent_id"] == first["id"]
    assert client.get(f"/api/compositions/{again['id']}/notes").json()["tracks"][0]["notes"] == tune
    extended = client.post(
        "/api/compositions",
        json={
            "technique": "extend",
            "model": "pop-transformer",
            "composition_id": first["id"],
            "params": {"extension_seconds": 2},
            "seed": 0,
        },
    )
    assert extended.status_code == 201, extended.text
    assert extended.json()["summary"]["notes"] > first["summary"]["notes"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"melody_id": "twinkle", "composition_id": "0" * 32}, "exactly one of melody_id and composition_id"),
        ({}, "exactly one of melody_id and composition_id"),
        ({"melody_id": "twinkle", "tracks": [0]}, "give composition_id with it"),
    ],
)
def test_the_input_is_one_melody_or_one_composition(client: TestClient, body: dict[str, Any], words: str) -> None:
    answer = client.post("/api/compositions", json={"technique": "accompany", "model": "tiny", **body})
    assert answer.status_code == 422
    assert words in answer.json()["detail"]


def test_a_harmonization_says_so_and_downloads_under_its_title(client: TestClient) -> None:
    body = {"technique": "edit", "model": "bach-arcnn", "melody_id": "twinkle", "params": {"iterations": 3}}
    made = client.post("/api/compositions", json={**body, "seed": 0})
    assert made.status_code == 201, made.text
    assert made.json()["action"] == "harmonize"
    assert made.json()["title"] == "Twinkle, Twinkle, Little Star (harmonize, bach-arcnn)"
    download = client.get(f"/api/compositions/{made.json()['id']}/midi")
    assert (
        'filename="Twinkle, Twinkle, Little Star - harmonize, bach-arcnn.mid"'
        in download.headers["content-disposition"]
    )
    listed = client.get("/api/compositions").json()
    assert listed[0]["action"] == "harmonize"


def test_a_recorded_melody_keeps_the_other_tracks_of_its_input(client: TestClient) -> None:
    bass = {"name": "Bass", "program": 32, "notes": [{"pitch": 36, "start_ticks": 0, "duration_ticks": 1920}]}
    body = {
        "title": "With bass",
        "notes": [{"pitch": 60, "start_ticks": 0, "duration_ticks": 480}],
        "other_tracks": [bass],
    }
    answer = client.post("/api/melodies", json=body)
    assert answer.status_code == 201, answer.text
    tracks = client.get(f"/api/melodies/{answer.json()['id']}/notes").json()["tracks"]
    assert [(track["name"], len(track["notes"])) for track in tracks] == [("Melody", 1), ("Bass", 1)]


def test_an_uploaded_multitrack_file_keeps_every_note(client: TestClient) -> None:
    score = melody_score(4, 3, with_bass=True)
    answer = client.post("/api/melodies/upload", files={"file": ("two.mid", midi_bytes(score))})
    assert answer.json()["summary"]["notes"] == score.n_notes
