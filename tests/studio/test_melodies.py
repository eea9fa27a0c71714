"""Melodies through the API: samples, uploads, recordings, rhythm assist and transpose."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from opencomposer.music.melodies import get_melody, list_melodies
from opencomposer.music.midi import read_midi
from opencomposer.music.score import Score, Track

from .conftest import TestClient, melody_score, midi_bytes

MUSICXML = """<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1">
  <part-list><score-part id="P1"><part-name>Flute</part-name></score-part></part-list>
  <part id="P1"><measure number="1">
    <attributes><divisions>1</divisions><time><beats>4</beats><beat-type>4</beat-type></time></attributes>
    <note><pitch><step>C</step><octave>5</octave></pitch><duration>1</duration><type>quarter</type></note>
    <note><pitch><step>E</step><octave>5</octave></pitch><duration>1</duration><type>quarter</type></note>
    <note><pitch><step>G</step><octave>5</octave></pitch><duration>2</duration><type>half</type></note>
  </measure></part>
</score-partwise>
"""


def upload(client: TestClient, name: str, data: bytes, **form: str) -> Any:
    return client.post(
        "/api/melodies/upload", files={"file": (name, io.BytesIO(data), "application/octet-stream")}, data=form
    )


def record(client: TestClient, notes: list[dict[str, int]], **fields: Any) -> Any:
    return client.post("/api/melodies", json={"title": "Recorded", "notes": notes, **fields})


def pitches(client: TestClient, melody_id: str) -> list[tuple[int, int, int]]:
    tracks = client.get(f"/api/melodies/{melody_id}/notes").json()["tracks"]
    return [(note["pitch"], note["start_ticks"], note["duration_ticks"]) for note in tracks[0]["notes"]]


def test_the_samples_come_first_and_download_as_they_are(client: TestClient) -> None:
    listed = client.get("/api/melodies").json()
    names = [sample.name for sample in list_melodies()]
    assert [melody["id"] for melody in listed[: len(names)]] == names
    assert all(melody["builtin"] and melody["created_at"] is None for melody in listed[: len(names)])
    twinkle = client.get("/api/melodies/twinkle").json()
    assert twinkle["title"] == get_melody("twinkle").title
    downloaded = read_midi(client.get("/api/melodies/twinkle/midi").content)
    assert [(n.pitch, n.start) for n in downloaded.tracks[0].notes] == [
        (n.pitch, n.start) for n in get_melody("twinkle").notes
    ]


def test_every_listed_sample_opens_and_can_be_accompanied(client: TestClient) -> None:
    samples = [melody for melody in client.get("/api/melodies").json() if melody["builtin"]]
    assert len(samples) == len(list_melodies())
    for melody in samples:
        melody_id = melody["id"]
        assert client.get(f"/api/melodies/{melody_id}").json() == melody
        tracks = client.get(f"/api/melodies/{melody_id}/notes").json()["tracks"]
        assert len(tracks[0]["notes"]) == len(get_melody(melody_id).notes), melody_id
        downloaded = client.get(f"/api/melodies/{melody_id}/midi")
        assert downloaded.status_code == 200, downloaded.text
        assert read_midi(downloaded.content).n_notes == len(get_melody(melody_id).notes), melody_id
        body = {"technique": "accompany", "model": "tiny", "melody_id": melody_id, "seed": 0}
        made = client.post("/api/compositions", json=body)
        assert made.status_code == 201, made.text
        assert made.json()["melody_id"] == melody_id


def test_a_recorded_melody_is_saved_as_sent(client: TestClient) -> None:
    notes = [
        {"pitch": 60, "start_ticks": 0, "duration_ticks": 240, "velocity": 100},
        {"pitch": 64, "start_ticks": 240, "duration_ticks": 240},
        {"pitch": 67, "start_ticks": 480, "duration_ticks": 480},
    ]
    response = record(client, notes, resolution=240, tempo_qpm=90, time_signature=[3, 4])
    assert response.status_code == 201, response.text
    melody = response.json()
    assert (melody["source"], melody["builtin"], melody["summary"]["time_signature"]) == ("recorded", False, [3, 4])
    assert melody["summary"]["tempo_qpm"] == 90
    assert pitches(client, melody["id"]) == [(60, 0, 240), (64, 240, 240), (67, 480, 480)]
    assert client.get("/api/melodies").json()[-1]["id"] == melody["id"]


def test_bad_recordings_are_refused_with_the_field_named(client: TestClient) -> None:
    cases: list[tuple[list[dict[str, int]], dict[str, Any], str]] = [
        ([{"pitch": 128, "start_ticks": 0, "duration_ticks": 10}], {}, "pitch"),
        ([{"pitch": 60, "start_ticks": 0, "duration_ticks": 0}], {}, "duration_ticks"),
        ([], {}, "notes"),
        ([{"pitch": 60, "start_ticks": 0, "duration_ticks": 10}], {"time_signature": [4, 3]}, "time_signature"),
        ([{"pitch": 60, "start_ticks": 0, "duration_ticks": 10}], {"tempo_qpm": 1000}, "tempo_qpm"),
        ([{"pitch": 60, "start_ticks": 0, "duration_ticks": 10}], {"colour": "red"}, "colour"),
    ]
    for notes, extra, field in cases:
        response = record(client, notes, **extra)
        assert response.status_code == 422, (notes, extra)
        assert field in response.json()["detail"]


def test_a_midi_file_uploads_as_a_melody(client: TestClient) -> None:
    response = upload(client, "My Song.mid", midi_bytes(melody_score(4, seed=3)))
    assert response.status_code == 201, response.text
    melody = response.json()
    assert (melody["title"], melody["source"], melody["summary"]["bars"]) == ("My Song", "upload", 4)
    sent = melody_score(4, seed=3).tracks[0].notes
    assert pitches(client, melody["id"]) == [(n.pitch, n.start, n.duration) for n in sent]
    assert upload(client, "x.mid", midi_bytes(), title="Named").json()["title"] == "Named"


def test_a_musicxml_file_uploads_as_a_melody(client: TestClient) -> None:
    response = upload(client, "arpeggio.musicxml", MUSICXML.encode())
    assert response.status_code == 201, response.text
    assert [pitch for pitch, _, _ in pitches(client, response.json()["id"])] == [72, 76, 79]


def test_bad_uploads_get_a_sentence(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_melody_bytes=4000, max_melody_bars=8)
    silent = Score(tracks=(Track("Drums", is_drum=True, notes=melody_score(1).tracks[0].notes),))
    cases = [
        ("broken.mid", b"MThd\x00\x00\x00\x06garbage", 422, "MIDI"),
        ("broken.mxl", b"PK not a zip", 422, "MusicXML"),
        ("notes.txt", b"C D E", 422, "MIDI or MusicXML"),
        ("drums.mid", midi_bytes(silent), 422, "no pitched notes"),
        ("long.mid", midi_bytes(melody_score(9)), 422, "at most 8"),
        ("huge.mid", midi_bytes(melody_score(8)) + b"\x00" * 5000, 413, "larger than"),
    ]
    for name, data, status_code, words in cases:
        response = upload(client, name, data)
        assert response.status_code == status_code, (name, response.text)
        assert words in response.json()["detail"], name
    assert [melody["builtin"] for melody in client.get("/api/melodies").json()] == [True] * len(list_melodies())


def test_rhythm_assist_and_transpose_make_new_melodies(client: TestClient) -> None:
    notes = [
        {"pitch": 60, "start_ticks": 10, "duration_ticks": 100},
        {"pitch": 62, "start_ticks": 130, "duration_ticks": 110},
    ]
    original = record(client, notes).json()
    quantized = client.post(f"/api/melodies/{original['id']}/quantize", json={"grid": "1/16"})
    assert quantized.status_code == 201, quantized.text
    assert quantized.json()["parent_id"] == original["id"]
    assert pitches(client, quantized.json()["id"]) == [(60, 0, 120), (62, 120, 120)]
    assert pitches(client, original["id"]) == [(60, 10, 100), (62, 130, 110)]
    moved = client.post(f"/api/melodies/{original['id']}/transpose", json={"semitones": -12}).json()
    assert [pitch for pitch, _, _ in pitches(client, moved["id"])] == [48, 50]
    sample = client.post("/api/melodies/twinkle/transpose", json={"semitones": 2}).json()
    assert sample["parent_id"] == "twinkle"
    high = record(client, [{"pitch": 127, "start_ticks": 0, "duration_ticks": 10}]).json()
    refused = client.post(f"/api/melodies/{high['id']}/transpose", json={"semitones": 1})
    assert refused.status_code == 422
    assert "127" in refused.json()["detail"]
    assert client.post(f"/api/melodies/{original['id']}/quantize", json={"grid": "1/7"}).status_code == 422


def test_stored_melodies_rename_and_delete_but_samples_stay(client: TestClient, home: Any) -> None:
    melody = upload(client, "a.mid", midi_bytes()).json()
    renamed = client.patch(f"/api/melodies/{melody['id']}", json={"title": "  Better  "})
    assert renamed.json()["title"] == "Better"
    assert client.delete(f"/api/melodies/{melody['id']}").status_code == 204
    assert client.get(f"/api/melodies/{melody['id']}").status_code == 404
    assert not (home / "melodies" / f"{melody['id']}.mid").exists()
    for method in (client.delete, lambda path: client.patch(path, json={"title": "x"})):
        refused = method("/api/melodies/twinkle")
        assert refused.status_code == 409
        assert "built-in" in refused.json()["detail"]
    unknown = client.get("/api/melodies/no-such-tune")
    assert unknown.status_code == 404
    assert "twinkle" in unknown.json()["detail"]
