"""Models, techniques, architectures and datasets through the API."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from opencomposer.data.registry import builtin_dataset_names
from opencomposer.registry import list_models
from opencomposer.techniques import list_techniques, technique_class
from opencomposer.training.params import GAN_PARAMS

from .conftest import TestClient, melody_score, midi_bytes, save_tiny_model


def test_models_are_listed_with_their_cards(client: TestClient) -> None:
    models = client.get("/api/models").json()
    tiny = next(model for model in models if model["name"] == "tiny")
    assert (tiny["technique"], tiny["architecture"], tiny["shipped"], tiny["bars"]) == ("accompany", "unet", False, 2)
    assert tiny["size_bytes"] > 0 and [track["name"] for track in tiny["tracks"]] == ["Melody", "Alto", "Bass"]
    assert client.get("/api/models/tiny").json() == tiny
    assert [model["name"] for model in client.get("/api/models?technique=harmonize").json()] == []
    assert (tiny["genre"], tiny["genre_title"], tiny["genre_line"]) == (None, "Other", None)


def test_models_carry_their_genre_in_plain_words(client: TestClient) -> None:
    cards = {card["name"]: card for card in client.get("/api/models").json()}
    chorale = cards["bach-chorale-unet"]
    assert (chorale["genre"], chorale["genre_title"]) == ("chorale", "Bach chorales")
    assert "four voices" in chorale["genre_line"]
    assert client.get("/api/models/nottingham-unet").json()["genre_title"] == "Folk"


def test_your_models_can_be_deleted_the_shipped_ones_cannot(
    client: TestClient, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = tmp_path / "pretrained"
    save_tiny_model(shipped, name="shipped-one")
    monkeypatch.setattr("opencomposer.registry.pretrained_dir", lambda: shipped)
    assert client.get("/api/models/shipped-one").json()["shipped"] is True
    refused = client.delete("/api/models/shipped-one")
    assert refused.status_code == 409
    assert "ships with OpenComposer" in refused.json()["detail"]
    assert (shipped / "shipped-one.json").is_file()
    assert client.delete("/api/models/tiny").status_code == 204
    assert not (home / "models" / "tiny.json").exists() and not (home / "models" / "tiny.safetensors").exists()
    assert [model["name"] for model in client.get("/api/models").json()] == ["shipped-one"]
    missing = client.delete("/api/models/tiny")
    assert missing.status_code == 404 and "shipped-one" in missing.json()["detail"]


def test_techniques_publish_their_declared_parameters(client: TestClient) -> None:
    techniques = client.get("/api/techniques").json()
    assert [technique["name"] for technique in techniques] == list_techniques()
    for technique in techniques:
        declared = technique_class(technique["name"]).params
        properties = technique["params_schema"]["properties"]
        assert list(properties) == [param.name for param in declared]
        for param in declared:
            assert properties[param.name]["default"] == param.default
            assert properties[param.name]["description"] == param.help
    accompany = client.get("/api/techniques/accompany").json()
    shipped = {entry.name for entry in list_models() if entry.shipped and entry.card.technique == "accompany"}
    assert set(accompany["models"]) == {"tiny", *shipped}
    assert client.get("/api/techniques/levitate").status_code == 404


def test_architectures_publish_their_hyperparameter_ranges(client: TestClient) -> None:
    architectures = {item["name"]: item for item in client.get("/api/architectures").json()}
    assert {"unet", "musegan"} <= set(architectures)
    properties = architectures["unet"]["params_schema"]["properties"]
    assert list(properties) == [param.name for param in GAN_PARAMS]
    steps = next(param for param in GAN_PARAMS if param.name == "steps")
    assert (properties["steps"]["minimum"], properties["steps"]["maximum"]) == (steps.minimum, steps.maximum)
    assert any(preset["name"] == "bach-chorale-unet" for preset in architectures["unet"]["presets"])


def test_datasets_are_listed_with_counts_and_licences(client: TestClient) -> None:
    datasets = {item["name"]: item for item in client.get("/api/datasets").json()}
    assert set(builtin_dataset_names()) <= set(datasets)
    for name in builtin_dataset_names():
        assert datasets[name]["licence"] and not datasets[name]["yours"]
        assert datasets[name]["pieces"] is None or datasets[name]["pieces"] > 0
        # Every dataset has a melody, but for the drums (Groove), which a band's drummer learns from.
        tracks = datasets[name]["tracks"]
        assert any(track["role"] == "melody" for track in tracks) or all(track["is_drum"] for track in tracks)
    assert client.get("/api/datasets/no-such-data").status_code == 404


def test_a_folder_of_your_files_becomes_a_dataset(client: TestClient, home: Path) -> None:
    files = [
        ("files", (f"song {index}.mid", io.BytesIO(midi_bytes(melody_score(4, index, with_bass=True))), "audio/midi"))
        for index in range(3)
    ]
    files += [
        ("files", ("broken.mid", io.BytesIO(b"MThd nonsense"), "audio/midi")),
        ("files", ("notes.txt", io.BytesIO(b"hello"), "text/plain")),
    ]
    response = client.post("/api/datasets", data={"name": "my-songs", "genre": "pop"}, files=files)
    assert response.status_code == 201, response.text
    added = response.json()
    assert added["pieces_read"] == 3
    assert [item.split(":")[0] for item in added["files_skipped"]] == ["notes.txt", "broken.mid"]
    dataset = client.get("/api/datasets/my-songs").json()
    assert (dataset["yours"], dataset["present"], dataset["pieces"], dataset["genres"]) == (True, True, 4, ["pop"])
    assert [track["name"] for track in dataset["tracks"]] == ["Melody", "Accompaniment"]
    folders = list((home / "datasets").iterdir())
    assert len(folders) == 1 and sorted(p.name for p in folders[0].iterdir()) == [f"0000{i}.mid" for i in range(4)]
    again = client.post("/api/datasets", data={"name": "my-songs", "genre": "pop"}, files=files[:1])
    assert again.status_code == 409
    assert client.delete("/api/datasets/my-songs").status_code == 204
    assert list((home / "datasets").iterdir()) == []
    assert client.get("/api/datasets/my-songs").status_code == 404


def test_unusable_dataset_uploads_leave_nothing_behind(client: TestClient, home: Path) -> None:
    broken = [("files", ("broken.mid", io.BytesIO(b"MThd nonsense"), "audio/midi"))]
    cases = [
        ({"name": "only-broken", "genre": "pop"}, broken, 422, "could be read"),
        ({"name": "Bad Name!", "genre": "pop"}, broken, 422, "name"),
        ({"name": builtin_dataset_names()[0], "genre": "pop"}, broken, 409, "already a dataset"),
        ({"name": "no-files", "genre": "pop"}, [], 422, "files"),
    ]
    for form, files, status_code, words in cases:
        response = client.post("/api/datasets", data=form, files=files or {"unrelated": ("x", b"")})
        assert response.status_code == status_code, (form, response.text)
        assert words in response.json()["detail"]
    assert list((home / "datasets").iterdir()) == []
    refused = client.delete(f"/api/datasets/{builtin_dataset_names()[0]}")
    assert refused.status_code == 409 and "not added through the studio" in refused.json()["detail"]


def test_a_models_quality_bars_and_metrics_are_said_in_plain_words(client: TestClient) -> None:
    cards = {card["name"]: card for card in client.get("/api/models").json()}
    arcnn = cards["bach-arcnn"]
    failed = [bar for bar in arcnn["quality_bars"] if not bar["met"]]
    assert [bar["name"] for bar in failed] == ["nll_as_low_as_coconet"]
    assert "Coconet" in failed[0]["sentence"] and "_" not in failed[0]["sentence"]
    for card in cards.values():
        for bar in card["quality_bars"]:
            assert bar["sentence"].endswith(".") and "_" not in bar["sentence"], bar
    words = cards["bach-chorale-unet"]["metric_words"]
    assert "harmon" in words["tonal_distance"] and "notes" in words["qualified_note_rate"]


@pytest.mark.slow
def test_every_shipped_model_plays_an_example_with_the_tracks_it_promises(client: TestClient) -> None:
    for card in client.get("/api/models").json():
        if not card["shipped"]:
            continue
        answer = client.get(f"/api/models/{card['name']}/example")
        assert answer.status_code == 200, (card["name"], answer.text)
        tracks = answer.json()["tracks"]
        assert sum(len(track["notes"]) for track in tracks) > 0
        if card["technique"] == "accompany":
            assert [track["name"] for track in tracks[1:]] == [
                track["name"] for index, track in enumerate(card["tracks"]) if index != 0
            ]
