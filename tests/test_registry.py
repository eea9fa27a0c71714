"""The model registry: where models live, finding them by name or path, and the shipped models' files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch

from opencomposer.errors import ModelFileError, UnknownNameError
from opencomposer.registry import (
    AUXILIARY_SUFFIXES,
    ModelCard,
    genre_of_dataset,
    get_model,
    list_models,
    load_weights,
    models_dir,
    pretrained_dir,
    save_model,
)
from opencomposer.techniques import technique_class
from opencomposer.techniques.base import model_param

MAX_SHIPPED_BYTES = 25 * 1024 * 1024


def card(name: str, technique: str = "accompany") -> ModelCard:
    return ModelCard(
        name=name,
        technique=technique,
        architecture="unet",
        config={},
        title=name,
        description="A test card.",
        dataset="tiny",
        roll={"steps_per_beat": 4, "low_pitch": 0, "high_pitch": 127},
        bars=2,
        tracks=[{"name": "Melody", "role": "melody", "program": 0, "is_drum": False}],
        melody_index=0,
        generated_tracks=[],
    )


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENCOMPOSER_HOME", str(tmp_path / "home"))


def test_user_models_live_under_opencomposer_home(tmp_path: Path) -> None:
    assert models_dir() == tmp_path / "home" / "models"


def test_a_saved_model_is_listed_found_and_loaded(tmp_path: Path) -> None:
    weights = {"layer.weight": torch.arange(6.0).reshape(2, 3)}
    saved = save_model(card("mine"), weights)
    assert saved.card_path == models_dir() / "mine.json" and not saved.shipped
    found = get_model("mine")
    assert found.card == card("mine") and not found.shipped
    assert torch.equal(load_weights(found)["layer.weight"], weights["layer.weight"])
    assert "mine" in [entry.name for entry in list_models("accompany")]
    assert "mine" not in [entry.name for entry in list_models("extend")]
    assert get_model(str(saved.weights_path)).name == "mine"


def test_an_unknown_model_is_named_with_the_known_ones() -> None:
    save_model(card("mine"), {})
    with pytest.raises(UnknownNameError, match=r"no model called 'theirs'.*mine"):
        get_model("theirs")


@pytest.mark.parametrize("name", ["Mine", "with space", "", "x" * 65, "../escape"])
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(ModelFileError, match="not a valid model name"):
        save_model(card(name), {})


def test_a_damaged_card_is_skipped_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    save_model(card("good"), {})
    (models_dir() / "bad.json").write_text("{not json", encoding="utf-8")
    (models_dir() / "bad.safetensors").write_bytes(b"")
    (models_dir() / "orphan.json").write_text(json.dumps(card("orphan").to_json()), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        names = [entry.name for entry in list_models()]
    assert "good" in names and "bad" not in names and "orphan" not in names
    assert "bad.json cannot be read" in caplog.text and "no weights file" in caplog.text


def test_a_models_vocabulary_beside_its_card_is_not_taken_for_a_card(caplog: pytest.LogCaptureFixture) -> None:
    save_model(card("mine", technique="extend"), {})
    (models_dir() / "mine.tokenizer.json").write_text(json.dumps({"tokenization": "REMI"}), encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        names = [entry.name for entry in list_models()]
    assert "mine" in names and not caplog.text


def test_a_card_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    data = {**card("future").to_json(), "version": 99}
    with pytest.raises(ModelFileError, match="newer OpenComposer"):
        ModelCard.from_json(data)
    with pytest.raises(ModelFileError, match="not valid"):
        ModelCard.from_json({"name": "x"})


def test_a_card_without_a_genre_loads_with_none_and_a_genre_survives_saving() -> None:
    old = card("old").to_json()
    del old["genre"]
    assert ModelCard.from_json(old).genre is None
    save_model(ModelCard.from_json({**card("jazzy").to_json(), "genre": "jazz"}), {})
    assert get_model("jazzy").card.genre == "jazz"
    with pytest.raises(ModelFileError, match="genre that is not a word"):
        ModelCard.from_json({**card("odd").to_json(), "genre": 3})


def test_a_trained_model_takes_the_genre_of_a_dataset_that_declares_one() -> None:
    assert genre_of_dataset("pop909") == "pop" and genre_of_dataset("nottingham") == "folk"
    assert genre_of_dataset("bach-chorales") is None  # classical, baroque and chorale: not one
    assert genre_of_dataset("bach-chorales+lieder") is None and genre_of_dataset("no-such-data") is None


def test_the_model_parameter_lists_the_models_of_a_technique() -> None:
    save_model(card("mine"), {})
    param = model_param("accompany", default="mine")
    assert "mine" in param.choices and param.default == "mine"
    with pytest.raises(UnknownNameError, match="No orchestrate model"):
        model_param("orchestrate")  # a technique no model is made for


SHIPPED = sorted(path for path in pretrained_dir().glob("*.json") if not path.name.endswith(AUXILIARY_SUFFIXES))


def test_the_shipped_models_include_the_promised_ones() -> None:
    names = {path.stem for path in SHIPPED}
    assert {"bach-chorale-unet", "pop909-musegan", "nottingham-unet", "bach-arcnn"} <= names
    assert {"classical-transformer", "pop-transformer"} <= names


def test_the_shipped_models_say_their_genre() -> None:
    genres = {path.stem: get_model(path.stem).card.genre for path in SHIPPED}
    assert {
        "bach-chorale-unet": "chorale",
        "bach-arcnn": "chorale",
        "nottingham-unet": "folk",
        "pop909-musegan": "pop",
        "pop-transformer": "pop",
        "classical-transformer": "classical",
    }.items() <= genres.items()


@pytest.mark.parametrize("card_path", SHIPPED, ids=[path.stem for path in SHIPPED])
def test_each_shipped_model_is_small_complete_and_loads(card_path: Path) -> None:
    entry = get_model(card_path.stem)
    assert entry.shipped
    assert entry.size_bytes < MAX_SHIPPED_BYTES
    model = entry.card
    for key in ("command", "steps", "wall_seconds", "hardware"):
        assert model.training.get(key), key
    assert "held_out" in model.metrics
    # Each technique loads its network strictly (every weight present, none extra) from the entry.
    technique_class(model.technique)(entry)
    with pytest.raises(ModelFileError, match="shipped"):
        save_model(model, {})
