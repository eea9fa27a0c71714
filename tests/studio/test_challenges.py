"""Challenges: scores computed by the server, refused when sent, ranked best first, reproducible from a seed."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from opencomposer.data.registry import Piece, find_data_folder
from opencomposer.models.arcnn import Arcnn, ArcnnConfig
from opencomposer.music.pianoroll import RollSpec
from opencomposer.music.score import Note, Score, Track
from opencomposer.registry import ModelCard, save_model
from opencomposer.studio import challenges
from opencomposer.training.road import run_training

from .conftest import RESOLUTION, TestClient, save_tiny_model

VOICES = ("Soprano", "Alto", "Tenor", "Bass")
ROLL = RollSpec(steps_per_beat=4, low_pitch=36, high_pitch=81)
FAST_EDIT = {"iterations": 4}


def save_tiny_arcnn(folder: Path, name: str = "tiny-arcnn") -> None:
    """An untrained, seeded four-voice AR-CNN (technique "edit")."""
    config = ArcnnConfig(voices=4, pitches=ROLL.n_pitches, channels=8, blocks=2, dilation_cycle=2)
    torch.manual_seed(0)
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
            for i, voice in enumerate(VOICES)
        ],
        melody_index=0,
        generated_tracks=[0, 1, 2, 3],
    )
    save_model(card, dict(Arcnn(config).state_dict()), folder)


def chorale(seed: int) -> Piece:
    """Two bars of four voices in half notes, each voice in its own register."""
    rng = np.random.default_rng(seed)
    tracks = []
    for voice, (low, high) in zip(VOICES, ((62, 74), (55, 67), (48, 60), (38, 50)), strict=True):
        notes = [Note(int(rng.integers(low, high)), step * 2 * RESOLUTION, 2 * RESOLUTION, 80) for step in range(4)]
        tracks.append(Track(voice, notes=tuple(notes)))
    return Piece(f"test/{seed}", Score(resolution=RESOLUTION, tracks=tuple(tracks)), "test")


@pytest.fixture
def studio(make_client: Any, home: Path, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """A studio with a tiny edit model and a tiny accompany model; the chorales are five tiny ones."""
    monkeypatch.setattr(challenges, "held_out_chorales", lambda: tuple(chorale(seed) for seed in range(5)))
    save_tiny_arcnn(home / "models")
    save_tiny_model(home / "models")
    client: TestClient = make_client()
    return client


def attempt(client: TestClient, challenge: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/api/challenges/{challenge}/attempts", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def test_the_page_lists_three_challenges_with_their_rules_and_models(studio: TestClient) -> None:
    listed = {challenge["id"]: challenge for challenge in studio.get("/api/challenges").json()}
    assert set(listed) == {"harmonize-like-bach", "sound-like-the-genre", "beat-a-shipped-model"}
    assert "tiny-arcnn" in listed["harmonize-like-bach"]["models"]
    assert "bach-arcnn" in listed["harmonize-like-bach"]["models"]
    assert set(listed["sound-like-the-genre"]["genres"]) == {"jazz", "rock", "pop", "symphony"}
    assert "jazz-band" in listed["sound-like-the-genre"]["models"]
    # Only your own models may try to beat a shipped one.
    assert "bach-arcnn" not in listed["beat-a-shipped-model"]["models"]
    assert all(listed[name]["scoring"] for name in listed)


def test_harmonizing_saves_five_compositions_and_the_same_seed_gives_the_same_score(studio: TestClient) -> None:
    first = attempt(studio, "harmonize-like-bach", model="tiny-arcnn", params=FAST_EDIT, seed=3)
    again = attempt(studio, "harmonize-like-bach", model="tiny-arcnn", params=FAST_EDIT, seed=3)
    assert 0 <= first["score"] <= 100
    assert first["score"] == again["score"]
    assert first["breakdown"] == again["breakdown"]
    assert len(first["composition_ids"]) == 5
    made = studio.get(f"/api/compositions/{first['composition_ids'][0]}").json()
    assert (made["model"], made["seed"], made["params"]["mode"]) == ("tiny-arcnn", 3, "harmonize")
    # The five sopranos are stored once, however many attempts use them.
    melodies = {studio.get(f"/api/compositions/{cid}").json()["melody_id"] for cid in again["composition_ids"]}
    assert melodies == {studio.get(f"/api/compositions/{cid}").json()["melody_id"] for cid in first["composition_ids"]}


def test_a_score_sent_by_the_page_is_refused(studio: TestClient) -> None:
    response = studio.post(
        "/api/challenges/sound-like-the-genre/attempts", json={"model": "tiny", "seed": 1, "score": 100}
    )
    assert response.status_code == 422
    assert "score" in response.json()["detail"]
    assert studio.get("/api/challenges/sound-like-the-genre/attempts").json() == []


def test_the_leaderboard_puts_the_best_attempt_first(studio: TestClient) -> None:
    scores = [
        attempt(studio, "sound-like-the-genre", model="jazz-band", seed=seed, genre="jazz")["score"]
        for seed in range(3)
    ]
    board = studio.get("/api/challenges/sound-like-the-genre/attempts").json()
    assert [entry["score"] for entry in board] == sorted(scores, reverse=True)
    assert board[0]["breakdown"]["genre"] == "jazz"
    # The genre classifier is sure enough of the jazz band's jazz, and its drums swing like Groove's drummers.
    assert board[0]["breakdown"]["genre_confidence"] > 0.5 and board[0]["breakdown"]["drums"] > 0.8
    assert len(board[0]["composition_ids"]) == 1


def test_wrong_models_and_genres_are_refused_with_a_sentence(studio: TestClient) -> None:
    wrong_technique = studio.post("/api/challenges/harmonize-like-bach/attempts", json={"model": "tiny"})
    assert wrong_technique.status_code == 422
    assert "edit models" in wrong_technique.json()["detail"]
    unknown_genre = studio.post(
        "/api/challenges/sound-like-the-genre/attempts", json={"model": "tiny", "genre": "polka"}
    )
    assert unknown_genre.status_code == 422
    assert "jazz" in unknown_genre.json()["detail"]
    shipped = studio.post("/api/challenges/beat-a-shipped-model/attempts", json={"model": "bach-arcnn"})
    assert shipped.status_code == 422
    assert "Training page" in shipped.json()["detail"]
    no_rival = studio.post("/api/challenges/beat-a-shipped-model/attempts", json={"model": "tiny-arcnn"})
    assert no_rival.status_code == 422
    assert "jsb-satb" in no_rival.json()["detail"]
    assert studio.get("/api/challenges/no-such/attempts").status_code == 404


@pytest.mark.slow
@pytest.mark.skipif(find_data_folder("pop909") is None, reason="POP909 is not on this machine")
def test_a_band_you_trained_on_pop909_is_measured_against_the_shipped_pop_band(
    studio: TestClient, tmp_path: Path
) -> None:
    """Challenge 3 with a real model of the user's: a pop band trained (briefly) by the command line's road."""
    from opencomposer.training.band import BandRecipe, get_band_preset

    quick = {"steps": 10, "batch_size": 8, "eval_every": 0, "checkpoint_every": 0}
    run_training(
        BandRecipe(get_band_preset("pop-band"), None), tmp_path / "run", name="my-pop-band", hyperparameters=quick
    )
    listed = {challenge["id"]: challenge for challenge in studio.get("/api/challenges").json()}
    assert "my-pop-band" in listed["beat-a-shipped-model"]["models"]
    result = attempt(studio, "beat-a-shipped-model", model="my-pop-band", seed=0)
    breakdown = result["breakdown"]
    assert breakdown["shipped_model"] == "pop-band" and breakdown["dataset"] == "pop909"
    assert 0 < result["score"] <= 100 and breakdown["bars"] == 6  # the held-out bars of a band
    assert isinstance(breakdown["beats_shipped"], bool)
    again = attempt(studio, "beat-a-shipped-model", model="my-pop-band", seed=0)
    assert again["score"] == result["score"]
